#!/usr/bin/env bash
# e2e.registry.keychain: a credential given with --username belongs to its registry alone (issue 16).
#   Registry A (htpasswd auser) is the destination; registry B (htpasswd buser, behind a logging proxy that
#   records whose Basic credential each request carries, never the password) holds the base image, and
#   docker config.json has B's own credential. `ship`, `build --push` and `push` from B to A, each with
#   `-u auser --password-stdin`, must succeed and B must never see auser. `build` and `ship` of one solution
#   with SOURCE_DATE_EPOCH in its .env give the same image digest.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"

ES=${EDGESHIP_EXE:?}
SRC=${EDGESHIP_SOURCE_DIR:?}
unset CONTAINER_REGISTRY_SERVER CONTAINER_REGISTRY_USERNAME CONTAINER_REGISTRY_PASSWORD CONTAINER_TAG SOURCE_DATE_EPOCH

step "registry A (auser) and registry B (buser) behind a logging proxy; the base image in B"
REG_HTPASSWD_USER=auser REG_HTPASSWD_PASS=apass reg_start htpasswd
A=$REG_ADDR A_LOG=$REG_LOG
REG_HTPASSWD_USER=buser REG_HTPASSWD_PASS=bpass reg_start htpasswd
B_DIRECT=$REG_ADDR
proxy_start "$REG_URL"
B=$PROXY_ADDR
make_base "$WORK/base" amd64 amd64 > /dev/null
printf 'bpass\n' | expect_exit 0 "$ES" push "oci:$WORK/base:amd64" "$B_DIRECT/runtime/base:1" --plain-http -u buser --password-stdin
mkdir -p "$DOCKER_CONFIG"
"$PY" - "$DOCKER_CONFIG/config.json" "$B" <<'PY'
import base64, json, sys
json.dump({"auths": {sys.argv[2]: {"auth": base64.b64encode(b"buser:bpass").decode()}}}, open(sys.argv[1], "w"))
PY
chmod 600 "$DOCKER_CONFIG/config.json"
never_auser_at_b() {
  local n
  n=$(proxy_log_count 'auth=basic:auser')
  assert_eq "$n" 0 "requests to registry B carrying A's credential ($1)"
  [ "$(proxy_log_count 'auth=basic:buser')" -gt 0 ] || fail "registry B never saw its own credential ($1)"
}

step "ship --registry A -u auser --base B/…: B is read with B's own credential"
"$ES" init "$WORK/sol" --module scoring --model "$SRC/examples/predictive-maintenance/model.onnx" --registry "$A" -q
printf '\nSOURCE_DATE_EPOCH=1700000000\n' >> "$WORK/sol/.env"
printf 'apass\n' | expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.json" --solution "$WORK/sol" \
  --module scoring --registry "$A" --plain-http -u auser --password-stdin --base "$B/runtime/base:1" --json
SHIP_DIGEST=$(jget "$LAST_OUT" 'd["images"][0]["digest"]')
SHIP_REF=$(jget "$LAST_OUT" 'd["images"][0]["reference"]')
assert_match "$SHIP_DIGEST" '^sha256:[0-9a-f]{64}$' "ship digest"
never_auser_at_b ship
[ "$(reg_log_count 'auth.user.name="?auser' "$A_LOG")" -gt 0 ] || fail "registry A never saw auser"

step "build --push of the same solution: same digest (SOURCE_DATE_EPOCH from the solution's .env), B never sees auser"
: > "$PROXY_LOG"
printf 'apass\n' | expect_exit 0 "$ES" build --solution "$WORK/sol" --platform amd64 --base "$B/runtime/base:1" --push \
  --plain-http -u auser --password-stdin --json
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["reference"]')" "$SHIP_REF" "build reference"
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["digest"]')" "$SHIP_DIGEST" "build digest = ship digest"
never_auser_at_b "build --push"

step "push docker://B/… to A with -u auser: the source is read with B's credential"
: > "$PROXY_LOG"
printf 'apass\n' | expect_exit 0 "$ES" push "docker://$B/runtime/base:1" "$A/copy/base:1" --plain-http -u auser --password-stdin
never_auser_at_b push
[ "$(REG_USER=auser REG_PASS=apass sk_inspect --raw "docker://$A/copy/base:1" | wc -c)" -gt 0 ] || fail "copy not in A"

step "without B's credential in config.json: B refuses (exit 4) and still never sees auser"
rm "$DOCKER_CONFIG/config.json"
: > "$PROXY_LOG"
printf 'apass\n' | expect_exit 4 "$ES" push "docker://$B/runtime/base:1" "$A/copy/base:2" --plain-http -u auser --password-stdin
assert_eq "$(proxy_log_count 'auth=basic:auser')" 0 "requests to registry B carrying A's credential (no B credential)"
echo "registry_keychain: ok" >&2
