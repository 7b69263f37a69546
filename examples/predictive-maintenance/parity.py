#!/usr/bin/python3
"""Prediction parity of the example's converted model: XGBoost's own predictions against ONNX Runtime
running the ONNX model edgeship produced, on rows drawn from the example's feature distribution (10 % NaN).
Run with Debian's interpreter (python3-xgboost); ONNX Runtime comes from the test tooling
(tests/node_modules, onnxruntime-node through tests/tools/ort_run.js).
    parity.py MODEL.onnx     -> prints the max abs error; exit 1 above 1e-5
"""
import os
import sys
import tempfile

import numpy as np
import xgboost as xgb

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(root, "tests", "parity"))
from parity_common import run_ort  # noqa: E402

onnx_path = sys.argv[1]
rng = np.random.default_rng(7)
wear = rng.beta(2, 5, size=1000)
X = np.column_stack([0.8 + 2.5 * wear, 2 + 7 * wear, 45 + 30 * wear, 60 + 15 * wear, 12 + 4 * wear,
                     1480 - 60 * wear]).astype(np.float32)
X[rng.random(size=X.shape) < 0.1] = np.nan
booster = xgb.Booster(model_file=os.path.join(here, "model.json"))
expected = booster.predict(xgb.DMatrix(X, missing=np.nan, feature_names=booster.feature_names))
with tempfile.TemporaryDirectory() as work:
    got = run_ort(onnx_path, X, work)["probabilities"][:, 1]
err = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
print("parity: %d rows (10%% NaN), ONNX Runtime vs XGBoost %s: max abs error %.3g (limit 1e-5)"
      % (len(X), xgb.__version__, err))
sys.exit(0 if err <= 1e-5 else 1)
