#!/usr/bin/python3
# Minimal registry token server for edgeship tests (docs/design/registry.md §10.4, §5.2–5.7).
# Needs Debian's python3-jwt and python3-cryptography: run with /usr/bin/python3.
#
#   GET  /token?service=&scope=…[&offline_token=true]   Basic auth or anonymous (§5.2)
#   POST /token  grant_type=password|refresh_token, client_id required (OAuth2 form, §5.3)
#   GET  /       200 (readiness probe)
#
# testuser:testpass gets every action it asks for; anonymous requests get a token with empty `access`
# (so pushes fail with insufficient_scope, as on real registries). Tokens are RS256 JWTs carrying the
# signing certificate in x5c; the registry trusts it through rootcertbundle.
# Flags emulate registry quirks: --access-token-only (ACR-style reply without "token"), --no-post (404 on
# the OAuth2 POST: the client must fall back to GET), --expires-in N (short lifetimes; distribution adds a
# 60 s leeway), --refresh-token T (pre-seeds a refresh/identity token for testuser, as `docker login` with
# the all-zeros ACR user would store it).
# One line per request on stderr: time, method, path (with query), status, grant type. Passwords, tokens
# and refresh tokens are never logged.
import argparse
import base64
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--key", required=True)            # PEM RSA private key
ap.add_argument("--cert", required=True)           # PEM self-signed cert of that key
ap.add_argument("--issuer", default="test-issuer")
ap.add_argument("--user", default="testuser")
ap.add_argument("--password", default="testpass")
ap.add_argument("--expires-in", type=int, default=300)
ap.add_argument("--access-token-only", action="store_true")  # ACR-style body
ap.add_argument("--no-post", action="store_true")            # 404 on POST: client must fall back to GET
ap.add_argument("--refresh-token", action="append", default=[])  # pre-seeded refresh tokens for --user
opt = ap.parse_args()

KEY = open(opt.key, "rb").read()
CERT = x509.load_pem_x509_certificate(open(opt.cert, "rb").read())
X5C = base64.b64encode(CERT.public_bytes(Encoding.DER)).decode()
REFRESH = {t: opt.user for t in opt.refresh_token}  # refresh token -> subject
LOCK = threading.Lock()
LOG = threading.Lock()


def access_claim(scopes):
    out = []
    for s in scopes:
        for item in s.split():
            typ, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if typ and name and actions:
                out.append({"type": typ, "name": name, "actions": actions.split(",")})
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # a silent client cannot hold a thread forever

    def reply(self, code, body, note=""):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with LOG:
            sys.stderr.write("%s %s %s %d%s\n" % (time.strftime("%H:%M:%S"), self.command, self.path, code,
                                                 (" " + note) if note else ""))
            sys.stderr.flush()

    def grant(self, sub, service, scopes, with_refresh, note):
        now = int(time.time())
        claims = {"iss": opt.issuer, "sub": sub, "aud": service, "iat": now, "nbf": now - 5,
                  "exp": now + opt.expires_in, "jti": uuid.uuid4().hex,
                  "access": access_claim(scopes) if sub else []}
        tok = jwt.encode(claims, KEY, algorithm="RS256", headers={"x5c": [X5C]})
        body = {"access_token": tok, "expires_in": opt.expires_in,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if not opt.access_token_only:
            body["token"] = tok
        if with_refresh and sub:
            r = uuid.uuid4().hex
            with LOCK:
                REFRESH[r] = sub
            body["refresh_token"] = r
        self.reply(200, body, "%s sub=%s" % (note, sub or "anonymous"))

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/":
            return self.reply(200, {})
        if url.path != "/token":
            return self.reply(404, {"error": "not_found"})
        q = parse_qs(url.query)
        sub = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self.reply(400, {"error": "invalid_request"}, "bad-basic")
            if (user, pw) != (opt.user, opt.password):
                return self.reply(401, {"error": "invalid_grant"}, "grant=basic wrong-credentials")
            sub = user
        elif auth:
            return self.reply(400, {"error": "invalid_request"}, "unsupported-authorization")
        self.grant(sub, q.get("service", [""])[0], q.get("scope", []),
                   q.get("offline_token", [""])[0] == "true", "grant=basic" if sub else "grant=anonymous")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        raw = self.rfile.read(n) if n > 0 else b""
        if opt.no_post or urlsplit(self.path).path != "/token":
            return self.reply(404, {"error": "not_found"}, "no-post" if opt.no_post else "")
        f = parse_qs(raw.decode("utf-8", "replace"))
        get = lambda k: f.get(k, [""])[0]
        grant_type = get("grant_type")
        if not get("client_id"):
            return self.reply(400, {"error": "invalid_request"}, "grant=%s no-client_id" % grant_type)
        if grant_type == "password":
            if (get("username"), get("password")) != (opt.user, opt.password):
                return self.reply(401, {"error": "invalid_grant"}, "grant=password wrong-credentials")
            sub = get("username")
        elif grant_type == "refresh_token":
            with LOCK:
                sub = REFRESH.get(get("refresh_token"))
            if not sub:
                return self.reply(401, {"error": "invalid_grant"}, "grant=refresh_token unknown-token")
        else:
            return self.reply(400, {"error": "unsupported_grant_type"}, "grant=%s" % grant_type)
        self.grant(sub, get("service"), f.get("scope", []),
                   grant_type == "password" and get("access_type") == "offline",
                   "grant=%s client_id=%s" % (grant_type, get("client_id")))

    def log_message(self, fmt, *args):  # reply() logs; keep http.server's own lines out
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", opt.port), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
server.serve_forever(poll_interval=0.2)
server.server_close()
