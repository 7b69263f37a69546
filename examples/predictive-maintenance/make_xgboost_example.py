#!/usr/bin/python3
"""Writes model.json: an XGBoost binary:logistic model predicting a machine failure within the next
shift from six vibration/temperature/current sensor features (the same features as model.onnx).
The data are synthetic and seeded, so the file is reproducible; 10% of readings are missing (sensor
dropouts) and XGBoost learns where to send them. Run with Debian's python3-xgboost:
    /usr/bin/python3 make_xgboost_example.py
Convert it with:
    edgeship convert model.json -o model-xgboost.onnx
"""
import numpy as np
import xgboost as xgb

FEATURES = ["vibration_rms", "vibration_peak", "bearing_temp_c", "motor_temp_c", "current_a", "rpm"]

rng = np.random.default_rng(20261124)
n = 4000
wear = rng.beta(2.0, 5.0, size=n)  # hidden machine wear in [0, 1]
X = np.column_stack([
    0.8 + 2.5 * wear + rng.normal(0, 0.3, n),            # vibration_rms (mm/s)
    2.0 + 7.0 * wear + rng.normal(0, 0.9, n),            # vibration_peak (mm/s)
    45 + 30 * wear + rng.normal(0, 4.0, n),              # bearing_temp_c
    60 + 15 * wear + rng.normal(0, 5.0, n),              # motor_temp_c
    12 + 4 * wear + rng.normal(0, 1.0, n),               # current_a
    1480 - 60 * wear + rng.normal(0, 15.0, n),           # rpm
]).astype(np.float32)
failure = (wear + rng.normal(0, 0.08, n) > 0.55).astype(np.float32)
X[rng.random(size=X.shape) < 0.10] = np.nan

params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 7,
          "tree_method": "hist", "eval_metric": "logloss"}
booster = xgb.train(params, xgb.DMatrix(X, failure, feature_names=FEATURES), num_boost_round=30)
booster.save_model("model.json")
print("wrote model.json:", booster.num_boosted_rounds(), "trees")
