#!/usr/bin/env bash
# Bad input to `edgeship optimize`: one clear `edgeship: error:` line (plus a hint line where the next
# step is not obvious), exit 1 (2 for contradictory flags), and no output file.
#   optimize_bad_inputs.sh EDGESHIP FIXTURE_DIR   (FIXTURE_DIR from e2e.optimize.fixtures)
set -euo pipefail
edgeship="$1"; fx="$2"; here="$(cd "$(dirname "$0")" && pwd)"
expect="$here/expect_exit.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
out="$tmp/out.onnx"
no_output() {
  if ls -A "$tmp" | grep -q .; then echo "FAIL: $1 left files behind: $(ls -A "$tmp")"; exit 1; fi
}

"$expect" 1 "^edgeship: error: optimizing .*tree.onnx: --fp16: no op in this model can compute in float16 \(kept in float32: ai.onnx.ml.TreeEnsembleRegressor x1\)$" \
  --lines 2 -- "$edgeship" -q optimize "$fx/tree/tree.onnx" -o "$out" --fp16
no_output "fp16 on a tree model"

"$expect" 1 "^edgeship: error: unknown quantize mode 'int4' \(supported: dynamic-int8, static-int8\)$" \
  --lines 1 -- "$edgeship" -q optimize "$fx/mlp/mlp.onnx" -o "$out" --quantize int4
no_output "unknown quantize mode"

"$expect" 1 "^edgeship: error: optimizing .*cnn17/cnn.onnx: --opset 13: cannot downgrade opset 17 to 13: the ONNX version converter has no adapter for [A-Za-z]+ from version [0-9]+$" \
  --lines 2 -- "$edgeship" -q optimize "$fx/cnn17/cnn.onnx" -o "$out" --opset 13
no_output "downgrade"

"$expect" 1 "^edgeship: error: optimizing .*: --calibration: .*calibration_wrong.npy: each row has shape \[1,12,12\] but input 'x' expects \[1,16,16\] per row \(model input shape \[\?,1,16,16\]\)$" \
  --lines 1 -- "$edgeship" -q optimize "$fx/cnn/cnn.onnx" -o "$out" --quantize static-int8 --calibration "$fx/cnn/calibration_wrong.npy"
no_output "calibration of the wrong shape"

"$expect" 1 "^edgeship: error: optimizing .*: --calibration: .*holdout_labels.json: row 0 has shape \[\] but input 'x' expects \[20\] per row \(model input shape \[\?,20\]\)$" \
  --lines 1 -- "$edgeship" -q optimize "$fx/mlp/mlp.onnx" -o "$out" --quantize static-int8 --calibration "$fx/mlp/holdout_labels.json"
no_output "calibration JSON of the wrong shape"

"$expect" 2 "^edgeship: error: .*--quantize static-int8 needs --calibration DATA" \
  --lines 2 -- "$edgeship" -q optimize "$fx/mlp/mlp.onnx" -o "$out" --quantize static-int8
"$expect" 2 "^edgeship: error: .*--fp16 and --quantize cannot be combined$" \
  --lines 2 -- "$edgeship" -q optimize "$fx/mlp/mlp.onnx" -o "$out" --fp16 --quantize dynamic-int8
"$expect" 1 "^edgeship: error: .*absent.onnx: no such file$" \
  --lines 1 -- "$edgeship" -q optimize "$tmp/absent.onnx" -o "$out" --fp16
"$expect" 1 "^edgeship: error: optimizing .*: --opset 18: opset 18 is outside what this build supports \(1..17, ONNX 1.12.0\)$" \
  --lines 1 -- "$edgeship" -q optimize "$fx/mlp/mlp.onnx" -o "$out" --opset 18
no_output "usage errors"
echo "optimize bad-input cases passed"
