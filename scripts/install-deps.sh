#!/usr/bin/env bash
# Installs everything building, running and testing edgeship needs, on Debian 12 as root.
# Idempotent: packages already present are skipped, so re-running costs seconds.
# Package lists live in scripts/deps/*.txt (one Debian package per line, '#' comments), one file per
# area, so each capability declares what it needs next to its name.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

mapfile -t wanted < <(cat "$here"/deps/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
# Node.js and npm: use the machine's when present (Debian's npm conflicts with other Node.js builds).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  wanted+=(nodejs npm)
fi
missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# Test tooling from npm (pinned by tests/package-lock.json): onnxruntime-node for parity checks.
# --ignore-scripts: its postinstall downloads CUDA binaries we neither need nor can reach
# (docs/design/onnx.md §14); the CPU binaries ship inside the package.
if [[ "${EDGESHIP_SKIP_NPM:-0}" != 1 ]]; then
  if [[ ! -f "$root/tests/node_modules/onnxruntime-node/package.json" ]] ||
     ! cmp -s "$root/tests/package-lock.json" "$root/tests/node_modules/.package-lock.json.installed" 2>/dev/null; then
    echo "install-deps: npm ci in tests/" >&2
    (cd "$root/tests" && npm ci --ignore-scripts --no-audit --no-fund >&2)
    cp "$root/tests/package-lock.json" "$root/tests/node_modules/.package-lock.json.installed"
  fi
fi
