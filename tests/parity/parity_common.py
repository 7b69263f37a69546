"""Shared pieces of the conversion parity tests: run `edgeship convert`, run the result in ONNX Runtime
(tests/tools/ort_run.js, onnxruntime-node), compare with tolerances (docs/design/onnx.md §8, §17).

Only the Python standard library and numpy: these helpers run under /usr/bin/python3 (Debian's packages).
"""
import json
import math
import os
import subprocess
import sys

import numpy as np

SOURCE_DIR = os.environ.get("EDGESHIP_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
ORT_RUN = os.path.join(SOURCE_DIR, "tests", "tools", "ort_run.js")

# docs/design/onnx.md §8: |a - b| <= ATOL + RTOL * |b| for regressions and probabilities at these sizes.
ATOL = 1e-5
RTOL = 1e-5


class ParityError(Exception):
    pass


def run_convert(edgeship, model, out, *extra):
    """Runs `edgeship convert MODEL -o OUT --json …` and returns the parsed report."""
    cmd = [edgeship, "convert", model, "-o", out, "--json", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise ParityError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def run_ort(model, X, workdir, name="features"):
    """Runs the model in onnxruntime-node on float32 rows X (NaN allowed) and returns {output: ndarray}."""
    X = np.asarray(X, dtype=np.float32)
    req = {name: {"type": "float32", "dims": list(X.shape),
                  "data": [None if math.isnan(v) else float(v) for v in X.ravel().tolist()]}}
    req_path = os.path.join(workdir, "request.json")
    with open(req_path, "w") as f:
        json.dump(req, f)
    p = subprocess.run(["node", ORT_RUN, model, req_path], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise ParityError(f"ort_run {model}: {p.stderr.strip()}")
    out = json.loads(p.stdout)["outputs"]
    res = {}
    for k, t in out.items():
        if t["type"] == "int64":
            res[k] = np.array([int(v) for v in t["data"]], dtype=np.int64).reshape(t["dims"])
        elif t["type"] == "string":
            res[k] = np.array(t["data"], dtype=object).reshape(t["dims"])
        else:
            res[k] = np.array([np.nan if v is None else v for v in t["data"]], dtype=np.float64).reshape(t["dims"])
    return res


def compare(label, got, want, atol=ATOL, rtol=RTOL):
    """Asserts |got - want| <= atol + rtol*|want| everywhere; returns (max abs error, max relative error)."""
    got = np.asarray(got, dtype=np.float64).reshape(np.asarray(want).shape)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ParityError(f"{label}: shape {got.shape} != {want.shape}")
    nan_mismatch = np.isnan(got) != np.isnan(want)
    if nan_mismatch.any():
        raise ParityError(f"{label}: NaN in one output only at {np.argwhere(nan_mismatch)[:5].tolist()}")
    diff = np.abs(np.nan_to_num(got) - np.nan_to_num(want))
    bound = atol + rtol * np.abs(np.nan_to_num(want))
    bad = diff > bound
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float((diff / np.maximum(np.abs(want), 1e-12)).max()) if diff.size else 0.0
    if bad.any():
        i = np.argwhere(bad)[0].tolist()
        raise ParityError(f"{label}: {int(bad.sum())} of {bad.size} values differ beyond {atol} + {rtol}*|want|; "
                          f"first at {i}: got {got[tuple(i)]!r}, want {want[tuple(i)]!r} (max abs {max_abs:.3g})")
    return max_abs, max_rel


def threshold_rows(base_rows, splits, limit=300):
    """Rows placed exactly on split thresholds and on the floats just above and below them
    (docs/design/onnx.md §17.1): for each (feature, threshold) one copy of a base row per value."""
    rows = []
    seen = set()
    for k, (f, thr) in enumerate(splits):
        if (f, thr) in seen:
            continue
        seen.add((f, thr))
        t = np.float32(thr)
        for v in (t, np.nextafter(t, np.float32(np.inf)), np.nextafter(t, np.float32(-np.inf))):
            r = np.array(base_rows[k % len(base_rows)], dtype=np.float32)
            r[f] = v
            rows.append(r)
        if len(rows) >= 3 * limit:
            break
    return np.array(rows, dtype=np.float32).reshape(-1, np.asarray(base_rows).shape[1])


def report(case, fmt, output, max_abs, max_rel, rows):
    print(f"PARITY case={case} format={fmt} output={output} rows={rows} max_abs={max_abs:.3g} max_rel={max_rel:.3g}")
    sys.stdout.flush()
