#!/usr/bin/python3
"""e2e.container.node_module: the module edgeship ships runs in a real container engine (issue 13 item 4).

    module_e2e.py node

For models from XGBoost (with feature names), scikit-learn and PyTorch, trained here with Debian's
/usr/bin/python3 packages:
  1. a local docker-registry holds the Debian node base (make_base.sh) as library/node:20-bookworm-slim;
  2. `EDGESHIP_BASE_REGISTRY=127.0.0.1:PORT edgeship ship MODEL --runtime node-onnxruntime --registry
     127.0.0.1:PORT --plain-http --json` (no --base: the default base is read from that registry; the
     dependencies layer is installed by edgeship with the user's npm);
  3. `edgeship export` writes the docker-archive; the private engine pulls the pushed image, the image is
     removed and the archive loaded instead: the same image ID (= the config digest both reports name);
  4. the container is created from the generated config/deployment.amd64.json as the IoT Edge runtime
     does (agent_create.py), started, /health answers (bounded);
  5. POST /score with list rows and, where /metadata lists features, named rows: equal to the framework's
     own predictions within 1e-5; /metadata names the served model's sha256 (= the image label and the
     ship report); the process runs as a non-root user (host /proc of the container's PID);
  6. SIGTERM (docker stop -t 10) stops it within 10 s with exit code 0.
Figures (time per phase, parity) are printed on stderr.
Environment: EDGESHIP_EXE, EDGESHIP_SOURCE_DIR, CONTAINER_TEST_DIR (from tests/e2e/container.cmake);
MODULE_E2E_BASE=REF passes --base REF to ship/export instead of the default base (debugging only;
"{registry}" in REF becomes the test registry's address);
MODULE_E2E_MODELS=xgboost,sklearn,torch (a subset, for debugging).
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_create  # noqa: E402
import common  # noqa: E402
from common import fail, step, timed  # noqa: E402
import engine  # noqa: E402

import numpy as np  # noqa: E402

TOLERANCE = 1e-5
FEATURES = ["temperature", "vibration", "pressure", "rpm", "current", "humidity"]
N_TEST_ROWS = 8


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    w = rng.normal(size=6)
    y = (x @ w + 0.3 * rng.normal(size=400) > 0).astype(np.int64)
    return x, y


def train(kind, out_dir):
    """(model file, ship flags, test rows, reference predictions (N,), feature names or None)."""
    x, y = data(7)
    xt = np.random.default_rng(11).normal(size=(N_TEST_ROWS, 6)).astype(np.float32)
    if kind == "xgboost":
        import xgboost as xgb
        booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 1},
                            xgb.DMatrix(x, label=y, feature_names=FEATURES), num_boost_round=20)
        path = os.path.join(out_dir, "model.json")
        booster.save_model(path)
        ref = booster.predict(xgb.DMatrix(xt, feature_names=FEATURES))
        return path, [], xt, np.asarray(ref, dtype=np.float64), FEATURES
    if kind == "sklearn":
        import joblib
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        m = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))]).fit(x, y)
        path = os.path.join(out_dir, "model.joblib")
        joblib.dump(m, path)
        return path, ["--trust-pickle", "--python", "/usr/bin/python3"], xt, m.predict_proba(xt)[:, 1], None
    if kind == "torch":
        import torch
        torch.manual_seed(3)
        net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).eval()
        path = os.path.join(out_dir, "model.pt")
        torch.jit.save(torch.jit.script(net), path)
        with torch.no_grad():
            ref = net(torch.from_numpy(xt)).numpy()[:, 0]
        return path, ["--input-shape", "1,6", "--dynamic-batch", "--python", "/usr/bin/python3"], xt, \
            ref.astype(np.float64), None
    raise ValueError(kind)


def prediction(outputs, n):
    """The positive-class probability (classifiers) or the single regression output, as (N,) floats."""
    def col(value):
        a = value
        if isinstance(a, list) and a and isinstance(a[0], dict):  # ZipMap: [{"0": p0, "1": p1}, …]
            return np.array([float(r.get("1", r.get(1))) for r in a])
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 2 and a.shape == (n, 2):
            return a[:, 1]
        if a.ndim == 2 and a.shape == (n, 1):
            return a[:, 0]
        if a.ndim == 1 and a.shape == (n,):
            return a
        return None
    for name in ("probabilities", "output_probability", "probability"):
        if name in outputs and col(outputs[name]) is not None:
            return col(outputs[name]), name
    floats = [(k, col(v)) for k, v in outputs.items() if k not in ("label", "output_label")]
    floats = [(k, c) for k, c in floats if c is not None]
    if len(floats) == 1:
        return floats[0][1], floats[0][0]
    fail(f"cannot tell which output is the prediction: {json.dumps(outputs)[:500]}")


def edgeship(args, env, timeout=900):
    return common.run([os.environ["EDGESHIP_EXE"], *args], env=env, timeout=timeout)


def ship_and_run(kind, work, reg, eng, figures):
    module = {"xgboost": "xgb", "sklearn": "sk", "torch": "torch"}[kind]
    d = work.path(kind)
    os.makedirs(d, exist_ok=True)
    model, flags, xt, ref, features = train(kind, d)
    sol = os.path.join(d, "sol")
    # edgeship's own caches (layers) start empty in the scratch dir; npm's download cache is kept between
    # runs beside the base images, so a warm run does not fetch onnxruntime-node again.
    env = dict(os.environ, EDGESHIP_BASE_REGISTRY=reg.addr, XDG_CACHE_HOME=os.path.join(work.dir, "edgeship-cache"),
               SOURCE_DATE_EPOCH="1700000000",
               npm_config_cache=os.path.join(work.cache_home, "edgeship-tests", "npm"))
    for k in ("CONTAINER_REGISTRY_SERVER", "CONTAINER_TAG", "IOTHUB_CONNECTION_STRING"):
        env.pop(k, None)
    base = ["--base", os.environ["MODULE_E2E_BASE"].replace("{registry}", reg.addr)] \
        if os.environ.get("MODULE_E2E_BASE") else []

    step(f"{kind}: edgeship ship → {reg.addr} (default base from EDGESHIP_BASE_REGISTRY)")
    t0 = time.monotonic()
    p = edgeship(["ship", model, "--solution", sol, "--module", module, "--runtime", "node-onnxruntime",
                  "--registry", reg.addr, "--plain-http", "--json", *base, *flags], env)
    figures[f"{kind} ship"] = time.monotonic() - t0
    report = json.loads(p.stdout)
    print(f"figures: {kind} ship ms per step: " +
          " ".join(f"{s['name']}={s['duration_ms']}" for s in report.get("steps", [])), file=sys.stderr)
    image = report["images"][0]
    ref_name = image["reference"]
    manifest_path = report["manifest"]
    onnx_sha = report["onnx_sha256"].removeprefix("sha256:")

    step(f"{kind}: edgeship export → docker-archive")
    archive = os.path.join(d, "image.tar")
    p = edgeship(["export", module, "--solution", sol, "--archive", archive, "--plain-http", "--json", *base], env)
    exported = json.loads(p.stdout)["images"][0]
    if exported["reference"] != ref_name:
        fail(f"{kind}: export names {exported['reference']}, ship pushed {ref_name}")

    step(f"{kind}: docker pull {ref_name}, then docker load the export instead")
    repo, tag = agent_create.split_image(ref_name)
    t0 = time.monotonic()
    eng.api.pull(repo, tag)
    figures[f"{kind} pull"] = time.monotonic() - t0
    pulled = eng.api.image_inspect(ref_name)
    if pulled["Architecture"] != "amd64":
        fail(f"{kind}: pulled image is {pulled['Architecture']}")
    if image.get("config_digest") and pulled["Id"] != image["config_digest"]:
        fail(f"{kind}: pulled image ID {pulled['Id']} is not ship's config digest {image['config_digest']}")
    eng.api.remove_image(ref_name)
    t0 = time.monotonic()
    loaded = eng.api.load(archive)
    figures[f"{kind} load"] = time.monotonic() - t0
    if ref_name not in loaded and ref_name.replace("docker.io/", "") not in loaded:
        fail(f"{kind}: docker load reported {loaded}, expected {ref_name}")
    if eng.api.image_inspect(ref_name)["Id"] != pulled["Id"]:
        fail(f"{kind}: the exported archive is not the pushed image")
    label_sha = pulled["Config"]["Labels"].get("com.edgeship.model.sha256", "").removeprefix("sha256:")
    if label_sha != onnx_sha:
        fail(f"{kind}: image label com.edgeship.model.sha256 {label_sha} != ship's onnx_sha256 {onnx_sha}")

    step(f"{kind}: create from {os.path.relpath(manifest_path, work.dir)} as the IoT Edge agent does, start")
    port = common.free_port()
    cid, name, body = agent_create.create(eng.api, manifest_path, module=module, port=port, start=True)
    try:
        t0 = time.monotonic()

        def alive():
            return eng.api.inspect(cid)["State"]["Running"]
        try:
            common.wait_http(port, "/health", 60, alive)
        except common.TestFailure as e:
            out, err = eng.api.logs(cid)
            fail(f"{kind}: {e}\n--- container stdout:\n{out[-3000:]}\n--- container stderr:\n{err[-3000:]}")
        figures[f"{kind} start→/health"] = time.monotonic() - t0

        status, meta = common.http_json("GET", port, "/metadata")
        if status != 200:
            fail(f"{kind}: /metadata HTTP {status}: {meta}")
        if meta.get("sha256") != onnx_sha:
            fail(f"{kind}: /metadata sha256 {meta.get('sha256')} is not the shipped model's {onnx_sha}")
        if features is not None and meta.get("features") != features:
            fail(f"{kind}: /metadata features {meta.get('features')}, the model has {features}")

        rows = [[float(v) for v in r] for r in xt]
        status, res = common.http_json("POST", port, "/score", {"rows": rows})
        if status != 200:
            fail(f"{kind}: POST /score (list rows) HTTP {status}: {res}")
        got, out_name = prediction(res["outputs"], len(rows))
        err_list = float(np.max(np.abs(got - ref)))
        errs = {"list rows": err_list}
        named_features = meta.get("features") or features
        if named_features:
            named = [dict(zip(named_features, r)) for r in rows]
            status, res = common.http_json("POST", port, "/score", {"rows": named})
            if status != 200:
                fail(f"{kind}: POST /score (named rows) HTTP {status}: {res}")
            errs["named rows"] = float(np.max(np.abs(prediction(res["outputs"], len(rows))[0] - ref)))
        print(f"figures: {kind} parity in the container (output {out_name!r}, {len(rows)} rows): " +
              ", ".join(f"{k} max |Δ| {v:.2e}" for k, v in errs.items()), file=sys.stderr)
        for k, v in errs.items():
            if not v <= TOLERANCE:
                fail(f"{kind}: {k}: max |container − {kind}| = {v:.3e} > {TOLERANCE}")

        info = eng.api.inspect(cid)
        uid, gid = common.proc_ids(info["State"]["Pid"])
        print(f"figures: {kind} container user {info['Config']['User']!r} → uid {uid} gid {gid}", file=sys.stderr)
        if uid == 0:
            fail(f"{kind}: the module runs as root (image User {info['Config']['User']!r})")

        t0 = time.monotonic()
        eng.api.stop(cid, t=10)
        dt = time.monotonic() - t0
        figures[f"{kind} SIGTERM stop"] = dt
        state = eng.api.inspect(cid)["State"]
        if dt >= 10 or state["Running"] or state["ExitCode"] != 0:
            fail(f"{kind}: SIGTERM: stopped after {dt:.1f} s, exit code {state['ExitCode']} (want < 10 s, 0)")
    finally:
        eng.api.remove(cid, force=True)


def main():
    started = time.monotonic()
    if len(sys.argv) != 2 or sys.argv[1] != "node":
        print("usage: module_e2e.py node", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("SKIP: the container tests start dockerd and need root", file=sys.stderr)
        return 125
    for var in ("EDGESHIP_EXE",):
        if not os.environ.get(var):
            print(f"FAIL: {var} not set (run through ctest: tests/e2e/container.cmake)", file=sys.stderr)
            return 1
    engine.install_signal_handlers()
    kinds = (os.environ.get("MODULE_E2E_MODELS") or "xgboost,sklearn,torch").split(",")
    work = common.Work("container-node-module")
    ok = False
    figures = {}
    try:
        with timed("make_base node amd64"):
            common.make_base("node", "amd64", work.path("base-check"))
        with common.Registry() as reg:
            with timed("push_base"):
                pushed = common.push_base("node", "amd64", reg.addr, work)
            if pushed != f"{reg.addr}/library/node:20-bookworm-slim":
                fail(f"base pushed as {pushed}")
            eng = engine.Engine(work.path("engine"), keep_logs_in=work.dir)
            eng.__enter__()
            try:
                figures["engine start"] = eng.start_seconds
                for kind in kinds:
                    t0 = time.monotonic()
                    ship_and_run(kind, work, reg, eng, figures)
                    figures[f"{kind} total"] = time.monotonic() - t0
            finally:
                t0 = time.monotonic()
                eng.close()
                figures["engine stop"] = time.monotonic() - t0
        ok = True
        print("PASS node_module", file=sys.stderr)
    except (common.TestFailure, engine.EngineError, agent_create.ManifestError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
    finally:
        work.finish(ok)
        figures["test"] = time.monotonic() - started
        print("figures: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
