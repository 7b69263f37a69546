#!/usr/bin/env python3
"""Bad input for the framework converters (issue 4): each case must fail with exactly one
`edgeship: error:` line matching its pattern (plus at most one `hint:` line), the documented exit
code, and no output file.

  framework_bad_inputs.py TOOL CASE [CASE…]       (run with /usr/bin/python3)"""
import os
import pickle
import re
import stat
import subprocess
import sys
import tempfile

import numpy as np

PY = "/usr/bin/python3"


def sk_model():
    from sklearn.linear_model import LogisticRegression
    X = np.random.RandomState(0).randn(50, 3)
    return LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))


def write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def case_unsupported_estimator(tmp):
    from sklearn.neighbors import KNeighborsClassifier
    X = np.random.RandomState(0).randn(20, 2)
    p = os.path.join(tmp, "knn.pkl")
    write_pickle(p, KNeighborsClassifier(n_neighbors=3).fit(X, (X[:, 0] > 0).astype(int)))
    return ["convert", p, "--trust-pickle"], 1, r"KNeighborsClassifier.*cannot convert", r"supported: .*LogisticRegression"


def case_unsupported_in_pipeline(tmp):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.linear_model import Ridge
    X = np.random.RandomState(0).randn(20, 3)
    p = os.path.join(tmp, "pca.pkl")
    write_pickle(p, make_pipeline(PCA(2), Ridge()).fit(X, X[:, 0]))
    return ["convert", p, "--trust-pickle"], 1, r"step 'pca'.*PCA.*cannot convert", r"supported:"


def case_unknown_class(tmp):
    mod_dir = os.path.join(tmp, "gone")
    os.makedirs(mod_dir)
    with open(os.path.join(mod_dir, "vanishing_module.py"), "w") as f:
        f.write("class Model:\n    pass\n")
    sys.path.insert(0, mod_dir)
    import vanishing_module
    p = os.path.join(tmp, "unknown.pkl")
    write_pickle(p, vanishing_module.Model())
    return ["convert", p, "--trust-pickle"], 1, r"cannot be imported.*vanishing_module", None


def case_not_an_estimator(tmp):
    p = os.path.join(tmp, "dict.pkl")
    write_pickle(p, {"weights": [1, 2, 3]})
    return ["convert", p, "--trust-pickle"], 1, r"builtins\.dict, which edgeship cannot convert", r"supported:"


def case_corrupt_pickle(tmp):
    p = os.path.join(tmp, "corrupt.pkl")
    data = pickle.dumps(sk_model(), protocol=4)
    with open(p, "wb") as f:
        f.write(data[: len(data) // 2])  # truncated
    return ["convert", p], 1, r"corrupt or not a pickle", None


def case_untrusted_pickle(tmp):
    p = os.path.join(tmp, "model.pkl")
    write_pickle(p, sk_model())
    return ["convert", p], 1, r"refusing to load .*model\.pkl: it is a Python pickle.*LogisticRegression", \
        r"--trust-pickle"


def case_untrusted_torch_pickle(tmp):
    import torch
    p = os.path.join(tmp, "whole.pt")
    torch.save(torch.nn.Sequential(torch.nn.Linear(4, 2)), p)
    return ["convert", p, "--input-shape", "1,4"], 1, r"refusing to load .*whole\.pt: it is a Python pickle", \
        r"--trust-pickle"


def case_state_dict(tmp):
    import torch
    p = os.path.join(tmp, "weights.pth")
    torch.save(torch.nn.Linear(4, 2).state_dict(), p)
    return ["convert", p, "--input-shape", "1,4"], 1, r"state_dict.*not a module", r"load_state_dict"


def case_state_dict_trusted(tmp):
    import torch
    p = os.path.join(tmp, "weights.pth")
    torch.save({"layer": torch.nn.Linear(4, 2).state_dict(), "epoch": 3}, p)  # a checkpoint dict
    return ["convert", p, "--input-shape", "1,4", "--trust-pickle"], 1, r"(state_dict|a dict, not a torch\.nn\.Module)", None


def case_wrong_shape(tmp):
    import torch
    p = os.path.join(tmp, "net.pt")
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2))), p)
    return ["convert", p, "--input-shape", "1,5"], 1, \
        r"input shape 1x5 does not fit the model: .*mat1 and mat2 shapes cannot be multiplied", None


def case_missing_input_shape(tmp):
    import torch
    p = os.path.join(tmp, "net.pt")
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2))), p)
    return ["convert", p], 2, r"--input-shape is required", r"--input-shape 1,3,224,224"


def case_bad_input_shape(tmp):
    return ["convert", os.path.join(tmp, "x.pt"), "--input-shape", "1,a"], 2, r"--input-shape 1,a: expected positive", None


def case_torch_opset_18(tmp):
    import torch
    p = os.path.join(tmp, "net.pt")
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2))), p)
    return ["convert", p, "--input-shape", "1,4", "--opset", "18"], 2, r"--opset 18: .*7 to 17", None


def case_missing_python(tmp):
    p = os.path.join(tmp, "model.pkl")
    write_pickle(p, sk_model())
    return ["convert", p, "--trust-pickle", "--python", os.path.join(tmp, "no-such-python")], 1, \
        r"Python interpreter .*no-such-python not found", r"install Python 3"


def no_site_python(tmp):
    # An interpreter without Debian's dist-packages: python -S skips site, so numpy/sklearn/torch vanish.
    w = os.path.join(tmp, "bare-python")
    with open(w, "w") as f:
        f.write("#!/bin/sh\nexec %s -S \"$@\"\n" % PY)
    os.chmod(w, os.stat(w).st_mode | stat.S_IEXEC)
    return w


def case_missing_sklearn(tmp):
    p = os.path.join(tmp, "model.pkl")
    write_pickle(p, sk_model())
    return ["convert", p, "--trust-pickle", "--python", no_site_python(tmp)], 1, \
        r"scikit-learn is not installed for", r"apt-get install python3-sklearn"


def case_missing_torch(tmp):
    import torch
    p = os.path.join(tmp, "net.pt")
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2))), p)
    return ["convert", p, "--input-shape", "1,4", "--python", no_site_python(tmp)], 1, \
        r"PyTorch is not installed for", r"apt-get install python3-torch"


def case_not_a_model(tmp):
    p = os.path.join(tmp, "notes.pkl")
    with open(p, "w") as f:
        f.write("hello, not a pickle\n")
    return ["convert", p, "--from", "sklearn"], 1, r"corrupt or not a pickle", None


def case_unknown_format(tmp):
    p = os.path.join(tmp, "notes.bin")
    with open(p, "w") as f:
        f.write("hello\n")
    return ["convert", p], 1, r"not a scikit-learn pickle/joblib file or a PyTorch file", r"--from sklearn\|torch"


def case_unfitted(tmp):
    from sklearn.linear_model import Ridge
    p = os.path.join(tmp, "unfitted.pkl")
    write_pickle(p, Ridge())
    return ["convert", p, "--trust-pickle"], 1, r"Ridge is not fitted", r"fit the estimator"


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def run(tool, name):
    with tempfile.TemporaryDirectory(prefix="edgeship-bad-") as tmp:
        args, code, pattern, hint = CASES[name](tmp)
        out = os.path.join(tmp, "out.onnx")
        cmd = [tool] + args[:2] + ["-o", out] + args[2:]
        if "--python" not in args:
            cmd += ["--python", PY]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        problems = []
        if r.returncode != code:
            problems.append("exit %d, expected %d" % (r.returncode, code))
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        errors = [l for l in lines if l.startswith("edgeship: error:")]
        hints = [l for l in lines if l.startswith("hint:")]
        if len(errors) != 1 or len(lines) != len(errors) + len(hints) or len(hints) > 1:
            problems.append("stderr is not one error line (+ one hint)")
        elif not re.search(pattern, errors[0]):
            problems.append("error does not match /%s/" % pattern)
        if hint and not (hints and re.search(hint, hints[0])):
            problems.append("hint does not match /%s/" % hint)
        if os.path.exists(out):
            problems.append("an output file was written")
        leftovers = [f for f in os.listdir(tmp) if f.startswith("out.onnx")]
        if leftovers:
            problems.append("temporary files left: %s" % leftovers)
        status = "ok  " if not problems else "FAIL"
        print("%-28s %s  exit %d: %s" % (name, status, r.returncode, (errors[0] if errors else r.stderr.strip())[:300]))
        for p in problems:
            print("    " + p)
        if problems:
            print(r.stderr)
        return not problems



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
    return 0 if all([run(tool, n) for n in names]) else 1


if __name__ == "__main__":
    sys.exit(main())
