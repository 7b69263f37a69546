#!/usr/bin/env bash
# The README's test command: installs every dependency, builds, and runs the whole test suite twice —
# a normal build, then an AddressSanitizer + UndefinedBehaviorSanitizer build.
# EDGESHIP_SKIP_SANITIZERS=1 skips the second pass (for quick local iterations only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
t0=$SECONDS
phase_start=$SECONDS
# Each phase's wall time on stderr, so the CI budget (90 min on 2 cores) stays visible.
phase_times=()
phase_done() {
  echo "== time: $1: $((SECONDS - phase_start)) s (total $((SECONDS - t0)) s) ==" >&2
  phase_times+=("$(printf '%-32s %6d s' "$1" $((SECONDS - phase_start)))")
  phase_start=$SECONDS
}
"$root/scripts/install-deps.sh"
phase_done "install-deps"

run_suite() {
  local dir="$1"
  shift
  "$root/scripts/build.sh" "$dir" "$@"
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" --timeout 900)
}

echo "== tests: release build ==" >&2
run_suite "$root/build"
phase_done "release build + tests"

# The .deb (CPack) installs, works and purges cleanly (issue 8): needs root, as on CI.
echo "== tests: Debian package ==" >&2
"$root/scripts/package-test.sh" "$root/build"
phase_done "Debian package"

if [[ "${EDGESHIP_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build ==" >&2
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  EDGESHIP_BUILD_TYPE=Debug run_suite "$root/build-asan" -DEDGESHIP_ENABLE_ASAN=ON -DEDGESHIP_ENABLE_UBSAN=ON \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
  phase_done "ASan + UBSan build + tests"
fi

# The summary CI keeps at the end of its log: each phase's wall time against the 90-minute budget.
echo "== phase times ==" >&2
printf '  %s\n' "${phase_times[@]}" >&2
printf '  %-32s %6d s (CI budget 5400 s)\n' "total" $((SECONDS - t0)) >&2
