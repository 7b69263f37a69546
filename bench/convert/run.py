#!/usr/bin/python3
"""Benchmark: `edgeship convert` on a 1,000-tree, depth-8 XGBoost JSON model, side by side with XGBoost's
own time to load the same file, in the same run (issue 3). Targets: conversion time <= 1.0x XGBoost's
load time; edgeship's peak RSS <= 3x the model file's size.

    /usr/bin/python3 bench/convert/run.py --edgeship build/cli/edgeship [--runs 7] [--trees 1000 --depth 8]

The model is trained once with Debian's python3-xgboost and cached in --workdir. Runs alternate between
edgeship and XGBoost so machine load hits both alike; medians are reported. Edgeship's time is the whole
process (start-up, read, parse, convert, validate, check, write); XGBoost's is Booster(model_file=…)
timed inside an already started Python. Peak RSS comes from wait4() on each edgeship process.
Nothing here asserts timing: it prints the figures and their ratios.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

XGB_LOAD = r"""
import sys, time, json, xgboost
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    b = xgboost.Booster(model_file=sys.argv[1])
    times.append(time.perf_counter() - t)
    del b
print(json.dumps(times))
"""

TRAIN = r"""
import sys, numpy as np, xgboost as xgb
trees, depth, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, 20)).astype(np.float32)
X[rng.random(size=X.shape) < 0.05] = np.nan
Z = np.nan_to_num(X)
y = Z[:, 0] * 2 + np.sin(Z[:, 1]) + Z[:, 2] * Z[:, 3] + rng.normal(size=len(X)) * 0.1
b = xgb.train({"max_depth": depth, "eta": 0.05, "tree_method": "hist", "nthread": 2, "seed": 0},
              xgb.DMatrix(X, y), trees)
b.save_model(out)
b.save_model(out[:-5] + ".ubj")
"""


def edgeship_run(edgeship, model, out):
    t = time.perf_counter()
    p = subprocess.Popen([edgeship, "convert", model, "-o", out, "-q"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode()
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f"edgeship convert failed ({p.returncode}): {err.strip()}")
    return elapsed, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def xgb_load(model, runs):
    p = subprocess.run(["/usr/bin/python3", "-c", XGB_LOAD, model, str(runs)], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        sys.exit(f"xgboost load failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgeship", required=True)
    ap.add_argument("--trees", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--workdir", default="/tmp/edgeship-bench-convert")
    ap.add_argument("--smoke", action="store_true", help="tiny run for ctest: checks the bench works, no figures")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    model = os.path.join(a.workdir, f"xgb_{a.trees}x{a.depth}.json")
    if not os.path.exists(model):
        print(f"training a {a.trees}-tree depth-{a.depth} model (cached in {a.workdir}) ...", file=sys.stderr)
        subprocess.run(["/usr/bin/python3", "-c", TRAIN, str(a.trees), str(a.depth), model], check=True)
    out = os.path.join(a.workdir, "out.onnx")

    results = {}
    for fmt, path in (("json", model), ("ubj", model[:-5] + ".ubj")):
        size = os.path.getsize(path)
        e_times, rss, x_times = [], [], []
        edgeship_run(a.edgeship, path, out)  # warm the page cache for both
        for _ in range(a.runs):
            t, r = edgeship_run(a.edgeship, path, out)
            e_times.append(t)
            rss.append(r)
            x_times.extend(xgb_load(path, 1))
        results[fmt] = dict(size=size, edgeship=statistics.median(e_times), xgboost=statistics.median(x_times),
                            rss=max(rss), onnx=os.path.getsize(out))

    print(f"edgeship convert benchmark: {a.trees} trees, depth {a.depth}, {a.runs} alternating runs, medians")
    print(f"{'input':6} {'file MB':>8} {'edgeship s':>11} {'xgboost load s':>15} {'time ratio':>11} "
          f"{'peak RSS MB':>12} {'RSS/file':>9} {'onnx MB':>8}")
    for fmt, r in results.items():
        print(f"{fmt:6} {r['size'] / 1e6:8.2f} {r['edgeship']:11.3f} {r['xgboost']:15.3f} "
              f"{r['edgeship'] / r['xgboost']:10.2f}x {r['rss'] / 1e6:12.1f} {r['rss'] / r['size']:8.2f}x "
              f"{r['onnx'] / 1e6:8.2f}")
    j = results["json"]
    print(f"target (JSON): time ratio {j['edgeship'] / j['xgboost']:.2f}x (<= 1.0x), "
          f"peak memory {j['rss'] / j['size']:.2f}x file size (<= 3x)")
    if a.smoke:
        print("(smoke run: figures are not meaningful at this size)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
