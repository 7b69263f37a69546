#!/usr/bin/python3
"""A private Docker Engine for one test, and a small Engine API client (issue 13 item 4).

    with Engine(parent_dir) as eng:          # dockerd of Debian's docker.io, as root
        eng.api.pull("127.0.0.1:5000/library/node", "20-bookworm-slim")
        cid = eng.api.create({"Image": ..., "HostConfig": {"NetworkMode": "host"}}, name="m")
        eng.api.start(cid)

The engine is dockerd with everything of its own under one temporary directory: --data-root,
--exec-root, --pidfile, its unix socket (no TCP listener), an empty --config-file (the machine's
/etc/docker/daemon.json is never read) and containerd namespaces named after the directory, so parallel
tests never share state. --bridge=none --iptables=false --ip-masq=false: it touches no host network
configuration; containers use host networking and talk over 127.0.0.1 only. dockerd starts its own
containerd under the exec root.

Every wait is bounded. On exit (and on SIGTERM, atexit, or when the test process is SIGKILLed: a
watchdog process outlives it and does the same): remove the containers, SIGTERM dockerd (SIGKILL after
a bound), kill any process still naming the directory or the namespace (containerd, shims) by PID,
lazily unmount everything mounted under the directory (from /proc/self/mountinfo), remove it.

Standard library only; run with /usr/bin/python3.
"""

import atexit
import ctypes
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

DOCKERD = "/usr/sbin/dockerd"
API_VERSION = "v1.41"  # Docker Engine 20.10 (Debian 12's docker.io)
MNT_DETACH = 2


class EngineError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- client

class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class Client:
    """The Docker Engine API over a unix socket: only what the container tests use."""

    def __init__(self, socket_path, timeout=120):
        self.socket_path = socket_path
        self.timeout = timeout

    def request(self, method, path, body=None, headers=None, query=None, timeout=None, stream=False):
        url = f"/{API_VERSION}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn = _UnixConnection(self.socket_path, timeout or self.timeout)
        try:
            conn.request(method, url, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        return resp.status, data

    def call(self, method, path, ok=(200, 201, 204), **kw):
        status, data = self.request(method, path, **kw)
        if status not in ok:
            try:
                msg = json.loads(data).get("message", data.decode(errors="replace"))
            except ValueError:
                msg = data.decode(errors="replace")
            raise EngineError(f"{method} {path}: HTTP {status}: {msg.strip()}")
        return data

    def json(self, method, path, **kw):
        data = self.call(method, path, **kw)
        return json.loads(data) if data else None

    @staticmethod
    def _progress_errors(data):
        """Errors reported inside a 200 progress stream (pull, load): one JSON object per line."""
        errors = []
        for line in data.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("error") or obj.get("errorDetail"):
                errors.append(obj.get("error") or obj["errorDetail"].get("message"))
        return errors

    def ping(self, timeout=2):
        status, data = self.request("GET", "/_ping", timeout=timeout)
        return status == 200 and data.strip() == b"OK"

    def version(self):
        return self.json("GET", "/version")

    def pull(self, image, tag, timeout=600):
        """POST /images/create?fromImage=IMAGE&tag=TAG. 127.0.0.0/8 registries are plain HTTP by default."""
        data = self.call("POST", "/images/create", query={"fromImage": image, "tag": tag}, timeout=timeout)
        errors = self._progress_errors(data)
        if errors:
            raise EngineError(f"pull {image}:{tag}: {'; '.join(errors)}")
        return data

    def load(self, archive, timeout=600):
        """POST /images/load with a docker-archive (docker save format). Returns the loaded names."""
        with open(archive, "rb") as f:  # streamed: archives are hundreds of MB
            data = self.call("POST", "/images/load", query={"quiet": "1"}, body=f, timeout=timeout,
                             headers={"Content-Type": "application/x-tar",
                                      "Content-Length": str(os.fstat(f.fileno()).st_size)})
        errors = self._progress_errors(data)
        if errors:
            raise EngineError(f"load {archive}: {'; '.join(errors)}")
        loaded = []
        for line in data.splitlines():
            try:
                stream = json.loads(line).get("stream", "")
            except ValueError:
                continue
            for prefix in ("Loaded image: ", "Loaded image ID: "):
                if stream.startswith(prefix):
                    loaded.append(stream[len(prefix):].strip())
        return loaded

    def image_inspect(self, name):
        return self.json("GET", f"/images/{urllib.parse.quote(name, safe='')}/json")

    def remove_image(self, name, force=True):
        self.call("DELETE", f"/images/{urllib.parse.quote(name, safe='')}", query={"force": "1" if force else "0"},
                  ok=(200, 404))

    def images(self):
        return self.json("GET", "/images/json")

    def create(self, body, name=None):
        query = {"name": name} if name else None
        return self.json("POST", "/containers/create", body=body, query=query)["Id"]

    def start(self, cid):
        self.call("POST", f"/containers/{cid}/start", ok=(204, 304))

    def stop(self, cid, t=10, timeout=None):
        """POST /containers/ID/stop?t=T: the stop signal (SIGTERM), SIGKILL after T seconds."""
        self.call("POST", f"/containers/{cid}/stop", query={"t": str(t)}, ok=(204, 304),
                  timeout=timeout or t + 30)

    def kill(self, cid, sig="SIGKILL"):
        self.call("POST", f"/containers/{cid}/kill", query={"signal": sig}, ok=(204, 409))

    def inspect(self, cid):
        return self.json("GET", f"/containers/{cid}/json")

    def containers(self, all_=True):
        return self.json("GET", "/containers/json", query={"all": "1" if all_ else "0"})

    def remove(self, cid, force=True):
        self.call("DELETE", f"/containers/{cid}", query={"force": "1" if force else "0", "v": "1"},
                  ok=(204, 404))

    def logs(self, cid):
        """stdout and stderr of a container created without a TTY (the multiplexed stream decoded)."""
        data = self.call("GET", f"/containers/{cid}/logs", query={"stdout": "1", "stderr": "1"})
        out, err, i = [], [], 0
        while i + 8 <= len(data):
            kind, size = data[i], int.from_bytes(data[i + 4:i + 8], "big")
            chunk = data[i + 8:i + 8 + size]
            (err if kind == 2 else out).append(chunk)
            i += 8 + size
        if i == 0 and data:  # a TTY container: raw
            return data.decode(errors="replace"), ""
        return b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace")


# ---------------------------------------------------------------------------------------------- cleanup

def _mounts_under(root):
    """Mount points at or below ROOT, deepest first (fields of /proc/self/mountinfo; octal escapes decoded)."""
    root = os.path.realpath(root)
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split(" ")
        if len(fields) < 5:
            continue
        point = fields[4].encode().decode("unicode_escape")
        if point == root or point.startswith(root + "/"):
            found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def unmount_under(root):
    """Lazily unmount everything under ROOT (bounded: a few passes). Returns what is still mounted."""
    libc = ctypes.CDLL(None, use_errno=True)
    for _ in range(5):
        points = _mounts_under(root)
        if not points:
            return []
        for p in points:
            libc.umount2(p.encode(), MNT_DETACH)
    return _mounts_under(root)


def _pids_naming(needles):
    """PIDs of processes whose command line contains one of NEEDLES (our dir, our namespace)."""
    pids = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "--watchdog" not in cmd and any(n in cmd for n in needles):
            pids.append(int(entry))
    return pids


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop_pid(pid, grace):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 5
        while time.monotonic() < end and _alive(pid):
            time.sleep(0.05)


def teardown(root, namespace, dockerd_pid=None, grace=15, log=None):
    """Stop everything one engine started and remove ROOT. Safe to call twice and from the watchdog.

    Returns what is still mounted (nothing, normally). Phases taking long are logged (LOG)."""
    phases = []
    t = time.monotonic()

    def done(what):
        nonlocal t
        now = time.monotonic()
        phases.append((what, now - t))
        t = now
    sock = os.path.join(root, "docker.sock")
    if os.path.exists(sock):  # containers first (force = SIGKILL): dockerd would wait out each stop timeout
        api = Client(sock, timeout=10)
        try:
            for c in api.containers():
                api.remove(c["Id"], force=True)
        except (EngineError, OSError, ValueError):
            pass
    done("remove containers")
    if dockerd_pid is None:
        try:
            with open(os.path.join(root, "dockerd.pid")) as f:
                dockerd_pid = int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            dockerd_pid = None
    if dockerd_pid:
        _stop_pid(dockerd_pid, grace)
    done("stop dockerd")
    # containerd, shims and container processes that outlived dockerd (found by our dir or namespace)
    for pid in _pids_naming([root, f"-namespace {namespace} ", f"-namespace {namespace}-plugins "]):
        _stop_pid(pid, 3)
    done("stop leftovers")
    left = unmount_under(root)
    done("unmount")
    if left and log:
        log(f"engine: still mounted after unmount: {left}")
    if not left and os.path.isdir(root):
        shutil.rmtree(root, ignore_errors=True)
    done("remove dir")
    if log and sum(d for _, d in phases) > 5:
        log("engine: teardown " + ", ".join(f"{w} {d:.2f} s" for w, d in phases))
    return left


# ---------------------------------------------------------------------------------------------- engine

class Engine:
    """A private dockerd. Context manager; `api` is a Client on its socket."""

    def __init__(self, parent=None, start_timeout=60, log=None, keep_logs_in=None):
        self.parent = parent
        self.start_timeout = start_timeout
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.keep_logs_in = keep_logs_in
        self.root = None
        self.proc = None
        self.watchdog = None
        self.api = None
        self.start_seconds = None
        self._closed = False

    # paths
    @property
    def socket(self):
        return os.path.join(self.root, "docker.sock")

    @property
    def host(self):
        return "unix://" + self.socket

    def _make_root(self):
        parent = self.parent or tempfile.gettempdir()
        os.makedirs(parent, exist_ok=True)
        root = tempfile.mkdtemp(prefix="eng.", dir=parent)
        # unix socket paths are limited to 108 bytes (containerd's are longer than ours): fall back to /tmp
        if len(os.path.join(root, "exec", "containerd", "containerd.sock.ttrpc")) > 100:
            os.rmdir(root)
            root = tempfile.mkdtemp(prefix="edgeship-eng.", dir="/tmp")
        return root

    def start(self):
        if os.geteuid() != 0:
            raise EngineError("the container tests start dockerd and must run as root")
        if not os.access(DOCKERD, os.X_OK):
            raise EngineError(f"{DOCKERD} not found (apt-get install docker.io; scripts/deps/container.txt)")
        self.root = self._make_root()
        # containerd namespaces allow [A-Za-z0-9] words joined by . _ -: a hex id, unique per directory
        self.namespace = "edgeship-test-" + hashlib.sha256(self.root.encode()).hexdigest()[:16]
        for d in ("data", "exec"):
            os.makedirs(os.path.join(self.root, d))
        with open(os.path.join(self.root, "daemon.json"), "w") as f:
            f.write("{}\n")
        atexit.register(self.close)
        self._start_watchdog()
        args = [DOCKERD,
                "--data-root", os.path.join(self.root, "data"),
                "--exec-root", os.path.join(self.root, "exec"),
                "--pidfile", os.path.join(self.root, "dockerd.pid"),
                "--config-file", os.path.join(self.root, "daemon.json"),
                "-H", self.host,
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
                "--userland-proxy=false",
                "--containerd-namespace", self.namespace,
                "--containerd-plugins-namespace", self.namespace + "-plugins",
                "--log-level", "warn"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"  # dockerd finds Debian's containerd, runc, docker-init
        t0 = time.monotonic()
        self.logfile = open(os.path.join(self.root, "dockerd.log"), "wb")
        # A session of its own: a Ctrl-C at the terminal reaches us, and we stop it in order.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        self.api = Client(self.socket)
        end = t0 + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise EngineError(f"dockerd exited with {self.proc.returncode} while starting:\n{self.log_tail()}")
            if os.path.exists(self.socket):
                try:
                    if self.api.ping():
                        break
                except OSError:
                    pass
            if time.monotonic() > end:
                raise EngineError(f"dockerd did not answer /_ping within {self.start_timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - t0
        return self

    def _start_watchdog(self):
        # Outlives a SIGKILLed test (own session: a process-group kill misses it) and cleans up after it.
        self.watchdog = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--watchdog", str(os.getpid()), self.root, self.namespace],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, lines=30):
        try:
            with open(os.path.join(self.root, "dockerd.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no dockerd log)"

    def remove_containers(self):
        try:
            for c in self.api.containers():
                try:
                    self.api.remove(c["Id"], force=True)
                except (EngineError, OSError) as e:
                    self.log(f"engine: removing {c['Id'][:12]}: {e}")
        except (EngineError, OSError) as e:
            self.log(f"engine: listing containers: {e}")

    def close(self):
        if self._closed or self.root is None:
            return
        self._closed = True
        if self.proc is not None and self.proc.poll() is None:
            self.remove_containers()
        if self.keep_logs_in:
            try:
                os.makedirs(self.keep_logs_in, exist_ok=True)
                shutil.copy(os.path.join(self.root, "dockerd.log"), os.path.join(self.keep_logs_in, "dockerd.log"))
            except OSError:
                pass
        left = teardown(self.root, self.namespace, self.proc.pid if self.proc else None, log=self.log)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if getattr(self, "logfile", None):
            self.logfile.close()
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        if left:
            raise EngineError(f"still mounted after the engine stopped: {left}")

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False


def install_signal_handlers():
    """SIGTERM/SIGHUP (ctest timeout, a killed terminal) become SystemExit, so finally blocks and atexit run."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def _watchdog(owner, root, namespace):
    # Bounded: an engine never lives longer than 2 hours.
    end = time.monotonic() + 7200
    while time.monotonic() < end and os.path.isdir(root):
        if not _alive(owner):
            break
        time.sleep(0.5)
    if os.path.isdir(root):
        teardown(root, namespace)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--watchdog":
        _watchdog(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: engine.py --watchdog OWNER_PID ROOT NAMESPACE (internal)")
