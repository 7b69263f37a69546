// The framework bridge's Python helper, embedded so edgeship ships as one binary (issue 4: "not a
// loose file"). run_bridge() writes it to a private temporary directory for each run.
// Protocol: python -B edgeship_bridge.py MODE REQUEST.json RESULT.json; see docs/frameworks.md.

#include "model/framework_bridge.hpp"

namespace edgeship::model {

namespace {

constexpr std::string_view k_script = R"edgeship_py(
# edgeship framework bridge (embedded in the edgeship binary; docs/frameworks.md).
# Runs in the user's Python. It never builds ONNX for scikit-learn: it reads a fitted estimator's
# parameters into a neutral JSON description and edgeship's C++ core builds the graph. For PyTorch
# it calls torch.onnx.export. Usage: python bridge.py MODE REQUEST.json RESULT.json
# MODE: probe (no framework import, nothing unpickled), sklearn, torch.
import json
import math
import os
import sys
import traceback
import warnings

SCHEMA = "edgeship-sklearn-1"


class BridgeError(Exception):
    def __init__(self, kind, message, hint=""):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.hint = hint


def last_line(text):
    lines = [l.strip() for l in str(text).splitlines() if l.strip()]
    return lines[-1] if lines else ""


def qualname(obj):
    t = type(obj)
    return "%s.%s" % (t.__module__, t.__name__)


# ---------------------------------------------------------------- probe (safe: nothing is executed)

COMPRESSED = [
    (b"\x1f\x8b", "gzip"), (b"\x78\x01", "zlib"), (b"\x78\x5e", "zlib"), (b"\x78\x9c", "zlib"),
    (b"\x78\xda", "zlib"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
]
PICKLE_SCAN_LIMIT = 256 << 20


def decompressed_head(path, method):
    """The first PICKLE_SCAN_LIMIT bytes of a compressed joblib file, and whether there is more."""
    import bz2, gzip, lzma, zlib
    if method == "zlib":
        d = zlib.decompressobj()
        out = b""
        with open(path, "rb") as f:
            while len(out) < PICKLE_SCAN_LIMIT and not d.eof:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                out += d.decompress(chunk, PICKLE_SCAN_LIMIT - len(out))
        return out, not d.eof
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open, "lzma": lzma.open}[method]
    with opener(path, "rb") as g:
        out = g.read(PICKLE_SCAN_LIMIT)
        return out, g.read(1) != b""


def scan_pickle(data):
    """Opcodes only (pickletools never runs anything): the globals the pickle would import."""
    import pickletools
    globals_ = []
    pushed = []  # what each opcode pushed, strings only (None otherwise), to name STACK_GLOBAL's operands
    memo = {}
    error = None
    complete = False
    try:
        for op, arg, pos in pickletools.genops(data):
            name = op.name
            if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8", "SHORT_BINSTRING",
                        "BINSTRING", "STRING"):
                pushed.append(arg if isinstance(arg, str) else None)
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                pushed.append(memo.get(arg))
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = pushed[-1] if pushed else None
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ("GLOBAL", "INST"):
                globals_.append(str(arg).replace(" ", "."))
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                if len(pushed) >= 2 and pushed[-2] and pushed[-1]:
                    globals_.append(pushed[-2] + "." + pushed[-1])
                pushed.append(None)
            elif name == "STOP":
                complete = True
                break
            elif op.stack_after:
                pushed.append(None)
    except Exception as e:  # truncated or not a pickle
        error = "%s" % (e,)
    seen = []
    for g in globals_:
        if g not in seen:
            seen.append(g)
    return seen, complete, error


def probe(req):
    import zipfile
    path = req["path"]
    with open(path, "rb") as f:
        head = f.read(16)
    out = {"container": "unknown", "globals": [], "complete": False, "error": None,
           "torchscript": False, "looks_like_state_dict": False}
    if zipfile.is_zipfile(path):
        out["container"] = "zip"
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            out["torchscript"] = any(n.endswith("/constants.pkl") or "/code/" in n for n in names)
            data_pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
            if not data_pkl:
                out["error"] = "a zip archive without data.pkl (not a torch.save or torch.jit.save file)"
                return out
            with z.open(data_pkl[0]) as f:
                data = f.read(PICKLE_SCAN_LIMIT)
        g, complete, err = scan_pickle(data)
        if err is not None and len(data) >= PICKLE_SCAN_LIMIT:
            err = None
        out.update(globals=g, complete=complete, error=err)
        first = g[0] if g else ""
        module_globals = [x for x in g if not x.startswith("torch.") and not x.startswith("collections.")]
        out["looks_like_state_dict"] = (not out["torchscript"]) and first in ("collections.OrderedDict", "") and \
            not module_globals and any(x.startswith("torch._utils._rebuild") for x in g)
        return out
    method = None
    for magic, m in COMPRESSED:
        if head.startswith(magic):
            method = m
            break
    if method == "lz4":
        out["container"] = "joblib-lz4"
        return out
    if method is not None:
        out["container"] = "joblib-" + method
        try:
            data, truncated = decompressed_head(path, method)
        except Exception as e:
            out["error"] = "cannot decompress (%s): %s" % (method, e)
            return out
    else:
        with open(path, "rb") as f:
            data = f.read(PICKLE_SCAN_LIMIT)
            truncated = f.read(1) != b""
        if not data or data[0] != 0x80 and data[:1] not in (b"(", b"c", b"}", b"]"):
            out["error"] = "not a pickle (first byte 0x%02x)" % (data[0] if data else 0)
            return out
        out["container"] = "pickle"
    g, complete, err = scan_pickle(data)
    if err is not None and truncated:
        err = None  # only the first PICKLE_SCAN_LIMIT bytes were scanned: not proof of corruption
    joblib_arrays = any(x.endswith("NumpyArrayWrapper") for x in g)
    if joblib_arrays and method is None:
        out["container"] = "joblib"
    # joblib writes raw array bytes between pickle opcodes: a scan that stops there is not corruption.
    if err is not None and joblib_arrays:
        err = None
    out.update(globals=g, complete=complete, error=err)
    return out


# ---------------------------------------------------------------- scikit-learn parameter extraction

def num(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def nums(a):
    import numpy as np
    return [num(x) for x in np.asarray(a, dtype=np.float64).ravel().tolist()]


def matrix(a):
    import numpy as np
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    return [nums(row) for row in a]


def labels(classes):
    out = []
    for c in list(classes):
        if isinstance(c, (bool,)) or type(c).__name__ == "bool_":
            out.append(int(bool(c)))
        elif isinstance(c, str):
            out.append(c)
        elif hasattr(c, "dtype") and c.dtype.kind in "iu" or isinstance(c, int):
            out.append(int(c))
        elif hasattr(c, "dtype") and c.dtype.kind == "f" or isinstance(c, float):
            f = float(c)
            if f != f or f != int(f):
                raise BridgeError("unsupported", "class label %r is not an integer or a string" % (c,))
            out.append(int(f))
        else:
            out.append(str(c))
    return out


def sk_tree(tree, scale=1.0):
    import numpy as np
    value = np.asarray(tree.value, dtype=np.float64)
    value = value.reshape(value.shape[0], -1) * scale
    d = {
        "left": tree.children_left.tolist(),
        "right": tree.children_right.tolist(),
        "feature": tree.feature.tolist(),
        "threshold": nums(tree.threshold),
        "value": [nums(row) for row in value],
    }
    # scikit-learn >= 1.3 learns where NaN goes; 1.2 rejects NaN (docs/design/onnx.md §6).
    mgl = getattr(tree, "missing_go_to_left", None)
    if mgl is not None:
        d["missing_go_to_left"] = [int(x) for x in np.asarray(mgl).tolist()]
    return d


def fitted(est, attr):
    if not hasattr(est, attr):
        raise BridgeError("unfitted", "%s is not fitted (it has no %s)" % (type(est).__name__, attr),
                          "fit the estimator before saving it")


def common(est, d):
    d["n_features_in"] = int(getattr(est, "n_features_in_", 0) or 0)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        d["feature_names"] = [str(x) for x in names]
    return d


def x_linear_regressor(est):
    fitted(est, "coef_")
    import numpy as np
    coef = np.asarray(est.coef_)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
    if intercept.size == 1 and coef.ndim == 2 and coef.shape[0] > 1:
        intercept = np.repeat(intercept, coef.shape[0])
    return {"coef": matrix(coef), "intercept": nums(intercept), "single_output": coef.ndim == 1}


def x_logistic(est):
    fitted(est, "coef_")
    return {"coef": matrix(est.coef_), "intercept": nums(est.intercept_), "classes": labels(est.classes_),
            "multi_class": str(getattr(est, "multi_class", "auto")), "solver": str(getattr(est, "solver", "lbfgs"))}


def x_linear_svc(est):
    fitted(est, "coef_")
    return {"coef": matrix(est.coef_), "intercept": nums(est.intercept_), "classes": labels(est.classes_)}


def x_decision_tree(est):
    fitted(est, "tree_")
    d = {"n_outputs": int(est.n_outputs_), "trees": [sk_tree(est.tree_)]}
    if hasattr(est, "classes_"):
        if est.n_outputs_ != 1:
            raise BridgeError("unsupported", "multi-output %s is not supported" % type(est).__name__)
        d["classes"] = labels(est.classes_)
    return d


def x_forest(est):
    fitted(est, "estimators_")
    d = {"n_outputs": int(est.n_outputs_), "trees": [sk_tree(t.tree_) for t in est.estimators_]}
    if hasattr(est, "classes_"):
        if est.n_outputs_ != 1:
            raise BridgeError("unsupported", "multi-output %s is not supported" % type(est).__name__)
        d["classes"] = labels(est.classes_)
    return d


def x_gradient_boosting(est):
    fitted(est, "estimators_")
    import numpy as np
    if isinstance(est.init_, str):  # init='zero'
        init_raw = [0.0] * est.estimators_.shape[1]
    else:
        if type(est.init_).__module__.split(".")[:2] != ["sklearn", "dummy"]:
            raise BridgeError("unsupported", "GradientBoosting with init=%s: only the default (a Dummy "
                              "estimator) or 'zero' is supported" % type(est.init_).__name__)
        init_raw = nums(est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0])
    stages = [[sk_tree(t.tree_) for t in stage] for stage in est.estimators_]
    d = {"stages": stages, "learning_rate": num(est.learning_rate), "init_raw": init_raw, "loss": str(est.loss)}
    if hasattr(est, "classes_"):
        d["classes"] = labels(est.classes_)
    return d


def x_hist_gradient_boosting(est):
    fitted(est, "_predictors")
    import numpy as np
    if getattr(est, "is_categorical_", None) is not None and np.any(est.is_categorical_):
        raise BridgeError("unsupported", "HistGradientBoosting with categorical features is not supported")
    pre = getattr(est, "_preprocessor", None)
    if pre is not None:
        raise BridgeError("unsupported", "HistGradientBoosting with a categorical preprocessor is not supported")
    predictors = []
    for it in est._predictors:
        row = []
        for p in it:
            n = p.nodes
            if np.any(n["is_categorical"]):
                raise BridgeError("unsupported", "HistGradientBoosting categorical splits are not supported")
            row.append({
                "left": [int(x) for x in n["left"].tolist()],
                "right": [int(x) for x in n["right"].tolist()],
                "feature": [int(x) for x in n["feature_idx"].tolist()],
                "threshold": nums(n["num_threshold"]),
                "value": [[num(x)] for x in n["value"].tolist()],
                "is_leaf": [int(x) for x in n["is_leaf"].tolist()],
                "missing_go_to_left": [int(x) for x in n["missing_go_to_left"].tolist()],
            })
        predictors.append(row)
    loss = getattr(est, "_loss", None)
    link = type(getattr(loss, "link", None)).__name__ if loss is not None else "IdentityLink"
    d = {"predictors": predictors, "baseline": nums(est._baseline_prediction), "link": link,
         "loss": type(loss).__name__ if loss is not None else str(getattr(est, "loss", ""))}
    if hasattr(est, "classes_"):
        d["classes"] = labels(est.classes_)
    return d


def x_standard_scaler(est):
    fitted(est, "n_features_in_")
    return {"mean": None if est.mean_ is None or not est.with_mean else nums(est.mean_),
            "scale": None if est.scale_ is None or not est.with_std else nums(est.scale_)}


def x_min_max_scaler(est):
    fitted(est, "scale_")
    return {"scale": nums(est.scale_), "min": nums(est.min_), "clip": bool(getattr(est, "clip", False)),
            "feature_range": nums(est.feature_range)}


def x_simple_imputer(est):
    fitted(est, "statistics_")
    mv = est.missing_values
    if mv is None or (isinstance(mv, str)):
        raise BridgeError("unsupported", "SimpleImputer(missing_values=%r): only NaN or a number is supported" % (mv,))
    try:
        mv = num(mv)
    except (TypeError, ValueError):
        raise BridgeError("unsupported", "SimpleImputer(missing_values=%r): only NaN or a number is supported" % (mv,))
    import numpy as np
    stats = np.asarray(est.statistics_)
    if stats.dtype.kind not in "fiub":
        raise BridgeError("unsupported", "SimpleImputer with non-numeric statistics is not supported")
    return {"missing_values": mv, "statistics": nums(stats), "add_indicator": bool(est.add_indicator),
            "keep_empty_features": bool(getattr(est, "keep_empty_features", False)), "strategy": str(est.strategy)}


EXTRACTORS = {
    "LinearRegression": x_linear_regressor, "Ridge": x_linear_regressor, "Lasso": x_linear_regressor,
    "ElasticNet": x_linear_regressor, "LinearSVR": x_linear_regressor,
    "LogisticRegression": x_logistic, "LinearSVC": x_linear_svc,
    "DecisionTreeClassifier": x_decision_tree, "DecisionTreeRegressor": x_decision_tree,
    "RandomForestClassifier": x_forest, "RandomForestRegressor": x_forest,
    "ExtraTreesClassifier": x_forest, "ExtraTreesRegressor": x_forest,
    "GradientBoostingClassifier": x_gradient_boosting, "GradientBoostingRegressor": x_gradient_boosting,
    "HistGradientBoostingClassifier": x_hist_gradient_boosting,
    "HistGradientBoostingRegressor": x_hist_gradient_boosting,
    "StandardScaler": x_standard_scaler, "MinMaxScaler": x_min_max_scaler, "SimpleImputer": x_simple_imputer,
}
SUPPORTED = sorted(EXTRACTORS) + ["Pipeline"]


def describe(est, where="the model"):
    t = type(est)
    name = t.__name__
    module = t.__module__
    if name == "Pipeline" and module.startswith("sklearn."):
        steps = []
        for step_name, step in est.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            steps.append({"name": str(step_name), "estimator": describe(step, "step '%s'" % step_name)})
        if not steps:
            raise BridgeError("unsupported", "the Pipeline has no steps")
        return {"class": "Pipeline", "steps": steps}
    if not module.startswith("sklearn.") or name not in EXTRACTORS:
        raise BridgeError("unsupported", "%s is %s.%s, which edgeship cannot convert" % (where, module, name),
                          "supported: " + ", ".join(SUPPORTED))
    d = {"class": name}
    d.update(EXTRACTORS[name](est))
    return common(est, d)


def load_pickle(path):
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        import pickle
        with open(path, "rb") as f:
            return pickle.load(f)


def missing_module(e, framework, package, debian):
    return BridgeError("missing_framework", "%s is not installed for %s (%s)" % (framework, sys.executable, last_line(e)),
                       "install it into that interpreter (pip install %s; on Debian: apt-get install %s), "
                       "or point --python or EDGESHIP_PYTHON at one that has it" % (package, debian))


def unpickle_error(e):
    if isinstance(e, (ModuleNotFoundError,)) and getattr(e, "name", "") and e.name.split(".")[0] == "sklearn":
        return missing_module(e, "scikit-learn", "scikit-learn", "python3-sklearn")
    if isinstance(e, (ModuleNotFoundError, AttributeError)):
        return BridgeError("unknown_class", "the pickle refers to a class that cannot be imported: %s" % last_line(e),
                           "make the module that defines it importable (PYTHONPATH), or save a supported "
                           "scikit-learn estimator")
    import pickle
    if isinstance(e, (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, TypeError)):
        return BridgeError("corrupt", "not a readable pickle: %s: %s" % (type(e).__name__, last_line(e)))
    return None


def sklearn_mode(req):
    try:
        import numpy  # noqa: F401
        import sklearn
    except ImportError as e:
        raise missing_module(e, "scikit-learn", "scikit-learn", "python3-sklearn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est = load_pickle(req["path"])
        except BridgeError:
            raise
        except Exception as e:
            mapped = unpickle_error(e)
            if mapped is None:
                raise BridgeError("load", "loading the pickle failed: %s: %s" % (type(e).__name__, last_line(e)))
            raise mapped
        desc = describe(est)
    return {"schema": SCHEMA, "sklearn_version": sklearn.__version__, "python_version": sys.version.split()[0],
            "estimator": desc, "warnings": sorted(set(last_line(w.message) for w in caught))}


# ---------------------------------------------------------------- PyTorch export

def torch_mode(req):
    try:
        import torch
    except ImportError as e:
        raise missing_module(e, "PyTorch", "torch", "python3-torch")
    path = req["path"]
    model_dir = os.path.dirname(os.path.abspath(path))
    if model_dir not in sys.path:
        sys.path.append(model_dir)  # classes defined beside the model file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if req["torchscript"]:
            try:
                model = torch.jit.load(path, map_location="cpu")
            except Exception as e:
                raise BridgeError("load", "torch.jit.load failed: %s" % last_line(e))
        else:
            try:
                model = torch.load(path, map_location="cpu")
            except Exception as e:
                mapped = unpickle_error(e)
                if isinstance(e, (ModuleNotFoundError, AttributeError)):
                    raise BridgeError("unknown_class", "torch.load cannot import the model's class: %s" % last_line(e),
                                      "put the module that defines the class on PYTHONPATH or beside the model "
                                      "file, or save TorchScript: torch.jit.save(torch.jit.script(model), PATH)")
                if mapped is not None and mapped.kind == "corrupt":
                    raise BridgeError("corrupt", "torch.load failed: %s" % last_line(e))
                raise BridgeError("load", "torch.load failed: %s" % last_line(e))
            if isinstance(model, dict):
                tensors = sum(1 for v in model.values() if isinstance(v, torch.Tensor))
                if tensors:
                    raise BridgeError("state_dict", "the file is a state_dict (%d tensors), not a module" % tensors,
                                      "load it into the model class and save the whole module: "
                                      "model.load_state_dict(torch.load(PATH)); torch.save(model, OUT) "
                                      "(or torch.jit.save(torch.jit.script(model), OUT))")
                raise BridgeError("unsupported", "the file holds a dict, not a torch.nn.Module")
            if not isinstance(model, torch.nn.Module):
                raise BridgeError("unsupported", "the file holds %s, not a torch.nn.Module" % qualname(model))
        model.eval()
        shape = [int(x) for x in req["input_shape"]]
        torch.manual_seed(0)
        x = torch.randn(*shape)
        try:
            with torch.no_grad():
                y = model(x)
        except Exception as e:
            raise BridgeError("shape", "input shape %s does not fit the model: %s" % (
                "x".join(str(s) for s in shape), last_line(e)))
        outs = list(y) if isinstance(y, (tuple, list)) else [y]
        if not all(isinstance(o, torch.Tensor) for o in outs):
            raise BridgeError("unsupported", "the model returns %s; only tensors (or a tuple of tensors) can be exported"
                              % ", ".join(type(o).__name__ for o in outs))
        out_names = list(req.get("output_names") or [])
        if not out_names:
            out_names = ["output"] if len(outs) == 1 else ["output%d" % i for i in range(len(outs))]
        if len(out_names) != len(outs):
            raise BridgeError("usage", "%d output names given, the model returns %d tensors" % (len(out_names), len(outs)))
        dynamic = None
        if req.get("dynamic_batch"):
            dynamic = {req["input_name"]: {0: "batch"}}
            for n in out_names:
                dynamic[n] = {0: "batch"}
        try:
            torch.onnx.export(model, (x,), req["output"], input_names=[req["input_name"]], output_names=out_names,
                              dynamic_axes=dynamic, opset_version=int(req["opset"]), do_constant_folding=True)
        except Exception as e:
            raise BridgeError("export", "torch.onnx.export failed: %s" % last_line(e))
    return {"torch_version": torch.__version__, "python_version": sys.version.split()[0], "outputs": out_names,
            "output_shapes": [list(o.shape) for o in outs],
            "warnings": sorted(set(last_line(w.message) for w in caught))[:20]}


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: bridge.py MODE REQUEST.json RESULT.json\n")
        return 2
    mode, req_path, res_path = sys.argv[1:]
    with open(req_path) as f:
        req = json.load(f)
    try:
        if mode == "probe":
            result = probe(req)
        elif mode == "sklearn":
            result = sklearn_mode(req)
        elif mode == "torch":
            result = torch_mode(req)
        else:
            raise BridgeError("usage", "unknown mode %s" % mode)
        result = {"ok": True, "result": result}
    except BridgeError as e:
        result = {"ok": False, "kind": e.kind, "message": e.message, "hint": e.hint}
    except MemoryError:
        result = {"ok": False, "kind": "internal", "message": "out of memory", "hint": ""}
    except Exception as e:
        traceback.print_exc()
        result = {"ok": False, "kind": "internal", "message": "%s: %s" % (type(e).__name__, last_line(e)), "hint": ""}
    tmp = res_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, allow_nan=False)
    os.replace(tmp, res_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
)edgeship_py";

} // namespace

std::string_view bridge_script() { return k_script.substr(1); }

} // namespace edgeship::model
