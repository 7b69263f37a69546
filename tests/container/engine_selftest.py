#!/usr/bin/python3
"""e2e.container.engine_selftest: the container-test infrastructure works end to end (issue 13 item 4).

The Debian node base (make_base.sh, amd64, cached) is pushed to a local docker-registry as
library/node:20-bookworm-slim; a private dockerd (engine.py) pulls it and also loads it from a
docker-archive (skopeo copy oci:… docker-archive:…): the same image ID both ways. A container is created
from a hand-written deployment manifest by agent_create (createOptions in two chunks; env from the
manifest; PORT overridden with a free port), runs a tiny `node -e` HTTP server as the configured user
`node` (uid 1000, checked in /proc of the container's process), answers over 127.0.0.1, and stops on
SIGTERM within 10 s with exit code 0. After the engine is closed no dockerd/containerd of ours runs,
nothing is mounted under its directory and the directory is gone.
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

SERVER_JS = r"""
const http = require('http');
const port = Number(process.env.PORT);
const server = http.createServer((req, res) => {
  const body = JSON.stringify({uid: process.getuid(), gid: process.getgid(), greeting: process.env.GREETING,
                               port, node: process.version, cwd: process.cwd()});
  res.writeHead(200, {'Content-Type': 'application/json'});
  res.end(body);
});
server.listen(port, '127.0.0.1', () => console.log('listening on ' + port));
process.on('SIGTERM', () => { console.log('SIGTERM'); server.close(() => process.exit(0)); });
"""


def manifest(image):
    options = json.dumps({"User": "node", "WorkingDir": "/home/node", "Cmd": ["node", "-e", SERVER_JS],
                          "Env": ["GREETING=from createOptions"],
                          "HostConfig": {"PortBindings": {"8080/tcp": [{"HostPort": "8080"}]}}},
                         separators=(",", ":"))
    half = len(options) // 2
    return {"modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1",
            "runtime": {"type": "docker", "settings": {}},
            "systemModules": {},
            "modules": {"hello": {
                "version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
                "settings": {"image": image, "createOptions": options[:half], "createOptions01": options[half:]},
                "env": {"GREETING": {"value": "from env (createOptions wins)"}, "PORT": {"value": "8080"},
                        "FROM_ENV": {"value": "yes"}}}}}},
        "$edgeHub": {"properties.desired": {"schemaVersion": "1.1", "routes": {}}}}}


def main():
    if os.geteuid() != 0:
        print("SKIP: the container tests start dockerd and need root", file=sys.stderr)
        return 125
    engine.install_signal_handlers()
    work = common.Work("container-selftest")
    ok = False
    eng_root = None
    try:
        step("Debian node base (amd64; cached between runs)")
        with timed("make_base node amd64"):
            common.make_base("node", "amd64", work.path("base"))
        with common.Registry() as reg:
            step(f"push it to {reg.addr} under the official name")
            with timed("push_base"):
                ref = common.push_base("node", "amd64", reg.addr, work)
            if ref != f"{reg.addr}/library/node:20-bookworm-slim":
                fail(f"pushed as {ref}")
            step("docker-archive of the same base")
            archive = work.path("base.tar")
            common.run(["skopeo", "--policy", work.policy, "copy", "-q", f"oci:{work.path('base')}:amd64",
                        f"docker-archive:{archive}:selftest/node-base:archive"])

            with timed("engine start"):
                eng = engine.Engine(work.path("engine"), keep_logs_in=work.dir)
                eng.__enter__()
            eng_root = eng.root
            try:
                print(f"engine: dockerd {eng.api.version()['Version']} started in {eng.start_seconds:.2f} s",
                      file=sys.stderr)
                step("pull from the registry (plain HTTP on 127.0.0.1)")
                with timed("pull"):
                    eng.api.pull(f"{reg.addr}/library/node", "20-bookworm-slim")
                pulled = eng.api.image_inspect(ref)
                if pulled["Architecture"] != "amd64" or pulled["Os"] != "linux":
                    fail(f"pulled image is {pulled['Os']}/{pulled['Architecture']}")
                step("load the docker-archive")
                with timed("load"):
                    loaded = eng.api.load(archive)
                if "selftest/node-base:archive" not in loaded:
                    fail(f"load reported {loaded}")
                if eng.api.image_inspect("selftest/node-base:archive")["Id"] != pulled["Id"]:
                    fail("the loaded archive and the pulled image differ")

                step("create the module as the IoT Edge agent would, start it")
                m = manifest(ref)
                with open(work.path("deployment.amd64.json"), "w") as f:
                    json.dump(m, f, indent=2)
                port = common.free_port()
                cid, name, body = agent_create.create(eng.api, work.path("deployment.amd64.json"), port=port, start=True)
                if name != "hello":
                    fail(f"container name {name}")
                info = eng.api.inspect(cid)
                labels = info["Config"]["Labels"]
                if labels.get("net.azure-devices.edge.owner") != "Microsoft.Azure.Devices.Edge.Agent" or \
                        labels.get("net.azure-devices.edge.original-image") != ref:
                    fail(f"labels {labels}")
                env = info["Config"]["Env"]
                for want in ("GREETING=from createOptions", "FROM_ENV=yes", f"PORT={port}"):
                    if want not in env:
                        fail(f"container env lacks {want}: {env}")
                if info["HostConfig"]["NetworkMode"] != "host":
                    fail(f"network mode {info['HostConfig']['NetworkMode']}")

                def alive():
                    return eng.api.inspect(cid)["State"]["Running"]
                with timed("container answers"):
                    answer = common.wait_http(port, "/", 30, alive)
                print(f"container says {answer}", file=sys.stderr)
                if answer["uid"] != 1000 or answer["gid"] != 1000 or answer["port"] != port or \
                        answer["greeting"] != "from createOptions":
                    fail(f"unexpected answer {answer}")
                pid = eng.api.inspect(cid)["State"]["Pid"]
                uid, gid = common.proc_ids(pid)
                if (uid, gid) != (1000, 1000):
                    fail(f"the container's process runs as {uid}:{gid} on the host, not 1000:1000")

                step("SIGTERM: stopped within 10 s, exit code 0 (not killed)")
                t0 = time.monotonic()
                eng.api.stop(cid, t=10)
                dt = time.monotonic() - t0
                state = eng.api.inspect(cid)["State"]
                print(f"timing: stop {dt:.2f} s", file=sys.stderr)
                if dt >= 10 or state["ExitCode"] != 0 or state["Running"]:
                    fail(f"stop took {dt:.1f} s, state {state}")
                out, _ = eng.api.logs(cid)
                if f"listening on {port}" not in out or "SIGTERM" not in out:
                    fail(f"container log: {out!r}")
            finally:
                with timed("engine stop"):
                    eng.close()

        step("nothing left: no dockerd/containerd of ours, no mount, no directory")
        left = common.pids_naming(eng_root)
        if left:
            fail(f"processes left naming {eng_root}: {left}")
        if common.mounts_under(eng_root):
            fail(f"still mounted: {common.mounts_under(eng_root)}")
        if os.path.exists(eng_root):
            fail(f"{eng_root} still exists")
        ok = True
        print("PASS engine_selftest: " + ", ".join(f"{w} {t:.2f} s" for w, t in common.TIMINGS), file=sys.stderr)
    except (common.TestFailure, engine.EngineError, agent_create.ManifestError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
    finally:
        work.finish(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
