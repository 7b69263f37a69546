// Runs an ONNX model in ONNX Runtime (onnxruntime-node) and prints every output as JSON.
// The reference runtime for parity tests (docs/design/onnx.md §14); C++ tests call it and parse the result.
//   usage: node ort_run.js MODEL.onnx REQUEST.json
//   REQUEST: {"X": {"type": "float32"|"float64"|"int64", "dims": [2,3], "data": [..., null = NaN]}}
//   stdout:  {"outputs": {"name": {"type", "dims", "data"}}, "input_names": [...], "output_names": [...]}
// int64 outputs come back as BigInt and are printed as strings; NaN outputs print as null.
'use strict';
const path = require('path');
const fs = require('fs');
const ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));

const arrays = {float32: Float32Array, float64: Float64Array, int32: Int32Array};

function tensorOf(spec) {
  if (spec.type === 'int64') {
    return new ort.Tensor('int64', BigInt64Array.from(spec.data, v => BigInt(v)), spec.dims);
  }
  const Arr = arrays[spec.type];
  if (!Arr) throw new Error(`unsupported input type ${spec.type}`);
  return new ort.Tensor(spec.type, Arr.from(spec.data, v => (v === null ? NaN : v)), spec.dims);
}

(async () => {
  const [model, request] = process.argv.slice(2);
  if (!model || !request) throw new Error('usage: node ort_run.js MODEL.onnx REQUEST.json');
  const req = JSON.parse(fs.readFileSync(request, 'utf8'));
  const feeds = {};
  for (const [name, spec] of Object.entries(req)) feeds[name] = tensorOf(spec);
  const sess = await ort.InferenceSession.create(model, {executionProviders: ['cpu'], intraOpNumThreads: 1});
  const out = await sess.run(feeds);
  const outputs = {};
  for (const [name, t] of Object.entries(out)) {
    outputs[name] = {type: t.type, dims: t.dims,
                     data: Array.from(t.data, v => (typeof v === 'bigint' ? v.toString() : v))};
  }
  process.stdout.write(JSON.stringify({outputs, input_names: sess.inputNames, output_names: sess.outputNames}) + '\n');
})().catch(e => { process.stderr.write(`ort_run: ${e && e.message ? e.message : e}\n`); process.exit(1); });
