#!/usr/bin/env bash
# `convert` with the edge passes: a PyTorch MLP converted with --fp16 and with --quantize dynamic-int8
# in one step. The passes themselves are parity-tested by e2e.optimize.*; this checks the wiring: the
# report names the step, the written model carries it, passes the checker, and runs in ONNX Runtime
# close to the float model.
set -euo pipefail
edgeship="$1"; root="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3)).eval()
torch.save(net, sys.argv[1] + "/mlp.pt")
PY
common=(--trust-pickle --python /usr/bin/python3 --input-shape 1,8 --dynamic-batch)
"$edgeship" convert "$tmp/mlp.pt" -o "$tmp/float.onnx" "${common[@]}" >/dev/null
"$edgeship" convert "$tmp/mlp.pt" -o "$tmp/int8.onnx" "${common[@]}" --quantize dynamic-int8 --json >"$tmp/int8.json"
"$edgeship" convert "$tmp/mlp.pt" -o "$tmp/fp16.onnx" "${common[@]}" --fp16 --json >"$tmp/fp16.json"
/usr/bin/python3 - "$tmp" "$edgeship" "$root" <<'PY'
import json, subprocess, sys
tmp, edgeship, root = sys.argv[1:]
for name, step, op in [("int8", "dynamic-int8", "MatMulInteger"), ("fp16", "fp16", "Cast")]:
    report = json.load(open(f"{tmp}/{name}.json"))
    assert step in report["optimize"]["steps"], (name, report.get("optimize"))
    info = json.loads(subprocess.run([edgeship, "inspect", "--json", f"{tmp}/{name}.onnx"], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["valid"], info["findings"]
    assert op in info["op_histogram"], (name, info["op_histogram"])
    assert any(k.startswith("edgeship.optimize") for k in info["metadata_props"]), info["metadata_props"]
rows = [[(i * 7 + j) % 11 / 5.0 - 1.0 for j in range(8)] for i in range(16)]
json.dump({"input": {"type": "float32", "dims": [16, 8], "data": sum(rows, [])}}, open(f"{tmp}/req.json", "w"))
def run(model):
    out = subprocess.run(["node", f"{root}/tests/tools/ort_run.js", f"{tmp}/{model}.onnx", f"{tmp}/req.json"],
                         check=True, capture_output=True, text=True).stdout
    return next(iter(json.loads(out)["outputs"].values()))["data"]
ref = run("float")
scale = max(abs(v) for v in ref)
for name, tol in [("fp16", 1e-2), ("int8", 5e-2)]:
    err = max(abs(a - b) for a, b in zip(run(name), ref)) / scale
    print(f"{name}: max error relative to output range {err:.2e}")
    assert err <= tol, (name, err)
PY
echo "convert + edge passes ok"
