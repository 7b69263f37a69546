#!/usr/bin/env bash
# e2e.registry.fixture_selftest: the registry test fixtures answer as documented, checked with curl and
# skopeo (docs/design/registry.md §10): registry-fixture.sh in all four modes, token-server.py and its quirk
# flags, make-base-image.sh, and every fault of fault-proxy.py at least once. If this fails, the other
# e2e.registry.* failures are probably the fixture's, not edgeship's.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"

hdr() {  # hdr FILE NAME: value of a response header (last one wins), CR stripped
  tr -d '\r' < "$1" | awk -v n="$(echo "$2" | tr A-Z a-z)" -F': ' 'tolower($1)==n{v=substr($0, length($1)+3)} END{print v}'
}
status_of() { tr -d '\r' < "$1" | awk '/^HTTP\//{s=$2} END{print s}'; }
# req FILE curl-args…: response headers into FILE, prints the status code ("000" on a network error)
req() { local f=$1; shift; curl -s -o "$f.body" -D "$f" --max-time 30 -w '%{http_code}' "$@" || true; }

# --- make-base-image.sh ----------------------------------------------------------------------------
step "make-base-image: runnable busybox layout, deterministic, arm64 variant"
d1=$(make_base "$WORK/base1" base amd64)
d2=$(make_base "$WORK/base2" base amd64)
assert_eq "$d2" "$d1" "base image digest of a second build"
darm=$(make_base "$WORK/base1" base-arm64 arm64)
[ "$darm" != "$d1" ] || fail "arm64 base has the amd64 digest"
sk inspect "oci:$WORK/base1:base" > "$WORK/base.json"
assert_eq "$(jget "$WORK/base.json" 'd["Architecture"]')" amd64 "base architecture"
assert_eq "$(sk inspect "oci:$WORK/base1:base-arm64" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Architecture"])')" arm64 "arm64 base architecture"
sk inspect --config "oci:$WORK/base1:base" > "$WORK/base-config.json"
assert_eq "$(jget "$WORK/base-config.json" 'd["config"]["Cmd"]')" '["/bin/sh"]' "base Cmd"
layer=$(jget "$WORK/base.json" 'd["Layers"][0]')
tar -tzf "$WORK/base1/blobs/sha256/${layer#sha256:}" > "$WORK/base-files.txt"
grep -qx 'bin/busybox' "$WORK/base-files.txt" || grep -qx './bin/busybox' "$WORK/base-files.txt" || fail "no bin/busybox in the base layer"
mkdir -p "$WORK/rootfs" && tar -xzf "$WORK/base1/blobs/sha256/${layer#sha256:}" -C "$WORK/rootfs"
assert_eq "$("$WORK/rootfs/bin/busybox" echo runnable)" runnable "busybox from the base layer runs"

# --- plain -------------------------------------------------------------------------------------------
step "plain: GET /v2/ -> 200 with the API version header; skopeo push and inspect"
reg_start plain
assert_eq "$(req "$WORK/h" "$REG_URL/v2/")" 200 "plain /v2/"
assert_eq "$(hdr "$WORK/h" Docker-Distribution-Api-Version)" registry/2.0 "API version header"
sk_copy "oci:$WORK/base1:base" "docker://$REG_ADDR/test/busybox:1"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/test/busybox:1")" "$d1" "digest pushed by skopeo"
assert_match "$(reg_log_count '"PUT /v2/test/busybox/manifests/1 HTTP/1.1" 201')" '^1$' "access log line of the manifest PUT"
PLAIN_ADDR=$REG_ADDR PLAIN_URL=$REG_URL PLAIN_LOG=$REG_LOG

# --- tls ---------------------------------------------------------------------------------------------
step "tls: verified with the test CA; unverified clients are refused"
reg_start tls
assert_eq "$(req "$WORK/h" --cacert "$REG_CACERT" "$REG_URL/v2/")" 200 "https /v2/ with the CA"
assert_eq "$(req "$WORK/h" "$REG_URL/v2/")" 000 "https /v2/ without the CA must fail verification"
assert_eq "$(req "$WORK/h" --cacert "$REG_CACERT" "https://localhost:${REG_ADDR#*:}/v2/")" 200 "SAN localhost"
openssl verify -CAfile "$REG_CACERT" "$REG_DIR/cert.pem" > /dev/null || fail "server certificate not signed by REG_CACERT"
[ -f "$REG_CERTDIR/ca.crt" ] || fail "REG_CERTDIR has no ca.crt"
sk_copy "oci:$WORK/base1:base" "docker://$REG_ADDR/test/busybox:1"     # uses --dest-cert-dir
assert_eq "$(skopeo_digest "docker://$REG_ADDR/test/busybox:1")" "$d1" "digest over TLS"
if sk copy -q "oci:$WORK/base1:base" "docker://$REG_ADDR/test/busybox:2" 2> "$WORK/err"; then
  fail "skopeo without the CA pushed to the TLS registry"
fi
grep -q 'certificate signed by unknown authority' "$WORK/err" || { cat "$WORK/err" >&2; fail "unexpected TLS error"; }
step "tls: the proxy verifies an https upstream with the test CA"
proxy_start "$REG_URL"        # lib.sh passes --upstream-ca "$REG_CACERT" for https upstreams
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/test/busybox/manifests/1" -H 'Accept: application/vnd.oci.image.manifest.v1+json')" 200 "manifest via proxy → https"
assert_eq "$(sha256_of "$WORK/h.body")" "$d1" "manifest bytes relayed unchanged"
proxy_stop

# --- htpasswd ----------------------------------------------------------------------------------------
step "htpasswd: 401 Basic realm, bcrypt credentials accepted, wrong ones refused"
reg_start htpasswd
assert_eq "$(req "$WORK/h" "$REG_URL/v2/")" 401 "htpasswd /v2/ anonymous"
assert_eq "$(hdr "$WORK/h" WWW-Authenticate)" 'Basic realm="test-realm"' "Basic challenge"
assert_eq "$(req "$WORK/h" -u testuser:testpass "$REG_URL/v2/")" 200 "htpasswd with credentials"
assert_eq "$(req "$WORK/h" -u testuser:wrong "$REG_URL/v2/")" 401 "htpasswd with a wrong password"
sk_copy "oci:$WORK/base1:base" "docker://$REG_ADDR/test/busybox:1"     # uses --dest-creds
assert_eq "$(skopeo_digest "docker://$REG_ADDR/test/busybox:1")" "$d1" "digest with Basic auth"

# --- token -------------------------------------------------------------------------------------------
step "token: 401 Bearer with realm and service; token GET; scoped access; OAuth2 POST"
reg_start token
assert_eq "$(req "$WORK/h" "$REG_URL/v2/")" 401 "token /v2/ anonymous"
assert_eq "$(hdr "$WORK/h" WWW-Authenticate)" "Bearer realm=\"$REG_REALM\",service=\"test-registry\"" "Bearer challenge"
assert_eq "$(req "$WORK/h" -X POST "$REG_URL/v2/t/img/blobs/uploads/")" 401 "upload anonymous"
# distribution lists the actions in map order: pull,push or push,pull
assert_match "$(hdr "$WORK/h" WWW-Authenticate)" \
  "^Bearer realm=\"$REG_REALM\",service=\"test-registry\",scope=\"repository:t/img:(pull,push|push,pull)\"$" \
  "scoped Bearer challenge"
assert_eq "$(req "$WORK/t" -u testuser:testpass "$REG_REALM?service=test-registry&scope=repository:t/img:pull,push")" 200 "token GET"
tok=$(jget "$WORK/t.body" 'd["token"]')
assert_eq "$(jget "$WORK/t.body" 'd["access_token"] == d["token"]')" true "token and access_token"
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok" -X POST "$REG_URL/v2/t/img/blobs/uploads/")" 202 "upload with the token"
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok" -X POST "$REG_URL/v2/other/img/blobs/uploads/")" 401 "other repository"
assert_match "$(hdr "$WORK/h" WWW-Authenticate)" 'error="insufficient_scope"' "insufficient_scope"
assert_eq "$(req "$WORK/t" -u testuser:wrong "$REG_REALM?service=test-registry&scope=repository:t/img:pull")" 401 "token GET, wrong password"
assert_eq "$(req "$WORK/t" "$REG_REALM?service=test-registry&scope=repository:t/img:pull,push")" 200 "anonymous token"
anon=$(jget "$WORK/t.body" 'd["token"]')
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $anon" -X POST "$REG_URL/v2/t/img/blobs/uploads/")" 401 "anonymous token cannot push"
assert_eq "$(req "$WORK/t" -u testuser:testpass "$REG_REALM?service=test-registry&scope=repository:t/img:pull,push&offline_token=true")" 200 "offline token"
refresh=$(jget "$WORK/t.body" 'd["refresh_token"]')
assert_eq "$(req "$WORK/t" -X POST -d grant_type=refresh_token -d client_id=edgeship -d service=test-registry \
  -d scope=repository:t/img:pull,push --data-urlencode "refresh_token=$refresh" "$REG_REALM")" 200 "OAuth2 refresh_token grant"
tok2=$(jget "$WORK/t.body" 'd["access_token"]')
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok2" -X POST "$REG_URL/v2/t/img/blobs/uploads/")" 202 "upload with the refreshed token"
assert_eq "$(req "$WORK/t" -X POST -d grant_type=password -d client_id=edgeship -d username=testuser -d password=testpass \
  -d service=test-registry "$REG_REALM")" 200 "OAuth2 password grant"
assert_eq "$(req "$WORK/t" -X POST -d grant_type=password -d username=testuser -d password=testpass "$REG_REALM")" 400 "POST without client_id"
assert_eq "$(req "$WORK/t" -X POST -d grant_type=magic -d client_id=x "$REG_REALM")" 400 "unknown grant"
sk_copy "oci:$WORK/base1:base" "docker://$REG_ADDR/test/busybox:1"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/test/busybox:1")" "$d1" "digest with Bearer auth"
grep -q 'GET /token?.*scope=repository%3Atest%2Fbusybox%3Apull%2Cpush.* 200 grant=basic sub=testuser' "$REG_TOKEN_LOG" ||
  { cat "$REG_TOKEN_LOG" >&2; fail "token log lacks skopeo's token request"; }
if grep -q 'testpass' "$REG_TOKEN_LOG"; then fail "the token log shows a password"; fi
if grep -qF "$refresh" "$REG_TOKEN_LOG"; then fail "the token log shows a refresh token"; fi
TOKEN_URL=$REG_URL TOKEN_REALM=$REG_REALM

step "token quirks: --access-token-only --no-post --expires-in 2 --refresh-token"
reg_start token --access-token-only --no-post --expires-in 2 --refresh-token seeded-identity-token
assert_eq "$(req "$WORK/t" -u testuser:testpass "$REG_REALM?service=test-registry&scope=repository:t/img:pull,push")" 200 "token GET"
assert_eq "$(jget "$WORK/t.body" '"token" in d')" false "no token field with --access-token-only"
assert_eq "$(jget "$WORK/t.body" 'd["expires_in"]')" 2 "expires_in"
assert_eq "$(req "$WORK/t" -X POST -d grant_type=password -d client_id=x -d username=testuser -d password=testpass "$REG_REALM")" 404 "POST with --no-post"
reg_stop "$REG_DIR"
reg_start token --refresh-token seeded-identity-token
assert_eq "$(req "$WORK/t" -X POST -d grant_type=refresh_token -d client_id=edgeship -d service=test-registry \
  -d scope=repository:t/img:pull,push -d refresh_token=seeded-identity-token "$REG_REALM")" 200 "seeded refresh token"
tok3=$(jget "$WORK/t.body" 'd["token"]')
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok3" -X POST "$REG_URL/v2/t/img/blobs/uploads/")" 202 "upload with the seeded identity"
assert_eq "$(req "$WORK/t" -X POST -d grant_type=refresh_token -d client_id=edgeship -d refresh_token=nope "$REG_REALM")" 401 "unknown refresh token"

# --- fault proxy (plain registry behind it) ----------------------------------------------------------
REG_ADDR=$PLAIN_ADDR REG_URL=$PLAIN_URL REG_LOG=$PLAIN_LOG REG_SCHEME=http
unset REG_USER REG_PASS REG_CERTDIR REG_CACERT
step "proxy: transparent by default (skopeo push through it; Location rewritten to the proxy)"
proxy_start "$PLAIN_URL"
sk_copy "oci:$WORK/base1:base" "docker://$PROXY_ADDR/via/proxy:1"
assert_eq "$(skopeo_digest "docker://$PLAIN_ADDR/via/proxy:1")" "$d1" "pushed through the proxy"
assert_eq "$(proxy_log_count ' PUT /v2/via/proxy/manifests/1 -> 201 in=[0-9]+ out=0$')" 1 "proxy log of the manifest PUT"
# A Host header naming the upstream makes the registry answer with an upstream Location: rewritten.
assert_eq "$(req "$WORK/h" -X POST -H "Host: $PLAIN_ADDR" "$PROXY_URL/v2/t/img/blobs/uploads/")" 202 "POST via proxy"
assert_match "$(hdr "$WORK/h" Location)" "^http://$PROXY_ADDR/v2/t/img/blobs/uploads/" "Location rewritten"
loc=$(hdr "$WORK/h" Location)
head -c 65536 /dev/urandom > "$WORK/small.bin"
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/small.bin" "$loc")" 202 "PATCH via proxy"
assert_eq "$(hdr "$WORK/h" Range)" 0-65535 "Range after the PATCH"
loc=$(hdr "$WORK/h" Location)
dig=$(sha256_of "$WORK/small.bin")
assert_eq "$(req "$WORK/h" -X PUT "$loc&digest=$dig")" 201 "PUT via proxy"
assert_eq "$(req "$WORK/h" -I "$PROXY_URL/v2/t/img/blobs/$dig")" 200 "HEAD via proxy"
assert_eq "$(hdr "$WORK/h" Content-Length)" 65536 "HEAD Content-Length relayed"
# Chunked request bodies are relayed too (and flagged in the log).
assert_eq "$(req "$WORK/h" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/")" 202 "POST"
assert_eq "$(req "$WORK/h" -X PATCH -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
  --data-binary @"$WORK/small.bin" "$(hdr "$WORK/h" Location)")" 202 "chunked PATCH via proxy"
assert_eq "$(hdr "$WORK/h" Range)" 0-65535 "Range after the chunked PATCH"
assert_eq "$(proxy_log_count 'PATCH .* -> 202 .*te=chunked')" 1 "te=chunked flagged in the log"
if grep -qi 'authorization' "$PROXY_LOG"; then fail "proxy log shows headers"; fi
proxy_stop

step "proxy: 500 to the first 2 matching requests, then through"
proxy_start "$PLAIN_URL" --rule '{"type":"status","status":500,"method":"GET","path":"^/v2/$","times":2}'
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 500 "1st GET /v2/"
assert_eq "$(jget "$WORK/h.body" 'd["errors"][0]["code"]')" UNKNOWN "errors[] body"
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 500 "2nd GET /v2/"
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 200 "3rd GET /v2/"
assert_eq "$(proxy_log_count 'GET /v2/ -> 500 .*fault=status#0')" 2 "500s in the log"
proxy_stop

step "proxy: 429 with Retry-After: 1 once"
proxy_start "$PLAIN_URL" --rule '{"type":"status","status":429,"headers":{"Retry-After":"1"},"method":"PATCH"}'
req "$WORK/h" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/" > /dev/null
loc=$(hdr "$WORK/h" Location)
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/small.bin" "$loc")" 429 "1st PATCH"
assert_eq "$(hdr "$WORK/h" Retry-After)" 1 "Retry-After"
# The registry never saw that PATCH: the session is intact, GET <location> says nothing arrived yet.
assert_eq "$(req "$WORK/h2" "$loc")" 204 "upload status after the 429"
assert_eq "$(hdr "$WORK/h2" Range)" 0-0 "Range after the 429"
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/small.bin" "$loc")" 202 "2nd PATCH"
assert_eq "$(req "$WORK/h" -X PUT "$(hdr "$WORK/h" Location)&digest=$dig")" 201 "PUT after the 429"
proxy_stop

step "proxy: connection reset after N bytes of a PATCH body, once per body (per_body)"
head -c 1048576 /dev/urandom > "$WORK/big.bin"
proxy_start "$PLAIN_URL" --rule '{"type":"reset","method":"PATCH","after_bytes":300000,"per_body":true,"times":0}'
req "$WORK/h" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/" > /dev/null
loc=$(hdr "$WORK/h" Location)
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/big.bin" "$loc")" 000 "PATCH reset"
assert_eq "$(proxy_log_count 'PATCH .* -> RESET in=300000 out=0 fault=reset#0')" 1 "RESET in the log"
# distribution 2.8.2 kept the 300000 bytes but the _state in our URL says offset 0: the session is gone.
assert_eq "$(req "$WORK/h2" "$loc")" 404 "status of the interrupted session (distribution 2.8.2)"
wait_for grep -q 'client disconnected during blob PATCH.*copied=300000' "$PLAIN_LOG" || fail "registry did not see the reset"
# A new session sending the same bytes passes (once per body), as does a different body.
req "$WORK/h" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/" > /dev/null
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/big.bin" "$(hdr "$WORK/h" Location)")" 202 "same body again"
assert_eq "$(hdr "$WORK/h" Range)" 0-1048575 "whole body arrived"
assert_eq "$(req "$WORK/h" -X PUT "$(hdr "$WORK/h" Location)&digest=$(sha256_of "$WORK/big.bin")")" 201 "PUT"
assert_eq "$(proxy_log_count 'PATCH .* -> 202 in=1048576 out=0 passed=reset#0')" 1 "passed in the log"
head -c 400000 /dev/urandom > "$WORK/other.bin"
req "$WORK/h" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/" > /dev/null
assert_eq "$(req "$WORK/h" -X PATCH -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/other.bin" "$(hdr "$WORK/h" Location)")" 000 "another body is reset"
proxy_stop

step "proxy: reset after the upstream answered (when=response): the work is done, the client sees an error"
proxy_start "$PLAIN_URL" --rule '{"type":"reset","when":"response","method":"PUT","path":"/manifests/"}'
sk inspect --raw "oci:$WORK/base1:base" > "$WORK/manifest.json"
assert_eq "$(req "$WORK/h" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$WORK/manifest.json" "$PROXY_URL/v2/via/proxy/manifests/again")" 000 "manifest PUT dropped"
assert_eq "$(skopeo_digest "docker://$PLAIN_ADDR/via/proxy:again")" "$d1" "the registry stored it anyway"
assert_eq "$(proxy_log_count 'PUT /v2/via/proxy/manifests/again -> RESET upstream=201')" 1 "log"
proxy_stop

step "proxy: wrong Docker-Content-Digest on a manifest PUT (the registry stores the right one)"
proxy_start "$PLAIN_URL" --rule '{"type":"wrong_digest","method":"PUT","path":"/manifests/"}'
assert_eq "$(req "$WORK/h" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$WORK/manifest.json" "$PROXY_URL/v2/via/proxy/manifests/wrong")" 201 "manifest PUT"
got=$(hdr "$WORK/h" Docker-Content-Digest)
assert_match "$got" '^sha256:[0-9a-f]{64}$' "well-formed digest"
[ "$got" != "$d1" ] || fail "the proxy did not change Docker-Content-Digest"
assert_eq "$(req "$WORK/h" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$WORK/manifest.json" "$PROXY_URL/v2/via/proxy/manifests/right")" 201 "second PUT (times=1)"
assert_eq "$(hdr "$WORK/h" Docker-Content-Digest)" "$d1" "second PUT untouched"
assert_eq "$(skopeo_digest "docker://$PLAIN_ADDR/via/proxy:wrong")" "$d1" "stored manifest"
proxy_stop

step "proxy: rules file re-read when it changes"
echo '[]' > "$WORK/rules.json"
proxy_start "$PLAIN_URL" --rules "$WORK/rules.json"
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 200 "no rules"
echo '[{"type":"status","status":503,"path":"^/v2/$"}]' > "$WORK/rules.json.new" && mv "$WORK/rules.json.new" "$WORK/rules.json"
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 503 "after the rules changed"
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 200 "times=1"
proxy_stop

# --- fault proxy in front of the token registry --------------------------------------------------------
step "proxy: 401 invalid_token once in the middle of an upload (token mode), realm learnt from the upstream"
proxy_start "$TOKEN_URL" --rule '{"type":"expire_token","method":"PATCH"}'
assert_eq "$(req "$WORK/h" "$PROXY_URL/v2/")" 401 "challenge through the proxy"
assert_eq "$(req "$WORK/t" -u testuser:testpass "$TOKEN_REALM?service=test-registry&scope=repository:t/img:pull,push")" 200 "token"
tok=$(jget "$WORK/t.body" 'd["token"]')
req "$WORK/h" -H "Authorization: Bearer $tok" -X POST "$PROXY_URL/v2/t/img/blobs/uploads/" > /dev/null
loc=$(hdr "$WORK/h" Location)
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok" -X PATCH -H 'Content-Type: application/octet-stream' \
  --data-binary @"$WORK/small.bin" "$loc")" 401 "PATCH mid-upload"
assert_eq "$(hdr "$WORK/h" WWW-Authenticate)" \
  "Bearer realm=\"$TOKEN_REALM\",service=\"test-registry\",scope=\"repository:t/img:pull,push\",error=\"invalid_token\"" \
  "invalid_token challenge"
assert_eq "$(req "$WORK/h2" -H "Authorization: Bearer $tok" "$loc")" 204 "session intact after the 401"
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok" -X PATCH -H 'Content-Type: application/octet-stream' \
  --data-binary @"$WORK/small.bin" "$loc")" 202 "PATCH after re-auth"
assert_eq "$(req "$WORK/h" -H "Authorization: Bearer $tok" -X PUT "$(hdr "$WORK/h" Location)&digest=$dig")" 201 "PUT"
assert_eq "$(proxy_log_count 'PATCH .* -> 401 .*fault=expire_token#0')" 1 "expire_token in the log"
if grep -qF "$tok" "$PROXY_LOG"; then fail "the proxy log shows a token"; fi

step "proxy: exits promptly on SIGTERM"
t0=$SECONDS
proxy_stop
kill -0 "$PROXY_PID" 2>/dev/null && fail "proxy still running"
[ $((SECONDS - t0)) -le 3 ] || fail "proxy took $((SECONDS - t0)) s to stop"
grep -q 'stopped$' "$PROXY_LOG" || fail "proxy did not stop gracefully"

step "fake credential helper: store, get, list, erase; not-found answer; log without secrets"
helper="$REGISTRY_FIXTURES_DIR/docker-credential-edgeship-test"
echo '{"ServerURL":"127.0.0.1:5000","Username":"testuser","Secret":"s3cret"}' | "$helper" store
assert_eq "$(stat -c %a "$EDGESHIP_TEST_CRED_STORE")" 600 "store file mode"
assert_eq "$(echo 127.0.0.1:5000 | "$helper" get)" '{"ServerURL": "127.0.0.1:5000", "Username": "testuser", "Secret": "s3cret"}' "get"
assert_eq "$("$helper" list)" '{"127.0.0.1:5000": "testuser"}' "list"
expect_exit 1 -- sh -c 'echo other:1 | "$0" get' "$helper"
assert_eq "$(cat "$LAST_OUT")" "credentials not found in native keychain" "not-found answer"
echo 127.0.0.1:5000 | "$helper" erase
expect_exit 1 -- sh -c 'echo 127.0.0.1:5000 | "$0" get' "$helper"
if grep -q s3cret "$EDGESHIP_TEST_CRED_LOG"; then fail "helper log shows the secret"; fi
assert_eq "$(tr '\n' ' ' < "$EDGESHIP_TEST_CRED_LOG")" "store 127.0.0.1:5000 get 127.0.0.1:5000 list  get other:1 erase 127.0.0.1:5000 get 127.0.0.1:5000 " "helper log"

step "fixture: stop removes everything"
dir=$REG_DIR
pid=$(cat "$dir/registry.pid")
reg_stop "$dir"
[ ! -d "$dir" ] || fail "fixture dir left behind"
kill -0 "$pid" 2>/dev/null && fail "registry $pid still running"
echo "PASS: registry fixtures" >&2
