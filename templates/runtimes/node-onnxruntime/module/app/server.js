// {{MODULE_NAME}}: HTTP scoring service and IoT Edge module entry point (onnxruntime-node).
//
//   POST /score     JSON rows or named tensors in, outputs out (see scoring.js)
//   GET  /health    {"status": "ok"}
//   GET  /metadata  the model's signature
//
// Environment: MODEL_PATH (default /app/model/{{MODEL_FILE}}), PORT ({{PORT}}), MAX_BATCH_ROWS
// ({{MAX_BATCH_ROWS}}), MAX_BODY_BYTES (1048576), HOST (0.0.0.0). Inside IoT Edge (IOTEDGE_* variables
// present) messages on input "input" are also scored and sent to output "output".
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const {Scorer, ScoringError, fileSha256, loadSignature, parseBody} = require('./scoring');

function envInt(env, name, fallback) {
  const raw = (env[name] || '').trim();
  if (raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return v;
}

function inIotEdge(env) {
  return Object.keys(env).some((k) => k.startsWith('IOTEDGE_'));
}

function send(res, status, payload) {
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': body.length});
  res.end(body);
}

function createServer(scorer, maxBodyBytes = 1048576) {
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return send(res, 200, {status: 'ok'});
    if (req.method === 'GET' && req.url === '/metadata') return send(res, 200, scorer.metadata());
    if (req.method !== 'POST' || req.url !== '/score') return send(res, 404, {error: `not found: ${req.method} ${req.url}`});
    const chunks = [];
    let size = 0;
    let refused = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBodyBytes && !refused) {
        refused = true;
        res.setHeader('Connection', 'close');
        send(res, 413, {error: `body exceeds MAX_BODY_BYTES=${maxBodyBytes}`});
        req.destroy();
      } else if (!refused) {
        chunks.push(c);
      }
    });
    req.on('end', async () => {
      if (refused) return;
      try {
        send(res, 200, await scorer.score(parseBody(Buffer.concat(chunks).toString('utf8'))));
      } catch (e) {
        if (e instanceof ScoringError) send(res, e.status, {error: e.message});
        else send(res, 500, {error: String(e && e.message ? e.message : e)});
      }
    });
  });
}

async function main(env = process.env) {
  const ort = require('onnxruntime-node'); // loaded here so the scoring core works without it
  const modelPath = env.MODEL_PATH || '/app/model/{{MODEL_FILE}}';
  const port = env.PORT === '0' ? 0 : envInt(env, 'PORT', {{PORT}});
  const maxBatchRows = envInt(env, 'MAX_BATCH_ROWS', {{MAX_BATCH_ROWS}});
  const maxBodyBytes = envInt(env, 'MAX_BODY_BYTES', 1048576);
  if (!fs.existsSync(modelPath)) throw new Error(`MODEL_PATH ${modelPath}: no such file`);
  const session = await ort.InferenceSession.create(modelPath, {executionProviders: ['cpu']});
  const scorer = new Scorer(session, ort.Tensor, loadSignature(path.join(__dirname, 'signature.json')), maxBatchRows,
                            fileSha256(modelPath));
  let edgeClient = null;
  if (inIotEdge(env)) {
    edgeClient = await require('./edge').start(scorer); // the IoT Edge SDK is loaded only inside IoT Edge
  }
  const server = createServer(scorer, maxBodyBytes);
  server.listen(port, env.HOST || '0.0.0.0', () => {
    // one line on stdout with the bound port, so a supervisor (or a test) can find it
    process.stdout.write(`listening on ${server.address().port}\n`);
  });
  const stop = () => {
    server.close();
    if (edgeClient) edgeClient.close();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`{{MODULE_NAME}}: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  });
}

module.exports = {createServer, inIotEdge, main};
