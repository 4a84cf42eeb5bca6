// Drives the official @vertx/eventbus-bridge-client.js for the launcher's tests (BridgeMatrixTest).
// Commands come as JSON lines on stdin, everything the clients see goes out as JSON lines on stdout:
//   {"op":"connect","conn":"a","url":"http://127.0.0.1:PORT/eventbus?token=..."}  → {"conn":"a","event":"open"} or "close"
//   {"op":"register","conn":"a","address":"...","headers":{...}}                 → {"conn":"a","event":"message",...} per message
//   {"op":"send","conn":"a","address":"...","body":{...},"headers":{...},"id":"r1"} → {"conn":"a","event":"reply","id":"r1",...}
//   {"op":"publish","conn":"a","address":"...","body":{...},"headers":{...}}
//   {"op":"close","conn":"a"}
// Refusals arrive as {"conn":"a","event":"error","error":{...}} (the bridge's err frame, on onerror).
'use strict';
const EventBus = require('@vertx/eventbus-bridge-client.js');
const readline = require('readline');

const buses = {};
const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');

function connect(cmd) {
  const eb = new EventBus(cmd.url, { vertxbus_ping_interval: 2000 });
  buses[cmd.conn] = eb;
  eb.onopen = () => out({ conn: cmd.conn, event: 'open' });
  eb.onclose = () => out({ conn: cmd.conn, event: 'close' });
  eb.onerror = (err) => out({ conn: cmd.conn, event: 'error', error: err });
}

function run(cmd) {
  const eb = buses[cmd.conn];
  switch (cmd.op) {
    case 'connect':
      return connect(cmd);
    case 'register':
      return eb.registerHandler(cmd.address, cmd.headers || {}, (err, msg) => out(err
        ? { conn: cmd.conn, event: 'error', address: cmd.address, error: err }
        : { conn: cmd.conn, event: 'message', address: msg.address, headers: msg.headers || {}, body: msg.body }));
    case 'send':
      return eb.send(cmd.address, cmd.body, cmd.headers || {}, (err, reply) => out(err
        ? { conn: cmd.conn, event: 'reply', id: cmd.id, error: err }
        : { conn: cmd.conn, event: 'reply', id: cmd.id, body: reply.body }));
    case 'publish':
      return eb.publish(cmd.address, cmd.body, cmd.headers || {});
    case 'close':
      return eb.close();
    case 'exit':
      return process.exit(0);
    default:
      throw new Error('unknown op ' + cmd.op);
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    run(JSON.parse(line));
  } catch (e) {
    out({ event: 'failure', message: String(e), line });
  }
});
process.stdin.on('end', () => process.exit(0));
out({ event: 'ready' });
