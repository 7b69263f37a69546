#!/usr/bin/env bash
# e2e.registry.faults: `edgeship push` through tests/registry/fault-proxy.py (docs/design/registry.md §5.5,
# §11.4): a connection reset mid-blob (request and response side), 500s and 429 + Retry-After during
# PATCH, 5xx on HEAD/POST/PUT, and a token expiring mid-upload. Each push still succeeds, and skopeo
# reads the stored image back digest by digest.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"
E=${EDGESHIP_EXE:?}

base_digest=$(make_base "$WORK/base" base amd64)
base_config=$(jget <(sk inspect --raw "oci:$WORK/base:base") 'd["config"]["digest"]')
layer=$(jget <(sk inspect --raw "oci:$WORK/base:base") 'd["layers"][0]["digest"]')
layer_size=$(stat -c %s "$WORK/base/blobs/sha256/${layer#sha256:}")
[ "$layer_size" -gt 200000 ] || fail "base layer too small for a mid-blob reset ($layer_size bytes)"

# verify REPO:TAG — the stored image is the one we pushed, blob by blob (skopeo copies and verifies).
verify() {
  assert_eq "$(skopeo_digest "docker://$REG_ADDR/$1")" "$base_digest" "manifest digest of $1"
  assert_eq "$(skopeo_config_digest "docker://$REG_ADDR/$1")" "$base_config" "config digest of $1"
  local out="$WORK/verify-${1//[\/:]/_}"
  sk_copy "docker://$REG_ADDR/$1" "oci:$out:x"
  assert_eq "$(sha256_of "$out/blobs/sha256/${layer#sha256:}")" "$layer" "layer of $1 read back"
}

# fault_push NAME RULE…: push through a fresh proxy with RULEs; the proxy log is kept as $WORK/NAME.log.
fault_push() {
  local name=$1; shift
  local rules=()
  for r in "$@"; do rules+=(--rule "$r"); done
  proxy_start "$REG_URL" "${rules[@]}"
  "$E" -v push "oci:$WORK/base:base" "$PROXY_ADDR/faults/$name:1" --plain-http --json > "$WORK/$name.json" 2> "$WORK/$name.err" ||
    { cat "$WORK/$name.err" "$PROXY_LOG" >&2; fail "push through '$name' faults failed"; }
  proxy_stop
  cp "$PROXY_LOG" "$WORK/$name.log"
  assert_eq "$(jget "$WORK/$name.json" 'd["digest"]')" "$base_digest" "digest reported after '$name'"
  verify "faults/$name:1"
}

reg_start plain

step "connection reset in the middle of the layer PATCH: new session, push succeeds"
fault_push reset '{"type":"reset","method":"PATCH","after_bytes":100000,"per_body":true,"times":1}'
assert_eq "$(grep -c 'PATCH .* -> RESET' "$WORK/reset.log")" 1 "resets injected"
grep -q 'retry' "$WORK/reset.err" || { cat "$WORK/reset.err" >&2; fail "no retry reported"; }

step "reset after the registry took the whole PATCH (answer lost)"
fault_push lost '{"type":"reset","method":"PATCH","when":"response","times":1}'
assert_eq "$(grep -c 'PATCH .* -> RESET' "$WORK/lost.log")" 1 "lost answers injected"

step "500 twice during PATCH: GET <location>, resume from the registry's Range"
fault_push five '{"type":"status","status":500,"method":"PATCH","times":2}'
assert_eq "$(grep -c 'PATCH .* -> 500' "$WORK/five.log")" 2 "500s injected"
[ "$(grep -cE 'GET /v2/faults/five/blobs/uploads/[^ ]+ -> 204' "$WORK/five.log")" -ge 1 ] || fail "no upload status GET after a 500"

step "429 with Retry-After: 1 is honoured"
start=$(date +%s%N)
fault_push slow '{"type":"status","status":429,"headers":{"Retry-After":"1"},"method":"PATCH","times":1}'
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -ge 1000 ] || fail "Retry-After: 1 not honoured (push took ${elapsed_ms} ms)"
assert_eq "$(grep -c 'PATCH .* -> 429' "$WORK/slow.log")" 1 "429 injected"

step "5xx on HEAD, POST and the manifest PUT: retried"
fault_push misc '{"type":"status","status":503,"method":"HEAD","times":1}' \
  '{"type":"status","status":502,"method":"POST","times":1}' \
  '{"type":"status","status":500,"method":"PUT","path":"/manifests/","times":1}'
assert_eq "$(grep -cE ' -> 50[023] .*fault=' "$WORK/misc.log")" 3 "5xx injected"

step "chunked upload (--chunk-size 8) of a 20 MiB layer, 500 on the second chunk: resumed from the Range"
cp -r "$WORK/base" "$WORK/big"
head -c $((20 * 1024 * 1024)) /dev/urandom > "$WORK/rand.bin"
umoci insert --image "$WORK/big:base" "$WORK/rand.bin" /data/rand.bin > /dev/null
big_digest=$(skopeo_digest "oci:$WORK/big:base")
big_layer=$(jget <(sk inspect --raw "oci:$WORK/big:base") 'd["layers"][-1]["digest"]')
proxy_start "$REG_URL" --rule '{"type":"status","status":500,"method":"PATCH","skip":1,"times":1}'
"$E" push "oci:$WORK/big:base" "$PROXY_ADDR/faults/chunked:1" --plain-http --chunk-size 8 --parallel 1 --json \
  > "$WORK/chunked.json" 2> "$WORK/chunked.err" || { cat "$WORK/chunked.err" "$PROXY_LOG" >&2; fail "chunked push failed"; }
proxy_stop
# 20 MiB + tar/gzip overhead in 8 MiB chunks: 3 PATCHes, plus the one answered 500, plus one per small blob.
assert_eq "$(grep -c 'PATCH .* -> 500' "$PROXY_LOG")" 1 "500s injected into the chunk sequence"
assert_eq "$(grep -c 'PATCH .* -> 202' "$PROXY_LOG")" 5 "accepted PATCHes (3 chunks + base layer + config)"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/faults/chunked:1")" "$big_digest" "chunked image digest"
sk_copy "docker://$REG_ADDR/faults/chunked:1" "oci:$WORK/chunked-back:x"
assert_eq "$(sha256_of "$WORK/chunked-back/blobs/sha256/${big_layer#sha256:}")" "$big_layer" "chunked layer read back"
expect_exit 2 --err 'chunk-size 4: at least 8' -- "$E" push "oci:$WORK/big:base" "$REG_ADDR/faults/x:1" --plain-http --chunk-size 4

# --- token auth: a token expiring mid-upload ---------------------------------------------------------
reg_start token
step "401 invalid_token on a PATCH: re-authenticate, continue at the same Location"
proxy_start "$REG_URL" --realm "$REG_REALM" --service "$REG_SERVICE" \
  --rule '{"type":"expire_token","method":"PATCH","times":1}'
printf '%s\n' "$REG_PASS" | "$E" -v push "oci:$WORK/base:base" "$PROXY_ADDR/faults/token:1" --plain-http \
  -u "$REG_USER" --password-stdin --json > "$WORK/token.json" 2> "$WORK/token.err" ||
  { cat "$WORK/token.err" "$PROXY_LOG" >&2; fail "push with an expiring token failed"; }
proxy_stop
assert_eq "$(grep -c 'PATCH .* -> 401' "$PROXY_LOG")" 1 "invalid_token injected"
grep -q "$REG_PASS" "$WORK/token.err" && fail "the password appeared on stderr"
assert_eq "$(jget "$WORK/token.json" 'd["digest"]')" "$base_digest" "digest after re-auth"
verify "faults/token:1"
step "ok"
