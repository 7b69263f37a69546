#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds edgeship, and runs the whole model-to-module
# pipeline with `edgeship ship` on the bundled example (examples/predictive-maintenance: an XGBoost model
# scoring six sensor features into a failure probability):
#   convert → check → solution → image built without Docker and pushed to a docker-registry started on
#   127.0.0.1 → manifest generated and validated → the IoT Hub deployment shown, not sent (no hub offline).
# Then: prediction parity of the converted model (XGBoost vs ONNX Runtime), the pushed image as skopeo
# sees it, a re-ship that uploads nothing, fp16 on the bundled network, and an air-gapped export.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" # Debian packages, and ONNX Runtime (npm) for the parity step
"$root/scripts/build.sh" "$root/build"
edgeship="$root/build/cli/edgeship"
example="$root/examples/predictive-maintenance"
out="${EDGESHIP_DEMO_OUT:-$root/out/demo}"
rm -rf "$out" && mkdir -p "$out"
export NO_COLOR=1
export DOCKER_CONFIG="$out/docker-config" # never touch the user's registry credentials
started=$(date +%s%N)

step() { printf '\n== %s ==\n' "$*" >&2; }

step "edgeship version"
"$edgeship" version

step "start a throw-away docker-registry on 127.0.0.1 and make a runtime base image without Docker"
eval "$("$root/tests/registry/registry-fixture.sh" start plain)"
trap '"$root/tests/registry/registry-fixture.sh" stop "$REG_DIR"' EXIT
# A busybox stand-in for the runtime base (python3 + onnxruntime in production: see docs/build.md).
SOURCE_DATE_EPOCH=1700000000 "$root/tests/registry/make-base-image.sh" "$out/base" amd64 amd64 >/dev/null
echo "registry http://$REG_ADDR, base image oci:$out/base:amd64" >&2

step "ship the example: convert → check → solution → build → push → gen → validate → deploy (IoT Hub calls printed, not sent)"
# The key below is the documented SAS test-vector key, not a secret; set IOTHUB_CONNECTION_STRING for a real hub.
export IOTHUB_CONNECTION_STRING="${IOTHUB_CONNECTION_STRING:-HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}"
ship=("$edgeship" ship "$example/model.json" --solution "$out/solution" --module scoring
  --registry "$REG_ADDR" --plain-http --base "oci:$out/base:amd64" --device gateway-01 --deploy-dry-run)
"${ship[@]}"

step "prediction parity of the converted model: XGBoost's own predictions vs ONNX Runtime"
/usr/bin/python3 "$example/parity.py" "$out/solution/.edgeship/model.onnx"

step "the pushed image as skopeo (an independent client) sees it"
skopeo inspect --tls-verify=false "docker://$REG_ADDR/scoring:0.0.1-amd64" |
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d[k] for k in ("Name","Digest","Architecture","Labels","Layers")}, indent=2))'

step "ship again: nothing is reconverted, rebuilt or uploaded"
"${ship[@]}" --json >"$out/reship.json"
/usr/bin/python3 - "$out/reship.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("steps:", ", ".join(f"{s['name']}={s['status']}" for s in r["steps"]))
print("bytes uploaded:", r["bytes_uploaded"], "- already present:", r["bytes_skipped"])
PY

step "shrink the bundled neural network for a small device (float16 weights, float32 I/O)"
"$edgeship" optimize "$example/model.onnx" -o "$out/mlp.fp16.onnx" --fp16

step "an air-gapped gateway: the module as a docker-archive (docker load)"
"$edgeship" export scoring --solution "$out/solution" --platform amd64 --base "oci:$out/base:amd64" --archive "$out/scoring-amd64.tar"

elapsed_ms=$((($(date +%s%N) - started) / 1000000))
printf '\ndemo: done in %d.%01d s (after the build); artefacts:\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) >&2
printf '  solution          %s\n  ONNX model        %s\n  manifest          %s\n  image             %s\n  fp16 model        %s\n  archive           %s\n' \
  "$out/solution" "$out/solution/.edgeship/model.onnx" "$out/solution/config/deployment.amd64.json" \
  "$REG_ADDR/scoring:0.0.1-amd64 (registry stopped when the demo ends)" "$out/mlp.fp16.onnx" "$out/scoring-amd64.tar" >&2
