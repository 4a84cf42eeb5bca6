// Drives the official `openai` package's OpenAIRealtimeWS client against /v1/realtime for the
// launcher's tests. Commands come as JSON lines on stdin; every server event the client emits is
// printed as a JSON line ({event: "server", data}), audio deltas shortened to their decoded size.
//   {op: "connect", baseURL, apiKey, model, beta}  beta: the SDK's beta client (openai/beta/realtime/ws)
//   {op: "send", event}                       a client event, as the SDK sends it
//   {op: "stream", path, chunkMs, rate, bytesPerSample}
//                                             a raw audio file (PCM16LE, or G.711 with
//                                             bytesPerSample 1) as input_audio_buffer.append
//                                             events, one chunk per chunkMs of real time
//   {op: "close"}
'use strict';
const readline = require('readline');
const fs = require('fs');
const { OpenAI } = require('openai');
const { OpenAIRealtimeWS } = require('openai/realtime/ws');
const { OpenAIRealtimeWS: BetaRealtimeWS } = require('openai/beta/realtime/ws');

let rt = null;
const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');

function connect(command) {
  const client = new OpenAI({ apiKey: command.apiKey, baseURL: command.baseURL });
  rt = command.beta ? new BetaRealtimeWS({ model: command.model }, client)
    : new OpenAIRealtimeWS({ model: command.model }, client);
  rt.socket.on('open', () => out({ event: 'open' }));
  rt.socket.on('close', (code, reason) => out({ event: 'close', code, reason: reason.toString() }));
  rt.on('error', (err) => out({ event: 'sdk-error', message: String(err.message), error: err.error || null }));
  rt.on('event', (event) => {
    const shown = { ...event };
    if (typeof shown.delta === 'string' && /(audio|output_audio)\.delta$/.test(shown.type)) {
      shown.delta_bytes = Buffer.from(shown.delta, 'base64').length;
      delete shown.delta;
    }
    out({ event: 'server', data: shown });
  });
}

async function stream(command) {
  const pcm = fs.readFileSync(command.path);
  const bytesPerSample = command.bytesPerSample || 2;
  const samplesPerChunk = Math.round(command.rate * command.chunkMs / 1000);
  const bytesPerChunk = samplesPerChunk * bytesPerSample;
  const started = Date.now();
  for (let offset = 0, i = 0; offset < pcm.length; offset += bytesPerChunk, i++) {
    rt.send({ type: 'input_audio_buffer.append', audio: pcm.subarray(offset, offset + bytesPerChunk).toString('base64') });
    const due = started + (i + 1) * command.chunkMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  }
  out({ event: 'streamed', bytes: pcm.length });
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  const command = JSON.parse(line);
  queue = queue.then(async () => {
    try {
      if (command.op === 'connect') connect(command);
      else if (command.op === 'send') rt.send(command.event);
      else if (command.op === 'stream') await stream(command);
      else if (command.op === 'close') rt.close();
    } catch (err) {
      out({ event: 'driver-error', op: command.op, message: String(err && err.message) });
    }
  });
});
lines.on('close', () => process.exit(0));
out({ event: 'ready' });
