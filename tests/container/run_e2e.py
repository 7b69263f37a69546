#!/usr/bin/python3
"""e2e.container.run: `edgeship run` on a private Docker Engine (issue 18 items 1 and 4; docs/run.md).

Two Debian bases (make_base.sh, cached) are pushed to a local registry: node (library/node:20-bookworm-slim)
and python (library/python:3.11-slim-bookworm). A two-module deployment manifest uses them:
  worker  python, startupOrder 0, createOptions Cmd (prints MODE, sleeps, exits 0 on SIGTERM), env MODE
  web     node, startupOrder 1, createOptions in two chunks: User node, Cmd (a `node -e` HTTP server on
          $PORT answering with its uid and GREETING), Env GREETING (wins over the manifest's env), Labels,
          HostConfig.Binds of a host directory read-only (the server reports a file from it)
and registryCredentials for the test registry (plain, no auth: the header must simply not hurt, and the
password must never appear in -vv output).

  run --detach --json --network host   both run; the engine's inspect shows the createOptions applied (env,
                                       labels incl. the agent's and dev.edgeship.run, binds, cmd, user, host
                                       network); web answers over 127.0.0.1; startupOrder respected
  run --logs worker                    the worker's output
  run --stop                           both removed
  bad createOptions (a bind mode the engine refuses), an unpullable image, a module that exits at once:
                                       one `edgeship: error: module M: …` line, exit 1, nothing left
  foreground run + SIGINT              exit 130, nothing left
  no engine at --engine / tcp:// DOCKER_HOST: one line each, exit 1
The engine has --bridge=none, hence --network host (docs/run.md "Networking").
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import fail, step, timed  # noqa: E402
import engine  # noqa: E402

EDGESHIP = os.environ.get("EDGESHIP_EXE", "edgeship")
PASSWORD = "s3cr3t-run-pw"

SERVER_JS = r"""
const http = require('http'), fs = require('fs');
const port = Number(process.env.PORT);
const server = http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'application/json'});
  res.end(JSON.stringify({uid: process.getuid(), greeting: process.env.GREETING,
                          data: fs.readFileSync('/data/hello.txt', 'utf8').trim()}));
});
server.listen(port, '127.0.0.1', () => console.log('web listening on ' + port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""

WORKER_PY = ("import os, signal, sys, time\n"
             "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
             "print('worker up, mode', os.environ['MODE'], flush=True)\n"
             "time.sleep(3600)\n")


def manifest(reg, node_image, python_image, port, data_dir, web_options=None, worker_cmd=None):
    web = web_options or {"User": "node", "Cmd": ["node", "-e", SERVER_JS], "Env": ["GREETING=from createOptions"],
                          "Labels": {"team": "scoring"}, "HostConfig": {"Binds": [f"{data_dir}:/data:ro"]}}
    text = json.dumps(web, separators=(",", ":"))
    half = len(text) // 2
    worker = {"Cmd": worker_cmd or ["python3", "-c", WORKER_PY]}
    return {"modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1",
            "runtime": {"type": "docker", "settings": {
                "registryCredentials": {"test": {"address": reg, "username": "runuser", "password": PASSWORD}}}},
            "systemModules": {
                "edgeAgent": {"type": "docker", "settings": {"image": "mcr.microsoft.com/azureiotedge-agent:1.5"}},
                "edgeHub": {"type": "docker", "status": "running", "restartPolicy": "always",
                            "settings": {"image": "mcr.microsoft.com/azureiotedge-hub:1.5"}}},
            "modules": {
                "web": {"version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
                        "startupOrder": 1,
                        "settings": {"image": node_image, "createOptions": text[:half], "createOptions01": text[half:]},
                        "env": {"GREETING": {"value": "from env (createOptions wins)"}, "PORT": {"value": str(port)}}},
                "worker": {"version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
                           "startupOrder": 0,
                           "settings": {"image": python_image, "createOptions": json.dumps(worker)},
                           "env": {"MODE": {"value": "batch"}}}}}},
        "$edgeHub": {"properties.desired": {"schemaVersion": "1.1", "routes": {"r": "FROM /messages/* INTO $upstream"}}}}}


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
    return path


def edgeship(args, timeout=300, env=None):
    p = common.run([EDGESHIP] + args, env=env, timeout=timeout, check=False)
    for stream in (p.stdout, p.stderr):
        if PASSWORD in stream:
            fail(f"the registry password appears in the output of edgeship {' '.join(args)}")
    return p


def ours(api):
    return [c for c in api.containers() if "dev.edgeship.run" in (c.get("Labels") or {})]


def expect_one_error(p, what, module, needle):
    errors = [line for line in p.stderr.splitlines() if line.startswith("edgeship: error:")]
    if p.returncode != 1 or len(errors) != 1 or not errors[0].startswith(f"edgeship: error: module {module}: ") \
            or needle not in errors[0]:
        fail(f"{what}: expected exit 1 and one error line naming module {module} with {needle!r}; "
             f"got exit {p.returncode}, stderr:\n{p.stderr}")
    print(f"{what}: {errors[0]}", file=sys.stderr)


def main():
    if os.geteuid() != 0:
        print("SKIP: the container tests start dockerd and need root", file=sys.stderr)
        return 125
    engine.install_signal_handlers()
    work = common.Work("container-run")
    ok = False
    try:
        step("no engine reachable: one line, exit 1 (no engine needed)")
        p = edgeship(["run", "--engine", f"unix://{work.path('none.sock')}", write(work.path("m0.json"), manifest(
            "127.0.0.1:1", "127.0.0.1:1/a:1", "127.0.0.1:1/b:1", 1, work.dir))])
        errs = [line for line in p.stderr.splitlines() if line.startswith("edgeship: error:")]
        if p.returncode != 1 or len(errs) != 1 or "no container engine reachable at unix://" not in errs[0]:
            fail(f"no engine: exit {p.returncode}, stderr:\n{p.stderr}")
        p = edgeship(["run", work.path("m0.json")], env=dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:2376"))
        if p.returncode != 1 or "tcp:// engines are not supported" not in p.stderr:
            fail(f"tcp DOCKER_HOST: exit {p.returncode}, stderr:\n{p.stderr}")

        step("Debian node and python bases (amd64; cached between runs)")
        with timed("make_base"):
            common.make_base("node", "amd64", work.path("node-base"))
            common.make_base("python", "amd64", work.path("python-base"))
        with common.Registry() as reg:
            with timed("push_base"):
                node_image = common.push_base("node", "amd64", reg.addr, work)
                python_image = common.push_base("python", "amd64", reg.addr, work)
            with timed("engine start"):
                eng = engine.Engine(work.path("engine"), keep_logs_in=work.dir)
                eng.__enter__()
            try:
                host = ["--engine", eng.host, "--network", "host"]
                api = eng.api
                data_dir = work.path("data")
                os.makedirs(data_dir)
                with open(os.path.join(data_dir, "hello.txt"), "w") as f:
                    f.write("bound from the host\n")
                port = common.free_port()
                good = write(work.path("deployment.json"), manifest(reg.addr, node_image, python_image, port, data_dir))

                step("run --detach --json: both modules start with their createOptions")
                with timed("run --detach"):
                    p = edgeship(["-vv", "run", good, "--detach", "--json"] + host)
                if p.returncode != 0:
                    fail(f"run: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
                if "X-Registry-Auth: <redacted>" not in p.stderr:
                    fail("the -vv trace shows no redacted X-Registry-Auth header (credentials not sent?)")
                if "does not imitate the system modules" not in p.stderr or "routes are not applied" not in p.stderr:
                    fail(f"no note about edgeAgent/edgeHub:\n{p.stderr}")
                out = json.loads(p.stdout)
                names = [m["name"] for m in out["modules"]]
                if names != ["worker", "web"] or any(m["state"] != "running" for m in out["modules"]):
                    fail(f"modules {out['modules']}")
                deployment = out["deployment"]
                web = api.inspect("web")
                worker = api.inspect("worker")
                if worker["State"]["StartedAt"] > web["State"]["StartedAt"]:
                    fail("startupOrder: web started before worker")
                labels = web["Config"]["Labels"]
                want_labels = {"net.azure-devices.edge.owner": "Microsoft.Azure.Devices.Edge.Agent",
                               "net.azure-devices.edge.original-image": node_image,
                               "dev.edgeship.run": deployment, "team": "scoring"}
                for k, v in want_labels.items():
                    if labels.get(k) != v:
                        fail(f"web label {k}={labels.get(k)!r}, want {v!r}")
                env = web["Config"]["Env"]
                for want in ("GREETING=from createOptions", f"PORT={port}"):
                    if want not in env:
                        fail(f"web env lacks {want}: {env}")
                if "MODE=batch" not in worker["Config"]["Env"]:
                    fail(f"worker env {worker['Config']['Env']}")
                if web["HostConfig"]["Binds"] != [f"{data_dir}:/data:ro"] or web["HostConfig"]["NetworkMode"] != "host":
                    fail(f"web HostConfig {web['HostConfig']}")
                if web["Config"]["Cmd"][:2] != ["node", "-e"] or web["Config"]["User"] != "node":
                    fail(f"web Cmd/User {web['Config']['Cmd'][:2]} {web['Config']['User']}")
                answer = common.wait_http(port, "/", 30, lambda: api.inspect("web")["State"]["Running"])
                if answer != {"uid": 1000, "greeting": "from createOptions", "data": "bound from the host"}:
                    fail(f"web answered {answer}")
                print(f"web says {answer}", file=sys.stderr)

                step("run --logs worker")
                p = edgeship(["run", "--logs", "worker"] + host[:2])
                if p.returncode != 0 or "worker up, mode batch" not in p.stdout:
                    fail(f"logs: exit {p.returncode}\n{p.stdout}\n{p.stderr}")

                step("run --stop removes both")
                with timed("run --stop"):
                    p = edgeship(["run", "--stop", good] + host[:2])
                if p.returncode != 0 or ours(api):
                    fail(f"stop: exit {p.returncode}, left {ours(api)}\n{p.stderr}")

                step("bad createOptions: the engine refuses a bind mode")
                bad = manifest(reg.addr, node_image, python_image, port, data_dir,
                               web_options={"HostConfig": {"Binds": [f"{data_dir}:/data:bogusmode"]}})
                p = edgeship(["run", write(work.path("bad-options.json"), bad), "--detach"] + host)
                expect_one_error(p, "bad createOptions", "web", "bogusmode")
                if ours(api):
                    fail(f"left running after bad createOptions: {ours(api)}")

                step("an unpullable image")
                missing = manifest(reg.addr, f"{reg.addr}/edgeship-test/missing:1", python_image, port, data_dir)
                p = edgeship(["run", write(work.path("missing.json"), missing), "--detach"] + host)
                expect_one_error(p, "unpullable image", "web", f"pulling {reg.addr}/edgeship-test/missing:1")
                if ours(api):
                    fail(f"left running after an unpullable image: {ours(api)}")

                step("a module that exits at once")
                quits = manifest(reg.addr, node_image, python_image, port, data_dir,
                                 worker_cmd=["python3", "-c", "import sys; print('giving up'); sys.exit(3)"])
                p = edgeship(["run", write(work.path("quits.json"), quits), "--detach"] + host)
                expect_one_error(p, "exits at once", "worker", "exited at once with code 3")
                if "worker | giving up" not in p.stderr:
                    fail(f"no log tail of the failed module:\n{p.stderr}")
                if ours(api):
                    fail(f"left running after a module exited: {ours(api)}")

                step("foreground run, SIGINT: stopped and removed, exit 130")
                proc = subprocess.Popen([EDGESHIP, "run", good] + host, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 120:
                    running = [c for c in ours(api) if c["State"] == "running"]
                    if len(running) == 2:
                        break
                    if proc.poll() is not None:
                        fail(f"foreground run ended early: {proc.returncode}\n{proc.stderr.read()}")
                    time.sleep(0.3)
                time.sleep(3)  # past the settle time: the command is in its foreground loop
                proc.send_signal(signal.SIGINT)
                try:
                    out, err = proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    fail("foreground run did not end within 60 s of SIGINT")
                if proc.returncode != 130 or ours(api):
                    fail(f"SIGINT: exit {proc.returncode}, left {ours(api)}\n{err}")
                if PASSWORD in out + err:
                    fail("the password appears in the foreground run's output")
                ok = True
            finally:
                eng.close()
    except common.TestFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
    finally:
        work.finish(ok)
    if ok:
        print("PASS", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
