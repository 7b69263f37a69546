#!/usr/bin/env python3
"""Parity of PyTorch conversions (issue 4): an MLP saved whole with torch.save (its class importable
from PYTHONPATH) and a small CNN saved as TorchScript (torch.jit.save), converted with the framework
converter (torch.onnx.export in the bridge), run in ONNX Runtime (tests/tools/ort_run.js) with a
batch size other than the example's (--dynamic-batch), compared with torch: ≤ 1e-4 absolute.

  framework_torch_parity.py TOOL CASE [CASE…]     (run with /usr/bin/python3)"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

TOL = 1e-4
SOURCE = os.environ.get("EDGESHIP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ORT_RUN = os.path.join(SOURCE, "tests", "tools", "ort_run.js")

# The module defining the MLP: torch.save pickles a reference to it, so it must be importable when
# the bridge loads the file (here through PYTHONPATH, as a user's project would be).
MODELS_PY = '''
import torch

class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16),
                                       torch.nn.Tanh(), torch.nn.Linear(16, 3))

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1))
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x):
        return torch.softmax(self.head(torch.flatten(self.features(x), 1)), dim=1)
'''


def ort(model, name, x, tmp):
    req = os.path.join(tmp, "request.json")
    with open(req, "w") as f:
        json.dump({name: {"type": "float32", "dims": list(x.shape), "data": [float(v) for v in x.ravel()]}}, f)
    r = subprocess.run(["node", ORT_RUN, model, req], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("ort_run failed: " + r.stderr.strip())
    return json.loads(r.stdout)


def build(case, tmp):
    sys.path.insert(0, tmp)
    with open(os.path.join(tmp, "edgeship_test_models.py"), "w") as f:
        f.write(MODELS_PY)
    import edgeship_test_models as m
    torch.manual_seed(0)
    if case.startswith("mlp"):
        net = m.MLP().eval()
        path = os.path.join(tmp, "mlp.pt")
        torch.save(net, path)  # a whole pickled module
        return net, path, [1, 8], [5, 8], ["--trust-pickle"]
    net = m.CNN()
    # Give BatchNorm non-trivial statistics, then freeze: export folds it into the convolution.
    with torch.no_grad():
        net.train()
        for _ in range(3):
            net(torch.randn(8, 3, 16, 16))
    net.eval()
    path = os.path.join(tmp, "cnn.pt")
    torch.jit.save(torch.jit.trace(net, torch.randn(1, 3, 16, 16)), path)  # TorchScript: no pickle trust needed
    return net, path, [1, 3, 16, 16], [4, 3, 16, 16], []


def run_case(tool, case, tmp):
    net, path, example, batch, extra = build(case, tmp)
    opset = "13" if case.endswith("13") else "17"
    out = os.path.join(tmp, case + ".onnx")
    env = dict(os.environ, PYTHONPATH=tmp)
    cmd = [tool, "convert", path, "-o", out, "--python", "/usr/bin/python3", "--input-shape",
           ",".join(map(str, example)), "--dynamic-batch", "--input-name", "x", "--output-name", "scores",
           "--opset", opset, "--json"] + extra
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if r.returncode != 0:
        return False, "convert failed (exit %d): %s" % (r.returncode, r.stderr.strip())
    report = json.loads(r.stdout)
    x = torch.randn(*batch, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = net(x).numpy()
    got = ort(out, "x", x.numpy(), tmp)
    if got["input_names"] != ["x"] or got["output_names"] != ["scores"]:
        return False, "names: %s -> %s" % (got["input_names"], got["output_names"])
    g = got["outputs"]["scores"]
    arr = np.array(g["data"], dtype=np.float64).reshape(g["dims"])
    if list(arr.shape) != list(want.shape):
        return False, "shape %s, torch %s" % (list(arr.shape), list(want.shape))
    err = float(np.max(np.abs(arr - want)))
    return err <= TOL, "batch %d (example %d), opset %s (%s), max abs error %.2e" % (
        batch[0], example[0], report["opsets"].get("ai.onnx"), report["source_format"], err)


CASES = ["mlp", "cnn", "cnn_opset13"]

def check_list(names):
    """The test list in tests/e2e/framework.cmake must name every case exactly once."""
    missing = sorted(set(CASES) - set(names))
    unknown = sorted(set(names) - set(CASES))
    if missing or unknown or len(names) != len(set(names)):
        print("framework.cmake and %s disagree: not registered %s, unknown %s" % (os.path.basename(__file__), missing, unknown))
        return 1
    print("%d cases registered" % len(names))
    return 0


def main():
    if sys.argv[1] == "--check-list":
        return check_list(sys.argv[2:])
    tool = sys.argv[1]
    failed = 0
    for case in sys.argv[2:] or CASES:
        with tempfile.TemporaryDirectory(prefix="edgeship-torch-parity-") as tmp:
            try:
                ok, msg = run_case(tool, case, tmp)
            except Exception as e:
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
        print("%-14s %s  %s" % (case, "ok  " if ok else "FAIL", msg))
        failed += 0 if ok else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
