#!/usr/bin/env bash
# e2e.oci.skopeo_oracle: Debian's skopeo checks what lib/oci writes, and lib/oci reads what skopeo
# writes, digest by digest (docs/design/registry.md §10.7). Driven by the test-only oci_tool.
#   oci_skopeo.sh OCI_TOOL
set -euo pipefail
tool=$1
PY=/usr/bin/python3
command -v skopeo >/dev/null || { echo "FAIL: skopeo not installed (scripts/deps/oci.txt)" >&2; exit 1; }
work=$(mktemp -d -t edgeship-oci-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
# skopeo's own state (blob-info cache, tmp) stays inside the work dir.
export TMPDIR="$work/tmp" HOME="$work/home"
mkdir -p "$TMPDIR" "$HOME"
policy="$work/policy.json"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$policy"
sk() { skopeo --policy "$policy" "$@"; }

step() { echo "== $*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# jget FILE EXPR: evaluates a Python expression over the JSON document `d`.
jget() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"; }
eq() { [ "$1" == "$2" ] || fail "$3: got '$1', expected '$2'"; }
sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# --- inputs: an app directory and a 1 MiB float32 "model" ---------------------------------------
mkdir -p "$work/src/pkg"
printf 'print("hello from the edge")\n' > "$work/src/main.py"
printf '#!/bin/sh\nexec python3 main.py\n' > "$work/src/run.sh"; chmod 755 "$work/src/run.sh"
printf 'onnxruntime\n' > "$work/src/pkg/requirements.txt"
ln -s main.py "$work/src/entry.py"
"$PY" -c 'import random,struct,sys; r=random.Random(1); sys.stdout.buffer.write(b"".join(struct.pack("<f", r.gauss(0,0.02)) for _ in range(262144)))' > "$work/model.f32"
common=(--dir "$work/src" --image-dir app --file "$work/model.f32=models/model.f32" --epoch 1700000000
        --env MODEL_PATH=/models/model.f32 --cmd python3 --cmd -u --cmd main.py --port 8080 --workdir /app
        --label org.opencontainers.image.version=1.0.0)

# --- 1. edgeship writes an OCI layout; skopeo reads it --------------------------------------------
step "build into an OCI layout"
"$tool" build "${common[@]}" --oci-layout "$work/L1" --tag v1 > "$work/b1.json"
manifest=$(jget "$work/b1.json" 'd["manifest_digest"]')
config=$(jget "$work/b1.json" 'd["config_digest"]')
diff_ids=$(jget "$work/b1.json" 'd["diff_ids"]')
layers=$(jget "$work/b1.json" '[l["digest"] for l in d["layers"]]')
eq "$(jget "$work/b1.json" 'len(d["layers"])')" 2 "layer count"

step "skopeo inspect --raw: the manifest bytes are ours"
sk inspect --raw "oci:$work/L1:v1" > "$work/raw.json"
eq "$(sha "$work/raw.json")" "$manifest" "manifest digest seen by skopeo"
cmp "$work/raw.json" "$work/L1/blobs/sha256/${manifest#sha256:}" || fail "skopeo's raw manifest differs from the blob"

step "skopeo inspect --raw --config: the config bytes are ours"
sk inspect --raw --config "oci:$work/L1:v1" > "$work/config.json"
eq "$(sha "$work/config.json")" "$config" "config digest seen by skopeo"

step "skopeo inspect (parsed): platform, layers, runtime settings"
sk inspect "oci:$work/L1:v1" > "$work/inspect.json"
eq "$(jget "$work/inspect.json" 'd["Architecture"]')" amd64 "Architecture"
eq "$(jget "$work/inspect.json" 'd["Os"]')" linux "Os"
eq "$(jget "$work/inspect.json" 'd["Layers"]')" "$layers" "Layers"
eq "$(jget "$work/inspect.json" '"MODEL_PATH=/models/model.f32" in d["Env"]')" true "Env"
eq "$(jget "$work/inspect.json" 'd["Labels"]["org.opencontainers.image.version"]')" 1.0.0 "Labels"
eq "$(jget "$work/inspect.json" 'd["Created"]')" "2023-11-14T22:13:20Z" "Created from the epoch"
sk inspect --config "oci:$work/L1:v1" > "$work/cfg-parsed.json"
eq "$(jget "$work/cfg-parsed.json" 'd["config"]["Cmd"]')" '["python3", "-u", "main.py"]' "Cmd"
eq "$(jget "$work/cfg-parsed.json" 'list(d["config"]["ExposedPorts"])')" '["8080/tcp"]' "ExposedPorts"
eq "$(jget "$work/cfg-parsed.json" 'd["config"]["WorkingDir"]')" /app "WorkingDir"
eq "$(jget "$work/cfg-parsed.json" 'd["rootfs"]["diff_ids"]')" "$diff_ids" "diff_ids"

step "layer blobs: gzip -t, GNU tar listing, DiffID = sha256 of the gunzipped tar"
i=0
for digest in $("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$layers"); do
  blob="$work/L1/blobs/sha256/${digest#sha256:}"
  gzip -t "$blob" || fail "layer $digest is not valid gzip"
  want=$(jget "$work/b1.json" "d['diff_ids'][$i]")
  eq "sha256:$(gzip -dc "$blob" | sha256sum | cut -d' ' -f1)" "$want" "DiffID of layer $i"
  i=$((i+1))
done
app_blob="$work/L1/blobs/sha256/$(jget "$work/b1.json" 'd["layers"][0]["digest"]' | cut -d: -f2)"
tar --numeric-owner --full-time -tvzf "$app_blob" > "$work/listing.txt"
cat "$work/listing.txt" >&2
eq "$(awk '{print $6}' "$work/listing.txt" | tr '\n' ' ')" "app/ app/entry.py app/main.py app/pkg/ app/pkg/requirements.txt app/run.sh " "entry order"
eq "$(awk '{print $2}' "$work/listing.txt" | sort -u | tr '\n' ' ')" "0/0 " "owners"
eq "$(awk '{print $4"T"$5}' "$work/listing.txt" | sort -u)" "2023-11-14T22:13:20" "mtimes = SOURCE_DATE_EPOCH"
eq "$(grep ' app/run.sh$' "$work/listing.txt" | cut -c1-10)" "-rwxr-xr-x" "mode of run.sh"
eq "$(grep ' app/main.py$' "$work/listing.txt" | cut -c1-10)" "-rw-r--r--" "mode of main.py"
grep -q 'app/entry.py -> main.py' "$work/listing.txt" || fail "symlink not kept"

# --- 2. skopeo copies oci → oci; edgeship reads the copy ------------------------------------------
step "skopeo copy oci: → oci:, edgeship reads it back (deep: gunzip + DiffIDs)"
sk copy -q "oci:$work/L1:v1" "oci:$work/L2:copied" >&2
"$tool" read-oci "$work/L2" copied --deep > "$work/r2.json"
eq "$(jget "$work/r2.json" 'd["manifest_digest"]')" "$manifest" "manifest after skopeo copy"
eq "$(jget "$work/r2.json" 'd["config_digest"]')" "$config" "config after skopeo copy"
eq "$(jget "$work/r2.json" '[l["digest"] for l in d["layers"]]')" "$layers" "layers after skopeo copy"

# --- 3. skopeo writes a docker-archive from our layout; edgeship reads it -------------------------
step "skopeo copy oci: → docker-archive:, edgeship reads it"
sk copy -q "oci:$work/L1:v1" "docker-archive:$work/A1.tar:edge/app:v1" >&2
"$tool" read-archive "$work/A1.tar" > "$work/ra1.json"
eq "$(jget "$work/ra1.json" 'd["config_digest"]')" "$config" "config digest in skopeo's docker-archive"
eq "$(jget "$work/ra1.json" 'd["diff_ids"]')" "$diff_ids" "diff_ids in skopeo's docker-archive"
eq "$(jget "$work/ra1.json" '[l["diff_id"] for l in d["layers"]]')" "$diff_ids" "layer DiffIDs recomputed from skopeo's tars"
eq "$(jget "$work/ra1.json" 'any(t.endswith("edge/app:v1") for t in d["repo_tags"])')" true "RepoTags"
step "docker-archive written by skopeo → OCI layout by edgeship: same manifest as built (gzip recompression is deterministic)"
"$tool" archive-to-oci "$work/A1.tar" "$work/L1b" back > "$work/ab.json"
eq "$(jget "$work/ab.json" 'd["config_digest"]')" "$config" "config after the round trip"
eq "$(jget "$work/ab.json" 'd["manifest_digest"]')" "$manifest" "manifest after the round trip"

# --- 4. edgeship writes a docker-archive; skopeo reads it ------------------------------------------
step "edgeship docker-archive (Docker schema 2) → skopeo"
"$tool" build "${common[@]}" --format docker --archive "$work/A2.tar" --repo-tag localhost:5000/edge/app:1.0 > "$work/b2.json"
eq "$(jget "$work/b2.json" 'd["config_digest"]')" "$config" "config digest does not depend on the manifest format"
eq "$(jget "$work/b2.json" 'd["manifest_media_type"]')" application/vnd.docker.distribution.manifest.v2+json "Docker manifest"
sk inspect --raw --config "docker-archive:$work/A2.tar" > "$work/cfg2.json"
eq "$(sha "$work/cfg2.json")" "$config" "config digest seen by skopeo in our docker-archive"
# skopeo finds the image by the RepoTags entry of our manifest.json (and not by another tag).
sk inspect "docker-archive:$work/A2.tar:localhost:5000/edge/app:1.0" > "$work/inspect2.json"
eq "$(jget "$work/inspect2.json" 'd["Name"]')" localhost:5000/edge/app "image found by its RepoTags entry"
eq "$(jget "$work/inspect2.json" 'd["Layers"]')" "$diff_ids" "layers seen by skopeo (uncompressed tars: digest = DiffID)"
if sk inspect "docker-archive:$work/A2.tar:localhost:5000/edge/app:2.0" > /dev/null 2>&1; then fail "skopeo found a tag we did not write"; fi
sk copy -q "docker-archive:$work/A2.tar" "oci:$work/L3:x" >&2
# skopeo converts a Docker image to OCI by re-serializing the config (Go field order), so the bytes
# differ; the JSON must be the same document.
sk inspect --raw --config "oci:$work/L3:x" > "$work/cfg3.json"
"$PY" -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(0 if a==b else 1)' \
  "$work/cfg3.json" "$work/config.json" || fail "config after skopeo copy docker-archive: → oci: is another document"
"$tool" read-oci "$work/L3" x --deep > "$work/r3.json"
eq "$(jget "$work/r3.json" 'd["diff_ids"]')" "$diff_ids" "diff_ids after skopeo copy of our archive"
eq "$(jget "$work/r3.json" '[l["diff_id"] for l in d["layers"]]')" "$diff_ids" "layers decompress to the DiffIDs"

step "oci layout → docker-archive by edgeship → skopeo"
"$tool" oci-to-archive "$work/L1" v1 "$work/A3.tar" --repo-tag edge/app:v1 > /dev/null
sk inspect --raw --config "docker-archive:$work/A3.tar" > "$work/cfg4.json"
eq "$(sha "$work/cfg4.json")" "$config" "config in the converted archive"
sk inspect "docker-archive:$work/A3.tar:edge/app:v1" > /dev/null || fail "skopeo cannot find edge/app:v1 (familiar RepoTags)"

# --- 5. determinism across runs and directories -----------------------------------------------------
step "same inputs, another directory: identical digests; zlib: same DiffIDs, other blob digests"
"$tool" build "${common[@]}" --oci-layout "$work/L4" --tag v1 > "$work/b4.json"
eq "$(jget "$work/b4.json" 'd["manifest_digest"]')" "$manifest" "manifest digest of a second build"
"$tool" build "${common[@]}" --engine zlib --oci-layout "$work/L5" --tag v1 > "$work/b5.json"
eq "$(jget "$work/b5.json" 'd["diff_ids"]')" "$diff_ids" "DiffIDs with zlib"
[ "$(jget "$work/b5.json" 'd["layers"][0]["digest"]')" != "$(jget "$work/b1.json" 'd["layers"][0]["digest"]')" ] ||
  fail "zlib and ISA-L blobs should differ (docs/design/registry.md §8.2)"
sk inspect --raw "oci:$work/L5:v1" > /dev/null
touch "$work/src/main.py"
"$tool" build "${common[@]}" --oci-layout "$work/L6" --tag v1 > "$work/b6.json"
eq "$(jget "$work/b6.json" 'd["manifest_digest"]')" "$manifest" "mtime of a source file must not matter"
echo "PASS: skopeo oracle" >&2
