#!/usr/bin/env bash
# Bad input to `inspect` and `check`: one clear `edgeship: error:` line, the documented exit code, no
# crash (and, in the sanitizer build, no sanitizer report).
set -euo pipefail
edgeship="$1"; here="$(cd "$(dirname "$0")" && pwd)"
expect="$here/expect_exit.sh"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

: >"$tmp/empty.onnx"
head -c 4096 /dev/urandom >"$tmp/random.onnx"
mkdir "$tmp/dir.onnx"
good=/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx
head -c "$(( $(stat -c %s "$good") / 2 ))" "$good" >"$tmp/truncated.onnx"

# A newer IR version, and a model whose external data is missing / short (built with python3-onnx).
"$py" - "$tmp" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
w = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "w")
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.save(m, d + "/ok.onnx")
m.ir_version = 12
onnx.save(m, d + "/newer_ir.onnx")
m.ir_version = 7
onnx.save(m, d + "/ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
          location="ext.weights", size_threshold=0)
PY
cp "$tmp/ext.onnx" "$tmp/ext_missing.onnx"   # refers to ext.weights too; made unreadable below
mkdir "$tmp/short" && cp "$tmp/ext.onnx" "$tmp/short/ext.onnx" && head -c 10 "$tmp/ext.weights" >"$tmp/short/ext.weights"

for cmd in inspect check; do
  "$expect" 1 "^edgeship: error: .*empty.onnx: empty file, not an ONNX model$" --lines 1 -- "$edgeship" $cmd "$tmp/empty.onnx"
  "$expect" 1 "^edgeship: error: .*random.onnx: not an ONNX model" --lines 1 -- "$edgeship" $cmd "$tmp/random.onnx"
  "$expect" 1 "^edgeship: error: .*truncated.onnx: not an ONNX model" --lines 1 -- "$edgeship" $cmd "$tmp/truncated.onnx"
  "$expect" 1 "^edgeship: error: .*dir.onnx: is a directory, not a file$" --lines 1 -- "$edgeship" $cmd "$tmp/dir.onnx"
  "$expect" 1 "^edgeship: error: .*absent.onnx: no such file$" --lines 1 -- "$edgeship" $cmd "$tmp/absent.onnx"
  "$expect" 3 "^edgeship: error: .*newer_ir.onnx: invalid model.*" --lines 1 -- "$edgeship" $cmd "$tmp/newer_ir.onnx"
  "$expect" 3 "^edgeship: error: .*short/ext.onnx: invalid model" --lines 1 -- "$edgeship" $cmd "$tmp/short/ext.onnx"
  "$expect" 0 "" --lines 0 -- "$edgeship" $cmd "$tmp/ext.onnx"
  "$expect" 0 "" --lines 0 -- "$edgeship" $cmd "$tmp/ok.onnx"
done
# Unreadable external data (root reads anything, so remove it instead of chmod).
rm "$tmp/ext.weights"
"$expect" 3 "^edgeship: error: .*ext_missing.onnx: invalid model: external_data: tensor 'w': external data file .*ext.weights is missing or unreadable$" --lines 1 -- "$edgeship" inspect "$tmp/ext_missing.onnx"
# The findings of check are listed on stdout.
findings="$("$edgeship" check "$tmp/newer_ir.onnx" 2>/dev/null || true)"
grep -q "ir_version: IR version 12 is newer than this build supports" <<<"$findings" || { echo "FAIL: check findings not on stdout: $findings"; exit 1; }
echo "bad-input cases passed"
