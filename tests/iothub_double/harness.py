#!/usr/bin/python3
"""Starts and stops the IoT Hub test double for tests and benchmarks.

    with Double({"devices": [{"id": "dev1"}]}) as hub:
        env = hub.env()          # IOTHUB_CONNECTION_STRING, EDGESHIP_IOTHUB_ENDPOINT, EDGESHIP_IOTHUB_CA_FILE
        hub.control("set", {"throttle": 2})
        hub.log()                # the double's request log

The CA and the server certificate are made with openssl at start-up in a fresh temporary directory;
the double listens on 127.0.0.1 on a free port; stop() terminates it (bounded waits) and removes the
directory. Command line: harness.py run --scenario S.json -- CMD ARGS… runs CMD against a double;
harness.py serve --scenario S.json --env-out ENV.json keeps one running until stdin closes.
"""

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
HUB_HOST = "testhub.azure-devices.net"
# Fixed test keys (not secrets): bytes 0x00..0x1f and 0x20..0x3f.
OWNER_KEY = base64.b64encode(bytes(range(32))).decode()
READER_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def make_certs(directory):
    """A throw-away CA and a server certificate for 127.0.0.1/localhost, made with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=directory, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=edgeship test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    return tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))


class Double:
    def __init__(self, scenario=None, start_timeout=20.0):
        self.scenario = dict(scenario or {})
        self.scenario.setdefault("hub_host", HUB_HOST)
        self.scenario.setdefault("policies", {"iothubowner": OWNER_KEY, "registryRead": READER_KEY})
        self.start_timeout = start_timeout
        self.proc = None
        self.dir = None
        self.port = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="iothub-double-")
        self.ca, cert, key = make_certs(self.dir)
        scenario_path = os.path.join(self.dir, "scenario.json")
        with open(scenario_path, "w") as f:
            json.dump(self.scenario, f)
        port_file = os.path.join(self.dir, "port")
        self.stderr = open(os.path.join(self.dir, "double.stderr"), "w+")
        self.proc = subprocess.Popen([PYTHON, os.path.join(HERE, "iothub_double.py"), "--cert", cert, "--key", key,
                                      "--scenario", scenario_path, "--port-file", port_file],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + self.start_timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                self.stderr.seek(0)
                raise RuntimeError("the double exited: " + self.stderr.read())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the double did not start within %.0f s" % self.start_timeout)
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "https://127.0.0.1:%d" % self.port
        self.ssl = ssl.create_default_context(cafile=self.ca)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.dir:
            self.stderr.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def connection_string(self, policy="iothubowner", key=None):
        key = key or self.scenario["policies"][policy]
        return "HostName=%s;SharedAccessKeyName=%s;SharedAccessKey=%s" % (self.scenario["hub_host"], policy, key)

    def env(self, **extra):
        e = {"IOTHUB_CONNECTION_STRING": self.connection_string(), "EDGESHIP_IOTHUB_ENDPOINT": self.url,
             "EDGESHIP_IOTHUB_CA_FILE": self.ca}
        e.update(extra)
        return e

    def control(self, what, data=None):
        req = urllib.request.Request(self.url + "/_double/" + what, method="POST" if data is not None else "GET",
                                     data=None if data is None else json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
            return json.loads(r.read().decode() or "null")

    def log(self):
        return self.control("log")

    def sas_token(self, resource=None, policy="iothubowner", ttl=3600, lowercase_escapes=False):
        """A SAS token signed like docs/design/iothub.md §6.2 (for tests that talk to the double directly)."""
        import hashlib
        import hmac
        import re as _re
        import urllib.parse
        sr = resource or self.scenario["hub_host"]
        se = str(int(time.time()) + ttl)
        encoded = urllib.parse.quote(sr, safe="")
        if lowercase_escapes:
            encoded = _re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)
        key = base64.b64decode(self.scenario["policies"][policy])
        sig = base64.b64encode(hmac.new(key, (encoded + "\n" + se).encode(), hashlib.sha256).digest()).decode()
        return "SharedAccessSignature sr=%s&sig=%s&se=%s&skn=%s" % (
            urllib.parse.quote(sr, safe=""), urllib.parse.quote(sig, safe=""), se, policy)

    def request(self, method, path, body=None, headers=None, token=None):
        """A raw request to the double: returns (status, headers, parsed JSON body or text)."""
        import urllib.error
        h = {"Authorization": token or self.sas_token()}
        if body is not None:
            h["Content-Type"] = "application/json; charset=utf-8"
        h.update(headers or {})
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, method=method, data=data, headers=h)
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as r:
                raw = r.read().decode()
                return r.status, dict(r.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read().decode()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            return e.code, dict(e.headers), parsed


def serve(scenario_path, env_path):
    """Runs a double until stdin closes; writes its environment (JSON) to env_path once it listens."""
    with open(scenario_path) as f:
        scenario = json.load(f)
    with Double(scenario) as hub:
        tmp = env_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(hub.env(), EDGESHIP_DOUBLE_URL=hub.url), f)
        os.rename(tmp, env_path)
        sys.stdin.read()
    return 0


def main(argv):
    if len(argv) == 5 and argv[0] == "serve" and argv[1] == "--scenario" and argv[3] == "--env-out":
        return serve(argv[2], argv[4])
    if len(argv) < 4 or argv[0] != "run" or argv[1] != "--scenario" or "--" not in argv:
        sys.stderr.write("usage: harness.py run --scenario S.json -- CMD ARGS...\n"
                         "       harness.py serve --scenario S.json --env-out ENV.json   (until stdin closes)\n")
        return 2
    with open(argv[2]) as f:
        scenario = json.load(f)
    cmd = argv[argv.index("--") + 1:]
    with Double(scenario) as hub:
        env = dict(os.environ)
        env.update(hub.env())
        return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
