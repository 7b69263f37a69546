#!/usr/bin/python3
"""LightGBM -> ONNX parity on the hand-written text models in tests/fixtures/lightgbm/: converts each with
`edgeship convert` (predictions and --margin), runs it in ONNX Runtime and compares with the independent
reference evaluator in lightgbm_reference.py.

    /usr/bin/python3 lightgbm_parity.py --edgeship BIN --fixture NAME [--workdir DIR]
    /usr/bin/python3 lightgbm_parity.py --list

Evaluation rows (docs/design/onnx.md §7, §17): random rows with 10% NaN, all-NaN and all-zero rows, ±0 and
±1e-36 (inside LightGBM's zero band) and ±1e-34, every numerical threshold as the largest float <= the
double threshold and the floats just above and below, every category 0..41, fractional, negative and
huge category values. Inputs are float32 (the ONNX input type); the reference compares in double.
Tolerance: |onnx - reference| <= 1e-5 + 1e-5*|reference| (§8).
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lightgbm_reference import Model  # noqa: E402
from parity_common import SOURCE_DIR, ParityError, compare, report, run_convert, run_ort  # noqa: E402

FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures", "lightgbm")


def fixtures():
    return sorted(f[:-4] for f in os.listdir(FIXTURES) if f.endswith(".txt") and not f.startswith("refuse_"))


def float_at_or_below(v):
    f = np.float32(v)
    if float(f) > v:
        f = np.nextafter(f, np.float32(-np.inf))
    return f


def eval_rows(model, n_features):
    rng = np.random.default_rng(5)
    rows = []
    X = rng.normal(scale=2.0, size=(200, n_features)).astype(np.float32)
    # categorical-looking columns get small integers half the time
    for f in range(n_features):
        ints = rng.integers(-2, 45, size=len(X)).astype(np.float32)
        X[:, f] = np.where(rng.random(len(X)) < 0.5, ints, X[:, f])
    X[rng.random(size=X.shape) < 0.1] = np.nan
    rows.extend(X)
    rows.append(np.full(n_features, np.nan, dtype=np.float32))
    rows.append(np.zeros(n_features, dtype=np.float32))
    specials = [0.0, -0.0, 1e-36, -1e-36, 1e-34, -1e-34, np.nan, 2.5, -0.5, -1.0, -0.999, 0.999, 1e10, -1e10,
                3.4e38, -3.4e38] + list(range(0, 42))  # (ort_run.js requests are JSON: no infinities)
    base = X[:20]
    for f in range(n_features):
        for k, v in enumerate(specials):
            r = base[k % len(base)].copy()
            r[f] = v
            rows.append(r)
    for tree in model.trees:
        for node, thr in enumerate(tree.threshold):
            if tree.decision_type[node] & 1:
                continue
            f = tree.split_feature[node]
            fl = float_at_or_below(thr)
            for v in (fl, np.nextafter(fl, np.float32(np.inf)), np.nextafter(fl, np.float32(-np.inf)), np.float32(thr)):
                r = base[node % len(base)].copy()
                r[f] = v
                rows.append(r)
    return np.array(rows, dtype=np.float32)


def run_fixture(name, edgeship, workdir):
    path = os.path.join(FIXTURES, name + ".txt")
    with open(path) as f:
        model = Model(f.read())
    n_features = int(model.header["max_feature_idx"]) + 1
    X = eval_rows(model, n_features)
    n = len(X)
    raw = np.array([model.raw_score(r) for r in X.astype(np.float64)])
    pred = np.array([model.predict(r) for r in X.astype(np.float64)])

    out_margin = os.path.join(workdir, "margin.onnx")
    out_pred = os.path.join(workdir, "pred.onnx")
    run_convert(edgeship, path, out_margin, "--margin")
    rep = run_convert(edgeship, path, out_pred)
    if rep["source_format"] != "lightgbm-text":
        raise ParityError(f"detected {rep['source_format']}, expected lightgbm-text")

    got = run_ort(out_margin, X, workdir)["margin"]
    ma, mr = compare(f"{name} margin", got, raw)
    report(name, "lightgbm-text", "margin", ma, mr, n)

    o = run_ort(out_pred, X, workdir)
    if model.objective == "binary":
        want = np.concatenate([1.0 - pred, pred], axis=1)
        ma, mr = compare(f"{name} probabilities", o["probabilities"], want)
        labels = o["label"].ravel()
        clear = np.abs(pred[:, 0] - 0.5) > 1e-6
        if ((labels != (pred[:, 0] > 0.5)) & clear).any():
            raise ParityError(f"{name}: labels disagree with the probabilities")
    elif model.objective in ("multiclass", "multiclassova"):
        ma, mr = compare(f"{name} probabilities", o["probabilities"], pred)
        s = np.sort(pred, axis=1)
        clear = (s[:, -1] - s[:, -2]) > 1e-6
        if ((o["label"].ravel() != np.argmax(pred, axis=1)) & clear).any():
            raise ParityError(f"{name}: labels disagree with the reference argmax")
    else:
        ma, mr = compare(f"{name} prediction", o["prediction"], pred)
    report(name, "lightgbm-text", "prediction", ma, mr, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgeship")
    ap.add_argument("--fixture")
    ap.add_argument("--workdir")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(fixtures()))
        return 0
    if a.fixture not in fixtures():
        print(f"unknown fixture {a.fixture!r}; --list shows them", file=sys.stderr)
        return 2
    workdir = a.workdir or tempfile.mkdtemp(prefix=f"lgbm-parity-{a.fixture}-")
    os.makedirs(workdir, exist_ok=True)
    try:
        run_fixture(a.fixture, a.edgeship, workdir)
    except ParityError as e:
        print(f"FAIL {a.fixture}: {e}", file=sys.stderr)
        print(f"(files kept in {workdir})", file=sys.stderr)
        return 1
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"OK {a.fixture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
