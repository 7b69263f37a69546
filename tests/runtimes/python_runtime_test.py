#!/usr/bin/python3
"""The python-onnxruntime runtime's logic, with /usr/bin/python3 against a stub inference session
(ONNX Runtime for Python is not installable here): `edgeship init` scaffolds a solution for the
example model, then the generated app package is imported and exercised: request parsing and
validation from the model's signature, the HTTP service on 127.0.0.1, the IoT Edge message handler
with a fake client, and the gating of the SDK import on IOTEDGE_* variables.
usage: python_runtime_test.py EDGESHIP_EXE SOURCE_DIR"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

import numpy as np

EXE, SRC = sys.argv[1], sys.argv[2]
MODEL = os.path.join(SRC, "examples", "predictive-maintenance", "model.onnx")
TMP = tempfile.TemporaryDirectory()
SOLUTION = os.path.join(TMP.name, "solution")
MODULE_DIR = os.path.join(SOLUTION, "modules", "pm")


class Arg:
    def __init__(self, name, type_, shape):
        self.name, self.type, self.shape = name, type_, shape


class StubSession:
    """InferenceSession stand-in with the example model's signature. Output: the row sums times 0.5,
    so every answer can be checked exactly; records the feeds it was given."""

    def __init__(self, inputs=None):
        self.inputs = inputs or [Arg("features", "tensor(float)", ["batch", 6])]
        self.calls = []

    def get_inputs(self):
        return self.inputs

    def get_outputs(self):
        return [Arg("failure_probability", "tensor(float)", ["batch", 1])]

    def run(self, names, feeds):
        self.calls.append((names, feeds))
        x = feeds["features"]
        if np.isnan(x).any():
            raise RuntimeError("NaN in input")
        return [(x.sum(axis=1, keepdims=True) * 0.5).astype(np.float32)]


def expected(rows):
    return (np.array(rows, dtype=np.float32).sum(axis=1, keepdims=True) * 0.5).astype(np.float32).tolist()


class Scaffold(unittest.TestCase):
    def test_generated_signature_is_the_models(self):
        with open(os.path.join(MODULE_DIR, "app", "signature.json")) as f:
            sig = json.load(f)
        self.assertEqual(sig["inputs"], [{"name": "features", "kind": "tensor", "type": "float", "shape": ["batch", 6]}])
        self.assertEqual(sig["outputs"][0]["name"], "failure_probability")
        self.assertEqual(sig["features"][0], "vibration_rms")
        # nothing that changes with every retraining: the app layer stays the same when only the model does
        self.assertNotIn("sha256", sig)
        self.assertNotIn("producer", sig)

    def test_metadata_reports_the_sha256_of_the_model_file_it_serves(self):
        model = os.path.join(MODULE_DIR, "model", "model.onnx")
        with open(model, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(scoring.file_sha256(model), want)
        captured = {}

        class FakeServer:
            server_address = ("127.0.0.1", 0)

            def serve_forever(self):
                pass

            def server_close(self):
                pass

        def fake_create_server(scorer, host, port, max_body_bytes):
            captured["scorer"] = scorer
            return FakeServer()

        real = main.create_server
        main.create_server = fake_create_server
        try:
            self.assertEqual(main.main({"MODEL_PATH": model, "PORT": "8080"}, session_factory=lambda p: StubSession()), 0)
        finally:
            main.create_server = real
        self.assertEqual(captured["scorer"].metadata()["sha256"], want)

    def test_importing_the_app_loads_neither_onnxruntime_nor_the_sdk(self):
        code = ("import sys; sys.path.insert(0, %r); import app.main, app.scoring; "
                "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnxruntime', 'azure') or m == 'app.edge'))"
                % MODULE_DIR)
        out = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "[]")


class ScoringCore(unittest.TestCase):
    def setUp(self):
        self.session = StubSession()
        self.scorer = scoring.Scorer(self.session, scoring.load_signature(main.SIGNATURE_PATH), max_batch_rows=4)

    def test_rows_become_a_float32_batch(self):
        rows = [[1, 2, 3, 4, 5, 6], [0.5, 0, 0, 0, 0, 0]]
        out = self.scorer.score({"rows": rows})
        self.assertEqual(out, {"outputs": {"failure_probability": expected(rows)}})
        feed = self.session.calls[0][1]["features"]
        self.assertEqual(feed.dtype, np.float32)
        self.assertEqual(feed.shape, (2, 6))

    def test_bare_rows_named_tensors_and_feature_objects(self):
        rows = [[1, 1, 1, 1, 1, 1]]
        self.assertEqual(self.scorer.score(rows)["outputs"]["failure_probability"], expected(rows))
        self.assertEqual(self.scorer.score({"inputs": {"features": rows}})["outputs"]["failure_probability"], expected(rows))
        names = self.scorer.features
        obj = dict(zip(names, [1, 2, 3, 4, 5, 6]))
        self.assertEqual(self.scorer.score({"rows": [obj]})["outputs"]["failure_probability"],
                         expected([[1, 2, 3, 4, 5, 6]]))

    def assertRefused(self, request, status, text):
        with self.assertRaises(scoring.ScoringError) as cm:
            self.scorer.score(request)
        self.assertEqual(cm.exception.status, status)
        self.assertIn(text, cm.exception.message)

    def test_bad_requests(self):
        self.assertRefused({"rows": [[1, 2]]}, 400, "dimension 1 must be 6, got 2")
        self.assertRefused({"rows": [[0] * 6] * 5}, 413, "5 rows exceed MAX_BATCH_ROWS=4")
        self.assertRefused({"rows": []}, 400, "non-empty")
        self.assertRefused({"rows": [{"vibration_rms": 1}]}, 400, "missing feature(s) vibration_peak")
        self.assertRefused({"inputs": {}}, 400, "missing input 'features'")
        self.assertRefused({"inputs": {"features": [[0] * 6], "other": [1]}}, 400, "unknown input(s): other")
        self.assertRefused({"inputs": {"features": [0] * 6}}, 400, "expected 2 dimensions")
        self.assertRefused({"rows": [["x"] * 6]}, 400, "cannot convert to float")
        self.assertRefused({"something": 1}, 400, "request must be")
        self.assertRefused({"rows": [[None] * 6]}, 422, "inference failed")
        with self.assertRaises(scoring.ScoringError) as cm:
            scoring.parse_body(b"{not json")
        self.assertEqual(cm.exception.status, 400)

    def test_outputs_are_json_safe(self):
        self.assertEqual(scoring.to_jsonable(np.array([[np.nan, np.inf, 1.5]], dtype=np.float32)), [[None, None, 1.5]])
        self.assertEqual(scoring.to_jsonable([{np.int64(1): np.float32(0.25)}]), [{"1": 0.25}])
        self.assertEqual(scoring.to_jsonable(np.array([1, 2], dtype=np.int64)), [1, 2])

    def test_a_different_model_is_refused(self):
        other = StubSession([Arg("x", "tensor(float)", [None, 3])])
        with self.assertRaises(ValueError):
            scoring.Scorer(other, scoring.load_signature(main.SIGNATURE_PATH))

    def test_without_a_generated_signature_the_session_is_used(self):
        s = scoring.Scorer(StubSession(), None)
        self.assertEqual(s.inputs, [{"name": "features", "type": "float", "shape": ["batch", 6]}])


class HttpService(unittest.TestCase):
    def setUp(self):
        scorer = scoring.Scorer(StubSession(), scoring.load_signature(main.SIGNATURE_PATH), max_batch_rows=8)
        self.server = main.create_server(scorer, "127.0.0.1", 0, max_body_bytes=2048)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.port = self.server.server_address[1]

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def call(self, method, path, body=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_endpoints(self):
        self.assertEqual(self.call("GET", "/health"), (200, {"status": "ok"}))
        status, meta = self.call("GET", "/metadata")
        self.assertEqual(status, 200)
        self.assertEqual(meta["inputs"][0]["shape"], ["batch", 6])
        self.assertEqual(meta["max_batch_rows"], 8)
        rows = [[1, 2, 3, 4, 5, 6]]
        self.assertEqual(self.call("POST", "/score", {"rows": rows}), (200, {"outputs": {"failure_probability": expected(rows)}}))
        status, err = self.call("POST", "/score", {"rows": [[1]]})
        self.assertEqual(status, 400)
        self.assertIn("dimension 1 must be 6", err["error"])
        status, err = self.call("POST", "/score", b"x" * 4096)
        self.assertEqual(status, 413)
        self.assertEqual(self.call("POST", "/other", {})[0], 404)
        self.assertEqual(self.call("GET", "/score")[0], 404)


class Message:
    def __init__(self, data, input_name="input"):
        self.data, self.input_name, self.message_id = data, input_name, "m-1"


class FakeClient:
    def __init__(self):
        self.sent = []

    def send_message_to_output(self, message, output):
        self.sent.append((output, message))


class OutMessage:
    def __init__(self, data):
        self.data = data


class EdgeMessages(unittest.TestCase):
    def test_input_messages_are_scored_to_output(self):
        from app import edge  # the handler module itself does not import the SDK

        scorer = scoring.Scorer(StubSession(), scoring.load_signature(main.SIGNATURE_PATH))
        client = FakeClient()
        rows = [[1, 2, 3, 4, 5, 6]]
        result = edge.handle_message(scorer, client, Message(json.dumps({"rows": rows}).encode()), OutMessage)
        self.assertEqual(result, {"outputs": {"failure_probability": expected(rows)}})
        self.assertEqual(len(client.sent), 1)
        output, msg = client.sent[0]
        self.assertEqual(output, "output")
        self.assertEqual(json.loads(msg.data), result)
        self.assertEqual((msg.content_type, msg.content_encoding, msg.correlation_id), ("application/json", "utf-8", "m-1"))
        self.assertIsNone(edge.handle_message(scorer, client, Message(b"{}", input_name="other"), OutMessage))
        self.assertIsNone(edge.handle_message(scorer, client, Message(b"{bad"), OutMessage))
        self.assertEqual(len(client.sent), 1)

    def test_sdk_is_imported_only_inside_iot_edge(self):
        self.assertFalse(main.in_iot_edge({"PATH": "/bin"}))
        self.assertTrue(main.in_iot_edge({"IOTEDGE_MODULEID": "pm"}))
        model = os.path.join(MODULE_DIR, "model", "model.onnx")
        env = {"MODEL_PATH": model, "IOTEDGE_MODULEID": "pm", "PORT": "1"}
        with self.assertRaises(ImportError) as cm:  # azure-iot-device is not installable here
            main.main(env, session_factory=lambda path: StubSession())
        self.assertIn("azure", str(cm.exception))

    def test_settings_from_the_environment(self):
        self.assertEqual(main.env_int({"MAX_BATCH_ROWS": "32"}, "MAX_BATCH_ROWS", 256), 32)
        self.assertEqual(main.env_int({}, "MAX_BATCH_ROWS", 256), 256)
        with self.assertRaises(SystemExit):
            main.env_int({"PORT": "http"}, "PORT", 8080)
        with self.assertRaises(SystemExit):
            main.main({"MODEL_PATH": "/nonexistent.onnx"}, session_factory=lambda p: StubSession())


if __name__ == "__main__":
    r = subprocess.run([EXE, "init", SOLUTION, "--model", MODEL, "--module", "pm"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit("edgeship init failed: " + r.stderr)
    sys.path.insert(0, MODULE_DIR)
    from app import main, scoring  # noqa: E402  (generated code)

    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    TMP.cleanup()
    sys.exit(0 if result.wasSuccessful() else 1)
