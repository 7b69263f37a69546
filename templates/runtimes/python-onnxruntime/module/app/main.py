"""{{MODULE_NAME}}: HTTP scoring service and IoT Edge module entry point.

  POST /score     JSON rows or named tensors in, outputs out (see scoring.py)
  GET  /health    {"status": "ok"}
  GET  /metadata  the model's signature

Environment: MODEL_PATH (default /app/model/{{MODEL_FILE}}), PORT ({{PORT}}), MAX_BATCH_ROWS
({{MAX_BATCH_ROWS}}), MAX_BODY_BYTES (1048576), HOST (0.0.0.0). Inside IoT Edge (IOTEDGE_*
variables present) messages on input "input" are also scored and sent to output "output".
"""
import http.server
import json
import logging
import os
import signal
import sys
import threading

from . import scoring

LOG = logging.getLogger("{{MODULE_NAME}}")
SIGNATURE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signature.json")


def env_int(environ, name, default):
    raw = environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit("%s must be an integer, got %r" % (name, raw))
    if value <= 0:
        raise SystemExit("%s must be positive, got %d" % (name, value))
    return value


def in_iot_edge(environ):
    """True inside the IoT Edge runtime, which sets IOTEDGE_* variables for every module."""
    return any(k.startswith("IOTEDGE_") for k in environ)


def make_handler(scorer, max_body_bytes):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "{{MODULE_NAME}}"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            LOG.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, status, payload):
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            elif self.path == "/metadata":
                self._send(200, scorer.metadata())
            else:
                self._send(404, {"error": "not found: %s" % self.path})

        def do_POST(self):
            if self.path != "/score":
                self._send(404, {"error": "not found: %s" % self.path})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                self._send(400, {"error": "bad Content-Length"})
                return
            if length > max_body_bytes:
                self.close_connection = True
                self._send(413, {"error": "body of %d bytes exceeds MAX_BODY_BYTES=%d" % (length, max_body_bytes)})
                return
            body = self.rfile.read(length)
            try:
                self._send(200, scorer.score(scoring.parse_body(body)))
            except scoring.ScoringError as e:
                self._send(e.status, {"error": e.message})

    return Handler


def create_server(scorer, host="0.0.0.0", port={{PORT}}, max_body_bytes=1048576):
    """An HTTP server for `scorer` (not yet serving); port 0 picks a free port."""
    server = http.server.ThreadingHTTPServer((host, port), make_handler(scorer, max_body_bytes))
    server.daemon_threads = True
    return server


def load_session(model_path):
    import onnxruntime  # only here, so the scoring core can be used without it

    return onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])


def main(environ=None, session_factory=load_session):
    environ = os.environ if environ is None else environ
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    model_path = environ.get("MODEL_PATH", "/app/model/{{MODEL_FILE}}")
    port = env_int(environ, "PORT", {{PORT}})
    max_batch_rows = env_int(environ, "MAX_BATCH_ROWS", {{MAX_BATCH_ROWS}})
    max_body_bytes = env_int(environ, "MAX_BODY_BYTES", 1048576)
    if not os.path.isfile(model_path):
        raise SystemExit("MODEL_PATH %s: no such file" % model_path)
    scorer = scoring.Scorer(session_factory(model_path), scoring.load_signature(SIGNATURE_PATH), max_batch_rows,
                            model_sha256=scoring.file_sha256(model_path))
    edge_client = None
    if in_iot_edge(environ):
        from . import edge  # the IoT Edge module SDK is only imported inside IoT Edge

        edge_client = edge.start(scorer)
    server = create_server(scorer, environ.get("HOST", "0.0.0.0"), port, max_body_bytes)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    LOG.info("serving %s on port %d", model_path, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if edge_client is not None:
            edge_client.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
