'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const tb = require('..');
const b = require('../boundary.js');

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const B3 = { 'X-B3-TraceId': '80f198ee56343ba864fe8b2a57d3eff7', 'X-B3-SpanId': 'e457b5a2e4d86bd1', 'X-B3-Sampled': '1' };

test('extract: plain object (any case, string[] values), Headers, Map give the same context', () => {
  const want = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: null,
    sampled: true,
    debug: false,
    traceFlags: 1,
    traceState: 'a=1,b=2',
    source: 'w3c',
  };
  assert.deepStrictEqual(tb.extract({ TraceParent: TP, tracestate: ['a=1', 'b=2'], host: 'x' }), want);
  assert.deepStrictEqual(tb.extract(new Headers({ traceparent: TP, tracestate: 'a=1,b=2' })), want);
  assert.deepStrictEqual(tb.extract(new Map([['TRACEPARENT', TP], ['tracestate', ['a=1', 'b=2']]])), want);
  assert.strictEqual(tb.extract({}), null);
  assert.strictEqual(tb.extract({ b3: '0' }), null, 'a decision without ids is not a context');
  assert.strictEqual(tb.extract({ traceparent: [TP, TP] }), null, 'duplicate lines are invalid');
  assert.strictEqual(tb.extract({ traceparent: TP, TRACEPARENT: TP }), null, 'two keys, two lines');
});

test('extract: legacy formats, 64-bit ids padded, debug', () => {
  const got = tb.extract({ b3: '80f198ee56343ba8-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90' });
  assert.deepStrictEqual(got, {
    traceId: '000000000000000080f198ee56343ba8',
    spanId: 'e457b5a2e4d86bd1',
    parentSpanId: '05e3ac9a4f6e3b90',
    sampled: true,
    debug: true,
    traceFlags: 1,
    traceState: null,
    source: 'b3-single',
  });
  assert.strictEqual(tb.extract({ 'uber-trace-id': 'abc:def:0:0' }).sampled, false);
  const xray = tb.extract({ 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8' });
  assert.strictEqual(xray.sampled, null);
  assert.strictEqual(xray.traceId, '5759e988bd862e3fe1be46a994272793');
});

test('the same answers call after call (strings handed back are rebuilt, never stale)', () => {
  const t = new tb.Translator();
  const ids = ['4bf92f3577b34da6a3ce929d0e0e4736', '80f198ee56343ba864fe8b2a57d3eff7', '0000000000000000000000000000000a'];
  for (let round = 0; round < 3; round++) {
    for (const id of ids) {
      const span = id.slice(16);
      assert.strictEqual(t.extract({ traceparent: `00-${id}-${span}-01` }).traceId, id);
      assert.strictEqual(t.extract({ b3: `${id}-${span}` }).spanId, span);
      const x = t.extract({ 'x-amzn-trace-id': `Root=1-${id.slice(0, 8)}-${id.slice(8)};Parent=${span};Sampled=0` });
      assert.deepStrictEqual([x.traceId, x.spanId, x.sampled], [id, span, false]);
    }
  }
});

test('non-ASCII is rejected by core, never changed into something valid', () => {
  // U+0161 would become 0x61 ('a') if written as latin1 bytes: a valid-looking id.
  const sly = TP.replace('4bf92f35', '4bf92f3\u0161').replace('a3ce', '\u0161\u0161ce');
  for (const v of [TP.replace('4', '\u00e9'), sly, TP + '\u{1F600}', `${TP.slice(0, 10)}\ud800${TP.slice(11)}`]) {
    const ins = tb.inspect({ traceparent: v });
    assert.strictEqual(ins.formats.w3c.status, 'invalid', v);
    assert.strictEqual(tb.extract({ traceparent: v }), null);
  }
  const ins = tb.inspect({ traceparent: TP, tracestate: 'a=\u00e9' });
  assert.strictEqual(ins.tracestateError.code, 'header_not_ascii');
  assert.strictEqual(tb.extract({ traceparent: TP, tracestate: 'a=\u00e9' }).traceState, null);
  // A non-ASCII value before an ASCII one: the bytes after it are not where its characters end.
  for (const ts of ['a=\u00e9', 'a=\u{1F600}', 'a=\ud800']) {
    const got = tb.extract({ tracestate: ts, traceparent: TP, b3: `${TP.slice(3, 35)}-${TP.slice(36, 52)}-1` });
    assert.deepStrictEqual([got.traceId, got.spanId, got.traceState], [TP.slice(3, 35), TP.slice(36, 52), null], ts);
  }
});

test('a NUL inside a value is that value, never a separator', () => {
  const got = tb.inspect({ b3: `x\0traceparent\0${TP}` });
  assert.strictEqual(got.formats['b3-single'].code, 'header_not_ascii');
  assert.strictEqual(got.formats.w3c.status, 'absent');
});

test('values larger than the input area, and many lines, still reach core whole', () => {
  // Every value reaches core: 200 tracestate lines are too many (core reads at most 8 lines).
  const many = Array.from({ length: 200 }, (_, i) => `k${i}=v`);
  assert.strictEqual(tb.inspect({ traceparent: TP, tracestate: many }).tracestateError.code, 'header_too_long');
  // A 100 KB value (past the 16 KiB input area) is refused by core for its length.
  assert.strictEqual(tb.inspect({ b3: 'a'.repeat(100000) }).formats['b3-single'].code, 'header_too_long');
  // And the next call is back to normal.
  assert.strictEqual(tb.extract({ traceparent: TP, tracestate: 'a=1' }).traceState, 'a=1');
});

test('inspect: core\'s document with camelCase keys; inspectJson: the CLI\'s exactly', () => {
  const t = new tb.Translator();
  const headers = { traceparent: TP, b3: 'bad', ...B3 };
  const got = t.inspect(headers);
  assert.strictEqual(got.source, 'w3c');
  assert.deepStrictEqual(got.context, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: null,
    sampled: true,
    debug: false,
    traceState: null,
    idWidth: 128,
  });
  assert.deepStrictEqual(got.formats['b3-single'], { status: 'invalid', error: 'b3: not {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]] or a bare 0, 1 or d', code: 'b3_format' });
  assert.strictEqual(got.formats['b3-multi'].status, 'conflict');
  assert.strictEqual(got.formats.jaeger.status, 'absent');
  assert.strictEqual(got.samplingOnly, null);
  assert.strictEqual(got.tracestateError, null);
  const cli = JSON.parse(t.inspectJson(headers));
  assert.deepStrictEqual(Object.keys(cli), ['source', 'context', 'sampling_only', 'formats', 'tracestate_error', 'warnings']);
  assert.strictEqual(cli.context.trace_id, got.context.traceId);
  assert.deepStrictEqual(got.warnings, {});
  const dd = t.inspect({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-tags': 'no equals sign' });
  assert.strictEqual(dd.warnings.datadog.code, 'datadog_tags');
  assert.strictEqual(dd.formats.datadog.status, 'valid');
  assert.strictEqual(tb.inspect({ b3: '0' }).samplingOnly, 'deny');
});

test('no snake_case key in any object the API returns', () => {
  const snake = (o, where) => {
    if (o === null || typeof o !== 'object') return;
    for (const [k, v] of Object.entries(o)) {
      assert.ok(!k.includes('_'), `${where}.${k}`);
      snake(v, `${where}.${k}`);
    }
  };
  const h = { traceparent: TP, tracestate: 'a=1,A=2', b3: 'bad' };
  snake(tb.inspect(h), 'inspect');
  snake(tb.extract(h), 'extract');
  snake(tb.translate({ ...h }, { inject: ['w3c', 'b3-multi'] }), 'translate');
});

test('translate: legacy → W3C in place, for each carrier shape', () => {
  const config = { inject: ['w3c'], remove_other_formats: true };
  const obj = { ...B3, host: 'h' };
  const report = tb.translate(obj, config);
  assert.strictEqual(report.outcome, 'continued');
  assert.strictEqual(report.source, 'b3-multi');
  assert.deepStrictEqual(report.injected, ['w3c']);
  assert.deepStrictEqual(report.removed, ['b3-multi']);
  assert.strictEqual(report.traceId, '80f198ee56343ba864fe8b2a57d3eff7');
  assert.strictEqual(report.sampling, 'accept');
  assert.deepStrictEqual(report.formats['b3-multi'], { status: 'valid' });
  assert.deepStrictEqual(obj, {
    host: 'h',
    traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01',
  });
  const h = new Headers(B3);
  tb.translate(h, config);
  assert.deepStrictEqual([...h], [['traceparent', '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01']]);
  const m = new Map(Object.entries(B3));
  tb.translate(m, config);
  assert.deepStrictEqual([...m], [['traceparent', '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01']]);
  // A write replaces every case variant of the name.
  const mixed = { TraceParent: 'stale', b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' };
  tb.translate(mixed, { extract: ['b3-single'], inject: ['w3c'] });
  assert.deepStrictEqual(Object.keys(mixed).sort(), ['b3', 'traceparent']);
});

test('translate: every format\'s status is its own, in every combination (no two share a cached report)', () => {
  const t = new tb.Translator();
  const gcp = '105445aa7843bc8bf206b12000100000/1;o=1';
  // Statuses of ten formats do not fit one number: the last formats must still count.
  assert.deepStrictEqual(t.translate({ traceparent: 'bad' }).formats.gcp, { status: 'absent' });
  assert.deepStrictEqual(t.translate({ traceparent: 'bad', 'x-cloud-trace-context': gcp }).formats.gcp, { status: 'valid' });
  assert.strictEqual(t.translate({ traceparent: 'bad' }).formats, t.translate({ traceparent: 'bad' }).formats, 'shared');
  for (const f of tb.FORMATS) {
    const fresh = new tb.Translator().inspect({ traceparent: 'bad', 'x-cloud-trace-context': gcp, b3: 'bad' }).formats[f];
    assert.deepStrictEqual(t.translate({ traceparent: 'bad', 'x-cloud-trace-context': gcp, b3: 'bad' }).formats[f], fresh, f);
  }
});

test('translate: baggage crosses with its dynamic names, for each carrier shape', () => {
  const config = { inject: ['w3c', 'jaeger', 'ot'], remove_other_formats: true };
  const input = () => [
    ['traceparent', TP],
    ['baggage', 'k=v%201,bad member'],
    ['Uberctx-Tenant', 't+1'],
    ['OT-Baggage-x', 'y'],
    ['host', 'h'],
  ];
  const want = {
    traceparent: TP,
    host: 'h',
    baggage: 'k=v%201,tenant=t%201,x=y',
    'uber-trace-id': '4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1',
    'ot-tracer-traceid': '4bf92f3577b34da6a3ce929d0e0e4736',
    'ot-tracer-spanid': '00f067aa0ba902b7',
    'ot-tracer-sampled': 'true',
    // Jaeger's own entry stays as it came (a header of another case is the same header).
    'uberctx-tenant': 't+1',
    'uberctx-k': 'v%201',
    'uberctx-x': 'y',
    'ot-baggage-x': 'y',
    'ot-baggage-k': 'v 1',
    'ot-baggage-tenant': 't 1',
  };
  const lower = (entries) => Object.fromEntries([...entries].map(([k, v]) => [k.toLowerCase(), v]));
  const obj = Object.fromEntries(input());
  const r = tb.translate(obj, config);
  assert.deepStrictEqual(lower(Object.entries(obj)), want);
  assert.deepStrictEqual([r.baggageDropped, r.baggageError.code], [1, 'baggage_member']);
  const m = new Map(input());
  tb.translate(m, config);
  assert.deepStrictEqual(lower(m), want);
  const h = new Headers(input());
  tb.translate(h, config);
  assert.deepStrictEqual(lower(h), want);
  // Removed by name in any case; a write by name replaces every case variant.
  const gone = { 'uber-trace-id': want['uber-trace-id'], 'UBERCTX-a': 'b', 'Ot-Baggage-C': 'd', 'x-request-id': '1' };
  assert.strictEqual(tb.translate(gone, { trust: 'ignore' }).outcome, 'ignored');
  assert.deepStrictEqual(gone, { 'x-request-id': '1' });
  const variant = { traceparent: TP, baggage: 'tenant=new', 'UberCtx-Tenant': 'old' };
  tb.translate(variant, { extract: ['w3c'], inject: ['w3c', 'jaeger'] });
  assert.deepStrictEqual(Object.keys(variant).filter((k) => /^uberctx-/i.test(k)), ['uberctx-tenant']);
  assert.strictEqual(variant['uberctx-tenant'], 'new');
  // Off: neither read, written nor removed.
  const off = Object.fromEntries(input());
  const before = { ...off };
  tb.translate(off, { inject: ['w3c'], baggage: false, remove_other_formats: true });
  assert.deepStrictEqual(off, before);
  // No baggage, no baggage fields; inspect reads none (core's inspect is about the trace).
  const plain = tb.translate({ ...B3 }, { inject: ['w3c'] });
  assert.deepStrictEqual([plain.baggageDropped, plain.baggageError], [0, null]);
  assert.deepStrictEqual(tb.inspect(Object.fromEntries(input())), tb.inspect({ traceparent: TP, host: 'h' }));
});

test('translate: nothing there, nothing done (no wasm call), the same report each time', () => {
  const t = new tb.Translator({ inject: ['w3c'] });
  const a = t.translate({ host: 'x' });
  const b = t.translate(new Map());
  assert.deepStrictEqual(a, b);
  assert.strictEqual(a.outcome, 'pass-through');
  assert.strictEqual(a.formats.w3c.status, 'absent');
  assert.notStrictEqual(a, b, 'a report of its own each call');
});

test('translate: new roots use crypto randomness', () => {
  const t = new tb.Translator({ on_missing: 'new-root', inject: ['w3c', 'b3-single'] });
  const a = {};
  const b = {};
  assert.strictEqual(t.translate(a).rootReason, 'missing');
  t.translate(b);
  assert.match(a.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/);
  assert.notStrictEqual(a.traceparent, b.traceparent);
  assert.strictEqual(a.b3.split('-')[0], a.traceparent.split('-')[1]);
});

test('inject: every format, any carrier', () => {
  const ctx = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true, traceState: 'a=1' };
  const out = tb.inject(ctx, { TraceParent: 'old' }, { formats: tb.FORMATS });
  // All formats at once write what each writes alone, each only its own headers (core's registry).
  const one = tb.FORMATS.map((f) => tb.inject(ctx, {}, { formats: [f] }));
  assert.deepStrictEqual(out, Object.assign({}, ...one));
  tb.FORMATS.forEach((f, i) => {
    const own = b.tables.formatHeaders[i].map((h) => b.HEADERS[h]);
    assert.ok(Object.keys(one[i]).length > 0, `${f} wrote nothing`);
    for (const h of Object.keys(one[i])) assert.ok(own.includes(h), `${f} wrote ${h}, not one of ${own}`);
  });
  assert.strictEqual(out.traceparent, TP);
  assert.strictEqual(out.tracestate, 'a=1');
  // Up to 16 formats a call (repeats allowed, as before); the 17th is refused.
  const sixteen = Array.from({ length: 16 }, (_, i) => tb.FORMATS[i % tb.FORMATS.length]);
  assert.deepStrictEqual(tb.inject(ctx, {}, { formats: sixteen }), out);
  assert.throws(() => tb.inject(ctx, {}, { formats: [...sixteen, 'w3c'] }), (e) => e.code === 'argument_invalid' && /at most 16/.test(e.message));
  // Everything written reads back as the same context.
  for (const f of tb.FORMATS) {
    const got = tb.extract(tb.inject(ctx, new Headers(), { formats: [f] }), { extract: [f] });
    assert.strictEqual(got.traceId, ctx.traceId, f);
    assert.strictEqual(got.spanId, ctx.spanId, f);
  }
  assert.deepStrictEqual([...tb.inject({ ...ctx, traceState: undefined }, new Map())], [['traceparent', out.traceparent]]);
  // What a format says by leaving a header out is removed from the carrier (B3 without a parent).
  const stale = { 'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'X-B3-Flags': '1' };
  tb.inject(ctx, stale, { formats: ['b3-multi'] });
  assert.deepStrictEqual(Object.keys(stale).sort(), ['x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  // 64-bit ids stay 64-bit in B3 and Jaeger.
  const short = tb.inject({ traceId: '80f198ee56343ba8', spanId: 'e457b5a2e4d86bd1', debug: true }, {}, { formats: ['b3-single', 'w3c'] });
  assert.deepStrictEqual(short, {
    b3: '80f198ee56343ba8-e457b5a2e4d86bd1-d',
    traceparent: '00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01',
  });
});

test('errors: TypeError/Error with err.code', () => {
  const throwsWith = (fn, ctor, code, msg) =>
    assert.throws(fn, (e) => e instanceof ctor && e.code === code && msg.test(e.message));
  throwsWith(() => new tb.Translator({ tracestate: { max_len: 'x' } }), TypeError, 'config_invalid', /^tracestate\.max_len: /);
  throwsWith(() => new tb.Translator({ tracestate: { max_len: 10 } }), TypeError, 'config_invalid', /^tracestate\.max_len: /);
  throwsWith(() => new tb.Translator({ on_conflict: 'merge' }), TypeError, 'config_invalid', /^on_conflict: unknown variant/);
  throwsWith(() => new tb.Translator({ nope: true }), TypeError, 'config_invalid', /nope/);
  throwsWith(() => new tb.Translator({ extract: [] }), TypeError, 'config_invalid', /^extract: /);
  throwsWith(() => new tb.Translator('{'), TypeError, 'config_invalid', /not JSON/);
  throwsWith(() => new tb.Translator(42), TypeError, 'config_invalid', /^config: /);
  const span = '00f067aa0ba902b7';
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  throwsWith(() => tb.inject({ traceId: 'x', spanId: span }, {}), TypeError, 'argument_invalid', /^traceId/);
  throwsWith(() => tb.inject({ traceId: trace.toUpperCase(), spanId: span }, {}), TypeError, 'argument_invalid', /^traceId/);
  throwsWith(() => tb.inject({ traceId: trace }, {}), TypeError, 'argument_invalid', /^spanId/);
  throwsWith(() => tb.inject({ traceId: trace, spanId: span, parentSpanId: '0'.repeat(16) }, {}), TypeError, 'argument_invalid', /^parentSpanId/);
  throwsWith(() => tb.inject({ traceId: trace, spanId: span }, {}, { formats: ['w4c'] }), TypeError, 'argument_invalid', /^formats/);
  throwsWith(() => tb.inject({ traceId: trace, spanId: span }, {}, { formats: 'w3c' }), TypeError, 'argument_invalid', /^formats/);
  throwsWith(() => tb.inject({ traceId: trace, spanId: span, traceState: 'A=1' }, {}), Error, 'tracestate_key', /^tracestate: /);
  throwsWith(() => tb.inject(null, {}), TypeError, 'argument_invalid', /^context/);
  throwsWith(() => tb.inject({ traceId: trace, spanId: span }, 'x'), TypeError, 'argument_invalid', /^headers/);
  throwsWith(() => tb.extract('traceparent'), TypeError, 'argument_invalid', /^headers/);
});

test('fields lists every header a translator may touch', () => {
  const t = new tb.Translator({ extract: ['jaeger'], inject: ['w3c'] });
  assert.deepStrictEqual(t.fields(), ['traceparent', 'tracestate', 'uber-trace-id']);
});

test('FORMATS is core\'s registry, and the declared Format union matches it', () => {
  // The registry as core's source lists it: the `formats!` lines of core/src/format.rs
  // (`Variant = "name", headers, extract, inject;`), in order.
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'core', 'src', 'format.rs'), 'utf8');
  const registry = [...source.matchAll(/^\s*[A-Z]\w* = "([a-z0-9-]+)", /gm)].map((m) => m[1]);
  assert.ok(registry.length >= 10, `core/src/format.rs lists ${registry}`);
  assert.deepStrictEqual(tb.FORMATS, registry);
  assert.ok(Object.isFrozen(tb.FORMATS));
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
  const m = /export type Format =([^;]+);/.exec(dts);
  assert.ok(m, 'index.d.ts declares Format');
  const declared = [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
  assert.deepStrictEqual(declared, [...tb.FORMATS]);
});

test('ESM entry point', async () => {
  const esm = await import('../index.mjs');
  assert.strictEqual(esm.extract, tb.extract);
  assert.strictEqual(esm.FORMATS, tb.FORMATS);
  assert.strictEqual(esm.default, tb);
  const otel = await import('../otel.mjs');
  assert.strictEqual(typeof otel.TraceBridgePropagator, 'function');
});

test('carriers: a null-prototype object and a class instance take properties, a Map subclass set()', () => {
  const ctx = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true };
  const bare = Object.create(null);
  bare.TraceParent = 'stale';
  tb.inject(ctx, bare, {});
  assert.deepStrictEqual(Object.entries(bare), [['traceparent', TP]]);
  assert.strictEqual(tb.extract(bare).traceId, ctx.traceId);
  class Carrier {}
  const own = tb.inject(ctx, new Carrier(), {});
  assert.ok(own instanceof Carrier);
  assert.strictEqual(own.traceparent, TP);
  const calls = [];
  class Logged extends Map {
    set(k, v) {
      calls.push(k);
      return super.set(k, v);
    }
  }
  const m = tb.inject(ctx, new Logged(), {});
  assert.deepStrictEqual(calls, ['traceparent']);
  assert.strictEqual(m.get('traceparent'), TP);
  assert.strictEqual(tb.extract(m).spanId, ctx.spanId);
});
