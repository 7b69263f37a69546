"""Scoring core of {{MODULE_NAME}}: turns /score requests into ONNX Runtime feeds and the outputs
into JSON. It knows nothing about HTTP or IoT Edge, so it runs (and is tested) with any object that
has ONNX Runtime's InferenceSession interface: get_inputs(), get_outputs(), run(names, feeds).

Requests (JSON):
  {"rows": [[...], ...]}            rows for a model with one 2-D input; a row may also be an
                                    object keyed by feature name when the signature lists features
  [[...], ...]                      the same rows, bare
  {"inputs": {"name": [...], ...}}  named tensors (nested lists), one per model input
Response: {"outputs": {"<output name>": <nested lists>, ...}}
"""
import hashlib
import json
import math

import numpy as np

# ONNX element type names (edgeship's signature.json) -> numpy dtypes
ELEMENT_TYPES = {
    "float": np.float32,
    "double": np.float64,
    "float16": np.float16,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
    "string": np.object_,
}


class ScoringError(Exception):
    """A request the scorer refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _type_from_session(ort_type):
    # "tensor(float)" -> "float"
    if ort_type.startswith("tensor(") and ort_type.endswith(")"):
        return ort_type[7:-1]
    return ort_type


def _tensors_from_session(args):
    out = []
    for a in args:
        shape = None
        if a.shape is not None:
            shape = [d if isinstance(d, int) or d is None else str(d) for d in a.shape]
        out.append({"name": a.name, "type": _type_from_session(a.type), "shape": shape})
    return out


def file_sha256(path):
    """Hex sha256 of the model file, read in 1 MiB pieces: what /metadata reports (the generated
    signature.json carries none, so the code stays the same when only the model is retrained)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def load_signature(path):
    """The signature edgeship wrote next to the code (app/signature.json)."""
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def parse_body(body):
    """Bytes or text of a request body -> JSON value; ScoringError(400) when it is not JSON."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ScoringError(400, "request body is not UTF-8")
    try:
        return json.loads(body)
    except ValueError as e:
        raise ScoringError(400, "request body is not JSON: %s" % e)


def to_jsonable(value):
    """ONNX Runtime outputs -> JSON-compatible values (NaN and infinities become null)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return to_jsonable(value.tolist())
        return value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (np.floating,)):
        return to_jsonable(float(value))
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return dict((str(k), to_jsonable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


class Scorer:
    """Validates requests against the model's signature and runs the session."""

    def __init__(self, session, signature=None, max_batch_rows=256, model_sha256=None):
        self.session = session
        self.model_sha256 = model_sha256
        self.max_batch_rows = int(max_batch_rows)
        sig = dict(signature or {})
        if not sig.get("inputs"):
            sig["inputs"] = _tensors_from_session(session.get_inputs())
            sig["outputs"] = _tensors_from_session(session.get_outputs())
        self.signature = sig
        self.inputs = sig["inputs"]
        self.features = sig.get("features")
        # the code was generated for one model: refuse to serve a different one
        loaded = [i.name for i in session.get_inputs()]
        expected = [i["name"] for i in self.inputs]
        if loaded != expected:
            raise ValueError("model inputs %s do not match the generated signature %s" % (loaded, expected))
        self.output_names = [o.name for o in session.get_outputs()]

    def metadata(self):
        return {
            "model_file": self.signature.get("model_file"),
            "sha256": self.model_sha256 or self.signature.get("sha256"),
            "inputs": self.signature["inputs"],
            "outputs": self.signature.get("outputs"),
            "features": self.features,
            "max_batch_rows": self.max_batch_rows,
        }

    def _array(self, spec, value, what):
        dtype = ELEMENT_TYPES.get(spec.get("type"))
        if dtype is None:
            raise ScoringError(400, "%s: input type %s is not supported" % (what, spec.get("type")))
        try:
            if dtype is np.object_:
                arr = np.array(value, dtype=np.object_)
            else:
                arr = np.array(value, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise ScoringError(400, "%s: cannot convert to %s: %s" % (what, spec.get("type"), e))
        shape = spec.get("shape")
        if shape is not None:
            if arr.ndim != len(shape):
                raise ScoringError(400, "%s: expected %d dimensions %s, got %d" % (what, len(shape), shape, arr.ndim))
            for axis, (want, got) in enumerate(zip(shape, arr.shape)):
                if isinstance(want, int) and want != got:
                    raise ScoringError(400, "%s: dimension %d must be %d, got %d" % (what, axis, want, got))
        if arr.ndim > 0 and arr.shape[0] > self.max_batch_rows:
            raise ScoringError(413, "%s: %d rows exceed MAX_BATCH_ROWS=%d" % (what, arr.shape[0], self.max_batch_rows))
        return arr

    def _row(self, row, index):
        if isinstance(row, dict):
            if not self.features:
                raise ScoringError(400, "rows[%d]: named columns need a model with feature names; send lists" % index)
            missing = [f for f in self.features if f not in row]
            if missing:
                raise ScoringError(400, "rows[%d]: missing feature(s) %s" % (index, ", ".join(missing)))
            return [row[f] for f in self.features]
        if not isinstance(row, list):
            raise ScoringError(400, "rows[%d]: a row is a list of numbers or an object of features" % index)
        return row

    def feeds(self, request):
        """The ONNX Runtime feeds for a parsed request."""
        if isinstance(request, list):
            request = {"rows": request}
        if not isinstance(request, dict):
            raise ScoringError(400, "request must be {\"rows\": [...]} or {\"inputs\": {...}}")
        if "rows" in request:
            if len(self.inputs) != 1:
                raise ScoringError(400, "this model has %d inputs; send {\"inputs\": {name: tensor}}" % len(self.inputs))
            rows = request["rows"]
            if not isinstance(rows, list) or not rows:
                raise ScoringError(400, "rows must be a non-empty list")
            if len(rows) > self.max_batch_rows:
                raise ScoringError(413, "%d rows exceed MAX_BATCH_ROWS=%d" % (len(rows), self.max_batch_rows))
            spec = self.inputs[0]
            return {spec["name"]: self._array(spec, [self._row(r, i) for i, r in enumerate(rows)], "rows")}
        if "inputs" in request and isinstance(request["inputs"], dict):
            given = request["inputs"]
            feeds = {}
            for spec in self.inputs:
                if spec["name"] not in given:
                    raise ScoringError(400, "missing input '%s'" % spec["name"])
                feeds[spec["name"]] = self._array(spec, given[spec["name"]], "inputs." + spec["name"])
            unknown = sorted(set(given) - set(feeds))
            if unknown:
                raise ScoringError(400, "unknown input(s): %s" % ", ".join(unknown))
            return feeds
        raise ScoringError(400, "request must be {\"rows\": [...]} or {\"inputs\": {...}}")

    def score(self, request):
        """Scores a parsed request; returns {"outputs": {name: value}}."""
        feeds = self.feeds(request)
        try:
            results = self.session.run(None, feeds)
        except Exception as e:  # ONNX Runtime raises its own exception types
            raise ScoringError(422, "inference failed: %s" % e)
        return {"outputs": dict((n, to_jsonable(v)) for n, v in zip(self.output_names, results))}
