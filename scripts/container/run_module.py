#!/usr/bin/python3
"""The demo's last step: run the shipped module in a private Docker Engine and score one request.

    run_module.py MANIFEST XGBOOST_MODEL [--module NAME] [--rows N] [--work DIR]

  1. start a private dockerd (tests/container/engine.py: its own data/exec root and unix socket, no
     bridge, no iptables, no TCP listener; containers use host networking on 127.0.0.1);
  2. pull the module's image named by MANIFEST (a generated config/deployment.<platform>.json) from the
     registry edgeship pushed it to;
  3. create the container from the manifest as the IoT Edge agent does (tests/container/agent_create.py:
     createOptions chunks joined and parsed, the manifest's env, the image; PORT set to a free port),
     start it and wait for GET /health;
  4. POST /score with named rows ({"vibration_rms": …, …}, the model's feature names from /metadata) and
     print the module's failure probability next to XGBoost's own prediction for the same row;
  5. stop the container (SIGTERM) and the engine, unmount and remove everything it made — also on Ctrl-C,
     SIGTERM or a failure (and a watchdog process does it if this process is killed).

Exit 0 when it ran and every |module − XGBoost| ≤ 1e-5; 0 with one "skipped" line when no Docker Engine can
be started here (not root, no dockerd, dockerd refuses to start); 1 on any other failure.
Standard library + numpy/xgboost from Debian: run with /usr/bin/python3.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "container"))
import agent_create  # noqa: E402
from common import free_port, http_json as request  # noqa: E402
import engine  # noqa: E402

TOLERANCE = 1e-5


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def example_rows(n):
    """Rows drawn like the example's training data (examples/predictive-maintenance), wear from low to high."""
    import numpy as np
    wear = np.linspace(0.05, 0.95, n)
    return np.column_stack([0.8 + 2.5 * wear, 2 + 7 * wear, 45 + 30 * wear, 60 + 15 * wear, 12 + 4 * wear,
                            1480 - 60 * wear]).astype(np.float32)


def positive_class(outputs, n):
    """P(failure) per row from the module's /score outputs (probabilities (N,2), or one float output)."""
    import numpy as np
    for name in ("probabilities", "output_probability", "probability"):
        if name in outputs:
            a = outputs[name]
            if isinstance(a, list) and a and isinstance(a[0], dict):  # ZipMap
                return np.array([float(r.get("1", r.get(1))) for r in a]), name
            a = np.asarray(a, dtype=np.float64)
            if a.shape == (n, 2):
                return a[:, 1], name
            if a.shape in ((n,), (n, 1)):
                return a.reshape(n), name
    raise RuntimeError(f"cannot find the probabilities in /score's answer: {json.dumps(outputs)[:300]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("xgboost_model")
    ap.add_argument("--module")
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--work", help="directory for the engine's state (default: the temporary directory)")
    a = ap.parse_args()

    # Reasons the engine cannot run here: one line, and the demo goes on.
    if os.geteuid() != 0:
        say("module run: skipped - starting a Docker Engine needs root")
        return 0
    if not os.access(engine.DOCKERD, os.X_OK):
        say(f"module run: skipped - no {engine.DOCKERD} (apt-get install docker.io; scripts/deps/container.txt)")
        return 0

    engine.install_signal_handlers()  # SIGTERM/SIGHUP → SystemExit: the engine is closed on the way out
    with open(a.manifest) as f:
        manifest = json.load(f)
    name, image, _, _ = agent_create.module_spec(manifest, a.module)
    import numpy as np
    import xgboost as xgb

    eng = engine.Engine(a.work, start_timeout=60, log=say)
    t0 = time.monotonic()
    try:
        eng.start()
    except engine.EngineError as e:
        eng.close()
        lines = [line.strip() for line in str(e).splitlines() if line.strip()] or ["unknown error"]
        why = lines[0].rstrip(":") + (f": {lines[-1][:200]}" if len(lines) > 1 else "")
        say(f"module run: skipped - no Docker Engine could be started here ({why})")
        return 0
    try:
        v = eng.api.version()
        say(f"engine: private dockerd {v.get('Version')} up in {time.monotonic() - t0:.1f} s "
            f"(socket {eng.socket}, no bridge, no iptables, host network on 127.0.0.1)")

        t = time.monotonic()
        repo, tag = agent_create.split_image(image)
        eng.api.pull(repo, tag)
        pulled = eng.api.image_inspect(image)
        say(f"pull: {image} in {time.monotonic() - t:.1f} s ({pulled['Size'] / 1e6:.0f} MB, "
            f"{len(pulled['RootFS']['Layers'])} layers, user {pulled['Config'].get('User')!r})")

        t = time.monotonic()
        port = free_port()
        cid, name, body = agent_create.create(eng.api, manifest, module=name, port=port, start=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = request("GET", port, "/health", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            state = eng.api.inspect(cid)["State"]
            if not state["Running"] or time.monotonic() > deadline:
                out, err = eng.api.logs(cid)
                raise RuntimeError(f"the module did not answer GET /health (running: {state['Running']}, "
                                   f"exit code {state.get('ExitCode')})\n{out[-2000:]}{err[-2000:]}")
            time.sleep(0.1)
        pid = eng.api.inspect(cid)["State"]["Pid"]
        uid = "?"
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = next(line.split()[1] for line in f if line.startswith("Uid:"))
        except OSError:
            pass
        say(f"run: container {name!r} created from {os.path.basename(a.manifest)} as the IoT Edge agent does, "
            f"/health on 127.0.0.1:{port} after {time.monotonic() - t:.1f} s, process uid {uid}")

        status, meta = request("GET", port, "/metadata")
        if status != 200:
            raise RuntimeError(f"GET /metadata: HTTP {status}: {meta}")
        features = meta.get("features")
        if not features:
            raise RuntimeError(f"/metadata lists no feature names: {meta}")

        x = example_rows(a.rows)
        rows = [{f: round(float(v), 3) for f, v in zip(features, r)} for r in x]
        x = np.array([[row[f] for f in features] for row in rows], dtype=np.float32)
        t = time.monotonic()
        status, answer = request("POST", port, "/score", {"rows": rows})
        score_ms = (time.monotonic() - t) * 1000
        if status != 200:
            raise RuntimeError(f"POST /score: HTTP {status}: {answer}")
        got, out_name = positive_class(answer["outputs"], len(rows))
        booster = xgb.Booster(model_file=a.xgboost_model)
        ref = booster.predict(xgb.DMatrix(x, feature_names=booster.feature_names)).astype(np.float64)

        print(f"POST http://127.0.0.1:{port}/score  (model sha256 {str(meta.get('sha256'))[:12]}…, {score_ms:.0f} ms)")
        print(json.dumps({"rows": rows[:1]})[:-2] + (", …]}" if len(rows) > 1 else "]}"))
        widths = [max(len(f), 8) for f in features]
        print("  ".join(f"{f:>{w}}" for f, w in zip(features, widths)) +
              f"  {'module P(failure)':>17}  {'XGBoost':>8}  {'|diff|':>7}")
        for row, g, r in zip(rows, got, ref):
            print("  ".join(f"{row[f]:>{w}.3f}" for f, w in zip(features, widths)) +
                  f"  {g:>17.6f}  {r:>8.6f}  {abs(g - r):>7.1e}")
        err = float(np.max(np.abs(got - ref)))
        print(f"max |module - XGBoost {xgb.__version__}| = {err:.2e} over {len(rows)} named rows "
              f"(output {out_name!r}; limit {TOLERANCE:g})")

        t = time.monotonic()
        eng.api.stop(cid, t=10)
        st = eng.api.inspect(cid)["State"]
        say(f"stop: SIGTERM → exited with {st['ExitCode']} in {time.monotonic() - t:.1f} s")
        if err > TOLERANCE:
            raise RuntimeError(f"the module's predictions differ from XGBoost's by {err:.3e} > {TOLERANCE:g}")
        return 0
    except (engine.EngineError, agent_create.ManifestError, RuntimeError, OSError) as e:
        say(f"module run: FAILED: {e}")
        return 1
    finally:
        t = time.monotonic()
        eng.close()
        say(f"engine: stopped and removed in {time.monotonic() - t:.1f} s")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("module run: interrupted (engine stopped and removed)")
        sys.exit(130)
