#!/usr/bin/python3
"""XGBoost -> ONNX parity: trains a model with Debian's python3-xgboost on data with NaNs, saves it as
JSON and UBJ, converts both with `edgeship convert` (predictions and --margin), runs them in ONNX
Runtime and compares with XGBoost's own predictions (docs/design/onnx.md §16, §17).

    /usr/bin/python3 xgboost_parity.py --edgeship BIN --case NAME [--workdir DIR]
    /usr/bin/python3 xgboost_parity.py --list

Evaluation rows: random rows with 10% NaN, an all-NaN row, an all-zero row, and rows placed exactly on
every split threshold of the model plus the floats just above and below (§17.1).
Tolerance: |onnx - xgboost| <= 1e-5 + 1e-5*|xgboost| (§8). Binary classifiers are compared on
probabilities, never on ONNX Runtime's own label (§9.1); the model's `label` output (an explicit ArgMax)
is checked against XGBoost where the top two scores are more than 1e-6 apart.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_common import ParityError, compare, report, run_convert, run_ort, threshold_rows  # noqa: E402

N_TRAIN = 400
N_FEATURES = 6


def make_data(seed, n=N_TRAIN, f=N_FEATURES, nan_frac=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)).astype(np.float32)
    X[rng.random(size=X.shape) < nan_frac] = np.nan
    return rng, X


def signal(X):
    Z = np.nan_to_num(X, nan=0.0)
    return 1.5 * Z[:, 0] - Z[:, 1] + 0.5 * Z[:, 2] * Z[:, 3] + np.where(np.isnan(X[:, 4]), 1.0, 0.0)


class Case:
    """A trained booster plus what the comparison needs."""

    def __init__(self, booster, kind, X_base, feature_types=None, classes=0, iteration_range=None,
                 edit=None, expected_margin_fn=None, convert_args=(), ubj=True):
        self.booster = booster
        self.kind = kind  # "scores", "binary", "softprob", "softmax", "hinge"
        self.X_base = X_base
        self.feature_types = feature_types
        self.classes = classes
        self.iteration_range = iteration_range
        self.edit = edit  # function(json dict) -> json dict: simulate other XGBoost versions' files
        self.expected_margin_fn = expected_margin_fn  # margins the edited file must produce
        self.convert_args = list(convert_args)
        self.ubj = ubj


def train(params, X, y, rounds=20, group=None, feature_types=None, **kw):
    dm = xgb.DMatrix(X, y, missing=np.nan, feature_types=feature_types,
                     enable_categorical=feature_types is not None)
    if group is not None:
        dm.set_group(group)
    p = {"max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 7, "tree_method": "hist"}
    p.update(params)
    return xgb.train(p, dm, rounds, **kw)


def regression(objective, y_fn, **params):
    def build():
        rng, X = make_data(11)
        y = y_fn(rng, X)
        return Case(train({"objective": objective, **params}, X, y), "scores", X)
    return build


def case_binary_logistic():
    rng, X = make_data(21)
    y = (signal(X) + rng.normal(size=len(X)) * 0.5 > 0.3).astype(np.float32)
    return Case(train({"objective": "binary:logistic", "base_score": 0.2}, X, y), "binary", X, classes=2)


def case_reg_logistic():
    rng, X = make_data(22)
    y = 1.0 / (1.0 + np.exp(-signal(X)))
    return Case(train({"objective": "reg:logistic", "base_score": 0.3}, X, y), "scores", X)


def case_binary_logitraw():
    rng, X = make_data(23)
    y = (signal(X) > 0).astype(np.float32)
    return Case(train({"objective": "binary:logitraw", "base_score": 0.35}, X, y), "scores", X)


def case_binary_hinge():
    rng, X = make_data(24)
    y = (signal(X) > 0.2).astype(np.float32)
    return Case(train({"objective": "binary:hinge"}, X, y), "hinge", X, classes=2)


def multiclass(objective, kind):
    def build():
        rng, X = make_data(25)
        s = signal(X)
        y = np.digitize(s, [-0.7, 0.8]).astype(np.float32)
        return Case(train({"objective": objective, "num_class": 3}, X, y), kind, X, classes=3)
    return build


def log_link(objective, y_fn, **params):
    def build():
        rng, X = make_data(26)
        return Case(train({"objective": objective, **params}, X, y_fn(rng, X)), "scores", X)
    return build


def case_rank(objective):
    def build():
        rng, X = make_data(27)
        y = np.clip(np.round(signal(X) + 1.5), 0, 4).astype(np.float32)
        group = [20] * (len(X) // 20)
        return Case(train({"objective": objective}, X, y, group=group), "scores", X)
    return build


def case_multi_target():
    rng, X = make_data(28)
    Y = np.stack([signal(X), np.nan_to_num(X[:, 1]) * 2.0], axis=1)
    return Case(train({"objective": "reg:squarederror"}, X, Y), "scores", X)


def case_dart_binary():
    rng, X = make_data(29)
    y = (signal(X) + rng.normal(size=len(X)) * 0.5 > 0).astype(np.float32)
    b = train({"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.3, "skip_drop": 0.0}, X, y, rounds=25)
    weights = json.loads(b.save_raw("json"))["learner"]["gradient_booster"]["weight_drop"]
    if all(abs(w - 1.0) < 1e-9 for w in weights):
        raise ParityError("dart model has no dropped-tree weights; the case would not test weight_drop")
    return Case(b, "binary", X, classes=2)


def case_dart_regression():
    rng, X = make_data(30)
    y = signal(X) + rng.normal(size=len(X)) * 0.1
    return Case(train({"objective": "reg:squarederror", "booster": "dart", "rate_drop": 0.25, "skip_drop": 0.0},
                      X, y, rounds=25), "scores", X)


def categorical(onehot):
    def build():
        rng = np.random.default_rng(31)
        n = N_TRAIN
        X = np.empty((n, 4), dtype=np.float32)
        X[:, 0] = rng.integers(0, 8, size=n)
        X[:, 1] = rng.normal(size=n)
        X[:, 2] = rng.integers(0, 5, size=n)
        X[:, 3] = rng.normal(size=n)
        X[rng.random(size=X.shape) < 0.1] = np.nan
        c0 = np.nan_to_num(X[:, 0], nan=9)
        y = np.where(np.isin(c0, [1, 4, 6]), 2.0, -1.0) + np.nan_to_num(X[:, 1]) + (np.nan_to_num(X[:, 2]) == 3) * 1.5
        ft = ["c", "q", "c", "q"]
        params = {"objective": "reg:squarederror", "max_cat_to_onehot": 16 if onehot else 1}
        b = train(params, X, y, feature_types=ft)
        # Every category, fractional values (truncated to the category, as XGBoost does), and values
        # XGBoost treats as invalid categories (negative, beyond the bitset, above 2^24): they go left.
        extra = []
        for v in [0, 1, 2, 3, 4, 5, 6, 7, 2.5, 6.75, 0.5, 9, -1, -0.5, 100, 1e9]:
            for f in (0, 2):
                r = X[len(extra) % n].copy()
                r[f] = v
                extra.append(r)
        Xb = np.concatenate([X, np.array(extra, dtype=np.float32)])
        return Case(b, "scores", Xb, feature_types=ft)
    return build


def case_best_iteration():
    rng, X = make_data(32, n=300)
    y = signal(X) + rng.normal(size=len(X)) * 1.5
    _, Xv = make_data(33, n=200)
    yv = signal(Xv) + rng.normal(size=len(Xv)) * 1.5
    dtrain = xgb.DMatrix(X, y)
    dval = xgb.DMatrix(Xv, yv)
    b = xgb.train({"objective": "reg:squarederror", "max_depth": 6, "eta": 0.6, "nthread": 1, "seed": 7,
                   "tree_method": "hist"}, dtrain, 80, evals=[(dval, "val")], early_stopping_rounds=4,
                  verbose_eval=False)
    if b.best_iteration >= b.num_boosted_rounds() - 1:
        raise ParityError("early stopping kept every round; the case would not test truncation")
    return Case(b, "scores", X, iteration_range=(0, b.best_iteration + 1), convert_args=["--best-iteration"])


def case_all_iterations():
    c = case_best_iteration()
    c.iteration_range = None
    c.convert_args = []
    return c


def case_base_score_plain():
    """XGBoost 2.x writes an estimated intercept as a plain number string, e.g. "3.7512"."""
    rng, X = make_data(34)
    y = signal(X) + 3.75
    b = train({"objective": "reg:squarederror", "base_score": 3.7512}, X, y)

    def edit(doc):
        doc["learner"]["learner_model_param"]["base_score"] = "3.7512"
        return doc
    return Case(b, "scores", X, edit=edit)


def case_base_score_vector_binary():
    """XGBoost 3.1+ writes the intercept as a "[…]" vector string."""
    c = case_binary_logistic()

    def edit(doc):
        doc["learner"]["learner_model_param"]["base_score"] = "[2E-1]"
        return doc
    c.edit = edit
    c.ubj = False
    return c


def case_base_score_vector_multiclass():
    """A per-class intercept vector (3.1+): margins shift by b_k - 0.5 per class; softmax shows it."""
    c = multiclass("multi:softprob", "softprob")()
    per_class = [0.1, 0.3, 0.6]

    def edit(doc):
        doc["learner"]["learner_model_param"]["base_score"] = "[1E-1,3E-1,6E-1]"
        return doc

    def expected(margin_orig):
        return margin_orig - np.float32(0.5) + np.array(per_class, dtype=np.float32)
    c.edit = edit
    c.expected_margin_fn = expected
    c.ubj = False
    return c


CASES = {
    "reg_squarederror": regression("reg:squarederror", lambda r, X: signal(X) + r.normal(size=len(X)) * 0.1),
    "reg_squarederror_exact": regression("reg:squarederror", lambda r, X: signal(X), tree_method="exact"),
    "reg_squaredlogerror": regression("reg:squaredlogerror", lambda r, X: np.exp(0.3 * signal(X))),
    "reg_pseudohubererror": regression("reg:pseudohubererror", lambda r, X: signal(X) * 3.0),
    "reg_absoluteerror": regression("reg:absoluteerror", lambda r, X: signal(X) + r.laplace(size=len(X))),
    "reg_logistic": case_reg_logistic,
    "binary_logistic": case_binary_logistic,
    "binary_logitraw": case_binary_logitraw,
    "binary_hinge": case_binary_hinge,
    "multi_softprob": multiclass("multi:softprob", "softprob"),
    "multi_softmax": multiclass("multi:softmax", "softmax"),
    "count_poisson": log_link("count:poisson", lambda r, X: r.poisson(np.exp(0.4 * signal(X))).astype(np.float32),
                              base_score=1.5),
    "reg_gamma": log_link("reg:gamma", lambda r, X: np.exp(0.3 * signal(X)) * r.gamma(2.0, 0.5, size=len(X))),
    "reg_tweedie": log_link("reg:tweedie", lambda r, X: np.where(r.random(len(X)) < 0.3, 0.0,
                                                                 np.exp(0.3 * signal(X))), tweedie_variance_power=1.4),
    "rank_pairwise": case_rank("rank:pairwise"),
    "rank_ndcg": case_rank("rank:ndcg"),
    "multi_target": case_multi_target,
    "dart_binary": case_dart_binary,
    "dart_regression": case_dart_regression,
    "categorical_partition": categorical(False),
    "categorical_onehot": categorical(True),
    "best_iteration": case_best_iteration,
    "all_iterations": case_all_iterations,
    "base_score_plain": case_base_score_plain,
    "base_score_vector_binary": case_base_score_vector_binary,
    "base_score_vector_multiclass": case_base_score_vector_multiclass,
}


def model_splits(doc):
    """(feature, threshold) of every numerical split in the model."""
    out = []
    for t in doc["learner"]["gradient_booster"].get("gbtree", doc["learner"]["gradient_booster"])["model"]["trees"]:
        st = t.get("split_type", [0] * len(t["left_children"]))
        for i, left in enumerate(t["left_children"]):
            if left != -1 and st[i] == 0:
                out.append((t["split_indices"][i], t["split_conditions"][i]))
    return out


def softmax(m):
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_labels(label, got_labels, want_labels, scores):
    """Labels must agree wherever the top two scores are more than 1e-6 apart (§8)."""
    s = np.sort(scores, axis=1)
    clear = (s[:, -1] - s[:, -2]) > 1e-6
    mismatch = (np.asarray(got_labels).ravel() != np.asarray(want_labels).ravel()) & clear
    if mismatch.any():
        i = int(np.argwhere(mismatch)[0][0])
        raise ParityError(f"{label}: {int(mismatch.sum())} labels differ; row {i}: got {got_labels[i]}, "
                          f"want {want_labels[i]}")


def run_case(name, edgeship, workdir):
    case = CASES[name]()
    b = case.booster
    json_path = os.path.join(workdir, "model.json")
    ubj_path = os.path.join(workdir, "model.ubj")
    b.save_model(json_path)
    b.save_model(ubj_path)
    with open(json_path) as f:
        doc = json.load(f)

    rng = np.random.default_rng(99)
    X = case.X_base
    n_features = X.shape[1]
    rows = [X[rng.integers(0, len(X), size=200)], np.full((1, n_features), np.nan, dtype=np.float32),
            np.zeros((1, n_features), dtype=np.float32)]
    rows.append(threshold_rows(X[:50], model_splits(doc)))
    X_eval = np.concatenate(rows).astype(np.float32)

    dm = xgb.DMatrix(X_eval, missing=np.nan, feature_types=case.feature_types,
                     enable_categorical=case.feature_types is not None)
    kw = {"iteration_range": case.iteration_range} if case.iteration_range else {}
    margin = b.predict(dm, output_margin=True, **kw)
    pred = b.predict(dm, **kw)
    n = len(X_eval)
    margin = margin.reshape(n, -1).astype(np.float64)
    if case.expected_margin_fn is not None:
        margin = case.expected_margin_fn(margin.astype(np.float32)).astype(np.float64)
        if case.kind == "softprob":
            pred = softmax(margin)

    files = [("json", json_path)]
    if case.edit is not None:
        doc = case.edit(doc)
        with open(json_path, "w") as f:
            json.dump(doc, f)
        if case.ubj:
            # Re-save through XGBoost so the UBJ file carries the same edit (it loads the edited JSON).
            xgb.Booster(model_file=json_path).save_model(ubj_path)
    if case.ubj:
        files.append(("ubj", ubj_path))

    for fmt, path in files:
        out_margin = os.path.join(workdir, f"{fmt}_margin.onnx")
        out_pred = os.path.join(workdir, f"{fmt}_pred.onnx")
        rep = run_convert(edgeship, path, out_margin, "--margin", *case.convert_args)
        if case.iteration_range:
            want_trees = case.iteration_range[1] * margin.shape[1]
            if rep["trees"] != want_trees:
                raise ParityError(f"{fmt}: kept {rep['trees']} trees, expected {want_trees}")
        run_convert(edgeship, path, out_pred, *case.convert_args)

        got = run_ort(out_margin, X_eval, workdir)["margin"]
        ma, mr = compare(f"{name} {fmt} margin", got, margin)
        report(name, fmt, "margin", ma, mr, n)

        o = run_ort(out_pred, X_eval, workdir)
        if case.kind == "scores":
            ma, mr = compare(f"{name} {fmt} prediction", o["prediction"], pred.reshape(n, -1))
        elif case.kind == "binary":
            probs = o["probabilities"]
            ma, mr = compare(f"{name} {fmt} probabilities", probs, np.stack([1.0 - pred, pred], axis=1))
            check_labels(f"{name} {fmt}", o["label"], (pred > 0.5).astype(np.int64), np.stack([1 - pred, pred], axis=1))
        elif case.kind == "softprob":
            ma, mr = compare(f"{name} {fmt} probabilities", o["probabilities"], pred.reshape(n, -1))
            check_labels(f"{name} {fmt}", o["label"], np.argmax(pred.reshape(n, -1), axis=1), margin)
        elif case.kind == "softmax":
            # multi:softmax predicts the class index; the ONNX model also gives probabilities.
            ma, mr = compare(f"{name} {fmt} probabilities", o["probabilities"], softmax(margin))
            check_labels(f"{name} {fmt}", o["label"], pred.astype(np.int64), margin)
        elif case.kind == "hinge":
            clear = np.abs(margin[:, 0]) > 1e-6
            got_l = o["label"].ravel()
            bad = (got_l != pred.astype(np.int64)) & clear
            if bad.any():
                raise ParityError(f"{name} {fmt}: {int(bad.sum())} hinge labels differ")
            ma, mr = 0.0, 0.0
        report(name, fmt, "prediction", ma, mr, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgeship")
    ap.add_argument("--case")
    ap.add_argument("--workdir")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check-registered", help="comma-separated cases CMake registers; fails unless they are exactly the cases here")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CASES))
        return 0
    if a.check_registered is not None:
        registered = set(filter(None, a.check_registered.split(",")))
        missing, unknown = sorted(set(CASES) - registered), sorted(registered - set(CASES))
        if missing or unknown:
            print(f"tests/e2e/convert.cmake is out of date: unregistered {missing}, unknown {unknown}", file=sys.stderr)
            return 1
        print(f"all {len(CASES)} cases registered")
        return 0
    if a.case not in CASES:
        print(f"unknown case {a.case!r}; --list shows them", file=sys.stderr)
        return 2
    workdir = a.workdir or tempfile.mkdtemp(prefix=f"xgb-parity-{a.case}-")
    os.makedirs(workdir, exist_ok=True)
    try:
        run_case(a.case, a.edgeship, workdir)
    except ParityError as e:
        print(f"FAIL {a.case}: {e}", file=sys.stderr)
        print(f"(files kept in {workdir})", file=sys.stderr)
        return 1
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"OK {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
