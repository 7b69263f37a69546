#!/usr/bin/env bash
# e2e.registry.auth: `edgeship login` / `logout` against real registries on 127.0.0.1 (docs/design/registry.md
# §5, §6, §10.3-10.4): htpasswd (Basic) and Bearer token registries, wrong passwords (exit 4, config.json
# untouched), config.json mode 0600 with unknown keys kept, a credsStore helper, the token server's
# --access-token-only and --no-post quirks, identity tokens (OAuth2 refresh_token grant, the ACR all-zeros
# user) and CONTAINER_REGISTRY_* from the environment.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"

ES=${EDGESHIP_EXE:?}
CFG="$DOCKER_CONFIG/config.json"
mode_of() { stat -c '%a' "$1"; }
login() { printf '%s\n' "$2" | "$ES" login "$1" --plain-http -u "$3" --password-stdin "${@:4}"; }
secret_absent() {  # the secret must not appear in what edgeship printed
  ! grep -qF -- "$1" "$LAST_OUT" "$LAST_ERR" || fail "secret printed"
}

# --- htpasswd (Basic) ------------------------------------------------------------------------------
step "htpasswd: wrong password -> exit 4, one error line, nothing written"
reg_start htpasswd
H=$REG_ADDR
expect_exit 4 --err "^edgeship: error: registry $H: authentication failed for testuser \(credential from --username\): the registry answered 401$" \
  login "$H" wrong-pass testuser
secret_absent wrong-pass
assert_eq "$(grep -c '^edgeship: error:' "$LAST_ERR")" 1 "error lines"
assert_file_absent "$CFG" "config.json after a failed login"

step "htpasswd: right password -> stored in config.json, mode 0600, --json result"
expect_exit 0 login "$H" testpass testuser --json
secret_absent testpass
assert_eq "$(jget "$LAST_OUT" 'd["registry"]')" "$H" "json registry"
assert_eq "$(jget "$LAST_OUT" 'd["scheme"]')" basic "json scheme"
assert_eq "$(jget "$LAST_OUT" 'd["stored"]')" true "json stored"
assert_eq "$(mode_of "$CFG")" 600 "config.json mode"
assert_eq "$(mode_of "$DOCKER_CONFIG")" 700 "config dir mode"
assert_eq "$(jget "$CFG" "d['auths']['$H']['auth']")" "$(printf testuser:testpass | base64)" "stored auth"

step "unknown keys survive; a wrong password later leaves config.json byte for byte"
"$PY" - "$CFG" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["HttpHeaders"] = {"X-Meta-Source-Client": "azure/iot"}; d["auths"]["keep.example"] = {"auth": "dTpw", "email": "e"}
json.dump(d, open(p, "w"))
PY
chmod 600 "$CFG"
before=$(sha256_of "$CFG")
expect_exit 4 login "$H" nope testuser
assert_eq "$(sha256_of "$CFG")" "$before" "config.json after a refused login"
expect_exit 0 login "$H" testpass testuser
assert_eq "$(jget "$CFG" 'd["HttpHeaders"]["X-Meta-Source-Client"]')" azure/iot "HttpHeaders kept"
assert_eq "$(jget "$CFG" 'd["auths"]["keep.example"]["email"]')" e "other entry kept"
assert_eq "$(mode_of "$CFG")" 600 "config.json mode after rewrite"

step "login without -u checks the stored credential and writes nothing"
before=$(sha256_of "$CFG")
expect_exit 0 --err "already in docker config" "$ES" login "$H" --plain-http
assert_eq "$(sha256_of "$CFG")" "$before" "config.json after login without -u"

step "usage errors: --insecure with --plain-http, -u without --password-stdin, no credential at all"
expect_exit 2 --err "exclude each other" "$ES" login "$H" --plain-http --insecure
expect_exit 2 --err "needs --password-stdin" "$ES" login "$H" --plain-http -u testuser
expect_exit 2 --err "no credential given" "$ES" login 127.0.0.1:1 --plain-http
expect_exit 2 --err "stdin was empty" sh -c "printf '' | '$ES' login '$H' --plain-http -u testuser --password-stdin"

step "logout removes only that entry; a second logout is not an error"
expect_exit 0 "$ES" logout "$H" --json
assert_eq "$(jget "$LAST_OUT" 'd["removed"]')" true "removed"
assert_eq "$(jget "$CFG" "'$H' in d['auths']")" false "entry gone"
assert_eq "$(jget "$CFG" 'd["auths"]["keep.example"]["auth"]')" dTpw "other entry kept after logout"
expect_exit 0 --err "no credential stored" "$ES" logout "$H"

step "CONTAINER_REGISTRY_* (solution .env convention) is used for the server it names"
expect_exit 0 env CONTAINER_REGISTRY_SERVER="$H" CONTAINER_REGISTRY_USERNAME=testuser CONTAINER_REGISTRY_PASSWORD=testpass \
  "$ES" login "$H" --plain-http
assert_eq "$(jget "$CFG" "d['auths']['$H']['auth']")" "$(printf testuser:testpass | base64)" "stored from env"
"$ES" logout "$H" > /dev/null 2>&1
expect_exit 4 env CONTAINER_REGISTRY_SERVER="$H" CONTAINER_REGISTRY_USERNAME=testuser CONTAINER_REGISTRY_PASSWORD=wrong-env-secret \
  "$ES" login "$H" --plain-http
secret_absent wrong-env-secret

step "credsStore helper: login stores through docker-credential-edgeship-test, config.json holds no secret"
"$PY" - "$CFG" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["credsStore"] = "edgeship-test"; json.dump(d, open(p, "w"))
PY
export PATH="$REGISTRY_FIXTURES_DIR:$PATH" EDGESHIP_TEST_CRED_STORE="$WORK/creds.json" EDGESHIP_TEST_CRED_LOG="$WORK/creds.log"
expect_exit 0 --err "credential helper docker-credential-edgeship-test" login "$H" testpass testuser
! grep -q testpass "$CFG" || fail "secret written to config.json despite credsStore"
assert_eq "$(jget "$CFG" "d['auths']['$H']")" "{}" "host recorded with an empty entry"
assert_eq "$(jget "$WORK/creds.json" "d['$H']['Secret']")" testpass "secret in the helper's store"
expect_exit 0 --err "already in credential helper" "$ES" login "$H" --plain-http
grep -q "^get $H\$" "$WORK/creds.log" || fail "helper get not called"
expect_exit 0 "$ES" logout "$H"
grep -q "^erase $H\$" "$WORK/creds.log" || fail "helper erase not called"
assert_eq "$(jget "$WORK/creds.json" "'$H' in d")" false "helper entry erased"
expect_exit 4 --err "injected failure" env EDGESHIP_TEST_CRED_FAIL=1 sh -c "printf testpass | '$ES' login '$H' --plain-http -u testuser --password-stdin"
"$PY" - "$CFG" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); del d["credsStore"]; json.dump(d, open(p, "w"))
PY

# --- token (Bearer) --------------------------------------------------------------------------------
step "token: Basic -> GET token; wrong password -> token server 401 -> exit 4"
reg_start token --refresh-token refresh-abc
T=$REG_ADDR
TLOG=$REG_TOKEN_LOG
expect_exit 4 --err "^edgeship: error: registry $T: authentication failed for testuser \(credential from --username\): token server answered 401$" \
  login "$T" wrong testuser
before_lines=$(wc -l < "$TLOG")
expect_exit 0 login "$T" testpass testuser --json
assert_eq "$(jget "$LAST_OUT" 'd["scheme"]')" bearer "json scheme"
tail -n +"$((before_lines + 1))" "$TLOG" > "$WORK/tlog.new"
grep -qE 'GET /token\?service=test-registry.* 200' "$WORK/tlog.new" || { cat "$TLOG" >&2; fail "no token GET"; }
! grep -q 'POST' "$WORK/tlog.new" || fail "Basic credential must not POST"

step "identity token (username <token>): OAuth2 POST refresh_token grant"
before_lines=$(wc -l < "$TLOG")
expect_exit 0 login "$T" refresh-abc '<token>'
assert_eq "$(jget "$CFG" "d['auths']['$T']['identitytoken']")" refresh-abc "identitytoken stored"
tail -n +"$((before_lines + 1))" "$TLOG" | grep -E '^.* POST /token 200' >/dev/null || { cat "$TLOG" >&2; fail "no POST refresh grant"; }
expect_exit 4 --err "token server answered 401" login "$T" unknown-refresh '<token>'
secret_absent unknown-refresh

step "ACR all-zeros user is an identity token"
before_lines=$(wc -l < "$TLOG")
expect_exit 0 login "$T" refresh-abc 00000000-0000-0000-0000-000000000000
tail -n +"$((before_lines + 1))" "$TLOG" | grep -E 'POST /token 200' >/dev/null || { cat "$TLOG" >&2; fail "zeros user did not POST"; }
# The stored identity token is used by later commands: login without -u re-verifies through the POST.
expect_exit 0 --err "already in docker config" "$ES" login "$T" --plain-http
reg_stop "$REG_DIR"

step "token --access-token-only (ACR-style replies)"
reg_start token --access-token-only
expect_exit 0 login "$REG_ADDR" testpass testuser
reg_stop "$REG_DIR"

step "token --no-post: Basic uses GET anyway; an identity token falls back from POST 404 to GET"
reg_start token --no-post --refresh-token refresh-abc
expect_exit 0 login "$REG_ADDR" testpass testuser
grep -qE 'POST /token 404' "$REG_TOKEN_LOG" && fail "Basic login sent a POST"
expect_exit 4 login "$REG_ADDR" refresh-abc '<token>'
grep -qE 'POST /token 404' "$REG_TOKEN_LOG" || fail "no POST before the fallback"
grep -qE 'GET /token\?service=test-registry.* 401' "$REG_TOKEN_LOG" || { cat "$REG_TOKEN_LOG" >&2; fail "no GET fallback"; }
reg_stop "$REG_DIR"

step "tls: verified with --ca-file; unverified fails (exit 1, nothing stored); --insecure skips verification"
reg_start tls
before=$(sha256_of "$CFG")
expect_exit 1 --err "not trusted" sh -c "printf p | '$ES' login '$REG_ADDR' -u u --password-stdin"
assert_eq "$(sha256_of "$CFG")" "$before" "config.json after a TLS failure"
expect_exit 0 --err "did not ask for credentials" sh -c "printf p | '$ES' login '$REG_ADDR' --ca-file '$REG_CACERT' -u u --password-stdin"
expect_exit 0 sh -c "printf p | '$ES' login '$REG_ADDR' --insecure -u u --password-stdin"
expect_exit 0 "$ES" logout "$REG_ADDR"
reg_stop "$REG_DIR"

echo "registry_auth: ok"
