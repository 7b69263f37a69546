#!/usr/bin/env bash
# Runs a command and checks its exit code and stderr.
#   expect_exit.sh CODE STDERR_REGEX [--lines N] -- COMMAND [ARGS…]
# STDERR_REGEX is an extended regex that must match stderr ("" to skip). With --lines N, stderr must
# have exactly N lines (bad input gets exactly one `edgeship: error:` line).
set -uo pipefail
want_code="$1"; want_err="$2"; shift 2
want_lines=""
if [[ "${1:-}" == "--lines" ]]; then want_lines="$2"; shift 2; fi
[[ "${1:-}" == "--" ]] && shift
err_file="$(mktemp)"; out_file="$(mktemp)"
trap 'rm -f "$err_file" "$out_file"' EXIT
"$@" >"$out_file" 2>"$err_file"
code=$?
fail() { echo "FAIL: $*"; echo "--- command: $*"; echo "--- stdout:"; head -c 2000 "$out_file"; echo "--- stderr:"; cat "$err_file"; exit 1; }
[[ "$code" == "$want_code" ]] || fail "exit code $code, expected $want_code: $*"
if [[ -n "$want_err" ]] && ! grep -Eq -- "$want_err" "$err_file"; then fail "stderr does not match /$want_err/"; fi
if [[ -n "$want_lines" ]]; then
  n=$(wc -l <"$err_file")
  [[ "$n" == "$want_lines" ]] || fail "stderr has $n lines, expected $want_lines"
fi
if grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "$err_file"; then fail "sanitizer report"; fi
exit 0
