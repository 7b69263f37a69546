#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds edgeship, and runs the whole model-to-module
# pipeline with `edgeship ship` on the bundled example (examples/predictive-maintenance: an XGBoost model
# scoring six named sensor features into a failure probability), ending with the module running:
#   a Node.js base image made from Debian packages without Docker (mmdebstrap, cached) and pushed to a
#   docker-registry started on 127.0.0.1 under the official name library/node:20-bookworm-slim →
#   ship with --runtime node-onnxruntime and no --base (EDGESHIP_BASE_REGISTRY points at that registry):
#   convert → check → solution → image (base + npm dependencies layer + model + app) built without Docker
#   and pushed → manifest generated and validated → the IoT Hub deployment shown, not sent (no hub offline).
# Then: prediction parity of the converted model (XGBoost vs ONNX Runtime), the pushed image as skopeo
# sees it, a re-ship that uploads nothing, fp16 on the bundled network, an air-gapped export, and — when a
# Docker Engine can be started here — the module run by a private dockerd, its container created from the
# generated manifest as the IoT Edge agent does, answering a scored request next to XGBoost's prediction.
# Each step prints its time. Needs root (Debian packages, mmdebstrap --mode=root, dockerd).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" # Debian packages (incl. docker.io, mmdebstrap: scripts/deps/container.txt), ONNX Runtime (npm) for parity
EDGESHIP_BUILD_TARGETS=edgeship "$root/scripts/build.sh" "$root/build" # the binary only, not the test suite
edgeship="$root/build/cli/edgeship"
example="$root/examples/predictive-maintenance"
out="${EDGESHIP_DEMO_OUT:-$root/out/demo}"
rm -rf "$out" && mkdir -p "$out"
export NO_COLOR=1
export DOCKER_CONFIG="$out/docker-config" # never touch the user's registry credentials
unset CONTAINER_REGISTRY_SERVER CONTAINER_TAG
started=$(date +%s%N)
step_started=
step_name=

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
step_done() {
  if [[ -n "$step_started" ]]; then
    printf -- '-- %s\n' "$(secs "$(ms_since "$step_started")")" >&2
    timings+=("$(printf '%-8s %8s' "$step_name" "$(secs "$(ms_since "$step_started")")")")
  fi
  step_started=
}
step() { # step LABEL TEXT: prints TEXT; the time per step is listed at the end under LABEL
  step_done
  step_name=$1
  printf '\n== %s ==\n' "$2" >&2
  step_started=$(date +%s%N)
}
timings=()

step version "edgeship version"
"$edgeship" version

step registry "start a throw-away docker-registry on 127.0.0.1"
eval "$("$root/tests/registry/registry-fixture.sh" start plain)"
engine_dir="$out/engine" # the private Docker Engine's state (last step), on a tmpfs when one can be mounted
cleanup() {
  "$root/tests/registry/registry-fixture.sh" stop "$REG_DIR"
  if mountpoint -q "$engine_dir" 2>/dev/null; then umount -l "$engine_dir"; fi
}
trap cleanup EXIT
echo "registry http://$REG_ADDR" >&2

step base "make the runtime's base from Debian packages without Docker (mmdebstrap + umoci, cached) and push it as library/node:20-bookworm-slim"
# The same base the container tests use (tests/container/make_base.sh): Debian bookworm's nodejs +
# ca-certificates and the official image's `node` user (uid 1000); nothing of ours. Built once, then read
# from ${XDG_CACHE_HOME:-~/.cache}/edgeship-tests/bases.
[[ $(id -u) == 0 ]] || { echo "demo: run as root (mmdebstrap --mode=root, dockerd; see README)" >&2; exit 1; }
SKOPEO_POLICY='' "$root/tests/container/push_base.sh" node amd64 "$REG_ADDR" "$out/base" >/dev/null
skopeo inspect --tls-verify=false "docker://$REG_ADDR/library/node:20-bookworm-slim" |
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("base", d["Name"]+":20-bookworm-slim", d["Digest"][:19]+"…", d["Architecture"], "-", d["Labels"].get("org.opencontainers.image.description",""))' >&2
export EDGESHIP_BASE_REGISTRY="$REG_ADDR" # the default base (runtime.json's node:20-bookworm-slim) is read from here

step ship "ship the example: convert → check → solution → build (base + npm deps layer + model + app) → push → gen → validate → deploy (IoT Hub calls printed, not sent)"
# The key below is the documented SAS test-vector key, not a secret; set IOTHUB_CONNECTION_STRING for a real hub.
export IOTHUB_CONNECTION_STRING="${IOTHUB_CONNECTION_STRING:-HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}"
ship=("$edgeship" ship "$example/model.json" --solution "$out/solution" --module scoring
  --runtime node-onnxruntime --registry "$REG_ADDR" --plain-http --device gateway-01 --deploy-dry-run)
"${ship[@]}"

step parity "prediction parity of the converted model: XGBoost's own predictions vs ONNX Runtime"
/usr/bin/python3 "$example/parity.py" "$out/solution/.edgeship/model.onnx"

step inspect "the pushed image as skopeo (an independent client) sees it"
skopeo inspect --tls-verify=false "docker://$REG_ADDR/scoring:0.0.1-amd64" |
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d[k] for k in ("Name","Digest","Architecture","Labels","Layers")}, indent=2))'

step re-ship "ship again: nothing is reconverted, rebuilt or uploaded"
"${ship[@]}" --json >"$out/reship.json"
/usr/bin/python3 - "$out/reship.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("steps:", ", ".join(f"{s['name']}={s['status']}" for s in r["steps"]))
print("bytes uploaded:", r["bytes_uploaded"], "- already present:", r["bytes_skipped"])
PY

step fp16 "shrink the bundled neural network for a small device (float16 weights, float32 I/O)"
"$edgeship" optimize "$example/model.onnx" -o "$out/mlp.fp16.onnx" --fp16

step export "an air-gapped gateway: the module as a docker-archive (docker load), on the same default base"
"$edgeship" export scoring --solution "$out/solution" --platform amd64 --plain-http --archive "$out/scoring-amd64.tar"

step run "run the module: a private Docker Engine pulls the image, creates the container from the manifest as the IoT Edge agent does, and scores named rows"
# scripts/container/run_module.py: dockerd with its own root and socket (no bridge, no iptables, host
# network on 127.0.0.1), stopped and removed on exit, Ctrl-C or failure. No engine here: one line, go on.
# Its image store lives on a tmpfs: removing ~300 MB of unpacked layers from a busy disk took up to 50 s.
mkdir -p "$engine_dir"
if [[ $(id -u) == 0 ]]; then mount -t tmpfs -o size=4g,mode=0700 edgeship-demo-engine "$engine_dir" 2>/dev/null || true; fi
/usr/bin/python3 "$root/scripts/container/run_module.py" "$out/solution/config/deployment.amd64.json" \
  "$example/model.json" --module scoring --work "$engine_dir"
if mountpoint -q "$engine_dir"; then umount "$engine_dir"; fi
rmdir "$engine_dir"
step_done

elapsed_ms=$(ms_since "$started")
printf '\ndemo: done in %s (after the build); time per step:\n' "$(secs "$elapsed_ms")" >&2
printf '  %s\n' "${timings[@]}" >&2
printf 'artefacts:\n' >&2
printf '  solution          %s\n  ONNX model        %s\n  manifest          %s\n  image             %s\n  fp16 model        %s\n  archive           %s\n' \
  "$out/solution" "$out/solution/.edgeship/model.onnx" "$out/solution/config/deployment.amd64.json" \
  "$REG_ADDR/scoring:0.0.1-amd64 (registry stopped when the demo ends)" "$out/mlp.fp16.onnx" "$out/scoring-amd64.tar" >&2
