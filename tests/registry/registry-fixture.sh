#!/bin/bash
# Start/stop a throw-away CNCF distribution registry (Debian's docker-registry 2.8.2) for edgeship tests
# and benchmarks, on 127.0.0.1 and a free port (docs/design/registry.md §10.3, §10.5).
#
#   eval "$(registry-fixture.sh start [plain|tls|htpasswd|token] [TOKEN-SERVER FLAGS…])"
#   registry-fixture.sh stop "$REG_DIR"
#
# start prints `export` lines (shell-quoted):
#   REG_ADDR    127.0.0.1:PORT               REG_SCHEME  http | https
#   REG_URL     SCHEME://127.0.0.1:PORT      REG_DIR     scratch dir (config, data, logs, pids)
#   REG_LOG     registry stdout+stderr, including the access log (one combined-format line per request)
#   REG_MODE    the mode
# tls:      REG_CACERT (PEM of the test CA that signed the server certificate; SAN 127.0.0.1 + localhost),
#           REG_CERTDIR (certs.d-style dir holding ca.crt, for skopeo --dest-cert-dir / --cert-dir)
# htpasswd: REG_USER REG_PASS (testuser / testpass, bcrypt; REG_HTPASSWD_USER/_PASS choose others), realm "test-realm"
# token:    REG_USER REG_PASS, REG_REALM (http://127.0.0.1:PORT/token), REG_SERVICE (test-registry),
#           REG_TOKEN_LOG (one line per token request: method, path with query, status; never secrets)
#
# Token-server flags (token mode) follow the mode or come from TOKEN_ARGS: --expires-in N,
# --access-token-only (ACR-style reply without "token"), --no-post (404 on the OAuth2 POST).
# Environment: REGISTRY_BIN (default: docker-registry on PATH), TOKEN_SERVER (default: token-server.py
# beside this script), REG_OWNER_PID (when set, a watchdog stops the registry once that process is gone,
# so a test killed by a timeout leaves nothing behind), REG_MAX_LIFETIME (seconds, default 3600: the
# watchdog stops everything after that in any case).
#
# Every wait is bounded: start gives up after ~10 s per process (3 tries with fresh ports if the port was
# taken meanwhile); stop sends SIGTERM to the registry binary itself (distribution needs 1.2–1.7 s to exit
# gracefully), polls up to 5 s, then SIGKILLs.
set -euo pipefail
BIN=${REGISTRY_BIN:-$(command -v docker-registry || command -v registry || true)}
PY=/usr/bin/python3                      # Debian interpreter: sees python3-jwt/-cryptography
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "registry-fixture: $*" >&2; exit 1; }
free_port() { "$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_http URL PID LOG [curl opts…]: returns 0 once URL answers at all (200/401/404/405),
# 1 if the process died or ~10 s passed.
wait_http() {
  local url=$1 pid=$2 log=$3 code; shift 3
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$@" "$url" || true)
    case "$code" in 200|401|404|405) return 0;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# stop_pid FILE: SIGTERM, bounded poll (~5 s), SIGKILL.
stop_pid() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

q() { printf '%q' "$1"; }

start() {
  local mode=${1:-plain}; shift || true
  local token_args=("$@")
  if [ -n "${TOKEN_ARGS:-}" ]; then read -r -a extra_args <<< "$TOKEN_ARGS"; token_args+=("${extra_args[@]}"); fi
  [ -n "$BIN" ] && [ -x "$BIN" ] || die "docker-registry not found (apt-get install docker-registry; scripts/deps/registry.txt)"
  case "$mode" in plain|tls|htpasswd|token) ;; *) echo "registry-fixture: unknown mode '$mode' (plain|tls|htpasswd|token)" >&2; exit 2;; esac

  local dir; dir=$(mktemp -d -t reg-fixture.XXXXXX)
  # Anything failing below leaves no process and no directory behind.
  trap 'stop_pid "$dir/registry.pid"; stop_pid "$dir/token.pid"; rm -rf "$dir"' ERR
  local scheme=http curlopt=() auth="" tport=""
  case "$mode" in
  tls)
    # A test CA and a server certificate it signs (SAN 127.0.0.1 and localhost): clients verify against
    # REG_CACERT exactly as against a private registry's CA.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" -days 2 \
      -subj "/CN=edgeship test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/server.csr" \
      -subj /CN=localhost 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
      -out "$dir/cert.pem" -days 2 -extfile "$dir/server.ext" 2>/dev/null
    rm -f "$dir/server.csr" "$dir/ca-key.pem"      # nobody may sign anything else with this CA
    mkdir -p "$dir/certs.d"; cp "$dir/ca.pem" "$dir/certs.d/ca.crt"   # skopeo's cert dir wants *.crt
    scheme=https; curlopt=(--cacert "$dir/ca.pem") ;;
  htpasswd)
    htpasswd -Bbn "${REG_HTPASSWD_USER:-testuser}" "${REG_HTPASSWD_PASS:-testpass}" > "$dir/htpasswd" # bcrypt only (distribution)
    auth="auth: {htpasswd: {realm: test-realm, path: $dir/htpasswd}}" ;;
  token)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/token-key.pem" -out "$dir/token-cert.pem" \
      -days 2 -subj /CN=test-token-signer 2>/dev/null
    local ok=""
    for _ in 1 2 3; do
      tport=$(free_port)
      "$PY" "${TOKEN_SERVER:-$HERE/token-server.py}" --port "$tport" --key "$dir/token-key.pem" \
        --cert "$dir/token-cert.pem" --issuer test-issuer ${token_args[@]+"${token_args[@]}"} \
        > "$dir/token.log" 2>&1 < /dev/null &
      echo $! > "$dir/token.pid"
      if wait_http "http://127.0.0.1:$tport/" "$(cat "$dir/token.pid")" "$dir/token.log"; then ok=1; break; fi
      stop_pid "$dir/token.pid"
    done
    [ -n "$ok" ] || { cat "$dir/token.log" >&2; false; }
    auth="auth: {token: {realm: http://127.0.0.1:$tport/token, service: test-registry, issuer: test-issuer, rootcertbundle: $dir/token-cert.pem}}" ;;
  esac

  local port ok="" unset_env=() v
  for v in $(compgen -e); do [[ "$v" == REGISTRY_* ]] && unset_env+=(-u "$v"); done
  for _ in 1 2 3; do
    port=$(free_port)
    local http="http: {addr: 127.0.0.1:$port}"
    [ "$mode" = tls ] && http="http: {addr: 127.0.0.1:$port, tls: {certificate: $dir/cert.pem, key: $dir/key.pem}}"
    cat > "$dir/config.yml" <<YML
version: 0.1
log: {level: warn, formatter: text, accesslog: {disabled: false}}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
$http
health: {storagedriver: {enabled: false}}
$auth
YML
    # Background the binary itself, never a subshell (§10.5): its PID is what stop kills. distribution
    # reads every REGISTRY_* environment variable as a config override (REGISTRY_HTTP_ADDR…), so none of
    # ours (REGISTRY_FIXTURE, REGISTRY_TEST_DIR, podman's REGISTRY_AUTH_FILE…) may reach it.
    env "${unset_env[@]}" "$BIN" serve "$dir/config.yml" > "$dir/registry.log" 2>&1 < /dev/null &
    echo $! > "$dir/registry.pid"
    if wait_http "$scheme://127.0.0.1:$port/v2/" "$(cat "$dir/registry.pid")" "$dir/registry.log" "${curlopt[@]}"; then
      ok=1; break
    fi
    stop_pid "$dir/registry.pid"
  done
  [ -n "$ok" ] || { tail -20 "$dir/registry.log" >&2; false; }

  # Watchdog: stops everything when the owner process is gone or after REG_MAX_LIFETIME seconds.
  local life=${REG_MAX_LIFETIME:-3600} owner=${REG_OWNER_PID:-}
  ( trap - ERR
    end=$((SECONDS + life))
    while [ "$SECONDS" -lt "$end" ] && [ -f "$dir/registry.pid" ]; do
      if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then break; fi
      sleep 1
    done
    if [ -f "$dir/registry.pid" ]; then
      stop_pid "$dir/registry.pid"; stop_pid "$dir/token.pid"; rm -rf "$dir"
    fi
  ) > /dev/null 2>&1 < /dev/null &
  echo $! > "$dir/watchdog.pid"
  trap - ERR

  echo "export REG_MODE=$mode REG_ADDR=127.0.0.1:$port REG_DIR=$(q "$dir") REG_SCHEME=$scheme" \
       "REG_URL=$scheme://127.0.0.1:$port REG_LOG=$(q "$dir/registry.log")"
  if [ "$mode" = tls ]; then
    echo "export REG_CACERT=$(q "$dir/ca.pem") REG_CERTDIR=$(q "$dir/certs.d")"
  fi
  if [ "$mode" = htpasswd ]; then
    echo "export REG_USER=${REG_HTPASSWD_USER:-testuser} REG_PASS=${REG_HTPASSWD_PASS:-testpass}"
  elif [ "$mode" = token ]; then
    echo "export REG_USER=testuser REG_PASS=testpass"
  fi
  if [ "$mode" = token ]; then
    echo "export REG_REALM=http://127.0.0.1:$tport/token REG_SERVICE=test-registry" \
         "REG_TOKEN_LOG=$(q "$dir/token.log")"
  fi
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
  [ -d "$dir" ] || return 0
  # Only ever a directory this script made (it holds our config.yml): never rm -rf something else.
  case "$(basename "$dir")" in reg-fixture.*) ;; *) die "refusing to remove $dir (not a fixture dir)";; esac
  # The watchdog first (it would race us), then the processes by PID.
  if [ -f "$dir/watchdog.pid" ]; then kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true; fi
  # Both servers get SIGTERM at once, then each is polled (bounded) and SIGKILLed if still there.
  stop_pid "$dir/token.pid" & local tk=$!
  stop_pid "$dir/registry.pid"
  wait "$tk" 2>/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) stop "${2:-}" ;;
*) echo "usage: $0 start [plain|tls|htpasswd|token] [token-server flags…] | stop DIR" >&2; exit 2 ;;
esac
