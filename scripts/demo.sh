#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds edgeship, and runs the model-to-module
# pipeline as far as it exists on the bundled example (examples/predictive-maintenance: an XGBoost model
# scoring six sensor features into a failure probability).
#   convert (with its parity-tested reader) → inspect/check → optimize → init solution → gen manifest →
#   validate → the IoT Hub request that would deploy it (--dry-run: no hub is reachable offline).
# Building and pushing images (issue 6) is not part of edgeship yet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EDGESHIP_SKIP_NPM=1 "$root/scripts/install-deps.sh" # npm tooling is for tests only
"$root/scripts/build.sh" "$root/build"
edgeship="$root/build/cli/edgeship"
example="$root/examples/predictive-maintenance"
out="${EDGESHIP_DEMO_OUT:-$root/out/demo}"
rm -rf "$out" && mkdir -p "$out"
export NO_COLOR=1

step() { printf '\n== %s ==\n' "$*" >&2; }

step "edgeship version"
"$edgeship" version

step "convert the bundled XGBoost model to ONNX"
"$edgeship" convert "$example/model.json" -o "$out/model.onnx" --json

step "inspect and check the converted model"
"$edgeship" inspect "$out/model.onnx"
"$edgeship" check "$out/model.onnx"

step "shrink the bundled neural network for a small device (float16 weights, float32 I/O)"
"$edgeship" optimize "$example/model.onnx" -o "$out/mlp.fp16.onnx" --fp16

step "scaffold an IoT Edge solution around the converted model"
"$edgeship" init "$out/solution" --module scoring --model "$out/model.onnx" --platforms amd64,arm64v8

step "generate and validate the deployment manifests"
"$edgeship" gen --solution "$out/solution"
"$edgeship" gen --solution "$out/solution" --platform arm64v8
"$edgeship" validate "$out/solution/config/deployment.amd64.json"

step "the IoT Hub request that would deploy the example module (--dry-run: nothing is sent)"
# The key below is the documented SAS test-vector key, not a secret; set IOTHUB_CONNECTION_STRING for a real hub.
IOTHUB_CONNECTION_STRING="${IOTHUB_CONNECTION_STRING:-HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}" \
  "$edgeship" deploy --device gateway-01 --manifest "$out/solution/config/deployment.amd64.json" --dry-run

printf '\ndemo: artefacts in %s\n' "$out" >&2
printf '  converted model   %s\n  fp16 model        %s\n  solution          %s\n  manifests         %s\n' \
  "$out/model.onnx" "$out/mlp.fp16.onnx" "$out/solution" "$out/solution/config" >&2
