// Scoring core of {{MODULE_NAME}}: turns /score requests into onnxruntime-node feeds and the outputs
// into JSON. It takes the session and the Tensor constructor as arguments, so it runs (and is tested)
// without HTTP and without IoT Edge.
//
// Requests (JSON):
//   {"rows": [[...], ...]}            rows for a model with one 2-D input; a row may also be an
//                                     object keyed by feature name when the signature lists features
//   [[...], ...]                      the same rows, bare
//   {"inputs": {"name": [...], ...}}  named tensors (nested lists), one per model input
// Response: {"outputs": {"<output name>": <nested lists>, ...}}
'use strict';

const fs = require('fs');

// ONNX element type names (edgeship's signature.json) -> onnxruntime tensor types and arrays
const ELEMENT_TYPES = {
  float: ['float32', Float32Array],
  double: ['float64', Float64Array],
  int8: ['int8', Int8Array],
  int16: ['int16', Int16Array],
  int32: ['int32', Int32Array],
  int64: ['int64', BigInt64Array],
  uint8: ['uint8', Uint8Array],
  uint16: ['uint16', Uint16Array],
  uint32: ['uint32', Uint32Array],
  uint64: ['uint64', BigUint64Array],
  bool: ['bool', Uint8Array],
  string: ['string', Array],
};

class ScoringError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Hex sha256 of the model file, read in 1 MiB pieces: what /metadata reports (the generated
// signature.json carries none, so the code stays the same when only the model is retrained).
function fileSha256(file) {
  const hash = require('crypto').createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function loadSignature(path) {
  return JSON.parse(fs.readFileSync(path, 'utf8'));
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ScoringError(400, `request body is not JSON: ${e.message}`);
  }
}

// Nested arrays -> [flat values, dims]; ragged input is refused.
function flatten(value, what) {
  const dims = [];
  let probe = value;
  while (Array.isArray(probe)) {
    dims.push(probe.length);
    probe = probe[0];
  }
  const flat = [];
  const walk = (v, depth) => {
    if (depth === dims.length) {
      if (Array.isArray(v)) throw new ScoringError(400, `${what}: ragged nested lists`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) throw new ScoringError(400, `${what}: ragged nested lists`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(value, 0);
  return [flat, dims];
}

function toJsonable(value) {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return value;
}

// A tensor's flat data -> nested lists following its dims.
function nest(data, dims) {
  const values = Array.from(data, toJsonable);
  if (dims.length === 0) return values[0];
  const build = (offset, depth) => {
    const n = Number(dims[depth]);
    if (depth === dims.length - 1) return values.slice(offset, offset + n);
    const stride = dims.slice(depth + 1).reduce((a, b) => a * Number(b), 1);
    const out = [];
    for (let i = 0; i < n; i++) out.push(build(offset + i * stride, depth + 1));
    return out;
  };
  return build(0, 0);
}

function outputToJson(value) {
  if (value && value.dims !== undefined && value.data !== undefined) return nest(value.data, value.dims);
  if (Array.isArray(value)) return value.map(outputToJson);
  if (value instanceof Map) return Object.fromEntries(Array.from(value, ([k, v]) => [String(k), toJsonable(v)]));
  return value;
}

class Scorer {
  constructor(session, Tensor, signature, maxBatchRows = 256, modelSha256 = null) {
    this.modelSha256 = modelSha256;
    this.session = session;
    this.Tensor = Tensor;
    this.maxBatchRows = maxBatchRows;
    const sig = Object.assign({}, signature || {});
    if (!sig.inputs) {
      // no signature generated (no model at scaffold time): names from the session, types float
      sig.inputs = session.inputNames.map((name) => ({name, type: 'float', shape: null}));
      sig.outputs = session.outputNames.map((name) => ({name, type: null, shape: null}));
    }
    this.signature = sig;
    this.inputs = sig.inputs;
    this.features = sig.features || null;
    const loaded = Array.from(session.inputNames);
    const expected = this.inputs.map((i) => i.name);
    if (JSON.stringify(loaded) !== JSON.stringify(expected)) {
      throw new Error(`model inputs ${JSON.stringify(loaded)} do not match the generated signature ${JSON.stringify(expected)}`);
    }
  }

  metadata() {
    return {
      model_file: this.signature.model_file || null,
      sha256: this.modelSha256 || this.signature.sha256 || null,
      inputs: this.signature.inputs,
      outputs: this.signature.outputs || null,
      features: this.features,
      max_batch_rows: this.maxBatchRows,
    };
  }

  tensor(spec, value, what) {
    const kind = ELEMENT_TYPES[spec.type];
    if (!kind) throw new ScoringError(400, `${what}: input type ${spec.type} is not supported`);
    const [flat, dims] = flatten(value, what);
    const shape = spec.shape;
    if (shape) {
      if (dims.length !== shape.length) {
        throw new ScoringError(400, `${what}: expected ${shape.length} dimensions ${JSON.stringify(shape)}, got ${dims.length}`);
      }
      shape.forEach((want, axis) => {
        if (typeof want === 'number' && want !== dims[axis]) {
          throw new ScoringError(400, `${what}: dimension ${axis} must be ${want}, got ${dims[axis]}`);
        }
      });
    }
    if (dims.length > 0 && dims[0] > this.maxBatchRows) {
      throw new ScoringError(413, `${what}: ${dims[0]} rows exceed MAX_BATCH_ROWS=${this.maxBatchRows}`);
    }
    const [type, Arr] = kind;
    let data;
    try {
      if (type === 'int64' || type === 'uint64') data = Arr.from(flat, (v) => BigInt(v));
      else if (type === 'string') data = flat.map(String);
      else if (type === 'bool') data = Arr.from(flat, (v) => (v ? 1 : 0));
      else {
        data = Arr.from(flat, (v) => {
          if (v === null) return NaN;
          if (typeof v !== 'number') throw new TypeError(`not a number: ${JSON.stringify(v)}`);
          return v;
        });
      }
    } catch (e) {
      throw new ScoringError(400, `${what}: cannot convert to ${spec.type}: ${e.message}`);
    }
    return new this.Tensor(type, data, dims);
  }

  row(r, index) {
    if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
      if (!this.features) throw new ScoringError(400, `rows[${index}]: named columns need a model with feature names; send lists`);
      const missing = this.features.filter((f) => !(f in r));
      if (missing.length) throw new ScoringError(400, `rows[${index}]: missing feature(s) ${missing.join(', ')}`);
      return this.features.map((f) => r[f]);
    }
    if (!Array.isArray(r)) throw new ScoringError(400, `rows[${index}]: a row is a list of numbers or an object of features`);
    return r;
  }

  feeds(request) {
    if (Array.isArray(request)) request = {rows: request};
    if (request === null || typeof request !== 'object') {
      throw new ScoringError(400, 'request must be {"rows": [...]} or {"inputs": {...}}');
    }
    if ('rows' in request) {
      if (this.inputs.length !== 1) {
        throw new ScoringError(400, `this model has ${this.inputs.length} inputs; send {"inputs": {name: tensor}}`);
      }
      const rows = request.rows;
      if (!Array.isArray(rows) || rows.length === 0) throw new ScoringError(400, 'rows must be a non-empty list');
      if (rows.length > this.maxBatchRows) {
        throw new ScoringError(413, `${rows.length} rows exceed MAX_BATCH_ROWS=${this.maxBatchRows}`);
      }
      const spec = this.inputs[0];
      return {[spec.name]: this.tensor(spec, rows.map((r, i) => this.row(r, i)), 'rows')};
    }
    if (request.inputs && typeof request.inputs === 'object' && !Array.isArray(request.inputs)) {
      const feeds = {};
      for (const spec of this.inputs) {
        if (!(spec.name in request.inputs)) throw new ScoringError(400, `missing input '${spec.name}'`);
        feeds[spec.name] = this.tensor(spec, request.inputs[spec.name], `inputs.${spec.name}`);
      }
      const unknown = Object.keys(request.inputs).filter((k) => !(k in feeds)).sort();
      if (unknown.length) throw new ScoringError(400, `unknown input(s): ${unknown.join(', ')}`);
      return feeds;
    }
    throw new ScoringError(400, 'request must be {"rows": [...]} or {"inputs": {...}}');
  }

  async score(request) {
    const feeds = this.feeds(request);
    let results;
    try {
      results = await this.session.run(feeds);
    } catch (e) {
      throw new ScoringError(422, `inference failed: ${e.message}`);
    }
    const outputs = {};
    for (const name of this.session.outputNames) outputs[name] = outputToJson(results[name]);
    return {outputs};
  }
}

module.exports = {Scorer, ScoringError, fileSha256, loadSignature, parseBody, flatten, nest};
