# Shell helpers for the registry end-to-end tests (tests/e2e/registry_*.sh) and bench/registry.
# Source it:   source "$REGISTRY_LIB"      (tests/e2e/registry.cmake sets REGISTRY_LIB and the paths below)
#
# It sets `set -euo pipefail`, makes a scratch dir $WORK (REGISTRY_TEST_DIR from ctest, emptied first, or a
# temp dir), isolates HOME, DOCKER_CONFIG, TMPDIR and XDG_* inside it (tests never read or write the
# user's ~/.docker/config.json), and installs an EXIT trap that stops every registry, token server and
# proxy started through these helpers. On success a temp $WORK is removed; the ctest scratch dir is kept
# for post-mortems (it is emptied at the start of the next run).
#
# Registries (docs/design/registry.md §10.3):
#   reg_start MODE [token-server flags…]   plain|tls|htpasswd|token; sets REG_ADDR REG_URL REG_DIR REG_LOG
#                                          REG_SCHEME REG_MODE (+ REG_CACERT REG_CERTDIR for tls, REG_USER
#                                          REG_PASS for htpasswd/token, REG_REALM REG_SERVICE REG_TOKEN_LOG
#                                          for token). Call again for a second registry; copy the values
#                                          you need first (each call overwrites REG_*).
#   reg_stop DIR                           stop one early (the trap stops the rest)
#   reg_log_count REGEX [LOG]              number of access-log lines matching REGEX (default $REG_LOG),
#                                          e.g. reg_log_count '"PATCH /v2/t/img/blobs/uploads/'
# Fault proxy (tests/registry/fault-proxy.py):
#   proxy_start UPSTREAM_URL [proxy flags…]  e.g. proxy_start "$REG_URL" --rule '{"type":"status",…}';
#                                          sets PROXY_ADDR PROXY_URL PROXY_LOG PROXY_PID
#   proxy_stop                             stop the last proxy early
#   proxy_log_count REGEX                  lines of $PROXY_LOG matching REGEX
# Credential helper: $REGISTRY_FIXTURES_DIR holds docker-credential-edgeship-test (put the dir on PATH;
#   "credsStore": "edgeship-test"); its store is $EDGESHIP_TEST_CRED_STORE (default $WORK/creds.json) and
#   its call log $EDGESHIP_TEST_CRED_LOG (default $WORK/creds.log: "ACTION SERVER" lines, no secrets).
# Images:
#   make_base DIR [TAG] [ARCH]             tiny runnable base image as an OCI layout (make-base-image.sh);
#                                          prints the manifest digest
# skopeo, the oracle (with a permissive policy file in $WORK, and the REG_* TLS/credential options):
#   sk ARGS…                               skopeo --policy … ARGS
#   sk_inspect [skopeo inspect opts…] REF  skopeo inspect with the registry options for docker:// REFs
#   sk_copy SRC DEST [opts…]               skopeo copy -q with --src-*/--dest-* options for docker:// ends
#   skopeo_digest REF                      sha256 digest of the manifest bytes (`inspect --raw`) of REF
#   skopeo_config_digest REF               sha256 digest of the config bytes (`inspect --raw --config`)
# Assertions:
#   fail MSG…                              print "FAIL: MSG" and exit 1
#   step MSG…                              progress line on stderr
#   assert_eq GOT WANT [WHAT]              exact string equality
#   assert_match TEXT REGEX [WHAT]         extended-regex match
#   assert_file_absent PATH [WHAT]
#   expect_exit CODE [--err REGEX] [--lines N] [--] CMD…
#                                          runs CMD, checks the exit code, optionally that stderr matches
#                                          REGEX and has exactly N lines; stdout/stderr stay in $LAST_OUT /
#                                          $LAST_ERR (files); prints both on failure
#   jget FILE EXPR                         Python expression over the JSON document `d` in FILE
#   sha256_of FILE                         "sha256:<hex>" of a file
#   wait_for CMD…                          retry CMD for up to WAIT_SECONDS (default 10) seconds
#   on_exit CMD                            run CMD (a string, eval'd) in the EXIT trap before the registries
#                                          stop; do not install your own EXIT trap (it would replace ours)
set -euo pipefail

PY=/usr/bin/python3
_REG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${REGISTRY_FIXTURE:=$_REG_LIB_DIR/registry-fixture.sh}"
: "${TOKEN_SERVER:=$_REG_LIB_DIR/token-server.py}"
: "${FAULT_PROXY:=$_REG_LIB_DIR/fault-proxy.py}"
: "${MAKE_BASE_IMAGE:=$_REG_LIB_DIR/make-base-image.sh}"
REGISTRY_FIXTURES_DIR=$_REG_LIB_DIR
export REGISTRY_FIXTURE TOKEN_SERVER FAULT_PROXY MAKE_BASE_IMAGE REGISTRY_FIXTURES_DIR

for _tool in docker-registry skopeo curl openssl; do
  command -v "$_tool" >/dev/null || { echo "FAIL: $_tool not installed (scripts/deps/registry.txt)" >&2; exit 1; }
done

if [ -n "${REGISTRY_TEST_DIR:-}" ]; then
  WORK=$REGISTRY_TEST_DIR
  rm -rf "$WORK"; mkdir -p "$WORK"
  _REG_WORK_IS_TEMP=0
else
  WORK=$(mktemp -d -t edgeship-registry.XXXXXX)
  _REG_WORK_IS_TEMP=1
fi
export WORK
export HOME="$WORK/home" DOCKER_CONFIG="$WORK/home/.docker" TMPDIR="$WORK/tmp" \
       XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share" \
       XDG_RUNTIME_DIR="$WORK/home/run" REGISTRY_AUTH_FILE="$WORK/home/auth.json"
mkdir -p "$HOME" "$TMPDIR" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export EDGESHIP_TEST_CRED_STORE="$WORK/creds.json" EDGESHIP_TEST_CRED_LOG="$WORK/creds.log"
SK_POLICY="$WORK/policy.json"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$SK_POLICY"
LAST_OUT="$WORK/last.out"; LAST_ERR="$WORK/last.err"

_REG_DIRS=()
_PROXY_PIDS=()
_ON_EXIT=()
on_exit() { _ON_EXIT+=("$1"); }

_reg_cleanup() {
  local rc=$? d p
  set +e
  for p in "${_ON_EXIT[@]}"; do eval "$p"; done
  for p in "${_PROXY_PIDS[@]}"; do _stop_pid "$p"; done
  for d in "${_REG_DIRS[@]}"; do [ -d "$d" ] && bash "$REGISTRY_FIXTURE" stop "$d"; done
  if [ "$rc" -eq 0 ] && [ "$_REG_WORK_IS_TEMP" = 1 ]; then rm -rf "$WORK"; fi
  if [ "$rc" -ne 0 ]; then echo "(scratch dir kept: $WORK)" >&2; fi
  exit "$rc"
}
trap _reg_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# _stop_pid PID: SIGTERM, bounded poll (~5 s), SIGKILL; reaps our own child.
_stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

step() { echo "== $*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }

reg_start() {
  local out
  out=$(REG_OWNER_PID=$$ bash "$REGISTRY_FIXTURE" start "$@") || fail "registry fixture did not start ($*)"
  unset REG_CACERT REG_CERTDIR REG_USER REG_PASS REG_REALM REG_SERVICE REG_TOKEN_LOG
  eval "$out"
  _REG_DIRS+=("$REG_DIR")
}

reg_stop() { bash "$REGISTRY_FIXTURE" stop "$1"; }

reg_log_count() {
  local log=${2:-$REG_LOG}
  grep -cE -- "$1" "$log" || true
}

proxy_start() {
  local upstream=$1; shift
  _PROXY_SEQ=$((${_PROXY_SEQ:-0} + 1))
  local n=$_PROXY_SEQ
  PROXY_LOG="$WORK/proxy-$n.log"
  local addr_file="$WORK/proxy-$n.addr"
  rm -f "$addr_file" "$PROXY_LOG"
  local ca=()
  if [[ "$upstream" == https://* ]] && [ -n "${REG_CACERT:-}" ]; then ca=(--upstream-ca "$REG_CACERT"); fi
  "$PY" "$FAULT_PROXY" --upstream "$upstream" "${ca[@]}" --addr-file "$addr_file" --log "$PROXY_LOG" --owner-pid $$ "$@" \
    > "$WORK/proxy-$n.out" 2>&1 < /dev/null &
  PROXY_PID=$!
  _PROXY_PIDS+=("$PROXY_PID")
  for _ in $(seq 1 100); do
    [ -s "$addr_file" ] && break
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy-$n.out" >&2; fail "fault proxy exited"; }
    sleep 0.1
  done
  [ -s "$addr_file" ] || { cat "$WORK/proxy-$n.out" >&2; fail "fault proxy did not start"; }
  PROXY_ADDR=$(cat "$addr_file")
  PROXY_URL="http://$PROXY_ADDR"
  export PROXY_ADDR PROXY_URL PROXY_LOG PROXY_PID
}

proxy_stop() {  # stops the last proxy started and forgets its PID (the cleanup never signals a reused PID)
  _stop_pid "$PROXY_PID"
  local keep=() p
  for p in "${_PROXY_PIDS[@]}"; do [ "$p" = "$PROXY_PID" ] || keep+=("$p"); done
  _PROXY_PIDS=(${keep[@]+"${keep[@]}"})
}

proxy_log_count() { grep -cE -- "$1" "$PROXY_LOG" || true; }

make_base() { bash "$MAKE_BASE_IMAGE" "$@"; }

sk() { skopeo --policy "$SK_POLICY" "$@"; }

# _sk_reg_opts PREFIX: skopeo options for the current registry (PREFIX "", "src-" or "dest-").
_sk_reg_opts() {
  local p=$1
  _SK_OPTS=()
  if [ "${REG_SCHEME:-http}" = https ] && [ -n "${REG_CERTDIR:-}" ]; then
    _SK_OPTS+=("--${p}cert-dir" "$REG_CERTDIR")
  else
    _SK_OPTS+=("--${p}tls-verify=false")
  fi
  if [ -n "${REG_USER:-}" ]; then _SK_OPTS+=("--${p}creds" "$REG_USER:$REG_PASS"); fi
}

sk_inspect() {
  local last=${*: -1}
  _SK_OPTS=()
  [[ "$last" == docker://* ]] && _sk_reg_opts ""
  sk inspect "${_SK_OPTS[@]}" "$@"
}

sk_copy() {
  local src=$1 dest=$2; shift 2
  local opts=()
  if [[ "$src" == docker://* ]]; then _sk_reg_opts "src-"; opts+=("${_SK_OPTS[@]}"); fi
  if [[ "$dest" == docker://* ]]; then _sk_reg_opts "dest-"; opts+=("${_SK_OPTS[@]}"); fi
  sk copy -q "${opts[@]}" "$@" "$src" "$dest"
}

skopeo_digest() { echo "sha256:$(sk_inspect --raw "$1" | sha256sum | cut -d' ' -f1)"; }
skopeo_config_digest() { echo "sha256:$(sk_inspect --raw --config "$1" | sha256sum | cut -d' ' -f1)"; }

assert_eq() { [ "$1" == "$2" ] || fail "${3:-value}: got '$1', expected '$2'"; }
assert_match() { [[ "$1" =~ $2 ]] || fail "${3:-value}: '$1' does not match /$2/"; }
assert_file_absent() { [ ! -e "$1" ] || fail "${2:-file} exists: $1"; }

jget() {
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"
}

sha256_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

expect_exit() {
  local want=$1; shift
  local err_re="" lines=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --err) err_re=$2; shift 2 ;;
      --lines) lines=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  local code=0
  "$@" > "$LAST_OUT" 2> "$LAST_ERR" || code=$?
  local why=""
  if [ "$code" != "$want" ]; then why="exit code $code, expected $want"
  elif [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$LAST_ERR"; then why="stderr does not match /$err_re/"
  elif [ -n "$lines" ] && [ "$(wc -l < "$LAST_ERR")" != "$lines" ]; then
    why="stderr has $(wc -l < "$LAST_ERR") lines, expected $lines"
  elif grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "$LAST_ERR"; then why="sanitizer report"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: $why: $*" >&2
    echo "--- stdout:" >&2; head -c 4000 "$LAST_OUT" >&2
    echo "--- stderr:" >&2; head -c 8000 "$LAST_ERR" >&2
    exit 1
  fi
}

wait_for() {
  local end=$((SECONDS + ${WAIT_SECONDS:-10}))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}
