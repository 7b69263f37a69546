#!/usr/bin/python3
"""Trains the small models tests/e2e/registry_ship.sh ships (Debian's python3-xgboost, -sklearn, -torch).

    registry_ship_models.py KIND OUT SEED      KIND: xgboost | sklearn | torch | broken-onnx

Six float features in, like the bundled example. A different SEED gives a different model (a "retrain"):
  xgboost      XGBClassifier (binary:logistic), saved as XGBoost JSON
  sklearn      Pipeline(StandardScaler, LogisticRegression), saved with joblib (a pickle: needs --trust-pickle)
  torch        Linear(6,16)-ReLU-Linear(16,1), saved with torch.jit.save (TorchScript: no pickle trust needed)
  broken-onnx  an ONNX model whose node reads an undefined input (the ONNX checker rejects it)
"""

import sys

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    w = rng.normal(size=6)
    y = (x @ w + 0.3 * rng.normal(size=400) > 0).astype(np.int64)
    return x, y


def main(kind, out, seed):
    if kind == "xgboost":
        import xgboost as xgb
        x, y = data(seed)
        m = xgb.XGBClassifier(n_estimators=20 + seed % 7, max_depth=3, random_state=seed)
        m.fit(x, y)
        m.save_model(out)
    elif kind == "sklearn":
        import joblib
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        x, y = data(seed)
        m = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))]).fit(x, y)
        joblib.dump(m, out)
    elif kind == "torch":
        import torch
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).eval()
        torch.jit.save(torch.jit.script(net), out)
    elif kind == "broken-onnx":
        import onnx
        from onnx import TensorProto, helper
        node = helper.make_node("Relu", ["undefined_input"], ["y"])
        graph = helper.make_graph([node], "broken", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        with open(out, "wb") as f:
            f.write(model.SerializeToString())
        assert onnx.load(out).graph.name == "broken"
    else:
        sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
