#!/usr/bin/env bash
# External data end to end (issue 4, docs/design/onnx.md §10.6):
#  - convert XGBoost with --external-data: the output runs in ONNX Runtime with the same predictions as
#    without (and as XGBoost itself);
#  - a model whose weights were saved as external data by ONNX's own Python writer (an independent
#    implementation) is read by inspect, check, optimize and convert --from onnx; convert writes it
#    inline by default and with a new side file under --external-data; ONNX Runtime gives the same
#    outputs for every result;
#  - bad inputs (missing .data file, truncated, a location escaping the model's directory, directly or
#    through a symlink): one error line (with -q, which hides optimize's "optimizing …" info line), exit 1,
#    nothing written; check reports them as findings (exit 3).
# usage: convert_external_data.sh EDGESHIP SOURCE_DIR
set -euo pipefail
edgeship="$1"; root="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
ort_run="$root/tests/tools/ort_run.js"

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
import numpy as np, xgboost as xgb, onnx
from onnx import helper, numpy_helper, TensorProto
tmp = sys.argv[1]
rng = np.random.default_rng(7)

# XGBoost binary classifier with NaN inputs.
X = rng.normal(size=(400, 5)).astype(np.float32)
X[rng.random(X.shape) < 0.1] = np.nan
y = (np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 2]) > 0).astype(int)
booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "base_score": 0.3}, xgb.DMatrix(X, y), 15)
booster.save_model(f"{tmp}/xgb.json")
Xt = X[:32]
json.dump({"features": {"type": "float32", "dims": list(Xt.shape),
                        "data": [None if np.isnan(v) else float(v) for v in Xt.ravel()]}}, open(f"{tmp}/xgb_req.json", "w"))
np.save(f"{tmp}/xgb_expected.npy", booster.predict(xgb.DMatrix(Xt)))

# A 16 -> 64 -> 5 MLP whose weights (w1 4096 bytes, w2 1280 bytes; the biases stay inline) ONNX's
# Python writer stores in mlp.weights (size_threshold 1024, as edgeship's writer).
w1 = rng.normal(size=(16, 64)).astype(np.float32); b1 = rng.normal(size=64).astype(np.float32)
w2 = rng.normal(size=(64, 5)).astype(np.float32); b2 = rng.normal(size=5).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
     helper.make_node("Gemm", ["r", "w2", "b2"], ["y"])],
    "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
    [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
     numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx-python")
model.ir_version = 7
import os
os.makedirs(f"{tmp}/src")
onnx.save_model(model, f"{tmp}/src/mlp.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="mlp.weights", size_threshold=1024)
onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{tmp}/inline_ref.onnx")
rows = rng.normal(size=(8, 16)).astype(np.float32)
json.dump({"x": {"type": "float32", "dims": [8, 16], "data": rows.ravel().tolist()}}, open(f"{tmp}/mlp_req.json", "w"))
PY
test -s "$tmp/src/mlp.weights" || { echo "FAIL: ONNX's writer did not produce mlp.weights"; exit 1; }

# --- XGBoost -> --external-data ------------------------------------------------------------------
"$edgeship" convert "$tmp/xgb.json" -o "$tmp/xgb_plain.onnx" >/dev/null
"$edgeship" convert "$tmp/xgb.json" -o "$tmp/xgb_ext.onnx" --external-data --json >"$tmp/xgb_ext.json"
test -f "$tmp/xgb_ext.onnx.data" || { echo "FAIL: no xgb_ext.onnx.data"; exit 1; }
node "$ort_run" "$tmp/xgb_plain.onnx" "$tmp/xgb_req.json" >"$tmp/xgb_plain.out"
node "$ort_run" "$tmp/xgb_ext.onnx" "$tmp/xgb_req.json" >"$tmp/xgb_ext.out"

# --- ONNX with external data, read by every command -----------------------------------------------
"$edgeship" inspect --json "$tmp/src/mlp.onnx" >"$tmp/inspect.json"
"$edgeship" check "$tmp/src/mlp.onnx" >"$tmp/check.out"
"$edgeship" optimize "$tmp/src/mlp.onnx" -o "$tmp/opt_inline.onnx" --json >"$tmp/opt_inline.json"
"$edgeship" optimize "$tmp/src/mlp.onnx" -o "$tmp/opt_fp16.onnx" --fp16 --external-data --json >"$tmp/opt_fp16.json"
"$edgeship" convert --from onnx "$tmp/src/mlp.onnx" -o "$tmp/conv_inline.onnx" --json >"$tmp/conv_inline.json"
"$edgeship" convert "$tmp/src/mlp.onnx" -o "$tmp/conv_ext.onnx" --external-data --opset 17 --json >"$tmp/conv_ext.json"
# convert's own external output is readable again by convert (and by ONNX Runtime from another cwd).
mkdir "$tmp/again"
"$edgeship" convert "$tmp/conv_ext.onnx" -o "$tmp/again/round.onnx" --external-data >/dev/null
for m in inline_ref src/mlp opt_inline opt_fp16 conv_inline conv_ext again/round; do
  (cd / && node "$ort_run" "$tmp/$m.onnx" "$tmp/mlp_req.json") >"$tmp/$(echo "$m" | tr / _).out"
done

/usr/bin/python3 - "$tmp" "$edgeship" <<'PY'
import json, subprocess, sys, os
import numpy as np
tmp, edgeship = sys.argv[1:]
def outputs(name):
    return json.load(open(f"{tmp}/{name}.out"))["outputs"]
def inspect(path):
    return json.loads(subprocess.run([edgeship, "inspect", "--json", path], check=True, capture_output=True,
                                     text=True).stdout)

# XGBoost: the same predictions with and without --external-data, and as XGBoost's own.
rep = json.load(open(f"{tmp}/xgb_ext.json"))
assert rep["external_data"] == {"location": "xgb_ext.onnx.data", "bytes": 0, "tensors": 0}, rep["external_data"]
assert rep["optimize"]["steps"] == ["external-data"], rep["optimize"]
assert rep["optimize"]["external_data"]["location"] == "xgb_ext.onnx.data", rep["optimize"]
meta = inspect(f"{tmp}/xgb_ext.onnx")["metadata_props"]
assert meta["edgeship.optimize.external_data"] == "xgb_ext.onnx.data", meta
assert meta["edgeship.optimize.steps"] == "external-data", meta
plain, ext = outputs("xgb_plain"), outputs("xgb_ext")
assert plain == ext, "ORT outputs differ with --external-data"
expected = np.load(f"{tmp}/xgb_expected.npy")
prob = np.array(ext["probabilities"]["data"], dtype=np.float64).reshape(-1, 2)[:, 1]
err = float(np.max(np.abs(prob - expected)))
print(f"xgboost --external-data: identical to the inline model; max |onnx - xgboost| = {err:.2e}")
assert err <= 1e-5 + 1e-5 * float(np.max(np.abs(expected))), err

# inspect / check read the external-data model.
info = json.load(open(f"{tmp}/inspect.json"))
assert info["valid"], info["findings"]
assert sorted(e["tensor"] for e in info["external_data"]) == ["w1", "w2"], info["external_data"]
assert {e["location"] for e in info["external_data"]} == {"mlp.weights"}
assert info["parameter_count"] == 16 * 64 + 64 + 64 * 5 + 5, info["parameter_count"]

# Every result runs in ORT like the reference (inline model built from the same arrays).
ref = np.array(outputs("inline_ref")["y"]["data"])
for name, tol in [("src_mlp", 0), ("opt_inline", 0), ("conv_inline", 0), ("conv_ext", 0), ("again_round", 0),
                  ("opt_fp16", 1e-2)]:
    got = np.array(outputs(name)["y"]["data"])
    err = float(np.max(np.abs(got - ref))) / float(np.max(np.abs(ref)))
    print(f"{name}: max error relative to the output range {err:.2e}")
    assert err <= tol, (name, err)

# Layout: inline results have no side file; external results name their own.
for name in ["opt_inline", "conv_inline"]:
    assert inspect(f"{tmp}/{name}.onnx")["external_data"] == [], name
    assert not os.path.exists(f"{tmp}/{name}.onnx.data"), name
for name, report in [("opt_fp16", "opt_fp16.json"), ("conv_ext", "conv_ext.json")]:
    i = inspect(f"{tmp}/{name}.onnx")
    assert i["valid"], i["findings"]
    assert {e["location"] for e in i["external_data"]} == {f"{name}.onnx.data"}, i["external_data"]
    assert i["metadata_props"]["edgeship.optimize.external_data"] == f"{name}.onnx.data", i["metadata_props"]
    assert "external-data" in i["metadata_props"]["edgeship.optimize.steps"], i["metadata_props"]
conv = json.load(open(f"{tmp}/conv_ext.json"))
assert conv["external_data"]["location"] == "conv_ext.onnx.data" and conv["external_data"]["tensors"] == 2, conv
assert conv["opsets"]["ai.onnx"] == 17, conv["opsets"]
assert os.path.getsize(f"{tmp}/conv_ext.onnx.data") == conv["external_data"]["bytes"]
assert inspect(f"{tmp}/conv_ext.onnx")["metadata_props"]["edgeship.source_format"] == "onnx"
assert json.load(open(f"{tmp}/conv_inline.json"))["external_data"] is None
print("external-data models: read by inspect, check, optimize and convert; outputs identical")
PY

# --- bad inputs ---------------------------------------------------------------------------------
fails=0
expect_refusal() { # NAME PATTERN OUT -- command...
  local name="$1" pattern="$2" out="$3"; shift 4
  local rc=0
  "$@" >"$tmp/bad.stdout" 2>"$tmp/bad.stderr" || rc=$?
  local lines; lines=$(wc -l <"$tmp/bad.stderr")
  if [[ $rc -ne 1 || $lines -ne 1 ]] || ! grep -q "^edgeship: error: .*$pattern" "$tmp/bad.stderr" ||
     [[ -e "$out" || -e "$out.data" ]]; then
    echo "FAIL $name: exit $rc, $lines stderr lines, output exists: $([[ -e $out ]] && echo yes || echo no)"
    cat "$tmp/bad.stderr"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$tmp/bad.stderr")"
  fi
}
expect_finding() { # NAME PATTERN MODEL: check lists the problem on stdout and exits 3
  local name="$1" pattern="$2" model="$3" rc=0
  "$edgeship" check "$model" >"$tmp/bad.stdout" 2>"$tmp/bad.stderr" || rc=$?
  if [[ $rc -ne 3 ]] || ! grep -q "$pattern" "$tmp/bad.stdout"; then
    echo "FAIL check $name: exit $rc"; cat "$tmp/bad.stdout" "$tmp/bad.stderr"; fails=$((fails + 1))
  else
    echo "ok   check $name: exit 3"
  fi
}
bad_cases() { # DIR NAME PATTERN
  local dir="$1" name="$2" pattern="$3"
  expect_refusal "convert $name" "$pattern" "$tmp/out_$name.onnx" -- \
    "$edgeship" -q convert --from onnx "$dir/mlp.onnx" -o "$tmp/out_$name.onnx"
  expect_refusal "convert --external-data $name" "$pattern" "$tmp/outx_$name.onnx" -- \
    "$edgeship" -q convert "$dir/mlp.onnx" -o "$tmp/outx_$name.onnx" --external-data
  expect_refusal "optimize $name" "$pattern" "$tmp/opt_$name.onnx" -- \
    "$edgeship" -q optimize "$dir/mlp.onnx" -o "$tmp/opt_$name.onnx" --fp16
  expect_finding "$name" "$pattern" "$dir/mlp.onnx"
}
mkdir "$tmp/missing" "$tmp/truncated" "$tmp/escape" "$tmp/escape/model" "$tmp/symlink" "$tmp/symlink/model"
cp "$tmp/src/mlp.onnx" "$tmp/missing/"
bad_cases "$tmp/missing" missing "mlp.weights is missing or unreadable"
cp "$tmp/src/mlp.onnx" "$tmp/truncated/"
head -c 3000 "$tmp/src/mlp.weights" >"$tmp/truncated/mlp.weights"
bad_cases "$tmp/truncated" truncated "is shorter"
# A location that climbs out of the model's directory: the file exists there, and is still refused.
/usr/bin/python3 - "$tmp/src/mlp.onnx" "$tmp/escape/model/mlp.onnx" "../mlp.weights" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
for t in m.graph.initializer:
    for kv in t.external_data:
        if kv.key == "location":
            kv.value = sys.argv[3]
onnx.save(m, sys.argv[2])
PY
cp "$tmp/src/mlp.weights" "$tmp/escape/"
bad_cases "$tmp/escape/model" escape "must be a relative path inside the model's directory"
# The same through a symlink inside the directory that points out of it.
cp "$tmp/src/mlp.onnx" "$tmp/symlink/model/"
cp "$tmp/src/mlp.weights" "$tmp/symlink/outside.weights"
ln -s ../outside.weights "$tmp/symlink/model/mlp.weights"
bad_cases "$tmp/symlink/model" symlink "outside the model's directory (through a symlink)"
# inspect reports the problem as a finding and still describes the model.
"$edgeship" inspect --json "$tmp/missing/mlp.onnx" >"$tmp/inspect_missing.json" || true
/usr/bin/python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert not r['valid'] and r['findings'][0]['stage'] == 'external_data', r['findings']
" "$tmp/inspect_missing.json" || { echo "FAIL inspect missing"; fails=$((fails + 1)); }
# -o - cannot carry a side file: usage error.
rc=0; "$edgeship" convert "$tmp/xgb.json" -o - --external-data >/dev/null 2>"$tmp/bad.stderr" || rc=$?
if [[ $rc -ne 2 ]]; then echo "FAIL -o - --external-data: exit $rc"; fails=$((fails + 1)); else echo "ok   -o - --external-data: exit 2"; fi

if [[ $fails -ne 0 ]]; then
  echo "$fails bad-input case(s) failed"; exit 1
fi
echo "convert/optimize/inspect/check external data ok"
