#!/usr/bin/env bash
# optimize --fp16 converts the bodies of If and Loop (issue 4): each body computes in float16 behind
# Casts while the boundary (formal inputs, outputs, outer-scope values) keeps its float32 types. Parity
# through ONNX Runtime (tests/tools/ort_run.js) against the float32 model, both If branches and a
# 3-iteration Loop, and the body weights are stored as float16.
# usage: optimize_fp16_subgraphs.sh EDGESHIP SOURCE_DIR
set -euo pipefail
edgeship="$1"; root="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
ort_run="$root/tests/tools/ort_run.js"

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as TP
tmp = sys.argv[1]
rng = np.random.default_rng(3)
def init(name, *shape):
    return numpy_helper.from_array((rng.normal(size=shape) * 0.5).astype(np.float32), name)
def vi(name, t, shape):
    return helper.make_tensor_value_info(name, t, shape)

# If: h = Relu(x W0); cond = sum(x) > 0; then Relu(h W1), else h W2 + B2 (W1, W2, B2 live in the bodies).
then_g = helper.make_graph([helper.make_node("MatMul", ["h", "W1"], ["t0"]), helper.make_node("Relu", ["t0"], ["t"])],
                           "then", [], [vi("t", TP.FLOAT, ["N", 4])], [init("W1", 16, 4)])
else_g = helper.make_graph([helper.make_node("MatMul", ["h", "W2"], ["e0"]), helper.make_node("Add", ["e0", "B2"], ["e"])],
                           "else", [], [vi("e", TP.FLOAT, ["N", 4])], [init("W2", 16, 4), init("B2", 4)])
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W0"], ["h0"]), helper.make_node("Relu", ["h0"], ["h"]),
     helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
     helper.make_node("Greater", ["s", "zero"], ["c"]),
     helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
    "if_model", [vi("x", TP.FLOAT, ["N", 8])], [vi("y", TP.FLOAT, ["N", 4])],
    [init("W0", 8, 16), numpy_helper.from_array(np.array(0, dtype=np.float32), "zero")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, f"{tmp}/if.onnx")

# Loop: h = x W0, then 3 times h = Tanh(h WL + BL) (WL, BL in the body).
body = helper.make_graph(
    [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("MatMul", ["h_in", "WL"], ["l0"]),
     helper.make_node("Add", ["l0", "BL"], ["l1"]), helper.make_node("Tanh", ["l1"], ["h_out"])],
    "body", [vi("i", TP.INT64, []), vi("cond_in", TP.BOOL, []), vi("h_in", TP.FLOAT, ["N", 8])],
    [vi("cond_out", TP.BOOL, []), vi("h_out", TP.FLOAT, ["N", 8])], [init("WL", 8, 8), init("BL", 8)])
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W0"], ["h0"]), helper.make_node("Loop", ["M", "", "h0"], ["y"], body=body)],
    "loop_model", [vi("x", TP.FLOAT, ["N", 8])], [vi("y", TP.FLOAT, ["N", 8])],
    [init("W0", 8, 8), numpy_helper.from_array(np.array(3, dtype=np.int64), "M")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, f"{tmp}/loop.onnx")

x = rng.normal(size=(6, 8)).astype(np.float32)
x_pos = x + 1.0  # sum > 0: then branch
x_neg = x - 1.0  # sum < 0: else branch
for name, arr in [("pos", x_pos), ("neg", x_neg)]:
    json.dump({"x": {"type": "float32", "dims": [6, 8], "data": arr.ravel().tolist()}}, open(f"{tmp}/{name}.json", "w"))
PY

"$edgeship" optimize "$tmp/if.onnx" -o "$tmp/if16.onnx" --fp16 --json >"$tmp/if16.report.json"
"$edgeship" optimize "$tmp/loop.onnx" -o "$tmp/loop16.onnx" --fp16 --json >"$tmp/loop16.report.json"
"$edgeship" check "$tmp/if16.onnx" >/dev/null
"$edgeship" check "$tmp/loop16.onnx" >/dev/null
for m in if if16 loop loop16; do
  for r in pos neg; do
    node "$ort_run" "$tmp/$m.onnx" "$tmp/$r.json" >"$tmp/$m.$r.out"
  done
done

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np, onnx
from onnx import TensorProto as TP
tmp = sys.argv[1]
def y(name):
    return np.array(json.load(open(f"{tmp}/{name}.out"))["outputs"]["y"]["data"], dtype=np.float64)
for model, bodies in [("if", 2), ("loop", 1)]:
    rep = json.load(open(f"{tmp}/{model}16.report.json"))["fp16"]
    assert rep["subgraphs_fp16"] == bodies and rep["subgraphs_fp32"] == 0, rep
    m = onnx.load(f"{tmp}/{model}16.onnx")
    assert m.graph.input[0].type.tensor_type.elem_type == TP.FLOAT
    assert m.graph.output[0].type.tensor_type.elem_type == TP.FLOAT
    owner = next(n for n in m.graph.node if n.op_type in ("If", "Loop"))
    for a in owner.attribute:
        g = a.g
        assert g.initializer, a.name
        for t in g.initializer:
            assert t.data_type == TP.FLOAT16, (model, a.name, t.name, t.data_type)
        for o in g.output:  # the boundary keeps its types
            assert o.type.tensor_type.elem_type in (TP.FLOAT, TP.BOOL), (model, a.name, o.name)
        ops = [n.op_type for n in g.node]
        assert "Cast" in ops, (model, a.name, ops)
    for r in ("pos", "neg"):
        ref, got = y(f"{model}.{r}"), y(f"{model}16.{r}")
        err = float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-6))
        print(f"{model} fp16 ({r} input): {bodies} bodies in float16, max error relative to the output range {err:.2e}")
        assert err <= 1e-2, (model, r, err)
# the two If inputs really take different branches
assert not np.allclose(y("if.pos") / max(np.max(np.abs(y("if.pos"))), 1e-6), 0) and y("if.neg").min() < 0 <= y("if.pos").min()
print("fp16 If/Loop bodies ok")
PY
