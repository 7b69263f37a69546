#!/usr/bin/env bash
# The README demo step: convert the bundled XGBoost example, check it, and compare ONNX Runtime with
# XGBoost on the example's own feature distribution.
set -euo pipefail
edgeship="$1"
src="${EDGESHIP_SOURCE_DIR:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$edgeship" convert "$src/examples/predictive-maintenance/model.json" -o "$work/model.onnx" --json >"$work/report.json"
"$edgeship" check "$work/model.onnx"
/usr/bin/python3 - "$src" "$work" <<'PY'
import json, os, sys
import numpy as np
import xgboost as xgb
src, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests", "parity"))
from parity_common import compare, run_ort
rep = json.load(open(os.path.join(work, "report.json")))
assert rep["objective"] == "binary:logistic" and rep["outputs"] == ["label", "probabilities"], rep
rng = np.random.default_rng(3)
wear = rng.beta(2, 5, size=64)
X = np.column_stack([0.8 + 2.5 * wear, 2 + 7 * wear, 45 + 30 * wear, 60 + 15 * wear, 12 + 4 * wear,
                     1480 - 60 * wear]).astype(np.float32)
X[rng.random(size=X.shape) < 0.1] = np.nan
b = xgb.Booster(model_file=os.path.join(src, "examples", "predictive-maintenance", "model.json"))
p = b.predict(xgb.DMatrix(X, missing=np.nan, feature_names=b.feature_names))
got = run_ort(os.path.join(work, "model.onnx"), X, work)["probabilities"][:, 1]
print("example max abs error %.3g" % compare("example", got, p)[0])
PY
