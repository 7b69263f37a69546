#!/usr/bin/python3
# A fault-injecting HTTP/1.1 proxy for the registry tests (issue 6; docs/design/registry.md §10.7, §11.4).
# Run with /usr/bin/python3. It listens on 127.0.0.1 (a free port unless --port), forwards every request
# to --upstream byte for byte (request line, headers in order, body as received, Content-Length or chunked
# framing kept), rewrites upstream URLs in Location headers to its own address, and injects faults chosen
# by rules. Clients talk plain HTTP to it; the upstream may be http:// or https:// (--upstream-ca FILE).
#
#   fault-proxy.py --upstream http://127.0.0.1:PORT [--port N] [--addr-file F] [--log F]
#                  [--rules FILE] [--rule JSON]… [--realm URL --service NAME] [--idle-timeout S]
#                  [--owner-pid PID] [--max-lifetime S]
# --owner-pid: exit once that process is gone (lib.sh passes the test script's PID, so a test killed by
# a timeout leaves no proxy behind); --max-lifetime (default 3600 s) bounds the proxy's life in any case.
#
# A rule is a JSON object; --rules FILE holds a JSON list of them and is re-read whenever the file changes
# (counters start afresh), so a test can change faults between steps. Common keys:
#   "method": regex for the method (full match, default any); "path": regex searched in path+query
#   (default any); "skip": let the first N matching requests through untouched (default 0);
#   "times": fire at most N times (default 1; 0 = unlimited).
# Types:
#   {"type":"reset", "after_bytes":N, "per_body":bool, "when":"request"|"response"}
#       request (default): forward the first N bytes of the request body upstream, then close both
#       connections with a TCP RST (SO_LINGER 0). "per_body": at most once per distinct body prefix (the
#       sha256 of the first N bytes, plus Content-Range): once per blob for single-PATCH uploads, once per
#       chunk for chunked ones, so a retry that sends the same bytes again goes through; "times" is still
#       the overall cap (0 = unlimited).
#       response: forward the whole request, let the upstream answer, then drop the client connection
#       without relaying the answer (the upstream did the work; the client saw a network error).
#       NOTE (measured with distribution 2.8.2): the registry keeps the bytes it received, but the
#       _state in the upload URL still carries the old offset, so GET/PATCH on that URL now answer
#       404 BLOB_UPLOAD_INVALID ("upload resumed at wrong offset"): after a reset inside a PATCH the
#       client has to start that blob again with a new POST. A "status" fault (below) never reaches the
#       registry, so after a 500/429 on a PATCH, GET <location> gives the Range to resume from.
#   {"type":"status", "status":500, "headers":{…}, "body":"…"}
#       answer without forwarding (the request body is read and discarded first; with Expect:
#       100-continue the answer is sent instead of 100 and the connection closed). Header values may use
#       {realm}, {service} and {repo} (the repository in a /v2/<repo>/… path). Examples:
#         500:  {"type":"status","status":500,"method":"PATCH","times":2}
#         429:  {"type":"status","status":429,"headers":{"Retry-After":"1"},"method":"PATCH"}
#   {"type":"expire_token", "method":"PATCH"}
#       401 with WWW-Authenticate: Bearer realm="{realm}",service="{service}",
#       scope="repository:{repo}:pull,push",error="invalid_token" — as distribution answers when a token
#       expires mid-upload (§5.5). realm/service come from --realm/--service or from the last Bearer
#       challenge the upstream sent through the proxy.
#   {"type":"wrong_digest", "method":"PUT", "path":"/manifests/"}
#       forward; replace Docker-Content-Digest in the response by a different, well-formed digest (for
#       "never trust the registry's digest" tests). The upstream stored the manifest.
#
# Log (--log, line-buffered, one line per exchange; secrets and bodies never logged):
#   HH:MM:SS.mmm c<conn>.<n> METHOD PATH -> STATUS in=<request body bytes> out=<response body bytes>
#       [te=chunked] [expect=100-continue] [auth=basic:<user>|auth=bearer] [fault=<type>#<rule index>]
#   auth= names the Basic user (never the password) or the scheme, so a test can prove whose credential
#   reached which registry.
#   a reset logs "-> RESET" in place of the status. Upstream failures log "-> 502 … error=…" (the client
#   gets a 502).
# Exits on SIGTERM/SIGINT (open connections are closed). Every socket operation has a timeout.
import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

ap = argparse.ArgumentParser(description="fault-injecting HTTP proxy for registry tests")
ap.add_argument("--upstream", required=True)
ap.add_argument("--upstream-ca", default="")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--addr-file", default="")
ap.add_argument("--log", default="")
ap.add_argument("--rules", default="")
ap.add_argument("--rule", action="append", default=[])
ap.add_argument("--realm", default="")
ap.add_argument("--service", default="")
ap.add_argument("--idle-timeout", type=float, default=60.0)
ap.add_argument("--owner-pid", type=int, default=0)        # exit once this process is gone (test killed)
ap.add_argument("--max-lifetime", type=float, default=3600.0)
opt = ap.parse_args()

up = urlsplit(opt.upstream)
if up.scheme not in ("http", "https") or not up.hostname:
    sys.exit("fault-proxy: --upstream must be http://HOST:PORT or https://HOST:PORT")
UP_HOST = up.hostname
UP_PORT = up.port or (443 if up.scheme == "https" else 80)
UP_TLS = up.scheme == "https"
UP_BASES = {"%s://%s" % (up.scheme, up.netloc)}
if UP_TLS:
    TLS_CTX = ssl.create_default_context(cafile=opt.upstream_ca or None)
MAX_HEAD = 64 * 1024
BUF = 256 * 1024

LOG_LOCK = threading.Lock()
LOG = open(opt.log, "a", buffering=1) if opt.log else sys.stderr


def log(line):
    t = time.time()
    with LOG_LOCK:
        LOG.write("%s.%03d %s\n" % (time.strftime("%H:%M:%S", time.localtime(t)), int(t * 1000) % 1000, line))
        LOG.flush()


class Rule:
    def __init__(self, index, spec):
        self.index = index
        self.type = spec.get("type", "")
        if self.type not in ("reset", "status", "expire_token", "wrong_digest"):
            raise ValueError("rule %d: unknown type %r" % (index, self.type))
        self.method = re.compile(spec.get("method", ".*"))
        self.path = re.compile(spec.get("path", ""))
        self.skip = int(spec.get("skip", 0))
        self.times = int(spec.get("times", 1))
        self.spec = spec
        self.seen = 0
        self.fired = 0
        self.bodies = set()

    def take(self, method, path):
        """Called under STATE_LOCK: True when this rule fires for this request (and counts it)."""
        if not self.method.fullmatch(method) or not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times and self.fired >= self.times:
            return False
        if self.type == "reset" and self.spec.get("per_body"):
            return True  # counted in confirm(), once the body prefix is known
        self.fired += 1
        return True

    def confirm(self, key):
        """per_body resets: True (and counted) the first time this body prefix is seen."""
        with STATE_LOCK:
            if key in self.bodies or (self.times and self.fired >= self.times):
                return False
            self.bodies.add(key)
            self.fired += 1
            return True


STATE_LOCK = threading.Lock()
RULES = []
RULES_MTIME = None
CHALLENGE = {"realm": opt.realm, "service": opt.service}


def load_rules():
    specs = []
    if opt.rules and os.path.exists(opt.rules):
        with open(opt.rules) as f:
            text = f.read().strip()
        if text:
            data = json.loads(text)
            specs.extend(data if isinstance(data, list) else [data])
    for r in opt.rule:
        specs.append(json.loads(r))
    return [Rule(i, s) for i, s in enumerate(specs)]


def current_rules():
    global RULES, RULES_MTIME
    if opt.rules:
        try:
            m = os.stat(opt.rules).st_mtime_ns
        except FileNotFoundError:
            m = None
        if m != RULES_MTIME:
            try:
                RULES = load_rules()
                RULES_MTIME = m
                log("rules reloaded: %d rule(s)" % len(RULES))
            except (ValueError, OSError) as e:  # a half-written file: keep the old rules, retry next time
                log("rules not reloaded: %s" % e)
    return RULES


def pick_rule(method, path):
    with STATE_LOCK:
        for r in current_rules():
            if r.take(method, path):
                return r
    return None


class Closed(Exception):
    pass


class Conn:
    """A socket with a read buffer: read_head, read_exact, read_line, read_some."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(BUF)
        if not data:
            raise Closed()
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise ValueError("header too large")
            if not self.buf:
                try:
                    self._fill()
                except Closed:
                    return None
                if not self.buf[:1].isupper():  # e.g. a TLS ClientHello from a client trying https first
                    raise ValueError("not an HTTP request (first byte 0x%02x): closed" % self.buf[0])
            else:
                self._fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def read_line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise ValueError("line too long")
            self._fill()
        i = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read_some(self, limit):
        if not self.buf:
            self._fill()
        n = min(limit, len(self.buf))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_exact(self, n):
        out = []
        while n > 0:
            d = self.read_some(n)
            out.append(d)
            n -= len(d)
        return b"".join(out)


def parse_head(head):
    lines = head[:-4].split(b"\r\n")
    first = lines[0].decode("latin-1")
    headers = []
    for raw in lines[1:]:
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name, value.strip()))
    return first, headers


def auth_note(value):
    """Who a request claims to be, never the secret: "basic:<user>" (the part before ':' of the Basic
    credential), "bearer" or the scheme alone."""
    scheme, _, param = value.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(param.strip()).decode("utf-8", "replace").split(":", 1)[0]
        except (ValueError, binascii.Error):
            user = "?"
        return "basic:" + re.sub(r"[^A-Za-z0-9._@-]", "_", user)
    return scheme.lower() or "?"


def hget(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def build_head(first, headers):
    return ("\r\n".join([first] + ["%s: %s" % kv for kv in headers]) + "\r\n\r\n").encode("latin-1")


def rst_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def body_frames(conn, headers, is_request, method="", status=0, req_method=""):
    """Yields the raw bytes of a message body as framed on the wire (chunk headers included)."""
    te = (hget(headers, "Transfer-Encoding") or "").lower()
    cl = hget(headers, "Content-Length")
    if not is_request and (req_method == "HEAD" or status in (204, 304) or 100 <= status < 200):
        return
    if "chunked" in te:
        while True:
            line = conn.read_line()
            yield line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers up to the empty line
                    t = conn.read_line()
                    yield t
                    if t == b"\r\n":
                        return
            remaining = size + 2
            while remaining:
                d = conn.read_some(remaining)
                remaining -= len(d)
                yield d
        return
    if cl is not None:
        remaining = int(cl)
        while remaining:
            d = conn.read_some(min(remaining, BUF))
            remaining -= len(d)
            yield d
        return
    if is_request:
        return
    while True:  # response delimited by close
        try:
            d = conn.read_some(BUF)
        except Closed:
            return
        yield d


def fill(text, path):
    m = re.match(r"/v2/(.+?)/(blobs|manifests|tags|referrers)/", path)
    return (text.replace("{realm}", CHALLENGE["realm"]).replace("{service}", CHALLENGE["service"])
            .replace("{repo}", m.group(1) if m else ""))


class Session(threading.Thread):
    counter = 0
    counter_lock = threading.Lock()

    def __init__(self, client_sock, listen_addr):
        super().__init__(daemon=True)
        with Session.counter_lock:
            Session.counter += 1
            self.id = Session.counter
        self.client_sock = client_sock
        self.client = Conn(client_sock)
        self.listen_addr = listen_addr
        self.upstream_sock = None
        self.upstream = None
        self.n = 0

    # -- upstream connection (one persistent per client connection) --
    def connect_upstream(self):
        s = socket.create_connection((UP_HOST, UP_PORT), timeout=opt.idle_timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if UP_TLS:
            s = TLS_CTX.wrap_socket(s, server_hostname=UP_HOST)
        self.upstream_sock = s
        self.upstream = Conn(s)

    def close_upstream(self, rst=False):
        if self.upstream_sock is not None:
            if rst:
                rst_close(self.upstream_sock)
            else:
                try:
                    self.upstream_sock.close()
                except OSError:
                    pass
        self.upstream_sock = None
        self.upstream = None

    def run(self):
        try:
            self.client_sock.settimeout(opt.idle_timeout)
            self.client_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while self.exchange():
                pass
        except (Closed, OSError, ValueError, ssl.SSLError) as e:
            if not isinstance(e, Closed):
                log("c%d connection error: %s" % (self.id, e))
        finally:
            self.close_upstream()
            try:
                self.client_sock.close()
            except OSError:
                pass

    def exchange(self):
        head = self.client.read_head()
        if head is None:
            return False
        self.n += 1
        tag = "c%d.%d" % (self.id, self.n)
        first, headers = parse_head(head)
        parts = first.split(" ")
        if len(parts) != 3:
            raise ValueError("bad request line")
        method, target, version = parts
        path = target
        if path.startswith("http://") or path.startswith("https://"):  # absolute form
            s = urlsplit(path)
            path = s.path + ("?" + s.query if s.query else "")
        te = (hget(headers, "Transfer-Encoding") or "").lower()
        expect = (hget(headers, "Expect") or "").lower() == "100-continue"
        notes = []
        if "chunked" in te:
            notes.append("te=chunked")
        if expect:
            notes.append("expect=100-continue")
        auth = hget(headers, "Authorization")
        if auth:
            notes.append("auth=" + auth_note(auth))
        close_after = (hget(headers, "Connection") or "").lower() == "close" or version == "HTTP/1.0"
        rule = pick_rule(method, path)
        if rule:
            notes.append("fault=%s#%d" % (rule.type, rule.index))
        note = (" " + " ".join(notes)) if notes else ""

        # -- faults answered by the proxy itself --
        if rule and rule.type in ("status", "expire_token"):
            if rule.type == "status":
                status = int(rule.spec.get("status", 500))
                extra = [(k, fill(str(v), path)) for k, v in rule.spec.get("headers", {}).items()]
                body = fill(rule.spec.get("body", ""), path).encode()
                if not body and status >= 400:
                    body = json.dumps({"errors": [{"code": "UNKNOWN", "message": "injected by fault-proxy",
                                                   "detail": {"status": status}}]}).encode()
            else:
                status = 401
                extra = [("WWW-Authenticate", fill('Bearer realm="{realm}",service="{service}",'
                                                   'scope="repository:{repo}:pull,push",error="invalid_token"',
                                                   path))]
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                               "detail": None}]}).encode()
            n_in = 0
            if expect:
                close_after = True  # the client will not send the body: the connection cannot be reused
            else:
                for d in body_frames(self.client, headers, True):
                    n_in += len(d)
            reason = {401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error",
                      502: "Bad Gateway", 503: "Service Unavailable", 408: "Request Timeout",
                      416: "Requested Range Not Satisfiable"}.get(status, "Injected")
            hdrs = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Docker-Distribution-Api-Version", "registry/2.0")] + extra
            if close_after:
                hdrs.append(("Connection", "close"))
            self.client_sock.sendall(build_head("HTTP/1.1 %d %s" % (status, reason), hdrs) + body)
            log("%s %s %s -> %d in=%d out=%d%s" % (tag, method, path, status, n_in, len(body), note))
            return not close_after

        # -- forward the request --
        fwd = [(k, v) for k, v in headers if not (expect and k.lower() == "expect")]
        if self.upstream is not None and not self.upstream.buf:
            # A kept-alive upstream connection the server closed meanwhile reads as EOF: reconnect
            # rather than send a request into it (its body could not be replayed).
            readable, _, _ = select.select([self.upstream_sock], [], [], 0)
            if readable:
                self.close_upstream()
        if self.upstream is None:
            try:
                self.connect_upstream()
            except OSError as e:
                return self.bad_gateway(tag, method, path, headers, expect, "connect: %s" % e, note)
        if expect:  # answered here so the body streams straight through (the only header not forwarded)
            self.client_sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        reset_at = int(rule.spec.get("after_bytes", 0)) if rule and rule.type == "reset" and \
            rule.spec.get("when", "request") == "request" else None
        per_body = reset_at is not None and bool(rule.spec.get("per_body"))
        prefix = hashlib.sha256((hget(headers, "Content-Range") or "").encode())
        n_in = 0
        try:
            self.upstream_sock.sendall(build_head(first, fwd))
            frames = body_frames(self.client, headers, True)
            for d in frames:
                if reset_at is not None and n_in + len(d) >= reset_at:
                    head_part, rest = d[:reset_at - n_in], d[reset_at - n_in:]
                    if head_part:
                        self.upstream_sock.sendall(head_part)
                        prefix.update(head_part)
                    n_in += len(head_part)
                    if per_body and not rule.confirm(prefix.hexdigest()):
                        reset_at = None  # seen this body before: let it through
                        note = note.replace("fault=reset", "passed=reset")
                        if rest:
                            self.upstream_sock.sendall(rest)
                            n_in += len(rest)
                        continue
                    self.reset_now(tag, method, path, n_in, note)
                if per_body and reset_at is not None:
                    prefix.update(d)
                self.upstream_sock.sendall(d)
                n_in += len(d)
            if reset_at is not None:  # the body was shorter than after_bytes: reset at its end
                if per_body and not rule.confirm(prefix.hexdigest()):
                    note = note.replace("fault=reset", "passed=reset")
                else:
                    self.reset_now(tag, method, path, n_in, note)
        except (BrokenPipeError, ConnectionResetError) as e:
            # The upstream may have answered early (e.g. 401 before reading a body): relay that if it came.
            log("%s upstream closed while sending the body (%s); trying to read its answer" % (tag, e))
            close_after = True

        # -- relay the response --
        try:
            rhead = self.upstream.read_head()
            while rhead is not None and rhead.startswith(b"HTTP/1.1 100"):  # interim answers: swallow
                rhead = self.upstream.read_head()
            if rhead is None:
                raise Closed()
        except (Closed, OSError, ValueError) as e:
            self.close_upstream()
            return self.bad_gateway(tag, method, path, headers, False, "read response: %s" % (e or "closed"), note,
                                    body_read=True)
        rfirst, rheaders = parse_head(rhead)
        status = int(rfirst.split(" ")[1])
        out_headers = []
        for k, v in rheaders:
            kl = k.lower()
            if kl == "location":
                for base in UP_BASES:
                    if v.startswith(base):
                        v = "http://%s%s" % (self.listen_addr, v[len(base):])
            elif kl == "www-authenticate" and v.lower().startswith("bearer "):
                m1 = re.search(r'realm="([^"]*)"', v)
                m2 = re.search(r'service="([^"]*)"', v)
                with STATE_LOCK:
                    if m1 and not opt.realm:
                        CHALLENGE["realm"] = m1.group(1)
                    if m2 and not opt.service:
                        CHALLENGE["service"] = m2.group(1)
            elif kl == "docker-content-digest" and rule and rule.type == "wrong_digest":
                algo, _, hexpart = v.partition(":")
                flipped = "".join("0123456789abcdef"[(int(c, 16) + 1) % 16] for c in hexpart[:8]) + hexpart[8:]
                v = "%s:%s" % (algo, flipped)
            elif kl == "connection" and v.lower() == "close":
                close_after = True
            out_headers.append((k, v))
        if close_after and not any(k.lower() == "connection" for k, _ in out_headers):
            out_headers.append(("Connection", "close"))
        if rule and rule.type == "reset" and rule.spec.get("when") == "response":
            # when=response: the upstream did the work; the client never sees the answer
            for _ in body_frames(self.upstream, rheaders, False, status=status, req_method=method):
                pass
            log("%s %s %s -> RESET upstream=%d in=%d out=0%s" % (tag, method, path, status, n_in, note))
            rst_close(self.client_sock)
            raise Closed()
        self.client_sock.sendall(build_head(rfirst, out_headers))
        n_out = 0
        delimited_by_close = (hget(rheaders, "Content-Length") is None and
                              "chunked" not in (hget(rheaders, "Transfer-Encoding") or "").lower() and
                              not (method == "HEAD" or status in (204, 304)))
        for d in body_frames(self.upstream, rheaders, False, status=status, req_method=method):
            self.client_sock.sendall(d)
            n_out += len(d)
        log("%s %s %s -> %d in=%d out=%d%s" % (tag, method, path, status, n_in, n_out, note))
        if delimited_by_close or close_after:
            self.close_upstream()
            return False
        return True

    def reset_now(self, tag, method, path, n_in, note):
        log("%s %s %s -> RESET in=%d out=0%s" % (tag, method, path, n_in, note))
        rst_close(self.client_sock)  # the client sees ECONNRESET
        # The upstream gets a clean end of stream after exactly n_in body bytes (a RST could discard
        # bytes it has not read yet); wait (bounded) until it has dealt with the short body.
        try:
            self.upstream_sock.shutdown(socket.SHUT_WR)
            self.upstream_sock.settimeout(2.0)
            while self.upstream_sock.recv(BUF):
                pass
        except OSError:
            pass
        self.close_upstream()
        raise Closed()

    def bad_gateway(self, tag, method, path, headers, expect, why, note, body_read=False):
        n_in = 0
        if not expect and not body_read:
            try:
                for d in body_frames(self.client, headers, True):
                    n_in += len(d)
            except (Closed, OSError, ValueError):
                pass
        body = json.dumps({"errors": [{"code": "UNKNOWN", "message": "fault-proxy: upstream failed: " + why}]}).encode()
        self.client_sock.sendall(build_head("HTTP/1.1 502 Bad Gateway", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")]) + body)
        log("%s %s %s -> 502 in=%d out=%d error=%s%s" % (tag, method, path, n_in, len(body), why.replace(" ", "_"), note))
        return False


def main():
    global RULES, RULES_MTIME
    try:
        RULES = load_rules()
    except (ValueError, OSError) as e:
        sys.exit("fault-proxy: bad rules: %s" % e)
    if opt.rules and os.path.exists(opt.rules):
        RULES_MTIME = os.stat(opt.rules).st_mtime_ns
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", opt.port))
    lsock.listen(64)
    lsock.settimeout(0.2)
    addr = "127.0.0.1:%d" % lsock.getsockname()[1]
    if opt.addr_file:
        tmp = opt.addr_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(addr + "\n")
        os.replace(tmp, opt.addr_file)
    log("listening on %s, upstream %s, %d rule(s)" % (addr, opt.upstream, len(RULES)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    deadline = time.monotonic() + opt.max_lifetime
    while not stop.is_set():
        if time.monotonic() > deadline:
            log("max lifetime reached")
            break
        try:
            client, _ = lsock.accept()
        except socket.timeout:
            if opt.owner_pid:
                try:
                    os.kill(opt.owner_pid, 0)
                except ProcessLookupError:
                    log("owner %d gone" % opt.owner_pid)
                    break
            continue
        except OSError:
            if stop.is_set():
                break
            raise
        Session(client, addr).start()
    lsock.close()
    log("stopped")


if __name__ == "__main__":
    main()
