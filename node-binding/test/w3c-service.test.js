'use strict';
// Drives examples/w3c-test-service.mjs on loopback the way the W3C Trace Context test harness does
// (https://github.com/w3c/trace-context/tree/main/test): POST [{url, arguments}] with trace headers,
// and judge what the service sends on to each url. The checks are the spec's rules, written here
// from the spec (W3C Trace Context Level 1 and 2), not the harness's code; the harness itself is run
// by hand before a release (BENCHMARKS.md, "Conformance").
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const TRACE = '12345678901234567890123456789012';
const PARENT = '1234567890123456';

test('the W3C test service propagates as a participating service', async (t) => {
  const { start } = await import('../examples/w3c-test-service.mjs');
  const received = [];
  const harness = await listen((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, raw: req.rawHeaders, body: JSON.parse(body) });
      res.end();
    });
  });
  const service = await start(0);
  t.after(() => {
    harness.close();
    service.close();
  });
  const base = `http://127.0.0.1:${harness.address().port}/callback`;
  // `headers`: [[name, value]] so a name may repeat (sent as separate lines), as the harness sends it.
  const post = (headers, list) => {
    received.length = 0;
    const lines = { 'content-type': 'application/json' };
    for (const [n, v] of headers) lines[n] = n in lines ? [].concat(lines[n], v) : v;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: service.address().port, path: '/test', method: 'POST', headers: lines },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(list));
    });
  };
  const callbacks = (n) => Array.from({ length: n }, (_, i) => ({ url: `${base}/${i}`, arguments: [] }));
  const traceparent = (hop) => {
    const lines = [];
    for (let i = 0; i < hop.raw.length; i += 2) if (hop.raw[i].toLowerCase() === 'traceparent') lines.push(hop.raw[i + 1]);
    assert.strictEqual(lines.length, 1, `exactly one traceparent: ${lines}`);
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(lines[0]);
    assert.ok(m, `a version-00 traceparent: ${lines[0]}`);
    assert.notStrictEqual(m[1], '0'.repeat(32));
    assert.notStrictEqual(m[2], '0'.repeat(16));
    return { traceId: m[1], parentId: m[2], flags: parseInt(m[3], 16) };
  };
  const one = async (headers) => {
    assert.strictEqual(await post(headers, callbacks(1)), 200);
    assert.strictEqual(received.length, 1);
    return { tp: traceparent(received[0]), ts: received[0].headers.tracestate };
  };

  // §3.2 a participating service: same trace id, its own parent id, the tracestate as received.
  let r = await post([['traceparent', `00-${TRACE}-${PARENT}-01`], ['tracestate', 'foo=1,bar=2']], [{ url: base, arguments: [{ url: base, arguments: [] }] }]);
  assert.strictEqual(r, 200);
  assert.strictEqual(received.length, 1);
  assert.deepStrictEqual(received[0].body, [{ url: base, arguments: [] }]);
  let got = traceparent(received[0]);
  assert.deepStrictEqual([got.traceId, got.flags & 1], [TRACE, 1]);
  assert.notStrictEqual(got.parentId, PARENT, 'a participating service sends its own span id');
  assert.strictEqual(received[0].headers.tracestate, 'foo=1,bar=2');

  // Every outgoing call is a span of its own: 3 calls, 3 distinct parent ids, one trace id.
  for (const headers of [[['traceparent', `00-${TRACE}-${PARENT}-01`]], [], [['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`]]]) {
    assert.strictEqual(await post(headers, callbacks(3)), 200);
    assert.strictEqual(received.length, 3);
    const tps = received.map(traceparent);
    assert.strictEqual(new Set(tps.map((x) => x.traceId)).size, 1, 'one trace');
    assert.strictEqual(new Set(tps.map((x) => x.parentId)).size, 3, `3 parent ids for ${JSON.stringify(headers)}`);
    if (headers.length && !headers[0][1].includes('0'.repeat(32))) assert.strictEqual(tps[0].traceId, TRACE);
    else assert.notStrictEqual(tps[0].traceId, '0'.repeat(32));
  }

  // Level 2 §3.2.2.5.2: the random flag survives while the trace id is kept; a new trace sets it.
  got = (await one([['traceparent', `00-${TRACE}-${PARENT}-02`]])).tp;
  assert.deepStrictEqual([got.traceId, got.flags & 2, got.flags & 1], [TRACE, 2, 0]);
  got = (await one([['traceparent', `00-${TRACE}-${PARENT}-03`]])).tp;
  assert.deepStrictEqual([got.traceId, got.flags & 3], [TRACE, 3]);
  got = (await one([])).tp;
  assert.strictEqual(got.flags & 2, 2, 'a new random trace id has the random flag');

  // §3.2.4: a higher version is read as version 00; §3.2.2: an invalid or repeated traceparent
  // starts a new trace, and its tracestate is not propagated.
  got = (await one([['traceparent', `cc-${TRACE}-${PARENT}-01-what-the-future-will-be-like`]])).tp;
  assert.strictEqual(got.traceId, TRACE);
  let out = await one([['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`], ['tracestate', 'foo=1']]);
  assert.notStrictEqual(out.tp.traceId, '0'.repeat(32));
  assert.strictEqual(out.ts, undefined);
  out = await one([['traceparent', `00-${TRACE.replace(/2$/, '1')}-${PARENT}-01`], ['traceparent', `00-${TRACE}-${PARENT}-01`]]);
  assert.ok(![TRACE, TRACE.replace(/2$/, '1')].includes(out.tp.traceId), 'two traceparents: a new trace');

  // §3.3.1.3.1 (Level 2 key rule): `@` anywhere after the first character, up to 256 characters.
  const kept = async (ts, want) => {
    const o = await one([['traceparent', `00-${TRACE}-${PARENT}-00`], ...ts.map((v) => ['tracestate', v])]);
    assert.strictEqual(o.tp.traceId, TRACE);
    assert.strictEqual(o.ts, want, JSON.stringify(ts));
  };
  await kept(['foo@=1,bar=2'], 'foo@=1,bar=2');
  await kept(['foo@@bar=1,bar=2'], 'foo@@bar=1,bar=2');
  await kept(['foo=1', `${'t'.repeat(242)}@v=1`], `foo=1,${'t'.repeat(242)}@v=1`);
  await kept(['foo=1', `t@${'v'.repeat(15)}=1`], `foo=1,t@${'v'.repeat(15)}=1`);
  await kept(['foo=1', `${'z'.repeat(256)}=1`], `foo=1,${'z'.repeat(256)}=1`);
  // An invalid tracestate is dropped, the traceparent kept (§3.3.1.1).
  await kept(['@foo=1,bar=2'], undefined);
  await kept(['foo=1', `${'z'.repeat(257)}=1`], undefined);
  await kept(['FOO=1'], undefined);
  await kept(['foo=bar=baz'], undefined);
  // Duplicate keys: one value survives; we keep the first (in one line or across lines).
  await kept(['foo=1,foo=2'], 'foo=1');
  await kept(['foo=1', 'foo=2'], 'foo=1');
  await kept(['foo=1,bar=2', 'foo=3,baz=4'], 'foo=1,bar=2,baz=4');

  r = await post([], { not: 'a list' });
  assert.strictEqual(r, 400);
});
