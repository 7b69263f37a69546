// IoT Edge message handling for {{MODULE_NAME}}: messages arriving on input "input" are scored and
// the result is sent to output "output" through the IoT Edge module SDK (azure-iot-device).
// Required by server.js only when IOTEDGE_* variables are present.
'use strict';

const {parseBody, ScoringError} = require('./scoring');

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';

// Scores one message; resolves to the result sent, or null when the message was not for us or
// could not be scored (the reason is logged).
async function handleMessage(scorer, client, inputName, message, MessageClass) {
  if (inputName !== INPUT_NAME) return null;
  client.complete(message, () => {});
  let result;
  try {
    result = await scorer.score(parseBody(message.getBytes().toString('utf8')));
  } catch (e) {
    if (!(e instanceof ScoringError)) throw e;
    process.stderr.write(`message on input ${INPUT_NAME} not scored: ${e.message}\n`);
    return null;
  }
  const out = new MessageClass(JSON.stringify(result));
  out.contentType = 'application/json';
  out.contentEncoding = 'utf-8';
  if (message.messageId) out.correlationId = message.messageId;
  await new Promise((resolve, reject) =>
    client.sendOutputEvent(OUTPUT_NAME, out, (err) => (err ? reject(err) : resolve())));
  return result;
}

async function start(scorer) {
  const {ModuleClient, Message} = require('azure-iot-device');
  const {Mqtt} = require('azure-iot-device-mqtt');
  const client = await ModuleClient.fromEnvironment(Mqtt);
  client.on('error', (e) => process.stderr.write(`IoT Edge client error: ${e.message}\n`));
  await client.open();
  client.on('inputMessage', (inputName, message) => {
    handleMessage(scorer, client, inputName, message, Message).catch((e) =>
      process.stderr.write(`IoT Edge: ${e.message}\n`));
  });
  return client;
}

module.exports = {handleMessage, start, INPUT_NAME, OUTPUT_NAME};
