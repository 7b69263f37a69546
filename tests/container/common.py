#!/usr/bin/python3
"""Helpers shared by the container tests (tests/container/*_selftest.py, module_e2e.py).

  Work(name)          scratch dir (CONTAINER_TEST_DIR from ctest, emptied first, else a temp dir); isolated
                      HOME, DOCKER_CONFIG, TMPDIR, XDG_CONFIG_HOME, REGISTRY_AUTH_FILE inside it; the
                      base-image cache stays the user's (XDG_CACHE_HOME or ~/.cache, read before isolating)
  Registry(work)      Debian's docker-registry on 127.0.0.1:<free port> via tests/registry/registry-fixture.sh
                      (plain HTTP; a watchdog stops it if this process dies)
  make_base(...)      tests/container/make_base.sh (cached), push_base(...) tests/container/push_base.sh
  free_port()         a free TCP port on 127.0.0.1
  http_json(...)      one bounded HTTP request to 127.0.0.1, JSON in and out
  wait_http(...)      poll a URL until it answers 200 (bounded), failing early when the container exited
  timed(what)         context manager printing "timing: WHAT N.NN s" on stderr
  fail(msg)           raise TestFailure
"""

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("EDGESHIP_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
REGISTRY_FIXTURE = os.path.join(SRC, "tests", "registry", "registry-fixture.sh")
MAKE_BASE = os.path.join(HERE, "make_base.sh")
PUSH_BASE = os.path.join(HERE, "push_base.sh")
TIMINGS = []


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


def step(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def timed(what):
    t0 = time.monotonic()
    yield
    dt = time.monotonic() - t0
    TIMINGS.append((what, dt))
    print(f"timing: {what} {dt:.2f} s", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env=None, timeout=600, check=True, input_=None):
    """Run CMD (bounded), capture output; on failure raise TestFailure with both streams."""
    try:
        p = subprocess.run(cmd, env=env, timeout=timeout, capture_output=True, text=True, input=input_,
                           stdin=None if input_ is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout} s: {' '.join(cmd)}")
    if check and p.returncode != 0:
        fail(f"exit {p.returncode}: {' '.join(cmd)}\n--- stdout:\n{p.stdout[-4000:]}\n--- stderr:\n{p.stderr[-8000:]}")
    return p


class Work:
    def __init__(self, name):
        self.cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.environ.get("CONTAINER_TEST_DIR")
        if d:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            self.temp = False
        else:
            d = tempfile.mkdtemp(prefix=f"edgeship-{name}.")
            self.temp = True
        self.dir = d
        home = os.path.join(d, "home")
        env = {"HOME": home, "DOCKER_CONFIG": os.path.join(home, ".docker"), "TMPDIR": os.path.join(d, "tmp"),
               "XDG_CONFIG_HOME": os.path.join(home, ".config"), "XDG_DATA_HOME": os.path.join(home, ".local/share"),
               "REGISTRY_AUTH_FILE": os.path.join(home, "auth.json"), "XDG_CACHE_HOME": self.cache_home}
        for v in env.values():
            if not v.endswith(".json"):
                os.makedirs(v, exist_ok=True)
        os.environ.update(env)
        tempfile.tempdir = env["TMPDIR"]
        self.policy = os.path.join(d, "policy.json")
        with open(self.policy, "w") as f:
            f.write('{"default":[{"type":"insecureAcceptAnything"}]}\n')

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def finish(self, ok):
        if ok and self.temp:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif not ok:
            print(f"(scratch dir kept: {self.dir})", file=sys.stderr)


class Registry:
    """A plain-HTTP docker-registry on 127.0.0.1 (tests/registry/registry-fixture.sh start plain)."""

    def __init__(self):
        self.dir = None

    def __enter__(self):
        env = dict(os.environ, REG_OWNER_PID=str(os.getpid()))
        p = run(["bash", REGISTRY_FIXTURE, "start", "plain"], env=env, timeout=120)
        vals = {}
        for line in p.stdout.splitlines():
            for word in line.replace("export ", "").split():
                if "=" in word:
                    k, _, v = word.partition("=")
                    vals[k] = v.strip("'")
        self.addr, self.dir, self.log = vals["REG_ADDR"], vals["REG_DIR"], vals["REG_LOG"]
        return self

    def __exit__(self, *exc):
        if self.dir:
            subprocess.run(["bash", REGISTRY_FIXTURE, "stop", self.dir], timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return False


def make_base(kind, arch, out):
    """oci:OUT:ARCH of the cached Debian base (tests/container/make_base.sh)."""
    return run(["bash", MAKE_BASE, kind, arch, out], timeout=1800).stdout.strip()


def push_base(kind, arch, registry_addr, work):
    """Push the cached Debian base under the official name; returns REGISTRY/NAME:TAG."""
    env = dict(os.environ, SKOPEO_POLICY=work.policy)
    return run(["bash", PUSH_BASE, kind, arch, registry_addr, work.path(f"base-{kind}-{arch}")],
               env=env, timeout=1800).stdout.strip()


def http_json(method, port, path, body=None, timeout=10):
    """(status, parsed JSON or text) of one request to 127.0.0.1:PORT."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, raw.decode(errors="replace")


def wait_http(port, path, timeout, alive=None):
    """Poll GET PATH until it answers 200 (bounded by TIMEOUT seconds). ALIVE() false = give up early."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            status, body = http_json("GET", port, path, timeout=2)
            if status == 200:
                return body
            last = f"HTTP {status}: {body}"
        except OSError as e:
            last = str(e)
        if alive is not None and not alive():
            fail(f"GET {path}: the container exited ({last})")
        time.sleep(0.1)
    fail(f"GET 127.0.0.1:{port}{path} did not answer 200 within {timeout} s ({last})")


def mounts_under(root):
    root = os.path.realpath(root)
    with open("/proc/self/mountinfo") as f:
        points = [line.split(" ")[4].encode().decode("unicode_escape") for line in f]
    return [p for p in points if p == root or p.startswith(root + "/")]


def pids_naming(text):
    found = []
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) == os.getpid():
            continue
        try:
            with open(f"/proc/{e}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(e))
        except OSError:
            pass
    return found


def proc_ids(pid):
    """(real uid, real gid) of a host PID, from /proc/PID/status."""
    uid = gid = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
            elif line.startswith("Gid:"):
                gid = int(line.split()[1])
    return uid, gid
