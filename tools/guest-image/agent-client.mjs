#!/usr/bin/env node
// Manual test client for the virtplug guest agent (protocol: docs/guest-agent.md).
//
//   node agent-client.mjs [--timeout MS] [--wait MS] SOCKET 'REQUEST_JSON' ['REQUEST_JSON' ...]
//
// Sends each request on one connection (adding an "id" if missing), prints each
// response line. --wait keeps retrying (connect errors, no answer) for up to MS
// milliseconds, e.g. while the guest is still booting. Exit 1 if any ok:false.
import net from 'node:net';

function usage() {
  console.error("usage: agent-client.mjs [--timeout MS] [--wait MS] SOCKET '{\"op\":\"ping\"}' ...");
  process.exit(2);
}

const args = process.argv.slice(2);
let timeoutMs = 30000;
let waitMs = 0;
while (args[0]?.startsWith('--')) {
  const flag = args.shift();
  const value = Number(args.shift());
  if (!Number.isFinite(value)) usage();
  if (flag === '--timeout') timeoutMs = value;
  else if (flag === '--wait') waitMs = value;
  else usage();
}
const [socketPath, ...raw] = args;
if (!socketPath || raw.length === 0) usage();

// Ids unique across connections: a reply to a request from an earlier,
// abandoned connection can still arrive on a new one and must be ignored.
let nextId = (Date.now() % 1e9) * 1000;
const requests = raw.map((text) => {
  const req = JSON.parse(text);
  if (req.id === undefined) req.id = nextId++;
  return req;
});

const wanted = new Set(requests.map((r) => r.id));

function attempt(deadlineMs) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const responses = [];
    let buffer = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no response within ${deadlineMs} ms`));
    }, deadlineMs);
    sock.on('connect', () => {
      for (const req of requests) sock.write(JSON.stringify(req) + '\n');
    });
    sock.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (wanted.has(JSON.parse(line).id)) responses.push(line);
      }
      if (responses.length >= requests.length) {
        clearTimeout(timer);
        sock.end();
        resolve(responses);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before all responses arrived'));
    });
  });
}

const started = Date.now();
for (;;) {
  try {
    const remaining = waitMs ? Math.max(100, Math.min(timeoutMs, started + waitMs - Date.now())) : timeoutMs;
    const responses = await attempt(remaining);
    let failed = false;
    for (const line of responses) {
      console.log(line);
      if (JSON.parse(line).ok !== true) failed = true;
    }
    process.exit(failed ? 1 : 0);
  } catch (err) {
    if (Date.now() - started >= waitMs) {
      console.error(`agent-client: ${err.message}`);
      process.exit(3);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
