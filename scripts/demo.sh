#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds edgeship, and runs as much of the
# model-to-module pipeline as exists on the bundled example (examples/predictive-maintenance).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EDGESHIP_SKIP_NPM=1 "$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
edgeship="$root/build/cli/edgeship"
example="$root/examples/predictive-maintenance"
out="${EDGESHIP_DEMO_OUT:-$root/out/demo}"
mkdir -p "$out"

step() { printf '\n== %s ==\n' "$*" >&2; }

step "edgeship version"
"$edgeship" version

step "inspect the example model"
"$edgeship" inspect "$example/model.onnx"

step "check it (exit 3 would mean invalid)"
"$edgeship" check "$example/model.onnx"

printf '\ndemo: artefacts in %s\n' "$out" >&2
