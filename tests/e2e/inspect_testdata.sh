#!/usr/bin/env bash
# Inspects every model of Debian's libonnx-testdata (node/, pytorch-converted/, pytorch-operator/,
# simple/) with the binary: each must exit 0 and print a JSON report naming the model's sha256.
# A missing corpus is a failure: the test command installs it.
# Usage: inspect_testdata.sh EDGESHIP [STRIDE]: STRIDE N inspects every Nth model in sorted order (the
# sanitizer build passes 4: ~1,200 process starts under ASan took over 6 minutes; the release build
# inspects them all).
set -uo pipefail
edgeship="$1"
stride="${2:-1}"
data=/usr/share/libonnx-testdata/data
[[ -d "$data" ]] || { echo "FAIL: $data missing (libonnx-testdata is installed by scripts/install-deps.sh)"; exit 1; }
count=0; failed=0; seen=0
out="$(mktemp)"; err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
while IFS= read -r -d '' model; do
  seen=$((seen + 1))
  (((seen - 1) % stride == 0)) || continue
  count=$((count + 1))
  if ! "$edgeship" inspect --json "$model" >"$out" 2>"$err"; then
    failed=$((failed + 1)); echo "FAIL: $model"; cat "$err"; continue
  fi
  sum="$(sha256sum "$model" | cut -d' ' -f1)"
  if ! grep -q "\"sha256\": \"$sum\"" "$out" || ! grep -q '"valid": true' "$out"; then
    failed=$((failed + 1)); echo "FAIL: $model: report lacks sha256 $sum or valid=true"
  fi
done < <(find "$data/node" "$data/pytorch-converted" "$data/pytorch-operator" "$data/simple" -name model.onnx -print0 | sort -z)
echo "inspected $count of $seen models (every ${stride}), $failed failed"
[[ $seen -ge 1000 ]] || { echo "FAIL: expected at least 1000 models, found $seen"; exit 1; }
[[ $failed -eq 0 ]]
