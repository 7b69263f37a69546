#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args…]
# Used by demo.sh and test.sh; safe to re-run (incremental).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${EDGESHIP_BUILD_TYPE:-RelWithDebInfo}" "$@" >&2
# 2 cores and ONNX/protobuf headers are heavy: cap parallelism so memory stays bounded.
cmake --build "$dir" -j "${EDGESHIP_JOBS:-$(nproc)}" >&2
