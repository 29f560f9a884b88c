'use strict';
// Drives examples/w3c-test-service.mjs on loopback with a tiny fake of the W3C harness: the harness
// POSTs [{url, arguments}] to the service with a traceparent, and checks what the service sends on.
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the W3C test service propagates as a participating service', async (t) => {
  const { start } = await import('../examples/w3c-test-service.mjs');
  const received = [];
  const harness = await listen((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.end();
    });
  });
  const service = await start(0);
  t.after(() => {
    harness.close();
    service.close();
  });
  const base = `http://127.0.0.1:${harness.address().port}/callback`;
  const post = (headers, list) =>
    fetch(`http://127.0.0.1:${service.address().port}/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(list),
    });

  const tp = '00-12345678901234567890123456789012-1234567890123456-01';
  let r = await post({ traceparent: tp, tracestate: 'foo=1,bar=2' }, [{ url: base, arguments: [{ url: base, arguments: [] }] }]);
  assert.strictEqual(r.status, 200);
  assert.strictEqual(received.length, 1);
  const [hop] = received;
  assert.deepStrictEqual(hop.body, [{ url: base, arguments: [] }]);
  const [version, traceId, spanId, flags] = hop.headers.traceparent.split('-');
  assert.deepStrictEqual([version, traceId, flags], ['00', '12345678901234567890123456789012', '01']);
  assert.notStrictEqual(spanId, '1234567890123456', 'a participating service sends its own span id');
  assert.strictEqual(hop.headers.tracestate, 'foo=1,bar=2');

  // A higher version is read as version 00 (W3C §3.2.4); an invalid traceparent restarts the trace
  // and its tracestate is not propagated.
  received.length = 0;
  await post({ traceparent: 'cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like' }, [{ url: base, arguments: [] }]);
  assert.strictEqual(received[0].headers.traceparent.split('-')[1], '12345678901234567890123456789012');
  received.length = 0;
  await post({ traceparent: '00-00000000000000000000000000000000-1234567890123456-01', tracestate: 'foo=1' }, [{ url: base, arguments: [] }]);
  assert.notStrictEqual(received[0].headers.traceparent.split('-')[1], '00000000000000000000000000000000');
  assert.strictEqual(received[0].headers.tracestate, undefined);

  r = await post({}, { not: 'a list' });
  assert.strictEqual(r.status, 400);
});
