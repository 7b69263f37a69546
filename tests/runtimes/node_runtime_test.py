#!/usr/bin/python3
"""The node-onnxruntime runtime, end to end: `edgeship init` scaffolds a solution for the example
model, the generated server is started on 127.0.0.1 with onnxruntime-node (tests/node_modules via
NODE_PATH), and real POST /score answers are compared with the same model run through
tests/tools/ort_run.js.  usage: node_runtime_test.py EDGESHIP_EXE SOURCE_DIR"""
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

EXE, SRC = sys.argv[1], sys.argv[2]
MODEL = os.path.join(SRC, "examples", "predictive-maintenance", "model.onnx")
NODE_MODULES = os.path.join(SRC, "tests", "node_modules")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def request(port, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def start_server(module_dir, extra_env):
    env = dict(os.environ, NODE_PATH=NODE_MODULES, MODEL_PATH=os.path.join(module_dir, "model", "model.onnx"),
               PORT="0", HOST="127.0.0.1")
    env = {k: v for k, v in env.items() if not k.startswith("IOTEDGE_")}
    env.update(extra_env)
    proc = subprocess.Popen(["node", os.path.join(module_dir, "app", "server.js")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "listening on N", or EOF when it failed to start
    if not line.startswith("listening on "):
        proc.wait(timeout=30)
        return proc, None
    return proc, int(line.split()[-1])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def ort_reference(rows, tmp):
    req = os.path.join(tmp, "request.json")
    with open(req, "w") as f:
        json.dump({"features": {"type": "float32", "dims": [len(rows), 6], "data": [v for r in rows for v in r]}}, f)
    out = subprocess.run(["node", os.path.join(SRC, "tests", "tools", "ort_run.js"), MODEL, req],
                         capture_output=True, text=True, timeout=120, check=True)
    o = json.loads(out.stdout)["outputs"]["failure_probability"]
    return [o["data"][i:i + o["dims"][1]] for i in range(0, len(o["data"]), o["dims"][1])]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sol = os.path.join(tmp, "solution")
        r = subprocess.run([EXE, "init", sol, "--model", MODEL, "--runtime", "node-onnxruntime", "--module", "pm"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "edgeship init --runtime node-onnxruntime: " + r.stderr.strip())
        module_dir = os.path.join(sol, "modules", "pm")

        proc, port = start_server(module_dir, {"MAX_BATCH_ROWS": "64"})
        try:
            check(port is not None, "server started")
            if port is None:
                print(proc.stderr.read())
                return
            check(request(port, "GET", "/health") == (200, {"status": "ok"}), "GET /health")
            status, meta = request(port, "GET", "/metadata")
            with open(os.path.join(module_dir, "app", "signature.json")) as f:
                sig = json.load(f)
            check(status == 200 and meta["inputs"] == sig["inputs"] and meta["outputs"] == sig["outputs"]
                  and meta["max_batch_rows"] == 64, "GET /metadata is the model's signature")
            with open(os.path.join(module_dir, "model", "model.onnx"), "rb") as f:
                model_sha = hashlib.sha256(f.read()).hexdigest()
            check(meta.get("sha256") == model_sha and "sha256" not in sig,
                  "GET /metadata: the sha256 of the model file served (signature.json carries none)")

            rng = random.Random(5)
            rows = [[round(rng.uniform(-3, 3), 4) for _ in range(6)] for _ in range(40)]
            expected = ort_reference(rows, tmp)
            status, got = request(port, "POST", "/score", {"rows": rows})
            check(status == 200, "POST /score rows: 200")
            outs = got.get("outputs", {}).get("failure_probability")
            diff = max(abs(a - b) for ra, rb in zip(outs, expected) for a, b in zip(ra, rb)) if outs else None
            check(outs is not None and len(outs) == 40 and diff == 0.0,
                  "POST /score equals ort_run.js on 40 rows (max abs diff %s)" % diff)

            status, named = request(port, "POST", "/score", {"inputs": {"features": rows[:3]}})
            check(status == 200 and named["outputs"]["failure_probability"] == outs[:3], "named tensors")
            names = sig["features"]
            status, byname = request(port, "POST", "/score", {"rows": [dict(zip(names, rows[7]))]})
            check(status == 200 and byname["outputs"]["failure_probability"] == [outs[7]], "rows keyed by feature name")
            status, bare = request(port, "POST", "/score", rows[:2])
            check(status == 200 and bare["outputs"]["failure_probability"] == outs[:2], "bare list of rows")

            status, err = request(port, "POST", "/score", {"rows": [[1, 2, 3]]})
            check(status == 400 and "dimension 1 must be 6" in err["error"], "wrong width: 400 " + str(err))
            status, err = request(port, "POST", "/score", {"rows": [[0] * 6] * 65})
            check(status == 413 and "MAX_BATCH_ROWS=64" in err["error"], "batch limit: 413")
            status, err = request(port, "POST", "/score", b"{nope")
            check(status == 400 and "not JSON" in err["error"], "not JSON: 400")
            status, err = request(port, "POST", "/score", {"rows": [["a"] * 6]})
            check(status == 400 and "cannot convert" in err["error"], "non-numeric: 400")
            status, err = request(port, "GET", "/nope")
            check(status == 404, "unknown path: 404")
        finally:
            stop(proc)

        # The IoT Edge SDK is loaded only inside IoT Edge: with IOTEDGE_* set the server tries to
        # load it (not installable here), without them it never does (the server above started).
        proc, port = start_server(module_dir, {"IOTEDGE_MODULEID": "pm", "IOTEDGE_WORKLOADURI": "unix:///x"})
        err = proc.stderr.read()
        if port is not None:
            stop(proc)
        check(port is None and "azure-iot-device" in err, "IOTEDGE_* present: the module SDK is required")

        # Message handling core, with a fake client and message (no SDK): input -> score -> output.
        script = r"""
const ort = require('onnxruntime-node');
const {Scorer, loadSignature} = require(process.argv[1] + '/app/scoring');
const {handleMessage} = require(process.argv[1] + '/app/edge');
class Msg { constructor(d) { this.data = d; } }
(async () => {
  const session = await ort.InferenceSession.create(process.argv[1] + '/model/model.onnx');
  const scorer = new Scorer(session, ort.Tensor, loadSignature(process.argv[1] + '/app/signature.json'), 8);
  const sent = [];
  const client = {complete: (m, cb) => cb(), sendOutputEvent: (o, m, cb) => { sent.push([o, m]); cb(); }};
  const incoming = {messageId: 'id-1', getBytes: () => Buffer.from(process.argv[2])};
  const ignored = await handleMessage(scorer, client, 'other', incoming, Msg);
  const result = await handleMessage(scorer, client, 'input', incoming, Msg);
  process.stdout.write(JSON.stringify({ignored, result, sent: sent.map(([o, m]) => ({output: o,
    body: JSON.parse(m.data), contentType: m.contentType, correlationId: m.correlationId}))}));
})().catch((e) => { process.stderr.write(String(e.stack)); process.exit(1); });
"""
        r = subprocess.run(["node", "-e", script, module_dir, json.dumps({"rows": rows[:2]})],
                           env=dict(os.environ, NODE_PATH=NODE_MODULES), capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "edge handler script ran: " + r.stderr[-300:])
        if r.returncode == 0:
            res = json.loads(r.stdout)
            check(res["ignored"] is None, "messages on other inputs are ignored")
            check(len(res["sent"]) == 1 and res["sent"][0]["output"] == "output"
                  and res["sent"][0]["body"]["outputs"]["failure_probability"] == outs[:2]
                  and res["sent"][0]["contentType"] == "application/json"
                  and res["sent"][0]["correlationId"] == "id-1", "input message scored and sent to output 'output'")
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
