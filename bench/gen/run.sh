#!/usr/bin/env bash
# Benchmark: `edgeship gen` on an N-module solution (default 30) timed beside `python3 -c pass`,
# the start-up floor of any Python-based tool (iotedgedev), in the same run, interleaved.
# Target: gen <= 0.5x the floor. Prints the medians and the ratio; asserts nothing about timing.
#   usage: bench/gen/run.sh [EDGESHIP_EXE] [--modules N] [--runs R]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exe=${1:-$here/../../build/cli/edgeship}
shift || true
modules=30 runs=30
while (($#)); do
  case $1 in
    --modules) modules=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The solution: edgeship init + module add, the way a user would build it (no model needed).
"$exe" -q init "$work/sol" --module m1 --platforms amd64,arm64v8 > /dev/null
for ((i = 2; i <= modules; i++)); do
  "$exe" -q module add "m$i" --solution "$work/sol" --platforms amd64,arm64v8 > /dev/null
done
"$exe" -q gen --solution "$work/sol" > /dev/null   # must succeed (and validate) before timing
/usr/bin/python3 "$here/timing.py" "$runs" "$modules" "$exe" gen --solution "$work/sol" -o "$work/out"
