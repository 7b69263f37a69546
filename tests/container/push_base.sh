#!/bin/bash
# Push a Debian test base (make_base.sh, cached) to a local registry under the official name the runtime's
# runtime.json gives for the platform, so edgeship's default-base path runs against 127.0.0.1:
#
#   push_base.sh KIND ARCH REGISTRY_ADDR WORK_DIR      KIND: node | python   ARCH: amd64 | arm64
#
#   node   amd64 → REGISTRY/library/node:20-bookworm-slim     arm64 → REGISTRY/arm64v8/node:20-bookworm-slim
#   python amd64 → REGISTRY/library/python:3.11-slim-bookworm arm64 → REGISTRY/arm64v8/python:3.11-slim-bookworm
# (read from templates/runtimes/<kind>-onnxruntime/runtime.json "platforms"; Docker Hub names without a
# namespace get "library/", as docker.io resolves them). WORK_DIR receives the OCI layout (hard links).
# Plain HTTP (skopeo --dest-tls-verify=false). Prints REGISTRY/NAME:TAG on stdout.
# Environment: SKOPEO_POLICY (a policy file; default: a permissive one written into WORK_DIR).
set -euo pipefail
kind=${1:?usage: push_base.sh KIND ARCH REGISTRY_ADDR WORK_DIR}
arch=${2:?}; reg=${3:?}; work=${4:?}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${EDGESHIP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
case "$arch" in amd64) platform=amd64 ;; arm64) platform=arm64v8 ;; *) echo "push_base: unknown ARCH $arch" >&2; exit 2 ;; esac
runtime_json="$src/templates/runtimes/$kind-onnxruntime/runtime.json"
[ -f "$runtime_json" ] || { echo "push_base: no $runtime_json" >&2; exit 2; }
name=$(/usr/bin/python3 - "$runtime_json" "$platform" <<'PY'
import json, sys
ref = json.load(open(sys.argv[1]))["platforms"][sys.argv[2]]["base_image"]
first = ref.split("/", 1)[0]
if "/" in ref and ("." in first or ":" in first or first == "localhost"):
    sys.exit(f"push_base: {ref} names a registry; expected a Docker Hub name")
print(ref if "/" in ref else "library/" + ref)
PY
)
mkdir -p "$work"
layout="$work/oci"
rm -rf "$layout"
src_ref=$(bash "$here/make_base.sh" "$kind" "$arch" "$layout")
policy=${SKOPEO_POLICY:-}
if [ -z "$policy" ]; then
  policy="$work/policy.json"
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$policy"
fi
skopeo --policy "$policy" copy -q --dest-tls-verify=false "$src_ref" "docker://$reg/$name" >&2
echo "$reg/$name"
