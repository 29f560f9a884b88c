// A participating service for the W3C Trace Context test suite
// (https://github.com/w3c/trace-context/tree/main/test).
//
// The harness POSTs a JSON list of {url, arguments}. For each entry this service POSTs `arguments`
// (as JSON) to `url`, propagating the trace context it received as a participating service does:
// every outgoing call is a span of its own, so each carries the same trace id, a new parent id, the
// trace-flags (sampled, and Level 2's `random` while the trace id is kept, §3.2.2.5.2) and the
// tracestate as received. When no valid traceparent arrived it starts a new trace with a random trace
// id and sets the `random` flag (Level 2 §3.2.2.5.2).
//
//   node examples/w3c-test-service.mjs [port]      (default 7777; PORT env also works)
//
// Usage from Node: `import { start } from './w3c-test-service.mjs'; const server = await start(0);`

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Translator, inject } from '../index.mjs';

const w3c = new Translator({ extract: ['w3c'], inject: ['w3c'] });
const RANDOM = 0x02;

function hex(n) {
  let id;
  do id = randomBytes(n).toString('hex');
  while (/^0+$/.test(id));
  return id;
}

/** The trace this service continues (or starts) for the request headers `incoming`. */
export function incomingTrace(incoming) {
  const parent = w3c.extract(incoming);
  return parent
    ? { traceId: parent.traceId, sampled: parent.sampled === true, traceFlags: parent.traceFlags, traceState: parent.traceState }
    : { traceId: hex(16), sampled: false, traceFlags: RANDOM, traceState: null };
}

/** The headers of one outgoing call in `trace`: a span of its own, so a new parent id each time. */
export function outgoingHeaders(trace) {
  return inject({ ...trace, spanId: hex(8) }, { 'content-type': 'application/json' });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  let list;
  try {
    list = JSON.parse(await readBody(req));
    if (!Array.isArray(list)) throw new Error('expected a list');
  } catch (e) {
    res.writeHead(400).end(String(e.message));
    return;
  }
  const trace = incomingTrace(req.headers);
  for (const { url, arguments: args } of list) {
    try {
      const r = await fetch(url, { method: 'POST', headers: outgoingHeaders(trace), body: JSON.stringify(args ?? []) });
      await r.arrayBuffer();
    } catch {
      // The harness judges what arrived; an unreachable url is not this service's failure.
    }
  }
  res.writeHead(200).end();
}

/** Listen on `port` (0: any) on loopback; resolves to the server. */
export function start(port = 7777, host = '127.0.0.1') {
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 7777);
  const server = await start(port);
  console.log(`w3c test service listening on http://127.0.0.1:${server.address().port}/test`);
}
