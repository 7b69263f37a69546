#!/usr/bin/env python3
"""Parity of scikit-learn conversions (issue 4): train an estimator with Debian's scikit-learn, save it
(pickle or joblib), convert it with the framework converter, run the ONNX model in ONNX Runtime
(tests/tools/ort_run.js) and compare with predict / predict_proba / decision_function / transform.

  framework_sklearn_parity.py TOOL CASE [CASE…]      (run with /usr/bin/python3)

Inputs are float32 values (the ONNX input type): random rows, rows placed exactly on every split
threshold and on the next float above it (docs/design/onnx.md §6, §17.1), and NaN rows where the
estimator supports them (HistGradientBoosting, SimpleImputer pipelines). Tolerance: 1e-5 absolute
(§8). Labels must match except where the two top probabilities are within 1e-6 (§8).
Prints one line per case with the measured maximum errors."""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import zlib

import joblib
import numpy as np
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier,
                              GradientBoostingRegressor, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import LinearSVC, LinearSVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

TOL = 1e-5
SOURCE = os.environ.get("EDGESHIP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ORT_RUN = os.path.join(SOURCE, "tests", "tools", "ort_run.js")
F = 5


def data(seed=0, n=240, nan_fraction=0.0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, F).astype(np.float32)
    X[:, 1] *= 3.0
    X[:, 2] = np.round(X[:, 2] * 2) / 2  # repeated values: thresholds between them
    score = X[:, 0] + 0.5 * X[:, 1] - X[:, 2] * X[:, 3] + 0.3 * rng.randn(n)
    if nan_fraction:
        X[rng.rand(n, F) < nan_fraction] = np.nan
    return X.astype(np.float64), score


def y_binary(s):
    return (s > 0).astype(np.int64)


def y_multi(s):
    return np.digitize(s, [-1.0, 0.7]).astype(np.int64)


def y_strings(s):
    return np.array(["low", "mid", "high"])[np.digitize(s, [-1.0, 0.7])]


# name: (estimator factory, target kind, NaN in inputs, save format)
CASES = {
    "linear_regression": (lambda: LinearRegression(), "reg", False, "pickle"),
    "linear_regression_multi": (lambda: LinearRegression(), "reg2", False, "pickle"),
    "ridge": (lambda: Ridge(alpha=0.5), "reg", False, "joblib"),
    "lasso": (lambda: Lasso(alpha=0.05), "reg", False, "pickle"),
    "elastic_net": (lambda: ElasticNet(alpha=0.05, l1_ratio=0.3), "reg", False, "joblib-z"),
    "linear_svr": (lambda: LinearSVR(C=0.5, max_iter=20000, random_state=0), "reg", False, "pickle"),
    "logistic_binary": (lambda: LogisticRegression(), "bin", False, "pickle"),
    "logistic_binary_liblinear": (lambda: LogisticRegression(solver="liblinear"), "bin", False, "pickle"),
    "logistic_binary_multinomial": (lambda: LogisticRegression(multi_class="multinomial"), "bin", False, "pickle"),
    "logistic_multinomial": (lambda: LogisticRegression(max_iter=500), "multi", False, "joblib"),
    "logistic_ovr": (lambda: LogisticRegression(multi_class="ovr", max_iter=500), "multi", False, "pickle"),
    "logistic_strings": (lambda: LogisticRegression(max_iter=500), "str", False, "pickle"),
    "linear_svc_binary": (lambda: LinearSVC(max_iter=20000, random_state=0), "bin", False, "pickle"),
    "linear_svc_multi": (lambda: LinearSVC(max_iter=20000, random_state=0), "multi", False, "pickle"),
    "decision_tree_classifier": (lambda: DecisionTreeClassifier(max_depth=6, random_state=0), "multi", False, "pickle"),
    "decision_tree_classifier_binary": (lambda: DecisionTreeClassifier(random_state=0), "bin", False, "pickle"),
    "decision_tree_regressor": (lambda: DecisionTreeRegressor(max_depth=8, random_state=0), "reg", False, "joblib"),
    "decision_tree_regressor_multi": (lambda: DecisionTreeRegressor(max_depth=5, random_state=0), "reg2", False, "pickle"),
    "random_forest_classifier": (lambda: RandomForestClassifier(n_estimators=30, max_depth=7, random_state=0), "multi",
                                 False, "joblib-z"),
    "random_forest_regressor": (lambda: RandomForestRegressor(n_estimators=30, max_depth=7, random_state=0), "reg",
                                False, "pickle"),
    "extra_trees_classifier": (lambda: ExtraTreesClassifier(n_estimators=30, random_state=0), "bin", False, "pickle"),
    "extra_trees_regressor": (lambda: ExtraTreesRegressor(n_estimators=30, max_depth=8, random_state=0), "reg", False,
                              "joblib"),
    "gradient_boosting_classifier": (lambda: GradientBoostingClassifier(n_estimators=40, random_state=0), "bin", False,
                                     "pickle"),
    "gradient_boosting_classifier_multi": (lambda: GradientBoostingClassifier(n_estimators=25, random_state=0),
                                           "multi", False, "pickle"),
    "gradient_boosting_classifier_exponential": (
        lambda: GradientBoostingClassifier(loss="exponential", n_estimators=30, random_state=0), "bin", False, "pickle"),
    "gradient_boosting_regressor": (lambda: GradientBoostingRegressor(n_estimators=50, random_state=0), "reg", False,
                                    "joblib"),
    "gradient_boosting_regressor_huber": (
        lambda: GradientBoostingRegressor(loss="huber", n_estimators=30, random_state=0), "reg", False, "pickle"),
    "hist_gradient_boosting_classifier": (lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0), "bin",
                                          True, "pickle"),
    "hist_gradient_boosting_classifier_multi": (
        lambda: HistGradientBoostingClassifier(max_iter=25, random_state=0), "multi", True, "joblib"),
    "hist_gradient_boosting_regressor": (lambda: HistGradientBoostingRegressor(max_iter=50, random_state=0), "reg", True,
                                         "pickle"),
    "hist_gradient_boosting_regressor_poisson": (
        lambda: HistGradientBoostingRegressor(loss="poisson", max_iter=30, random_state=0), "pos", True, "pickle"),
    "standard_scaler": (lambda: StandardScaler(), "none", False, "pickle"),
    "min_max_scaler_clip": (lambda: MinMaxScaler(feature_range=(-1, 2), clip=True), "none", False, "pickle"),
    "simple_imputer_mean": (lambda: SimpleImputer(), "none", True, "pickle"),
    "simple_imputer_median": (lambda: SimpleImputer(strategy="median"), "none", True, "joblib"),
    "simple_imputer_constant": (lambda: SimpleImputer(strategy="constant", fill_value=-7.5), "none", True, "pickle"),
    "pipeline_impute_scale_logistic": (
        lambda: make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500)), "multi", True,
        "joblib"),
    "pipeline_scale_ridge": (lambda: make_pipeline(StandardScaler(), Ridge()), "reg", False, "pickle"),
    "pipeline_minmax_forest": (
        lambda: make_pipeline(MinMaxScaler(), RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0)),
        "bin", False, "pickle"),
    "pipeline_impute_gradient_boosting": (
        lambda: make_pipeline(SimpleImputer(strategy="median"), GradientBoostingRegressor(n_estimators=30,
                                                                                          random_state=0)),
        "reg", True, "joblib-z"),
    "pipeline_impute_scale_transform": (lambda: make_pipeline(SimpleImputer(), StandardScaler()), "none", True,
                                        "pickle"),
}


def target(kind, s):
    if kind == "reg":
        return s
    if kind == "reg2":
        return np.c_[s, 2 * s - 1]
    if kind == "pos":
        return np.exp(s / 3)
    if kind == "bin":
        return y_binary(s)
    if kind == "multi":
        return y_multi(s)
    if kind == "str":
        return y_strings(s)
    return None


def trees_of(est):
    """(feature, threshold) of every split, for inputs placed on thresholds."""
    if hasattr(est, "steps"):
        # Thresholds live in the final estimator's input space: only imputers leave numbers unchanged.
        if any(s.__class__.__name__.endswith("Scaler") for _, s in est.steps[:-1]):
            return []
        est = est.steps[-1][1]
        if est.__class__.__name__.endswith(("Scaler", "Imputer")):
            return []
    out = []
    if hasattr(est, "tree_"):
        t = est.tree_
        out += [(f, v) for f, v in zip(t.feature, t.threshold) if f >= 0]
    elif hasattr(est, "estimators_"):
        for e in np.asarray(est.estimators_).ravel():
            t = e.tree_
            out += [(f, v) for f, v in zip(t.feature, t.threshold) if f >= 0]
    elif hasattr(est, "_predictors"):
        for it in est._predictors:
            for p in it:
                n = p.nodes
                out += [(int(f), float(v)) for f, v, leaf in zip(n["feature_idx"], n["num_threshold"], n["is_leaf"])
                        if not leaf and np.isfinite(v)]
    return out


def float_at_or_below(v):
    f = np.float32(v)
    if float(f) > v:
        f = np.nextafter(f, np.float32(-np.inf))
    return f


def test_inputs(est, X, nan):
    rng = np.random.RandomState(42)
    rows = [X[rng.randint(0, len(X), 80)].astype(np.float32)]
    splits = trees_of(est)
    if splits:
        idx = rng.choice(len(splits), min(len(splits), 200), replace=False)
        base = X[rng.randint(0, len(X), len(idx) * 2)].astype(np.float32)
        for k, i in enumerate(idx):
            feat, thr = splits[i]
            f = float_at_or_below(thr)
            base[2 * k, feat] = f  # on the threshold (largest float <= thr): goes left
            base[2 * k + 1, feat] = np.nextafter(f, np.float32(np.inf))  # just above: goes right
        rows.append(base)
    if nan:
        extra = X[rng.randint(0, len(X), 40)].astype(np.float32)
        extra[rng.rand(*extra.shape) < 0.25] = np.nan
        extra[0, :] = np.nan  # an all-NaN row
        rows.append(extra)
    out = np.concatenate(rows).astype(np.float32)
    if not nan:
        out = out[~np.isnan(out).any(axis=1)]
    return out


def save(est, path, fmt):
    if fmt == "pickle":
        with open(path, "wb") as f:
            pickle.dump(est, f, protocol=pickle.HIGHEST_PROTOCOL)
    elif fmt == "joblib":
        joblib.dump(est, path)
    else:
        joblib.dump(est, path, compress=3)


def ort(model, X, tmp):
    req = os.path.join(tmp, "request.json")
    with open(req, "w") as f:
        json.dump({"features": {"type": "float32", "dims": list(X.shape),
                                "data": [None if np.isnan(v) else float(v) for v in X.ravel()]}}, f)
    r = subprocess.run(["node", ORT_RUN, model, req], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("ort_run failed: " + r.stderr.strip())
    outs = json.loads(r.stdout)["outputs"]
    res = {}
    for name, t in outs.items():
        if t["type"] == "string":
            res[name] = np.array(t["data"], dtype=object).reshape(t["dims"])
        elif t["type"] == "int64":
            res[name] = np.array([int(v) for v in t["data"]], dtype=np.int64).reshape(t["dims"])
        else:
            res[name] = np.array([np.nan if v is None else v for v in t["data"]], dtype=np.float64).reshape(t["dims"])
    return res


def run_case(tool, name, tmp):
    factory, kind, nan, fmt = CASES[name]
    X, s = data(seed=zlib.crc32(name.encode()) % 1000, nan_fraction=0.1 if nan else 0.0)
    est = factory()
    y = target(kind, s)
    est.fit(X, y) if y is not None else est.fit(X)
    ext = ".pkl" if fmt == "pickle" else ".joblib"
    path = os.path.join(tmp, name + ext)
    save(est, path, fmt)
    out = os.path.join(tmp, name + ".onnx")
    r = subprocess.run([tool, "convert", path, "-o", out, "--trust-pickle", "--python", "/usr/bin/python3", "--json"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return False, "convert failed (exit %d): %s" % (r.returncode, r.stderr.strip())
    report = json.loads(r.stdout)
    Xt = test_inputs(est, X, nan)
    got = ort(out, Xt, tmp)
    Xd = Xt.astype(np.float64)
    errors = {}
    ok = True
    notes = []
    if kind == "none":
        want = est.transform(Xd)
        errors["transform"] = float(np.max(np.abs(got["transformed"] - want)))
        ok = errors["transform"] <= TOL
    elif kind in ("reg", "reg2", "pos"):
        want = est.predict(Xd).reshape(len(Xd), -1)
        errors["predict"] = float(np.max(np.abs(got["prediction"] - want)))
        ok = errors["predict"] <= TOL
    else:
        labels = est.predict(Xd)
        got_labels = got["label"]
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(Xd)
            errors["proba"] = float(np.max(np.abs(got["probabilities"] - proba)))
            ok = errors["proba"] <= TOL
            top2 = np.sort(proba, axis=1)[:, -2:]
            close = (top2[:, 1] - top2[:, 0]) < 1e-6
        else:
            dec = est.decision_function(Xd).reshape(len(Xd), -1)
            errors["decision"] = float(np.max(np.abs(got["decision"] - dec)))
            ok = errors["decision"] <= TOL
            close = np.min(np.abs(dec), axis=1) < 1e-6 if dec.shape[1] == 1 else np.zeros(len(Xd), bool)
        mismatch = (np.asarray(got_labels).astype(str) != np.asarray(labels).astype(str)) & ~close
        errors["label_mismatches"] = int(mismatch.sum())
        ok = ok and not mismatch.any()
    if report.get("trees"):
        notes.append("%d trees" % report["trees"])
    on_thr = len(trees_of(est)) > 0
    detail = ", ".join("%s %s" % (k, ("%.2e" % v) if isinstance(v, float) else v) for k, v in errors.items())
    return ok, "%d rows%s%s, %s%s" % (len(Xt), " (incl. on-threshold)" if on_thr else "",
                                      " (incl. NaN)" if nan else "", detail,
                                      (", " + ", ".join(notes)) if notes else "")



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
    names = sys.argv[2:] or sorted(CASES)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="edgeship-sk-parity-") as tmp:
        for name in names:
            try:
                ok, msg = run_case(tool, name, tmp)
            except Exception as e:  # report, count, go on
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            print("%-45s %s  %s" % (name, "ok  " if ok else "FAIL", msg))
            failed += 0 if ok else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
