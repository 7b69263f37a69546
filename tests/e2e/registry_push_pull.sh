#!/usr/bin/env bash
# e2e.registry.push_pull: `edgeship push` and `edgeship pull` against Debian's docker-registry on
# 127.0.0.1 (plain and TLS), with skopeo as the independent oracle (docs/design/registry.md §10.7, §11):
# what edgeship pushes reads back digest by digest; edgeship pulls what skopeo pushed; a re-push sends
# 0 bytes (HEAD skips in the access log); a cross-repository mount; a registry answering a wrong digest
# or a failing blob upload never gets a manifest; bad references and wrong-digest layouts fail in one line.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"
E=${EDGESHIP_EXE:?}

base_digest=$(make_base "$WORK/base" base amd64)
base_config=$(jget <(sk inspect --raw "oci:$WORK/base:base") 'd["config"]["digest"]')

# --- plain: push from an OCI layout ------------------------------------------------------------------
reg_start plain
step "push oci: to a plain registry; skopeo reads it back digest by digest"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/base:1" --plain-http --json > "$WORK/push1.json" 2> "$WORK/push1.err" ||
  { cat "$WORK/push1.err" >&2; fail "push oci: failed"; }
assert_eq "$(jget "$WORK/push1.json" 'd["digest"]')" "$base_digest" "manifest digest reported by push"
assert_eq "$(jget "$WORK/push1.json" 'd["reference"]')" "$REG_ADDR/demo/base:1" "reference in --json"
assert_eq "$(jget "$WORK/push1.json" 'd["media_type"]')" "application/vnd.oci.image.manifest.v1+json" "media type"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/demo/base:1")" "$base_digest" "manifest digest read by skopeo"
assert_eq "$(skopeo_config_digest "docker://$REG_ADDR/demo/base:1")" "$base_config" "config digest read by skopeo"
[ "$(jget "$WORK/push1.json" 'd["bytes_uploaded"]')" -gt 0 ] || fail "first push uploaded nothing"
assert_eq "$(jget "$WORK/push1.json" '[b["outcome"] for b in d["blobs"]]')" '["uploaded", "uploaded"]' "outcomes of the first push"
sk_copy "docker://$REG_ADDR/demo/base:1" "oci:$WORK/back:1"
for b in $(jget "$WORK/push1.json" '" ".join(b["digest"] for b in d["blobs"])'); do
  assert_eq "$(sha256_of "$WORK/back/blobs/sha256/${b#sha256:}")" "$b" "blob copied back by skopeo"
done
assert_eq "$(reg_log_count '"PATCH /v2/demo/base/blobs/uploads/')" 2 "one streamed PATCH per blob"
assert_eq "$(reg_log_count '"PUT /v2/demo/base/manifests/1 HTTP/1.1" 201')" 1 "manifest PUT"

step "plain lines on stderr without a TTY; REF@DIGEST on stdout"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/lines:1" --plain-http > "$WORK/lines.out" 2> "$WORK/lines.err"
assert_eq "$(cat "$WORK/lines.out")" "$REG_ADDR/demo/lines@$base_digest" "stdout of push"
grep -Eq '^pushed sha256:[0-9a-f]{12}… ' "$WORK/lines.err" || { cat "$WORK/lines.err" >&2; fail "no 'pushed' line"; }

step "re-push to a new tag: every blob HEAD-skipped, 0 bytes uploaded, the manifest put"
heads=$(reg_log_count '"HEAD /v2/demo/base/blobs/sha256:[0-9a-f]+ HTTP/1.1" 200')
patches=$(reg_log_count '"PATCH ')
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/base:2" --plain-http --json > "$WORK/push2.json"
assert_eq "$(jget "$WORK/push2.json" 'd["bytes_uploaded"]')" 0 "bytes uploaded by a re-push"
[ "$(jget "$WORK/push2.json" 'd["bytes_skipped"]')" -gt 0 ] || fail "re-push skipped nothing"
assert_eq "$(jget "$WORK/push2.json" 'd["up_to_date"]')" false "up_to_date of a push to a new tag"
assert_eq "$(jget "$WORK/push2.json" '[b["outcome"] for b in d["blobs"]]')" '["exists", "exists"]' "outcomes of the re-push"
assert_eq "$(reg_log_count '"HEAD /v2/demo/base/blobs/sha256:[0-9a-f]+ HTTP/1.1" 200')" "$((heads + 2))" "HEAD skips in the access log"
assert_eq "$(reg_log_count '"PATCH ')" "$patches" "PATCH requests during the re-push"
assert_eq "$(reg_log_count '"PUT /v2/demo/base/manifests/2 HTTP/1.1" 201')" 1 "manifest PUT under the new tag"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/demo/base:2")" "$base_digest" "new tag read by skopeo"

step "re-push to the same tag: one HEAD of the manifest, nothing else"
lines=$(wc -l < "$REG_LOG")
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/base:1" --plain-http --json > "$WORK/push3.json" 2> "$WORK/push3.err"
assert_eq "$(jget "$WORK/push3.json" 'd["up_to_date"]')" true "up_to_date of a re-push to the same tag"
assert_eq "$(jget "$WORK/push3.json" 'd["digest"]')" "$base_digest" "digest reported by the up-to-date re-push"
assert_eq "$(jget "$WORK/push3.json" 'd["bytes_uploaded"]')" 0 "bytes uploaded by the up-to-date re-push"
assert_eq "$(jget "$WORK/push3.json" '[b["outcome"] for b in d["blobs"]]')" '["exists", "exists"]' "outcomes of the up-to-date re-push"
new_requests=$(tail -n +$((lines + 1)) "$REG_LOG" | grep -E '"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/' || true)
assert_eq "$(printf '%s\n' "$new_requests" | grep -cE '"(GET|HEAD|POST|PUT|PATCH|DELETE) ' || true)" 1 "requests of the up-to-date re-push"
assert_match "$new_requests" '"HEAD /v2/demo/base/manifests/1 HTTP/1.1" 200' "the one request is the manifest HEAD"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/base:1" --plain-http > /dev/null 2> "$WORK/push3.err"
grep -q '^up to date: ' "$WORK/push3.err" || { cat "$WORK/push3.err" >&2; fail "no 'up to date' line"; }

step "the tag names another image: pushed as usual, the tag moves"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/demo/moving:1" --plain-http > /dev/null
make_base "$WORK/other" other arm64 > /dev/null
"$E" push "oci:$WORK/other:other" "$REG_ADDR/demo/moving:1" --plain-http --json > "$WORK/push4.json"
assert_eq "$(jget "$WORK/push4.json" 'd["up_to_date"]')" false "up_to_date when the tag named another image"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/demo/moving:1")" "$(jget "$WORK/push4.json" 'd["digest"]')" "the tag moved"
assert_eq "$(reg_log_count '"PUT /v2/demo/moving/manifests/1 HTTP/1.1" 201')" 2 "both manifests put"

step "cross-repository mount: docker:// source on the same registry"
"$E" push "docker://$REG_ADDR/demo/base:1" "$REG_ADDR/other/app:2" --plain-http --json > "$WORK/mount.json"
assert_eq "$(jget "$WORK/mount.json" '[b["outcome"] for b in d["blobs"]]')" '["mounted", "mounted"]' "mount outcomes"
assert_eq "$(jget "$WORK/mount.json" 'd["bytes_uploaded"]')" 0 "bytes uploaded by a mount"
assert_match "$(reg_log_count '"POST /v2/other/app/blobs/uploads/\?mount=sha256:[0-9a-f]+&from=demo/base HTTP/1.1" 201')" '^[12]$' "mount in the access log"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/other/app:2")" "$base_digest" "mounted image read by skopeo"

# --- pull ---------------------------------------------------------------------------------------------
step "edgeship pulls what skopeo pushed"
sk_copy "oci:$WORK/base:base" "docker://$REG_ADDR/sk/base:7"
"$E" pull "$REG_ADDR/sk/base:7" --oci-layout "$WORK/pulled" --plain-http --json > "$WORK/pull.json"
assert_eq "$(jget "$WORK/pull.json" 'd["digest"]')" "$base_digest" "pulled manifest digest"
assert_eq "$(skopeo_digest "oci:$WORK/pulled:7")" "$base_digest" "skopeo reads the pulled layout"
sk_copy "oci:$WORK/pulled:7" "oci:$WORK/pulled-copy:x"   # skopeo verifies every blob while copying
"$E" pull "$REG_ADDR/sk/base@$base_digest" --oci-layout "$WORK/pulled" --tag bydigest --plain-http > "$WORK/pull2.out"
assert_eq "$(cat "$WORK/pull2.out")" "$REG_ADDR/sk/base@$base_digest" "stdout of a pull by digest"
assert_eq "$(skopeo_digest "oci:$WORK/pulled:bydigest")" "$base_digest" "pull by digest tagged with --tag"

step "multi-platform: skopeo pushes an index; pull --platform takes one, pull takes all"
make_base "$WORK/multi" amd64 amd64 > /dev/null
make_base "$WORK/multi" arm64 arm64 > /dev/null
"$PY" - "$WORK/multi" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
ms = []
for m in idx["manifests"]:
    arch = m["annotations"]["org.opencontainers.image.ref.name"]
    ms.append({"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"],
               "platform": {"architecture": arch, "os": "linux"}})
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": ms}, separators=(",", ":")).encode()
h = hashlib.sha256(body).hexdigest()
open(os.path.join(d, "blobs", "sha256", h), "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + h,
                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOF
"$E" push "oci:$WORK/multi:multi" "$REG_ADDR/demo/multi:1" --plain-http --json > "$WORK/multi.json"
assert_eq "$(jget "$WORK/multi.json" 'd["media_type"]')" "application/vnd.oci.image.index.v1+json" "index pushed"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/demo/multi:1")" "$(jget "$WORK/multi.json" 'd["digest"]')" "index digest read by skopeo"
"$E" pull "$REG_ADDR/demo/multi:1" --oci-layout "$WORK/pm" --platform linux/arm64 --plain-http --json > "$WORK/pm.json"
assert_eq "$(sk inspect "oci:$WORK/pm:1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Architecture"])')" arm64 "platform pulled"
"$E" pull "$REG_ADDR/demo/multi:1" --oci-layout "$WORK/pall" --plain-http --json > "$WORK/pall.json"
assert_eq "$(jget "$WORK/pall.json" 'd["digest"]')" "$(jget "$WORK/multi.json" 'd["digest"]')" "whole index pulled"
sk inspect --raw "oci:$WORK/pall:1" > /dev/null

# --- docker-archive -----------------------------------------------------------------------------------
step "push docker-archive: (layers gzip-compressed on the way; config kept byte for byte)"
sk_copy "oci:$WORK/base:base" "docker-archive:$WORK/img.tar:demo/arch:1"
arch_config=$(sk inspect --raw --config "docker-archive:$WORK/img.tar" | sha256sum | cut -d' ' -f1)
"$E" push "docker-archive:$WORK/img.tar" "$REG_ADDR/demo/arch:1" --plain-http --json > "$WORK/arch.json"
assert_eq "$(skopeo_config_digest "docker://$REG_ADDR/demo/arch:1")" "sha256:$arch_config" "config of the archive"
assert_eq "$(jget "$WORK/arch.json" 'd["media_type"]')" "application/vnd.docker.distribution.manifest.v2+json" "docker manifest"
sk_copy "docker://$REG_ADDR/demo/arch:1" "oci:$WORK/arch-back:1"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/demo/arch:1")" "$(jget "$WORK/arch.json" 'd["digest"]')" "archive manifest digest"

# --- failures: nothing published -----------------------------------------------------------------------
step "a registry answering a wrong blob digest: exit 1, no manifest PUT"
proxy_start "$REG_URL" --rule '{"type":"wrong_digest","method":"PUT","path":"/blobs/uploads/","times":0}'
expect_exit 1 --err 'registry answered digest sha256:[0-9a-f]+, expected sha256:' --lines 1 -- \
  "$E" push "oci:$WORK/base:base" "$PROXY_ADDR/fault/wrongdigest:1" --plain-http
assert_eq "$(proxy_log_count 'PUT /v2/fault/wrongdigest/manifests/')" 0 "manifest PUTs after a wrong digest"
proxy_stop

step "a blob upload that keeps failing: exit 1 naming the blob, session deleted, no manifest"
proxy_start "$REG_URL" --rule '{"type":"status","status":500,"method":"PATCH","times":0,"body":"{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk on fire\"}]}"}'
expect_exit 1 --err '^edgeship: error: push .*/fault/failing:1: layer sha256:[0-9a-f]{12}… \(1 of 1\): .*disk on fire' -- \
  "$E" push "oci:$WORK/base:base" "$PROXY_ADDR/fault/failing:1" --plain-http
assert_eq "$(proxy_log_count 'PUT /v2/fault/failing/manifests/')" 0 "manifest PUTs after a failed upload"
[ "$(proxy_log_count 'DELETE /v2/fault/failing/blobs/uploads/')" -ge 1 ] || fail "the abandoned session was not deleted"
expect_exit 1 -- sk_inspect --raw "docker://$REG_ADDR/fault/failing:1"
proxy_stop

step "bad references and sources: one line, exit 1 (2 for usage)"
expect_exit 1 --err '^edgeship: error: invalid reference "127.0.0.1:5000/Upper/x:1"' --lines 1 -- \
  "$E" push "oci:$WORK/base:base" "127.0.0.1:5000/Upper/x:1" --plain-http
expect_exit 1 --err '^edgeship: error: invalid reference' --lines 1 -- \
  "$E" pull "$REG_ADDR/demo/base:-bad" --oci-layout "$WORK/nope" --plain-http
assert_file_absent "$WORK/nope" "layout of a failed pull"
expect_exit 1 --err 'manifest demo/absent:1' -- "$E" pull "$REG_ADDR/demo/absent:1" --oci-layout "$WORK/nope2" --plain-http
assert_file_absent "$WORK/nope2" "layout of a pull of a missing tag"
expect_exit 2 --err 'expected oci:DIR' -- "$E" push "tarball:$WORK/x" "$REG_ADDR/demo/x:1" --plain-http

step "an OCI layout with a wrong digest: exit 1, one line, the blob never committed, nothing tagged"
cp -r "$WORK/base" "$WORK/bad"
layer=$(jget <(sk inspect --raw "oci:$WORK/bad:base") 'd["layers"][0]["digest"]')
chmod u+w "$WORK/bad/blobs/sha256/${layer#sha256:}"
printf 'x' | dd of="$WORK/bad/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc status=none
before=$(reg_log_count '"PUT ')
expect_exit 1 --err "^edgeship: error: push .*/demo/bad:1: layer sha256:.*: digest mismatch: content hashes to sha256:[0-9a-f]+, expected $layer" --lines 1 -- \
  "$E" push "oci:$WORK/bad:base" "$REG_ADDR/demo/bad:1" --plain-http
assert_eq "$(reg_log_count '"PUT ')" "$before" "PUT requests (blob close or manifest) for a corrupt layout"
[ "$(reg_log_count '"DELETE /v2/demo/bad/blobs/uploads/')" -ge 1 ] || fail "the session of the corrupt blob was not deleted"
printf 'abc' >> "$WORK/bad/blobs/sha256/${layer#sha256:}"
expect_exit 1 --err 'size mismatch' --lines 1 -- "$E" push "oci:$WORK/bad:base" "$REG_ADDR/demo/bad:1" --plain-http

# --- TLS ------------------------------------------------------------------------------------------------
reg_start tls
step "TLS: verified with --ca-file; refused without it; --insecure when asked"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/tls/base:1" --ca-file "$REG_CACERT" --json > "$WORK/tls.json"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/tls/base:1")" "$base_digest" "TLS push read by skopeo"
expect_exit 1 --err 'certificate' -- "$E" push "oci:$WORK/base:base" "$REG_ADDR/tls/base:2"
expect_exit 1 -- sk_inspect --raw "docker://$REG_ADDR/tls/base:2"
"$E" push "oci:$WORK/base:base" "$REG_ADDR/tls/base:3" --insecure --json > "$WORK/tls3.json"
assert_eq "$(jget "$WORK/tls3.json" 'd["bytes_uploaded"]')" 0 "blobs already there over TLS"
"$E" pull "$REG_ADDR/tls/base:1" --oci-layout "$WORK/tlspull" --ca-file "$REG_CACERT" > /dev/null
assert_eq "$(skopeo_digest "oci:$WORK/tlspull:1")" "$base_digest" "TLS pull"

step "docker:// source on the same TLS registry: mounted"
"$E" push "docker://$REG_ADDR/tls/base:1" "$REG_ADDR/copied/base:1" --ca-file "$REG_CACERT" --json > "$WORK/x.json"
assert_eq "$(jget "$WORK/x.json" '[b["outcome"] for b in d["blobs"]]')" '["mounted", "mounted"]' "same-registry docker:// source"

step "docker:// source on another registry: layers stream through a scratch file, removed afterwards"
reg_start plain
SRC_ADDR=$REG_ADDR
sk_copy "oci:$WORK/base:base" "docker://$SRC_ADDR/src/base:1"
reg_start plain
"$E" push "docker://$SRC_ADDR/src/base:1" "$REG_ADDR/dst/base:1" --plain-http --json > "$WORK/y.json"
assert_eq "$(jget "$WORK/y.json" '[b["outcome"] for b in d["blobs"]]')" '["uploaded", "uploaded"]' "cross-registry outcomes"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/dst/base:1")" "$base_digest" "cross-registry copy read by skopeo"
assert_eq "$(skopeo_config_digest "docker://$REG_ADDR/dst/base:1")" "$base_config" "cross-registry config"
assert_eq "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'edgeship-blob-*' | wc -l)" 0 "scratch directories left behind"
step "ok"
