#!/usr/bin/python3
"""End-to-end tests of edgeship's IoT Hub commands against the strict HTTPS test double.

Usage: iothub_e2e.py EDGESHIP_EXE CASE     (CASE "list" prints the case names)
Each case starts its own double (fresh CA, free port on 127.0.0.1), runs the real binary, asserts on
exit codes, exact stdout/stderr lines and the double's request log, and stops the double.
"""

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import tempfile

SOURCE = os.environ.get("EDGESHIP_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "iothub_double"))
from harness import Double, OWNER_KEY  # noqa: E402

EXE = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Failed(Exception):
    pass


def expect(cond, msg, *context):
    if not cond:
        raise Failed(msg + "".join("\n--- context ---\n" + str(c) for c in context))


def manifest(image="localhost:5000/score:0.0.2-amd64", extra_env=None, big=None):
    score = {"version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
             "settings": {"image": image, "createOptions": "{\"HostConfig\":{\"PortBindings\":{\"8080/tcp\":[{\"HostPort\":\"8080\"}]}}}"}}
    if extra_env:
        score["env"] = extra_env
    m = {"modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1",
            "runtime": {"type": "docker", "settings": {"minDockerVersion": "v1.25", "loggingOptions": "",
                                                       "registryCredentials": {}}},
            "systemModules": {
                "edgeAgent": {"type": "docker", "settings": {"image": "mcr.microsoft.com/azureiotedge-agent:1.4",
                                                             "createOptions": "{}"}},
                "edgeHub": {"type": "docker", "status": "running", "restartPolicy": "always",
                            "settings": {"image": "mcr.microsoft.com/azureiotedge-hub:1.4",
                                         "createOptions": "{\"HostConfig\":{\"PortBindings\":{\"443/tcp\":[{\"HostPort\":\"443\"}]}}}"}}},
            "modules": {"score": score}}},
        "$edgeHub": {"properties.desired": {
            "schemaVersion": "1.2",
            "routes": {"scoreToIoTHub": "FROM /messages/modules/score/outputs/* INTO $upstream"},
            "storeAndForwardConfiguration": {"timeToLiveSecs": 7200}}}}}
    if big:
        m["modulesContent"]["score"] = {"properties.desired": big}
    return m


class Work:
    """A temporary working directory with manifests, and a way to run edgeship in it."""

    def __init__(self, hub=None):
        self.dir = tempfile.mkdtemp(prefix="iothub-e2e-")
        self.hub = hub
        atexit.register(shutil.rmtree, self.dir, True)

    def write(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content, indent=2))
        return path

    def run(self, args, env=None, hub_env=True, timeout=120):
        # 10 S1 units: the client-side budget (20 queries per minute per unit) would otherwise be spent by a
        # 100 ms --interval in 2 s and the wait would sit out the rest of the minute.
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "HOME": self.dir,
             "EDGESHIP_IOTHUB_RETRY_DELAY": "50ms", "EDGESHIP_IOTHUB_UNITS": "10"}
        if hub_env and self.hub is not None:
            e.update(self.hub.env())
        if env:
            e.update(env)
        e = {k: v for k, v in e.items() if v is not None}
        p = subprocess.run([EXE] + args, cwd=self.dir, env=e, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr


def hub_log(hub, exclude_control=True):
    return hub.log()


def paths(log):
    return ["%s %s %s" % (e["method"], e["path"], e["status"]) for e in log]


def error_lines(err):
    return [l for l in err.splitlines() if l.startswith("edgeship: error:")]


FAST = ["--interval", "100ms"]


# ---------------------------------------------------------------------------------------------
# deploy: the four agent outcomes, plus config errors
# ---------------------------------------------------------------------------------------------

@case
def deploy_success_wait():
    with Double({"devices": [{"id": "dev1", "delay": 0.4}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "--device", "dev1", "--manifest", m, "--wait", "--timeout", "20s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["outcome"] == "succeeded" and j["rollout"]["succeeded"] == 1 and j["rollout"]["targeted"] == 1, "summary", out)
        log = hub.log()
        post = [e for e in log if e["method"] == "POST"]
        expect(len(post) == 1 and post[0]["path"] == "/devices/dev1/applyConfigurationContent" and post[0]["status"] == 204,
               "one apply", paths(log))
        expect(post[0]["api_version"] == "2021-04-12", "api-version pinned", post[0])
        expect(post[0]["content_type"] == "application/json; charset=utf-8", "content type", post[0])
        expect(re.match(r"^edgeship/\S+ \(linux/\S+\)$", post[0]["user_agent"] or ""), "user agent", post[0])
        twin_reads = [e for e in log if e["method"] == "GET"]
        expect(twin_reads and all(e["path"] == "/twins/dev1/modules/%24edgeAgent" for e in twin_reads),
               "$edgeAgent percent-encoded in the path", paths(log))
        expect(len(twin_reads) >= 2, "polled until the agent reported", paths(log))
        state = hub.control("device", {"device": "dev1"})
        expect(state["twins"]["$edgeAgent"]["version"] == 2 and state["twins"]["$edgeHub"]["version"] == 2,
               "apply bumped $edgeAgent and $edgeHub desired versions", state)


@case
def deploy_success_text():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "20s"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        expect(out == "device dev1: 1/1 succeeded, 0 failed, 0 pending (targeted 1, applied 1)\n", "stdout", out)
        expect(err.splitlines()[0] == "applied %s to dev1" % m, "info line", err)


@case
def deploy_default_manifest_follows_the_solution_env():
    # Without --manifest, deploy reads where gen wrote: CONFIG_OUTPUT_DIR and DEFAULT_PLATFORM from the
    # solution's .env (issue 16: they were silently ignored), the environment over the file.
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        w.write(".env", "CONFIG_OUTPUT_DIR=out\nDEFAULT_PLATFORM=arm64v8\n")
        os.makedirs(os.path.join(w.dir, "out"))
        w.write("out/deployment.arm64v8.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1"])
        expect(rc == 0, "exit %d" % rc, out, err)
        expect(err.splitlines()[0] == "applied out/deployment.arm64v8.json to dev1", "info line", err)
        rc, out, err = w.run(["deploy", "-d", "dev1"], env={"DEFAULT_PLATFORM": "amd64"})
        expect(rc == 1 and "out/deployment.amd64.json" in err, "exit %d" % rc, out, err)


@case
def deploy_image_pull_failure():
    # A 500 that persists is retried by the agent (issue 14 rule 1): pending until --timeout, then exit 1
    # naming the device, the module and the agent's last message.
    with Double({"devices": [{"id": "dev1", "behavior": "image_pull_failure", "delay": 0.2}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "2s", "--json"] + FAST)
        expect(rc == 1, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["outcome"] == "timed_out" and j["rollout"]["pending"] == 1, "timed-out summary", out)
        f = j["rollout"]["pending_devices"][0]
        expect(f["device_id"] == "dev1" and "500 Failed, retrying" in f["reason"], "agent status 500", f)
        expect([mm["name"] for mm in f["modules"]] == ["score"], "module named", f)
        lines = error_lines(err)
        expect(len(lines) == 1 and "timed out" in lines[0] and "dev1: edge agent reports 500 Failed, retrying: "
               "Error calling Create module: failed to pull" in lines[0] and "score: " in lines[0], "one error line", err)


def deploy_wait_succeeds(scenario):
    """deploy --wait against one simulated agent that gets there in the end: exit 0, device succeeded."""
    with Double(scenario) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "15s"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        expect(out.startswith("device dev1: 1/1 succeeded"), "stdout", out)


@case
def deploy_slow_pull_succeeds():
    # 500 "The operation was canceled" while the pull runs, then 200: success (issue 14 rule 1).
    deploy_wait_succeeds({"devices": [{"id": "dev1", "behavior": "slow_pull"}], "pull_seconds": 1.0})


@case
def deploy_startup_backoff_succeeds():
    # One backoff at start-up (edgeHub not up yet) is not a failure (issue 14 rule 2).
    deploy_wait_succeeds({"devices": [{"id": "dev1", "behavior": "startup_backoff"}], "backoff_seconds": 0.8})


@case
def deploy_untagged_and_upstream_images_succeed():
    # The agent reports "x:latest" for "x" and the parent's host for "$upstream" (issue 14 rule 3).
    for image in ("localhost:5000/score", "$upstream:443/score:0.0.2-amd64"):
        with Double({"devices": [{"id": "dev1"}]}) as hub:
            w = Work(hub)
            m = w.write("m.json", manifest(image=image))
            rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "15s"] + FAST)
            expect(rc == 0, "exit %d for %r" % (rc, image), out, err)


@case
def deploy_crash_loop():
    with Double({"devices": [{"id": "dev1", "behavior": "crash_loop"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "20s"] + FAST)
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(out.startswith("device dev1: 0/1 succeeded, 1 failed, 0 pending (targeted 1, applied 1)\n"
                              "  dev1: failed: module failing: score: failed (exit code 139, 20 restarts)"), "stdout", out)
        lines = error_lines(err)
        expect(len(lines) == 1 and "dev1: module failing: score: failed" in lines[0], "error names device and module", err)


@case
def deploy_never_connects():
    with Double({"devices": [{"id": "dev1", "behavior": "never_connects"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "1s", "--interval", "300ms"])
        expect(rc == 1, "exit %d" % rc, out, err)
        lines = error_lines(err)
        expect(lines == ["edgeship: error: deploying to dev1: timed out after 1s: 0/1 succeeded, 0 failed, 1 pending "
                         "(targeted 1, applied 1); pending: dev1: the edge agent has not reported yet (device offline "
                         "or runtime not started)"], "timeout line", err)
        gets = [e for e in hub.log() if e["method"] == "GET"]
        expect(2 <= len(gets) <= 6, "bounded polling", paths(hub.log()))


@case
def deploy_config_error():
    with Double({"devices": [{"id": "dev1", "behavior": "config_error"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "20s"] + FAST)
        expect(rc == 1, "exit %d" % rc, out, err)
        expect("edge agent reports 400 ConfigFormatError" in err, "400 named", err)


@case
def deploy_report_hook_recovers():
    # The reported-state hook: the agent first reports the old version, then (after a delay) the new one.
    with Double({"devices": [{"id": "dev1", "behavior": "never_connects"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        hub.control("report", {"device": "dev1", "delay": 0.6, "reported": {
            "lastDesiredVersion": 2, "lastDesiredStatus": {"code": 200},
            "modules": {"score": {"runtimeStatus": "running", "settings": {"image": "localhost:5000/score:0.0.2-amd64"}}},
            "systemModules": {"edgeHub": {"runtimeStatus": "running",
                                          "settings": {"image": "mcr.microsoft.com/azureiotedge-hub:1.4"}}}}})
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "20s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        expect(json.loads(out)["outcome"] == "succeeded", "succeeded", out)


@case
def deploy_dry_run():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--dry-run"])
        expect(rc == 0, "exit %d" % rc, out, err)
        head = out.split("\n\n", 1)[0].splitlines()
        expect(head[0] == "POST %s/devices/dev1/applyConfigurationContent?api-version=2021-04-12" % hub.url, "request line", out)
        expect(head[1:4] == ["Content-Type: application/json; charset=utf-8", "Accept: application/json",
                             "Authorization: SharedAccessSignature sr=testhub.azure-devices.net&sig=<redacted>&se=<expiry>&skn=iothubowner"],
               "headers", out)
        expect(json.loads(out.split("\n\n", 1)[1]) == manifest(), "body is the manifest", out)
        expect(hub.log() == [], "no request sent", paths(hub.log()))


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------

@case
def unknown_device():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "nosuch", "-m", m])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: deploying %s to nosuch: POST %s/devices/nosuch/applyConfigurationContent: "
                                    "404 Not Found: DeviceNotFound: Device nosuch not found" % (m, hub.url)], "line", err)
        expect(len(hub.log()) == 1, "no retry on 404", paths(hub.log()))


@case
def unknown_device_json_error_form():
    with Double({"devices": [{"id": "dev1"}], "error_form": "json"}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--device", "nosuch"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: reading the status of device nosuch: GET %s/twins/nosuch/modules/%%24edgeAgent: "
                                    "404 Not Found: DeviceNotFound (404001): Device nosuch not found" % hub.url], "line", err)


@case
def not_an_edge_device():
    with Double({"devices": [{"id": "leaf", "edge": False}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deploy", "-d", "leaf", "-m", m])
        expect(rc == 1, "exit %d" % rc, out, err)
        lines = error_lines(err)
        expect(len(lines) == 1 and lines[0].endswith("400 Bad Request: ArgumentInvalid: Not an Azure IoT Edge device: leaf"),
               "line", err)


@case
def wrong_key():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        bad = hub.connection_string(key="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4=")
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m], env={"IOTHUB_CONNECTION_STRING": bad})
        expect(rc == 4, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: deploying %s to dev1: POST %s/devices/dev1/applyConfigurationContent: "
                                    "401 Unauthorized: IotHubUnauthorizedAccess: Unauthorized" % (m, hub.url)], "line", err)
        expect("hint: check the connection string's SharedAccessKey" in err, "hint", err)
        log = hub.log()
        expect(len(log) == 1 and log[0]["auth_error"] == "bad signature", "no retry on 401", log)
        expect("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4=" not in err + out, "key not printed", err)


@case
def unknown_policy():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        cs = "HostName=testhub.azure-devices.net;SharedAccessKeyName=nosuchpolicy;SharedAccessKey=" + OWNER_KEY
        rc, out, err = w.run(["status", "--device", "dev1"], env={"IOTHUB_CONNECTION_STRING": cs})
        expect(rc == 4, "exit %d" % rc, out, err)
        expect(hub.log()[0]["auth_error"] == "unknown policy", "double saw the unknown policy", hub.log())


@case
def clock_skew():
    with Double({"devices": [{"id": "dev1"}], "clock_offset": 7200}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--device", "dev1"])
        expect(rc == 4, "exit %d" % rc, out, err)
        expect(len(error_lines(err)) == 1 and "401 Unauthorized" in err, "one 401 line", err)
        expect(re.search(r"hint: the hub's clock is 7\d{3} s ahead of this machine's", err), "skew hint", err)
        expect(hub.log()[0]["auth_error"] == "expired", "token expired at the double", hub.log())


@case
def malformed_connection_string():
    w = Work()
    rc, out, err = w.run(["status", "--device", "dev1"], env={"IOTHUB_CONNECTION_STRING": "HostName=h.azure-devices.net;SharedAccessKeyName=p"})
    expect(rc == 4, "exit %d" % rc, out, err)
    expect(error_lines(err) == ["edgeship: error: env IOTHUB_CONNECTION_STRING: connection string: missing SharedAccessKey"], "line", err)


@case
def missing_connection_string():
    w = Work()
    rc, out, err = w.run(["device", "list"], env={"IOTHUB_CONNECTION_STRING": ""})
    expect(rc == 4, "exit %d" % rc, out, err)
    expect(error_lines(err) == ["edgeship: error: no IoT Hub connection string"], "line", err)
    expect("hint: set IOTHUB_CONNECTION_STRING" in err, "hint", err)


@case
def connection_string_from_file_and_dotenv():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        cs_file = w.write("cs.txt", hub.connection_string() + "\n")
        env = {"IOTHUB_CONNECTION_STRING": None}
        base = ["--hub-url", hub.url, "--ca-file", hub.ca]
        rc, out, err = w.run(["device", "show", "dev1", "--connection-string-file", cs_file] + base,
                             env=dict(env, EDGESHIP_IOTHUB_ENDPOINT=None, EDGESHIP_IOTHUB_CA_FILE=None), hub_env=False)
        expect(rc == 0 and "device id:   dev1" in out, "from file", out, err)
        w.write(".env", 'IOTHUB_CONNECTION_STRING="%s"\n' % hub.connection_string())
        rc, out, err = w.run(["device", "show", "dev1"] + base, env=env, hub_env=False)
        expect(rc == 0 and "device id:   dev1" in out, "from ./.env", out, err)
        w.write("other.env", 'IOTHUB_CONNECTION_STRING="%s"\n' % hub.connection_string())
        os.remove(os.path.join(w.dir, ".env"))
        rc, out, err = w.run(["--env-file", os.path.join(w.dir, "other.env"), "device", "show", "dev1"] + base, env=env, hub_env=False)
        expect(rc == 0 and "device id:   dev1" in out, "from --env-file", out, err)


@case
def forbidden_ids():
    w = Work()
    env = {"IOTHUB_CONNECTION_STRING": "HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=" + OWNER_KEY}
    rc, out, err = w.run(["status", "--device", "dev/1"], env=env)
    expect(rc == 2 and error_lines(err) == ["edgeship: error: device id 'dev/1': character '/' is not allowed"], "device id", err)
    rc, out, err = w.run(["deployment", "show", "score v2"], env=env)
    expect(rc == 2 and error_lines(err) == ["edgeship: error: deployment id 'score v2': character ' ' (space) is not allowed"],
           "deployment id", err)


@case
def over_twin_limits():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        long_value = w.write("long.json", manifest(extra_env={"BIG": {"value": "x" * 5000}}))
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", long_value, "--no-validate"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err)[0].endswith("400 Bad Request: ArgumentInvalid: Property or Tag value should be maximum 4096 bytes"),
               "4 KB rule", err)
        big = w.write("big.json", manifest(big={"k%03d" % i: "v" * 400 for i in range(100)}))
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", big, "--no-validate"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect("403 Forbidden: DeviceModelMaxPropertiesExceeded: 'Properties.Desired' size should be less than 32768 bytes"
               in err, "32 KB rule", err)
        dotted = w.write("dotted.json", manifest(extra_env={"A.B": {"value": "1"}}))
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", dotted, "--no-validate"])
        expect(rc == 1 and "contains an invalid character" in err, "key rule", err)
        expect(len(hub.log()) == 3, "no retries on 4xx", paths(hub.log()))


@case
def manifest_validation_blocks_deploy():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        bad = manifest()
        del bad["modulesContent"]["$edgeHub"]
        m = w.write("bad.json", bad)
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m])
        expect(rc == 3, "exit %d" % rc, out, err)
        expect(out.startswith("error: "), "findings on stdout", out)
        expect(error_lines(err) == ["edgeship: error: %s: manifest validation failed (%d error%s)" %
                                    (m, len(out.splitlines()), "" if len(out.splitlines()) == 1 else "s")], "line", err)
        expect(hub.log() == [], "nothing sent", paths(hub.log()))


@case
def not_a_manifest():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        m = w.write("x.json", "{ not json")
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m])
        expect(rc == 1 and error_lines(err)[0].startswith("edgeship: error: %s: not valid JSON: " % m), "json error", err)
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", os.path.join(w.dir, "missing.json")])
        expect(rc == 1 and len(error_lines(err)) == 1 and "missing.json" in err, "missing file", err)


# ---------------------------------------------------------------------------------------------
# transport: TLS, retries, throttling, storms
# ---------------------------------------------------------------------------------------------

@case
def tls_untrusted_without_ca():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--device", "dev1"], env={"EDGESHIP_IOTHUB_CA_FILE": None})
        expect(rc == 1, "exit %d" % rc, out, err)
        lines = error_lines(err)
        expect(len(lines) == 1 and lines[0].startswith("edgeship: error: reading the status of device dev1: GET %s/twins/dev1/modules/%%24edgeAgent: " % hub.url),
               "line", err)
        expect("hint: the server's TLS certificate is not trusted" in err, "tls hint", err)
        expect(hub.log() == [], "no request reached the double", paths(hub.log()))


@case
def https_only():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--device", "dev1", "--hub-url", "http://127.0.0.1:%d" % hub.port])
        expect(rc == 2, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: hub endpoint 'http://127.0.0.1:%d' is not an https:// URL" % hub.port], "line", err)


@case
def api_version_pinned_and_overridable():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["device", "show", "dev1", "--api-version", "2024-03-31"])
        expect(rc == 0 and hub.log()[-1]["api_version"] == "2024-03-31", "override accepted", out, err)
        rc, out, err = w.run(["device", "show", "dev1", "--api-version", "1999-01-01"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err)[0].endswith("400 Bad Request: ArgumentInvalid: api-version '1999-01-01' is not supported"), "400", err)


@case
def throttled_then_ok():
    with Double({"devices": [{"id": "dev1"}], "throttle": 2}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["-v", "deploy", "-d", "dev1", "-m", m])
        expect(rc == 0, "exit %d" % rc, out, err)
        log = hub.log()
        expect([e["status"] for e in log] == [429, 429, 204], "two 429s then success", paths(log))
        expect(err.count("debug: retrying POST %s/devices/dev1/applyConfigurationContent in " % hub.url) == 2, "retry lines", err)


@case
def throttled_forever_gives_up():
    with Double({"devices": [{"id": "dev1"}], "throttle": -1}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["deployment", "list"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: GET %s/configurations: 429 Too Many Requests: ThrottlingException: The "
                                    "request has been throttled. Wait 1 seconds and try again. Operation type: "
                                    "ConfigurationWrite (gave up after 4 attempts)" % hub.url], "line", err)
        expect("hint: the hub is throttling requests" in err, "hint", err)
        expect(len(hub.log()) == 4, "bounded retries", paths(hub.log()))


@case
def storm_503():
    with Double({"devices": [{"id": "dev1"}], "storm": {"status": 503, "count": -1}}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["device", "show", "dev1"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: GET %s/devices/dev1: 503 Service Unavailable: ServiceUnavailable: The "
                                    "service is temporarily unavailable (gave up after 4 attempts)" % hub.url], "line", err)
        expect(len(hub.log()) == 4, "4 attempts", paths(hub.log()))


@case
def server_error_and_timeout_retried():
    # 500 ServerError and 408 RequestTimeout are transient (the C# SDK's DetermineIfTransient,
    # docs/design/iothub-edge-agent.md): retried like 503.
    for status in (500, 408):
        with Double({"devices": [{"id": "dev1"}], "storm": {"status": status, "count": 2}}) as hub:
            w = Work(hub)
            rc, out, err = w.run(["device", "show", "dev1"])
            expect(rc == 0, "exit %d after two %d" % (rc, status), paths(hub.log()), err)
            expect([e["status"] for e in hub.log()] == [status, status, 200], "retried", paths(hub.log()))
    with Double({"devices": [{"id": "dev1"}], "storm": {"status": 500, "count": -1}}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["device", "show", "dev1"])
        expect(rc == 1 and len(hub.log()) == 4, "bounded", paths(hub.log()), err)
        expect(error_lines(err)[0].endswith("(gave up after 4 attempts)"), "gave up", err)


@case
def deployment_delete_retried_after_a_lost_answer():
    # The first DELETE lands but its answer is lost; libcurl resends it on a fresh connection (the GET's
    # keep-alive connection died) and meets 404: the deployment is gone, as asked.
    with Double({"fleet": fleet(1), "drop": {"method": "DELETE", "prefix": "/configurations/", "count": 1},
                 "configurations": [{"id": "v1", "schemaVersion": "2.0", "targetCondition": "tags.env='prod'",
                                     "content": {"modulesContent": manifest()["modulesContent"]}, "priority": 1}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["deployment", "delete", "v1"])
        expect(rc == 0 and out == "deleted deployment v1\n", "exit %d" % rc, out, err)
        expect(paths(hub.log()) == ["GET /configurations/v1 200", "DELETE /configurations/v1 0",
                                    "DELETE /configurations/v1 404"], "lost answer, then 404", paths(hub.log()))
        rc, out, err = w.run(["deployment", "delete", "v1", "--force"])
        expect(rc == 1 and "404 Not Found: ConfigurationNotFound" in err, "a 404 for an unseen deployment is an error", err)


@case
def connection_refused_retried():
    w = Work()
    with Double({}) as hub:
        env = hub.env(EDGESHIP_IOTHUB_CA_FILE=w.write("ca.pem", open(hub.ca).read()))
        port = hub.port
    # The double is gone: nothing listens on the port any more.
    rc, out, err = w.run(["device", "show", "dev1"], env=env)
    expect(rc == 1, "exit %d" % rc, out, err)
    lines = error_lines(err)
    expect(len(lines) == 1 and lines[0].startswith("edgeship: error: GET https://127.0.0.1:%d/devices/dev1: " % port) and
           lines[0].endswith("(gave up after 4 attempts)"), "line", err)


@case
def trace_redacts_secrets():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["-vv", "device", "show", "dev1", "--show-keys"])
        expect(rc == 0, "exit %d" % rc, out, err)
        auth = [l for l in err.splitlines() if l.startswith("trace: > Authorization:")]
        expect(len(auth) == 1 and re.fullmatch(r"trace: > Authorization: SharedAccessSignature sr=testhub\.azure-devices\.net"
                                               r"&sig=<redacted>&se=\d+&skn=iothubowner", auth[0]), "redacted auth", err)
        expect(OWNER_KEY not in err and "SharedAccessKey=" not in err, "no key in the trace", err)
        expect("(env IOTHUB_CONNECTION_STRING) iothub_connection_string = <redacted>" in err, "settings redacted", err)
        expect("trace: < 200 OK" in err, "response traced", err)


@case
def ctrl_c_stops_a_wait():
    import signal
    import time
    with Double({"devices": [{"id": "dev1", "behavior": "never_connects"}]}) as hub:
        w = Work(hub)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "HOME": w.dir}
        env.update(hub.env())
        p = subprocess.Popen([EXE, "status", "--device", "dev1", "--wait", "--timeout", "60s", "--interval", "200ms"],
                             cwd=w.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not [e for e in hub.log() if e["method"] == "GET"] and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Failed("edgeship did not stop within 10 s of Ctrl-C")
        expect(p.returncode == 130, "exit %d" % p.returncode, out, err)
        expect(time.monotonic() - started < 5, "stopped promptly")
        expect(error_lines(err) == ["edgeship: error: interrupted"], "line", err)


# ---------------------------------------------------------------------------------------------
# deployments
# ---------------------------------------------------------------------------------------------

def fleet(n, behavior="success", prefix="dev", **kw):
    d = {"count": n, "prefix": prefix, "tags": {"env": "prod"}, "behavior": behavior}
    d.update(kw)
    return d


@case
def deployment_lifecycle():
    with Double({"fleet": fleet(3)}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deployment", "create", "Score-V1", "-m", m, "-t", "tags.env='prod'", "-p", "10",
                              "--label", "app=score", "--metric", "ok=SELECT deviceId FROM devices WHERE tags.env='prod'",
                              "--wait", "--timeout", "20s"] + FAST)
        expect(rc == 0, "create exit %d" % rc, out, err)
        expect(out.startswith("created deployment score-v1 (priority 10, target condition tags.env='prod')\n"
                              "deployment score-v1: 3/3 succeeded"), "create output", out)
        put = [e for e in hub.log() if e["method"] == "PUT"]
        expect(len(put) == 1 and put[0]["path"] == "/configurations/score-v1" and put[0]["if_match"] is None and
               put[0]["status"] == 200, "create without If-Match (the hub answers 200), lower-cased id", put)
        rc, out, err = w.run(["deployment", "list"])
        expect(rc == 0 and out.splitlines()[0] == "ID\tPRIORITY\tTARGET CONDITION\tCREATED\tLABELS" and
               out.splitlines()[1].startswith("score-v1\t10\ttags.env='prod'\t"), "list", out, err)
        rc, out, err = w.run(["deployment", "show", "score-v1", "--json"])
        cfg = json.loads(out)
        expect(rc == 0 and cfg["etag"] == "MQ==" and "systemMetrics" in cfg, "show", out)
        rc, out, err = w.run(["deployment", "update", "score-v1", "--priority", "20"])
        expect(rc == 0 and out == "updated deployment score-v1 (etag Mg==)\n", "update", out, err)
        upd = [e for e in hub.log() if e["method"] == "PUT"][-1]
        expect(upd["if_match"] == '"MQ=="', "quoted If-Match", upd)
        rc, out, err = w.run(["deployment", "status", "score-v1", "--json"])
        j = json.loads(out)
        expect(rc == 0 and j["targeted"] == 3 and j["succeeded"] == 3 and j["metrics"] == {"ok": 3}, "status", out, err)
        rc, out, err = w.run(["deployment", "delete", "score-v1"])
        expect(rc == 0 and out == "deleted deployment score-v1\n", "delete", out, err)
        dele = [e for e in hub.log() if e["method"] == "DELETE"]
        expect(dele[0]["if_match"] == '"Mg=="' and dele[0]["status"] == 204, "delete with the current quoted etag", dele)
        expect(hub.control("configs") == [], "gone", hub.control("configs"))


@case
def deployment_update_stale_etag_and_force():
    with Double({"fleet": fleet(1), "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 1}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["deployment", "update", "v1", "-p", "5", "--etag", "Nzc="])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err)[0].endswith("412 Precondition Failed: PreconditionFailed: etag mismatch for configuration v1"), "412", err)
        expect("hint: deployment v1 changed since it was read" in err, "hint", err)
        rc, out, err = w.run(["deployment", "delete", "v1", "--force"])
        expect(rc == 0 and [e for e in hub.log() if e["method"] == "DELETE"][0]["if_match"] == "*", "force uses *", err)


@case
def deployment_update_answer_lost():
    # The update lands but its answer is lost; the resent PUT meets 412 (the etag moved on): the hub's copy is
    # what was sent, so the update succeeded.
    with Double({"fleet": fleet(1), "drop": {"method": "PUT", "prefix": "/configurations/", "count": 1},
                 "configurations": [{"id": "v1", "schemaVersion": "2.0", "targetCondition": "tags.env='prod'",
                                     "content": {"modulesContent": manifest()["modulesContent"]}, "priority": 1}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["deployment", "update", "v1", "-p", "5"])
        expect(rc == 0 and out == "updated deployment v1 (etag Mg==)\n", "exit %d" % rc, out, err)
        expect(paths(hub.log()) == ["GET /configurations/v1 200", "PUT /configurations/v1 0", "PUT /configurations/v1 412",
                                    "GET /configurations/v1 200"], "lost answer, 412, compare", paths(hub.log()))
        rc, out, err = w.run(["deployment", "update", "v1", "-p", "6", "--etag", "MQ=="])
        expect(rc == 1 and "412 Precondition Failed" in err, "a stale etag is still a 412", out, err)


@case
def deployment_create_conflict():
    with Double({"fleet": fleet(1)}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        args = ["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "1"]
        expect(w.run(args)[0] == 0, "first create")
        rc, out, err = w.run(args)
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: creating deployment v1: deployment v1 already exists: PUT %s/configurations/v1: "
                                    "409 Conflict: ConfigurationAlreadyExists: Configuration with id 'v1' already exists." % hub.url],
               "line", err)
        expect("--replace v1" in err, "replace hint", err)


@case
def deployment_create_retry_meets_own_409():
    with Double({"fleet": fleet(1), "drop": {"method": "PUT", "prefix": "/configurations/", "count": 1}}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "1"])
        expect(rc == 0, "exit %d" % rc, out, err)
        expect("the deployment on the hub is the one this run created" in err, "confirmed", err)
        expect(paths(hub.log()) == ["PUT /configurations/v1 0", "PUT /configurations/v1 409", "GET /configurations/v1 200"],
               "dropped answer, 409 on retry, GET to compare", paths(hub.log()))


@case
def deployment_create_retry_meets_foreign_409():
    with Double({"fleet": fleet(1), "storm": {"status": 503, "count": 1}, "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest(image="other:1")["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 1}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "1"])
        expect(rc == 1, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: creating deployment v1: deployment v1 already exists with different "
                                    "content (it was not created by this run)"], "line", err)


@case
def deployment_replace_safely():
    with Double({"fleet": fleet(3, delay=0.3), "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest(image="score:1")["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest(image="score:2"))
        rc, out, err = w.run(["deployment", "create", "v2", "-m", m, "-t", "tags.env='prod'", "--replace", "v1",
                              "--timeout", "30s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["deployment"]["priority"] == 11 and j["old_deleted"] is True and j["outcome"] == "succeeded", "result", out)
        log = hub.log()
        order = [(e["method"], e["path"]) for e in log if e["method"] != "POST"]
        expect(order[0] == ("GET", "/configurations/v1") and order[1] == ("PUT", "/configurations/v2") and
               order[-1] == ("DELETE", "/configurations/v1"), "read old, create new, delete old last", paths(log))
        expect([e for e in log if e["method"] == "DELETE"][0]["if_match"] == '"MQ=="', "old etag quoted", paths(log))
        # Every poll before the delete: the last query page before the DELETE saw all succeeded (the CLI only deletes then).
        expect(hub.control("configs") == ["v2"], "only v2 left", hub.control("configs"))
        for i in range(3):
            state = hub.control("device", {"device": "dev%05d" % i})
            img = state["twins"]["$edgeAgent"]["desired"]["modules"]["score"]["settings"]["image"]
            # v1's entry goes once the hub re-evaluates target conditions (asynchronously, a little later).
            expect(img == "score:2" and state["configurations"].get("v2") == "Applied", "device runs v2", state)


@case
def deployment_replace_untagged_slow_pull_and_backoff():
    # An untagged image, a slow pull (500s then 200) and a start-up backoff all succeed, so the old
    # deployment is deleted (issue 14 rules 1-3).
    with Double({"fleet": fleet(2), "pull_seconds": 1.0, "backoff_seconds": 0.8, "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest(image="score:1")["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        hub.control("set", {"devices": [{"id": "dev00000", "behavior": "slow_pull"},
                                        {"id": "dev00001", "behavior": "startup_backoff"}]})
        m = w.write("m.json", manifest(image="score"))
        rc, out, err = w.run(["deployment", "create", "v2", "-m", m, "-t", "tags.env='prod'", "--replace", "v1",
                              "--timeout", "15s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["old_deleted"] is True and j["outcome"] == "succeeded", "result", out)
        expect(hub.control("configs") == ["v2"], "only v2 left", hub.control("configs"))


@case
def deployment_replace_keeps_old_on_failure():
    with Double({"fleet": fleet(2), "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest(image="score:1")["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        hub.control("set", {"devices": [{"id": "dev00001", "behavior": "crash_loop"}]})
        m = w.write("m.json", manifest(image="score:2"))
        rc, out, err = w.run(["deployment", "create", "v2", "-m", m, "-t", "tags.env='prod'", "--replace", "v1",
                              "--timeout", "20s"] + FAST)
        expect(rc == 1, "exit %d" % rc, out, err)
        lines = error_lines(err)
        expect(len(lines) == 1 and lines[0].startswith("edgeship: error: deployment v2 failed on 1 of 2 devices: dev00001: "
                                                       "module failing: score: failed"), "line", err)
        expect("hint: v1 was kept; to roll back, delete the new one: edgeship deployment delete v2" in err, "hint", err)
        expect(sorted(hub.control("configs")) == ["v1", "v2"], "old kept", hub.control("configs"))
        expect(not [e for e in hub.log() if e["method"] == "DELETE"], "nothing deleted", paths(hub.log()))


@case
def deployment_replace_priority_must_be_higher():
    with Double({"fleet": fleet(1), "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest())
        rc, out, err = w.run(["deployment", "create", "v2", "-m", m, "-t", "tags.env='prod'", "--replace", "v1", "-p", "5"])
        expect(rc == 2, "exit %d" % rc, out, err)
        expect(error_lines(err) == ["edgeship: error: --priority 5 must be higher than v1's priority 10"], "line", err)


@case
def deployment_status_pages():
    with Double({"fleet": fleet(25), "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        hub.control("set", {"devices": [{"id": "dev00007", "behavior": "config_error"}]})
        # Let the simulated agents report (delay 0).
        rc, out, err = w.run(["deployment", "status", "v1", "--page-size", "10", "--json"])
        expect(rc == 1, "exit %d (one device failed)" % rc, out, err)
        j = json.loads(out)
        expect(j["targeted"] == 25 and j["succeeded"] == 24 and j["failed"] == 1 and
               j["failures"][0]["device_id"] == "dev00007", "summary", out)
        log = hub.log()
        queries = [e for e in log if e["path"] == "/devices/query"]
        expect(len(queries) == 3, "ceil(25/10) = 3 query requests, never one per device", paths(log))
        expect([q["max_item_count"] for q in queries] == ["10"] * 3, "page size sent", queries)
        expect(queries[0]["continuation"] is None and queries[1]["continuation"] and queries[2]["continuation"],
               "continuation followed", queries)
        expect(len(log) == 4, "1 + pages requests", paths(log))
        expect(error_lines(err) == ["edgeship: error: deployment v1 failed on 1 of 25 devices"], "line", err)


@case
def status_fleet_wait_mixed():
    with Double({"devices": [
            {"id": "a", "tags": {"env": "prod"}},
            {"id": "b", "tags": {"env": "prod"}, "behavior": "crash_loop"},
            {"id": "c", "tags": {"env": "prod"}, "behavior": "config_error"},
            {"id": "d", "tags": {"env": "dev"}}], "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--deployment", "v1", "--wait", "--timeout", "20s", "--json"] + FAST)
        expect(rc == 1, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect((j["targeted"], j["applied"], j["succeeded"], j["failed"]) == (3, 3, 1, 2), "counts", out)
        names = {f["device_id"]: [m["name"] for m in f["modules"]] for f in j["failures"]}
        expect(names == {"b": ["score"], "c": ["score"]}, "devices and modules named", out)
        lines = error_lines(err)
        expect(len(lines) == 1 and lines[0].startswith("edgeship: error: deployment v1 failed on 2 of 3 devices: b: module "
                                                       "failing: score: failed"), "line", err)


@case
def status_fleet_wait_slow_pull_and_startup_backoff_succeed():
    # 500 then 200, and one start-up backoff, are in progress, not failures (issue 14 rules 1 and 2).
    with Double({"devices": [
            {"id": "a", "tags": {"env": "prod"}, "behavior": "slow_pull"},
            {"id": "b", "tags": {"env": "prod"}, "behavior": "startup_backoff"}],
            "pull_seconds": 1.0, "backoff_seconds": 0.8, "configurations": [
            {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 10}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--deployment", "v1", "--wait", "--timeout", "15s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect((j["targeted"], j["succeeded"], j["failed"]) == (2, 2, 0), "counts", out)


@case
def status_device_pending_is_not_an_error():
    with Double({"devices": [{"id": "dev1"}]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["status", "--device", "dev1"])
        expect(rc == 0, "exit %d" % rc, out, err)
        expect(out == "device dev1: 0/1 succeeded, 0 failed, 1 pending (targeted 1, applied 1)\n"
                      "  dev1: pending: the edge agent has not reported yet (device offline or runtime not started)\n",
               "stdout", out)


@case
def layered_deployment():
    with Double({"fleet": fleet(2), "configurations": [
            {"id": "base", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
             "targetCondition": "tags.env='prod'", "priority": 1}]}) as hub:
        w = Work(hub)
        layer = {"modulesContent": {"$edgeAgent": {"properties.desired.modules.extra": {
            "version": "1.0", "type": "docker", "status": "running", "restartPolicy": "always",
            "settings": {"image": "extra:1", "createOptions": "{}"}}}, "$edgeHub": {}}}
        m = w.write("layer.json", layer)
        rc, out, err = w.run(["deployment", "create", "extra", "-m", m, "-t", "tags.env='prod'", "-p", "5", "--layered",
                              "--wait", "--timeout", "20s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        state = hub.control("device", {"device": "dev00000"})
        mods = state["twins"]["$edgeAgent"]["desired"]["modules"]
        expect(sorted(mods) == ["extra", "score"] and state["configurations"] == {"base": "Applied", "extra": "Applied"},
               "layer merged over the base", state)


# ---------------------------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------------------------

@case
def device_create_show_list():
    with Double({"fleet": fleet(12, prefix="d")}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["device", "create", "edge-1", "--edge", "--json"])
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["capabilities"]["iotEdge"] is True and j["authentication"]["symmetricKey"]["primaryKey"] == "<redacted>",
               "created, keys redacted", out)
        put = [e for e in hub.log() if e["method"] == "PUT"][0]
        expect(put["path"] == "/devices/edge-1" and put["status"] == 200, "PUT /devices/{id}", put)
        rc, out, err = w.run(["device", "create", "edge-1", "--edge"])
        expect(rc == 1 and "409 Conflict: DeviceAlreadyExists" in err, "duplicate", err)
        rc, out, err = w.run(["device", "show", "edge-1", "--show-keys", "--json"])
        expect(rc == 0 and json.loads(out)["authentication"]["symmetricKey"]["primaryKey"] != "<redacted>", "--show-keys", out)
        hub.control("reset_stats")
        rc, out, err = w.run(["device", "list", "--page-size", "5", "--json"])
        expect(rc == 0 and len(json.loads(out)) == 13, "13 devices", out, err)
        expect(len(hub.log()) == 3, "ceil(13/5) pages", paths(hub.log()))
        rc, out, err = w.run(["device", "create", "leaf-1"])
        expect(rc == 0 and out == "created device leaf-1\n", "non-edge", out, err)
        rc, out, err = w.run(["device", "list", "--edge-only"])
        expect(rc == 0 and "leaf-1" not in out and out.splitlines()[0] == "DEVICE ID\tEDGE\tSTATUS\tCONNECTION", "edge only", out)


# ---------------------------------------------------------------------------------------------
# the double's own rules (so the client tests above can fail for the right reasons)
# ---------------------------------------------------------------------------------------------

@case
def double_enforces_its_rules():
    cfg = {"id": "v1", "schemaVersion": "2.0", "content": {"modulesContent": manifest()["modulesContent"]},
           "targetCondition": "tags.env='prod'", "priority": 1}
    with Double({"devices": [{"id": "dev1"}], "free": True, "targeting_seconds": 0.2,
                 "configurations": [dict(cfg, id="c%d" % i) for i in range(9)]}) as hub:
        v = "?api-version=2021-04-12"
        for path in ("/twins/dev1/modules/$edgeAgent", "/twins/dev1/modules/%24edgeAgent"):
            st, _, _ = hub.request("GET", path + v)
            expect(st == 200, "raw and encoded ids: %s -> %d" % (path, st))
        st, h, body = hub.request("GET", "/twins/dev1/modules/nosuch" + v)
        expect(st == 404 and h.get("iothub-errorcode") == "ModuleNotFound", "ModuleNotFound", st, h)
        st, h, _ = hub.request("GET", "/twins/dev1/modules/%24edgeAgent")
        expect(st == 400, "missing api-version", st)
        st, _, _ = hub.request("GET", "/twins/dev1/modules/%24edgeAgent?api-version=2024-03-31")
        expect(st == 200, "2024-03-31 accepted", st)
        # sr with a path: a segment prefix, signed with %2F or %2f
        for lower in (False, True):
            tok = hub.sas_token("testhub.azure-devices.net/twins/dev1", lowercase_escapes=lower)
            st, _, _ = hub.request("GET", "/twins/dev1/modules/%24edgeAgent" + v, token=tok)
            expect(st == 200, "path-scoped token (lower=%s)" % lower, st)
        tok = hub.sas_token("testhub.azure-devices.net/twins/dev")
        st, _, _ = hub.request("GET", "/twins/dev1/modules/%24edgeAgent" + v, token=tok)
        expect(st == 401, "sr must be a segment prefix", st)
        st, _, _ = hub.request("GET", "/devices/dev1" + v, token=hub.sas_token(ttl=-10))
        expect(st == 401, "expired token", st)
        st, _, body = hub.request("POST", "/devices/dev1/applyConfigurationContent" + v, body=b"{not json")
        expect(st == 400 and "not JSON" in body["Message"], "non-JSON body", st, body)
        st, _, _ = hub.request("POST", "/devices/dev1/applyConfigurationContent" + v, body=manifest(),
                               headers={"Content-Type": "text/plain"})
        expect(st == 400, "content type", st)
        # createOptions chunks must be contiguous
        gap = manifest()
        gap["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["score"]["settings"]["createOptions02"] = "x"
        st, _, body = hub.request("POST", "/devices/dev1/applyConfigurationContent" + v, body=gap)
        expect(st == 400 and "not contiguous" in body["Message"], "createOptions gap", st, body)
        # configurations: create-only, quoted etags, immutable content, If-Match on delete, free cap of 10
        st, _, body = hub.request("PUT", "/configurations/v1" + v, body=cfg)
        expect(st == 200 and body["etag"] == "MQ==" and "createdTimeUtc" in body and
               sorted(body["systemMetrics"]["queries"]) == ["appliedCount", "reportedFailedCount",
                                                            "reportedSuccessfulCount", "targetedCount"], "create", st, body)
        st, h, _ = hub.request("PUT", "/configurations/v1" + v, body=cfg)
        expect(st == 409 and h["iothub-errorcode"] == "ConfigurationAlreadyExists", "create-only", st)
        st, _, _ = hub.request("PUT", "/configurations/v1" + v, body=dict(cfg, priority=2), headers={"If-Match": "MQ=="})
        expect(st == 409, "unquoted If-Match", st)
        st, _, _ = hub.request("PUT", "/configurations/v1" + v, body=dict(cfg, priority=2), headers={"If-Match": '"Mg=="'})
        expect(st == 412, "stale etag", st)
        changed = json.loads(json.dumps(cfg))
        changed["content"]["modulesContent"]["$edgeHub"]["properties.desired"]["schemaVersion"] = "1.1"
        st, _, body = hub.request("PUT", "/configurations/v1" + v, body=changed, headers={"If-Match": "*"})
        expect(st == 400 and "cannot be updated" in body["Message"], "content immutable", st, body)
        st, _, _ = hub.request("PUT", "/configurations/v2" + v, body=dict(cfg, id="v2"))
        expect(st == 403, "free hub: 10 configurations at most", st)
        for if_match in ('"*"', "*"):  # quoted and bare * both mean any etag
            st, _, _ = hub.request("PUT", "/configurations/v1" + v, body=dict(cfg, priority=3),
                                   headers={"If-Match": if_match})
            expect(st == 200, "If-Match %s" % if_match, st)
        st, _, _ = hub.request("DELETE", "/configurations/v1" + v, headers={"If-Match": '"MQ=="'})
        expect(st == 412, "delete with a stale etag", st)
        st, _, _ = hub.request("DELETE", "/configurations/v1" + v)
        expect(st == 204, "delete without If-Match", st)
        st, h, body = hub.request("GET", "/configurations/v1" + v)
        expect(st == 404 and h["iothub-errorcode"] == "ConfigurationNotFound", "gone", st, h)
        hub.control("set", {"error_form": "json"})
        st, h, body = hub.request("DELETE", "/configurations/v1" + v)
        expect(st == 404 and json.loads(body["Message"])["errorCode"] == 404301,
               "ConfigurationNotFound is 404301 (IotHubServiceErrorCode.cs:160)", st, body)
        st, h, body = hub.request("GET", "/devices/nosuch" + v)
        expect(st == 404 and json.loads(body["Message"])["errorCode"] == 404001, "DeviceNotFound is 404001", st, body)
        hub.control("set", {"error_form": "classic"})
        # query paging
        st, h, body = hub.request("POST", "/devices/query" + v, body={"query": "SELECT * FROM devices.modules"},
                                  headers={"x-ms-max-item-count": "1"})
        expect(st == 200 and len(body) == 1 and h.get("x-ms-continuation"), "first page", st, h)
        st, h2, body2 = hub.request("POST", "/devices/query" + v, body={"query": "SELECT * FROM devices.modules"},
                                    headers={"x-ms-max-item-count": "1", "x-ms-continuation": h["x-ms-continuation"]})
        expect(st == 200 and len(body2) == 1 and body2 != body and not h2.get("x-ms-continuation"), "last page", st, h2)
        # throttle mode: header, body and Retry-After agree
        hub.control("set", {"throttle": 1})
        st, h, body = hub.request("GET", "/devices/dev1" + v)
        expect(st == 429 and h.get("iothub-errorcode") == "ThrottlingException" and h.get("Retry-After") == "1" and
               body["Message"].startswith("ErrorCode:ThrottlingException;The request has been throttled. Wait 1 seconds"),
               "429", h, body)
        # target conditions: the query grammar's forms, evaluated a little later (asynchronously)
        for cond, want in (("*", True), ("deviceId IN ['dev1', 'dev2']", True), ("deviceId NIN ['dev1']", False),
                           ("STARTSWITH(deviceId, 'dev')", True), ("tags.env = 'x' OR deviceId = 'dev1'", True),
                           ("properties.reported.nothing = 1 AND deviceId = 'dev1'", False)):
            hub.request("DELETE", "/configurations/t1" + v)
            st, _, body = hub.request("PUT", "/configurations/t1" + v, body=dict(cfg, id="t1", targetCondition=cond,
                                                                                 priority=50))
            expect(st == 200, "condition %r accepted" % cond, st, body)
            if cond == "*":  # the first: nothing was targeted by t1 before
                expect("t1" not in hub.control("device", {"device": "dev1"})["configurations"],
                       "targeting is not immediate", cond)
            time.sleep(0.25)  # targeting_seconds 0.2: the next request runs the evaluation
            hub.request("GET", "/devices/dev1" + v)
            seen = "t1" in hub.control("device", {"device": "dev1"})["configurations"]
            expect(seen == want, "condition %r targets dev1: %s" % (cond, want), seen)


# ---------------------------------------------------------------------------------------------
# every --wait path against every simulated agent (issue 14): slow pull, one start-up backoff, image
# normalisation ($upstream and untagged), an agent before 1.2.0, and a crash loop
# ---------------------------------------------------------------------------------------------

# "$upstream:443/score": untagged and nested; the agent reports "parent.local:443/score:latest".
AGENT_IMAGE = "$upstream:443/score"
AGENT_TIMINGS = {"pull_seconds": 0.8, "backoff_seconds": 0.6, "restart_seconds": 0.05, "targeting_seconds": 0.3}
SUCCESS_AGENTS = [("slow", "slow_pull"), ("backoff", "startup_backoff"), ("old", "old_agent"), ("plain", "success")]


def agents_scenario(agents, target="tags.env='none'", configurations=()):
    """Devices tagged env=prod with the given behaviours; v0 (the same content as AGENT_IMAGE's manifest)
    applied to them at priority 5 unless `target` says otherwise."""
    sc = dict(AGENT_TIMINGS)
    sc["devices"] = [{"id": i, "tags": {"env": "prod"}, "behavior": b} for i, b in agents]
    sc["configurations"] = [{"id": "v0", "schemaVersion": "2.0", "priority": 5, "targetCondition": target,
                             "content": {"modulesContent": manifest(image=AGENT_IMAGE)["modulesContent"]}}]
    sc["configurations"] += list(configurations)
    return sc


def baseline(w):
    """status --deployment v0 --wait: every agent (the old one included) reconciles v0 first."""
    rc, out, err = w.run(["status", "--deployment", "v0", "--wait", "--timeout", "15s", "--json"] + FAST)
    expect(rc == 0, "baseline status --wait exit %d" % rc, out, err)
    j = json.loads(out)
    expect(j["targeted"] == len(SUCCESS_AGENTS) and j["succeeded"] == len(SUCCESS_AGENTS), "baseline", out)


def expect_agents_succeeded(rollout, out, err):
    expect(rollout["targeted"] == len(SUCCESS_AGENTS) and rollout["succeeded"] == len(SUCCESS_AGENTS) and
           rollout["failed"] == 0 and rollout["complete"] is True, "every agent succeeded", out, err)
    notes = rollout["notes"]
    expect(len(notes) == 1 and notes[0].startswith("old: edge agent 1.1.18 (before 1.2.0) keeps lastDesiredVersion "),
           "the old agent's kept lastDesiredVersion is accepted and said", out)


def expect_crash_named(rc, out, err, started, timeout_s, device="crash"):
    took = time.monotonic() - started
    expect(rc == 1, "exit %d" % rc, out, err)
    lines = error_lines(err)
    expect(len(lines) == 1 and ("%s: module failing: score: failed (exit code 139, 20 restarts)" % device) in lines[0] and
           "timed out" not in lines[0], "one line naming the device, the module and its last state", err)
    expect(took < timeout_s - 2, "failed before the timeout (%.1fs of %ds)" % (took, timeout_s), err)


CRASH_AGENTS = [("crash", "crash_loop"), ("plain", "success")]


@case
def wait_deploy_old_agent_identical_manifest():
    # An agent before 1.2.0 keeps lastDesiredVersion when an identical manifest is applied again
    # (Azure/iotedge#4166): deploy --wait accepts it and says so.
    with Double({"devices": [{"id": "dev1", "behavior": "old_agent"}]}) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        for attempt in (1, 2):
            rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "15s", "--json"] + FAST)
            expect(rc == 0, "deploy %d: exit %d" % (attempt, rc), out, err)
            j = json.loads(out)
            expect(j["outcome"] == "succeeded", "succeeded", out)
        expect(len(j["rollout"]["notes"]) == 1 and "before 1.2.0" in j["rollout"]["notes"][0], "note", out)
        twin = hub.control("device", {"device": "dev1"})
        expect(twin["twins"]["$edgeAgent"]["version"] == 3, "desired version 3 after two applies", twin)
        rc, out, err = w.run(["deploy", "-d", "dev1", "-m", m, "--wait", "--timeout", "15s"] + FAST)
        expect(rc == 0 and "  note: dev1: edge agent 1.1.18 (before 1.2.0) keeps lastDesiredVersion 2" in out,
               "the note in text output", out, err)


@case
def wait_status_device_every_agent():
    # status --device --wait after a deploy without --wait, for each agent.
    agents = SUCCESS_AGENTS + [("crash", "crash_loop")]
    sc = dict(AGENT_TIMINGS, devices=[{"id": i, "behavior": b} for i, b in agents])
    with Double(sc) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        rc, out, err = w.run(["deploy", "-d", "old", "-m", m, "--wait", "--timeout", "15s"] + FAST)
        expect(rc == 0, "first apply to the old agent: exit %d" % rc, out, err)
        for dev, _ in agents:
            rc, out, err = w.run(["deploy", "-d", dev, "-m", m])
            expect(rc == 0, "deploy %s: exit %d" % (dev, rc), out, err)
            started = time.monotonic()
            rc, out, err = w.run(["status", "-d", dev, "--wait", "--timeout", "15s", "--json"] + FAST)
            if dev == "crash":
                expect_crash_named(rc, out, err, started, 15)
                continue
            expect(rc == 0, "status %s: exit %d" % (dev, rc), out, err)
            j = json.loads(out)
            expect(j["succeeded"] == 1, "%s succeeded" % dev, out)
            expect(bool(j["notes"]) == (dev == "old"), "a note only for the old agent", out)


@case
def wait_deployment_create_every_agent():
    with Double(agents_scenario(SUCCESS_AGENTS, target="tags.env='prod'")) as hub:
        w = Work(hub)
        baseline(w)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "10", "--wait",
                              "--timeout", "15s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["outcome"] == "succeeded", "outcome", out)
        expect_agents_succeeded(j["rollout"], out, err)


@case
def wait_deployment_create_crash_loop():
    with Double(agents_scenario(CRASH_AGENTS)) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        started = time.monotonic()
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "10", "--wait",
                              "--timeout", "20s"] + FAST)
        expect_crash_named(rc, out, err, started, 20)
        expect(error_lines(err)[0].startswith("edgeship: error: deployment v1 failed on 1 of 2 devices: "), "line", err)


@case
def wait_deployment_update_every_agent():
    # v1 holds the same content but targets nobody; update --wait points it at the fleet at a higher priority.
    v1 = {"id": "v1", "schemaVersion": "2.0", "priority": 10, "targetCondition": "tags.env='none'",
          "content": {"modulesContent": manifest(image=AGENT_IMAGE)["modulesContent"]}}
    with Double(agents_scenario(SUCCESS_AGENTS, target="tags.env='prod'", configurations=[v1])) as hub:
        w = Work(hub)
        baseline(w)
        rc, out, err = w.run(["deployment", "update", "v1", "-t", "tags.env='prod'", "--wait", "--timeout", "15s",
                              "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["outcome"] == "succeeded" and j["deployment"]["targetCondition"] == "tags.env='prod'", "outcome", out)
        expect_agents_succeeded(j["rollout"], out, err)
        puts = [e for e in hub.log() if e["method"] == "PUT"]
        expect(len(puts) == 1 and puts[0]["if_match"] == '"MQ=="', "one update with the quoted etag", paths(hub.log()))


@case
def wait_deployment_update_crash_loop():
    v1 = {"id": "v1", "schemaVersion": "2.0", "priority": 10, "targetCondition": "tags.env='none'",
          "content": {"modulesContent": manifest(image="score:2")["modulesContent"]}}
    with Double(agents_scenario(CRASH_AGENTS, configurations=[v1])) as hub:
        w = Work(hub)
        started = time.monotonic()
        rc, out, err = w.run(["deployment", "update", "v1", "-t", "tags.env='prod'", "--wait", "--timeout", "20s"] + FAST)
        expect_crash_named(rc, out, err, started, 20)
        expect(out.startswith("updated deployment v1 (etag Mg==)\ndeployment v1: 1/2 succeeded, 1 failed"), "stdout", out)


@case
def wait_replace_every_agent():
    with Double(agents_scenario(SUCCESS_AGENTS, target="tags.env='prod'")) as hub:
        w = Work(hub)
        baseline(w)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "--replace", "v0",
                              "--timeout", "15s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        j = json.loads(out)
        expect(j["outcome"] == "succeeded" and j["old_deleted"] is True, "replaced", out)
        expect_agents_succeeded(j["rollout"], out, err)
        expect(hub.control("configs") == ["v1"], "only v1 left", hub.control("configs"))


@case
def wait_replace_crash_loop():
    with Double(agents_scenario(CRASH_AGENTS, target="tags.env='prod'")) as hub:
        w = Work(hub)
        m = w.write("m.json", manifest(image="score:2"))
        started = time.monotonic()
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "--replace", "v0",
                              "--timeout", "20s"] + FAST)
        expect_crash_named(rc, out, err, started, 20)
        expect(sorted(hub.control("configs")) == ["v0", "v1"], "old kept", hub.control("configs"))


@case
def wait_status_deployment_every_agent():
    # status --deployment --wait right after a create (no --wait): targeting is asynchronous, so the first
    # polls see nothing targeted; the wait ends only once the targeted count is stable.
    with Double(agents_scenario(SUCCESS_AGENTS, target="tags.env='prod'")) as hub:
        w = Work(hub)
        baseline(w)
        m = w.write("m.json", manifest(image=AGENT_IMAGE))
        rc, out, err = w.run(["deployment", "create", "v1", "-m", m, "-t", "tags.env='prod'", "-p", "10"])
        expect(rc == 0, "create exit %d" % rc, out, err)
        rc, out, err = w.run(["status", "--deployment", "v1", "--wait", "--timeout", "15s", "--json"] + FAST)
        expect(rc == 0, "exit %d" % rc, out, err)
        expect_agents_succeeded(json.loads(out), out, err)
        queries = [e for e in hub.log() if e["path"] == "/devices/query"]
        expect(len(queries) >= 2, "at least two polls (stable targeted count)", paths(hub.log()))


@case
def wait_ship_every_agent():
    # ship --wait goes through the same wait as deploy --wait (lib/pipeline/ship_actions.cpp). One solution
    # and one image build into an OCI layout (no registry; the step stamps make the re-runs cheap), then
    # --device for each agent; the old agent twice, so that the second, identical manifest keeps its
    # lastDesiredVersion. The image build may fetch the runtime's packages once; EDGESHIP_E2E_CACHE
    # (set by tests/e2e/iothub.cmake) keeps them between runs.
    w = Work()
    base_dir = os.path.join(w.dir, "base")
    subprocess.run(["bash", os.path.join(SOURCE, "tests", "registry", "make-base-image.sh"), base_dir, "base", "amd64"],
                   check=True, capture_output=True, timeout=300, env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))
    # The runtime's official node image names its version in Env; the busybox base stands in for it.
    subprocess.run(["umoci", "config", "--image", base_dir + ":base", "--config.env", "NODE_VERSION=20.0.0"],
                   check=True, capture_output=True, timeout=120)
    cache = os.environ.get("EDGESHIP_E2E_CACHE") or os.path.join(w.dir, "cache")
    env = {"XDG_CACHE_HOME": cache, "npm_config_cache": os.path.join(cache, "npm"), "SOURCE_DATE_EPOCH": "1700000000"}
    sc = dict(AGENT_TIMINGS, devices=[{"id": i, "behavior": b} for i, b in SUCCESS_AGENTS + [("crash", "crash_loop")]])
    with Double(sc) as hub:
        w.hub = hub
        model = os.path.join(SOURCE, "examples", "predictive-maintenance", "model.onnx")
        ship = ["ship", model, "--solution", os.path.join(w.dir, "sol"), "--runtime", "node-onnxruntime",
                "--oci-layout", os.path.join(w.dir, "layout"), "--base", "oci:%s:base" % base_dir,
                "--wait", "--timeout", "20s", "--json"] + FAST
        for dev in ("old", "slow", "backoff", "plain", "crash"):
            started = time.monotonic()
            rc, out, err = w.run(ship + ["--device", dev], env=env, timeout=900)
            if dev == "crash":
                took = time.monotonic() - started
                lines = error_lines(err)
                expect(rc == 1 and len(lines) == 1 and lines[0].startswith("edgeship: error: ship: step wait: ") and
                       "crash: module failing: scoring: failed (exit code 139, 20 restarts)" in lines[0],
                       "ship names the step, the device, the module and its last state", out, err)
                expect(took < 18, "failed before the timeout (%.1fs)" % took, err)
                continue
            expect(rc == 0, "ship --device %s: exit %d" % (dev, rc), out[-3000:], err[-3000:])
            j = json.loads(out)
            summary = j["rollout"]["summary"]
            expect(j["rollout"]["outcome"] == "succeeded" and summary["succeeded"] == 1, "%s succeeded" % dev, out[-2000:])
            expect(summary["notes"] == [], "no note on a first apply", out[-2000:])
        rc, out, err = w.run(ship + ["--device", "old"], env=env, timeout=900)
        j = json.loads(out)
        notes = j["rollout"]["summary"]["notes"]
        expect(rc == 0 and len(notes) == 1 and "before 1.2.0" in notes[0], "the old agent's identical manifest", out, err)


@case
def deployment_list_skips_device_configurations():
    # ADM device configurations come back from GET /configurations with "modulesContent": null.
    adm = {"id": "adm1", "schemaVersion": "1.0", "priority": 1, "targetCondition": "tags.env='prod'",
           "content": {"deviceContent": {"properties.desired.x": 1}, "modulesContent": None}}
    v1 = {"id": "v1", "schemaVersion": "2.0", "priority": 1, "targetCondition": "tags.env='prod'",
          "content": {"modulesContent": manifest()["modulesContent"]}}
    with Double({"fleet": fleet(1), "configurations": [adm, v1]}) as hub:
        w = Work(hub)
        rc, out, err = w.run(["deployment", "list", "--json"])
        expect(rc == 0 and [c["id"] for c in json.loads(out)] == ["v1"], "only the edge deployment", out, err)


def main():
    global EXE
    if len(sys.argv) != 3:
        sys.stderr.write("usage: iothub_e2e.py EDGESHIP_EXE CASE|list\n")
        return 2
    EXE = os.path.abspath(sys.argv[1])
    if sys.argv[2] == "list":
        print("\n".join(CASES))
        return 0
    fn = CASES.get(sys.argv[2])
    if fn is None:
        sys.stderr.write("unknown case %s\n" % sys.argv[2])
        return 2
    try:
        fn()
    except Failed as e:
        sys.stderr.write("FAILED %s: %s\n" % (sys.argv[2], e))
        return 1
    print("ok " + sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
