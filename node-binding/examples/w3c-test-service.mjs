// A participating service for the W3C Trace Context test suite
// (https://github.com/w3c/trace-context/tree/main/test).
//
// The harness POSTs a JSON list of {url, arguments}. For each entry this service POSTs `arguments`
// (as JSON) to `url`, propagating the trace context it received as a participating service does:
// the same trace id, a new span id (its own span), the sampled flag and the tracestate as received.
// When no valid traceparent arrived it starts a new trace.
//
//   node examples/w3c-test-service.mjs [port]      (default 7777; PORT env also works)
//
// Usage from Node: `import { start } from './w3c-test-service.mjs'; const server = await start(0);`

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Translator, inject } from '../index.mjs';

const w3c = new Translator({ extract: ['w3c'], inject: ['w3c'] });

function hex(n) {
  let id;
  do id = randomBytes(n).toString('hex');
  while (/^0+$/.test(id));
  return id;
}

/** The headers to send downstream for the request headers `incoming`. */
export function outgoingHeaders(incoming) {
  const parent = w3c.extract(incoming);
  const ctx = parent
    ? { traceId: parent.traceId, spanId: hex(8), sampled: parent.sampled === true, traceState: parent.traceState }
    : { traceId: hex(16), spanId: hex(8), sampled: false };
  return inject(ctx, { 'content-type': 'application/json' });
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
  const headers = outgoingHeaders(req.headers);
  for (const { url, arguments: args } of list) {
    try {
      const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(args ?? []) });
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
