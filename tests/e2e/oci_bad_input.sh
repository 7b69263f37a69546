#!/usr/bin/env bash
# e2e.oci.bad_input: bad layouts, archives and layers give one clear error line and a non-zero exit,
# and nothing half-written.
#   oci_bad_input.sh OCI_TOOL
set -euo pipefail
tool=$1
PY=/usr/bin/python3
work=$(mktemp -d -t edgeship-oci-bad.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error CODE PATTERN cmd…: exit CODE, stderr exactly one line matching PATTERN.
expect_error() {
  local code=$1 pattern=$2; shift 2
  set +e; "$@" > "$work/out" 2> "$work/err"; local rc=$?; set -e
  [ "$rc" = "$code" ] || { cat "$work/err" >&2; fail "$*: exit $rc, expected $code"; }
  [ "$(wc -l < "$work/err")" = 1 ] || { cat "$work/err" >&2; fail "$*: expected one error line"; }
  grep -q -- "$pattern" "$work/err" || { cat "$work/err" >&2; fail "$*: error does not match '$pattern'"; }
  [ ! -s "$work/out" ] || fail "$*: printed a result"
  echo "ok: $(cat "$work/err")" >&2
}

mkdir -p "$work/src"
echo hi > "$work/src/a.txt"
"$tool" build --dir "$work/src" --oci-layout "$work/L" --tag v1 > "$work/b.json"
layer=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$work/b.json")
blob="$work/L/blobs/sha256/${layer#sha256:}"

# A layer blob whose bytes no longer match its digest.
cp -r "$work/L" "$work/Lbad"
"$PY" - "$work/Lbad/blobs/sha256/${layer#sha256:}" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)
PY
expect_error 1 "layer 0 of tag v1 $layer: digest mismatch: content hashes to sha256:" "$tool" read-oci "$work/Lbad" v1

# A truncated layer blob, with deep verification (the size check fires first) and scanned alone.
cp -r "$work/L" "$work/Ltrunc"
head -c 60 "$blob" > "$work/Ltrunc/blobs/sha256/${layer#sha256:}"
expect_error 1 "size mismatch: blob has 60 bytes" "$tool" read-oci "$work/Ltrunc" v1 --deep
head -c 60 "$blob" > "$work/cut.tar.gz"
expect_error 1 "truncated gzip stream" "$tool" scan "$work/cut.tar.gz"

# Unknown tag, not a layout.
expect_error 1 'no image tagged "v2" (tags: v1)' "$tool" read-oci "$work/L" v2
expect_error 1 "not an OCI layout" "$tool" read-oci "$work/src"

# Malicious tarballs (made with Python's tarfile, independent of libarchive).
"$PY" - "$work" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def make(name, members):
    with tarfile.open(f"{work}/{name}", "w:gz") as t:
        for m in members:
            info = tarfile.TarInfo(m[0])
            if m[1] == "sym":
                info.type = tarfile.SYMTYPE; info.linkname = m[2]; t.addfile(info)
            else:
                data = m[2].encode(); info.size = len(data); t.addfile(info, io.BytesIO(data))
make("dotdot.tar.gz", [("../../etc/cron.d/x", "file", "boom")])
make("abs.tar.gz", [("/etc/passwd", "file", "root::0:0")])
make("escape.tar.gz", [("app/link", "sym", "../../../etc")])
make("through.tar.gz", [("evil", "sym", "/etc"), ("evil/passwd", "file", "x")])
PY
expect_error 1 '"\.\." components are not allowed' "$tool" scan "$work/dotdot.tar.gz"
expect_error 1 "absolute paths are not allowed" "$tool" scan "$work/abs.tar.gz"
expect_error 1 'symlink target "../../../etc" escapes the image root' "$tool" scan "$work/escape.tar.gz"
expect_error 1 'reached through the symlink "evil"' "$tool" scan "$work/through.tar.gz"

# Building from a directory with an escaping symlink: refused, and no blob is left in the layout.
mkdir -p "$work/evil"
ln -s ../../../../etc/shadow "$work/evil/shadow"
before=$(ls "$work/L/blobs/sha256" | wc -l)
expect_error 1 'escapes the image root' "$tool" build --dir "$work/evil" --oci-layout "$work/L" --tag evil
[ "$(ls -A "$work/L/blobs/sha256" | wc -l)" = "$before" ] || fail "a failed build left files in blobs/"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"]] == ["v1"]' "$work/L/index.json" ||
  fail "index.json changed by a failed build"

# A docker-archive whose layer does not match the config's DiffID; no output file on failure.
"$tool" oci-to-archive "$work/L" v1 "$work/good.tar" > /dev/null
"$PY" - "$work/good.tar" "$work/bad.tar" <<'PY'
import io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, "w") as out:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name.endswith(".tar"):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as layer:
                info = tarfile.TarInfo("tampered.txt"); payload = b"tampered"; info.size = len(payload)
                layer.addfile(info, io.BytesIO(payload))
            data = buf.getvalue(); m.size = len(data)
        out.addfile(m, io.BytesIO(data) if data is not None else None)
PY
expect_error 1 "DiffID sha256:.* does not match config rootfs.diff_ids\[0\]" "$tool" read-archive "$work/bad.tar"
expect_error 1 "not a docker-archive" "$tool" read-archive "$work/b.json"
echo "PASS: bad input" >&2
