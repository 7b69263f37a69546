#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args…]
# Used by demo.sh and test.sh; safe to re-run (incremental).
# EDGESHIP_BUILD_TARGETS="edgeship …" builds only those targets (the demo needs the binary, not the
# test suite's ~40 test executables); unset builds everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
# ccache (scripts/deps/build.txt) keeps a re-run, a second clone or CI on the same machine from compiling
# again: paths are made relative to the source tree and the build directory is left out of the hash, so
# two checkouts share one cache.
launcher=()
if command -v ccache >/dev/null && [[ "${EDGESHIP_NO_CCACHE:-0}" != 1 ]]; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
start=$SECONDS
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${EDGESHIP_BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}" "$@" >&2
# 2 cores and ONNX/protobuf headers are heavy: cap parallelism so memory stays bounded.
targets=()
for t in ${EDGESHIP_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j "${EDGESHIP_JOBS:-$(nproc)}" "${targets[@]}" >&2
echo "build: $(basename "$dir") built in $((SECONDS - start)) s" >&2
