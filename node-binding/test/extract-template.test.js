'use strict';
// Extract templates (template.js `ExtractTemplates`) against core itself: for every shape of
// incoming headers (formats, configuration, flags, tracestate, parent ids) and ids of every kind,
// what the adapter and `Translator#extract` answer from a long-lived instance (which learns
// templates) equals core's answer through the boundary for the same headers (no template).
const test = require('node:test');
const assert = require('node:assert');
const api = require('@opentelemetry/api');
const { TraceBridgePropagator } = require('../otel.js');
const { Translator } = require('..');
const b = require('../boundary.js');
const { hexDigits } = require('./hex.js');
const { ExtractTemplates } = require('../template.js');

const getter = api.defaultTextMapGetter;

// The same ids on every run.
const hex = hexDigits(11);

const MEMBER_SPAN = 'e457b5a2e4d86bd1';
/** [trace, span, parent] of every kind: admitted, and every way of not being admitted. */
function idSets() {
  const out = [];
  for (let i = 0; i < 5; i++) out.push([hex(32), hex(16), hex(16)]);
  out.push(
    ['0000000000000000' + hex(16), hex(16), hex(16)], // zero high half
    [hex(16) + '0000000000000000', hex(16), hex(16)], // zero low half
    ['000000000000000000000000000000a1', '00000000000000b2', '00000000000000c3'],
    [hex(32), MEMBER_SPAN, hex(16)], // the span id the members below name
    [hex(32), hex(16), MEMBER_SPAN],
    [hex(32).toUpperCase(), hex(16), hex(16)],
    [hex(32), hex(16).toUpperCase(), hex(16)],
    [hex(32), hex(16), '0000000000000000'],
    [hex(32), '0000000000000000', hex(16)],
    ['00000000000000000000000000000000', hex(16), hex(16)],
    [hex(31) + 'g', hex(16), hex(16)],
    [hex(32), hex(15) + '-', hex(16)],
    [hex(31) + '\u0161', hex(16), hex(16)], // past one byte; low byte is `a`
    [hex(32), hex(15) + '\u0130', hex(16)], // low byte is `0`
  );
  return out;
}

const STATES = [
  'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  `tracebridge=s:${MEMBER_SPAN};m:x`,
  `tracebridge=s:${MEMBER_SPAN};w:64;p:00f067aa0ba902b7`,
  `tb=s:${MEMBER_SPAN};m:x`,
  'dd=s:2;p:00f067aa0ba902b7;o:rum',
  'not a tracestate',
];

/** Incoming header sets, as functions of the ids: [config, headers(t, s, p)]. */
const SHAPES = [
  ...[
    (t, s) => ({ traceparent: `00-${t}-${s}-01` }),
    (t, s) => ({ traceparent: `00-${t}-${s}-00` }),
    (t, s) => ({ traceparent: `00-${t}-${s}-03` }),
    (t, s) => ({ traceparent: `cc-${t}-${s}-01-later` }),
    (t, s) => ({ traceparent: `00-${t}-${s}-01-later` }),
    ...STATES.map((st) => (t, s) => ({ traceparent: `00-${t}-${s}-01`, tracestate: st })),
    (t, s) => ({ traceparent: `00-${t}-${s}-01`, tracestate: ['a=1', 'b=2'] }),
  ].map((h) => [{ extract: ['w3c'] }, h]),
  [{ extract: ['w3c'], tracestate: { key: 'tb' } }, (t, s) => ({ traceparent: `00-${t}-${s}-01`, tracestate: `tb=s:${MEMBER_SPAN};m:x` })],
  [{ extract: ['w3c'], drop_forced_sampling: true }, (t, s) => ({ traceparent: `00-${t}-${s}-01` })],
  ...[
    (t, s) => ({ b3: `${t}-${s}-1` }),
    (t, s) => ({ b3: `${t}-${s}-0` }),
    (t, s) => ({ b3: `${t}-${s}-d` }),
    (t, s) => ({ b3: `${t}-${s}` }),
    (t, s, p) => ({ b3: `${t}-${s}-1-${p}` }),
    (t, s) => ({ b3: `${t.slice(16)}-${s}-1` }),
  ].map((h) => [{ extract: ['b3-single'] }, h]),
  [{ extract: ['b3-single'], id_width: 64 }, (t, s) => ({ b3: `${t}-${s}-1` })],
  ...[
    (t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1' }),
    (t, s, p) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-parentspanid': p, 'x-b3-sampled': '0' }),
    (t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-flags': '1' }),
    (t, s) => ({ 'x-b3-spanid': s, 'x-b3-traceid': t }),
  ].map((h) => [{ extract: ['b3-multi'] }, h]),
  ...[
    (t, s) => ({ 'uber-trace-id': `${t}:${s}:0:1` }),
    (t, s) => ({ 'uber-trace-id': `${t}:${s}:0:3` }),
    (t, s, p) => ({ 'uber-trace-id': `${t}:${s}:${p}:1` }),
    (t, s) => ({ 'uber-trace-id': `${t.slice(16)}:${s}:0:1` }),
  ].map((h) => [{ extract: ['jaeger'] }, h]),
  [{ extract: ['xray'] }, (t, s) => ({ 'x-amzn-trace-id': `Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=${s};Sampled=1` })],
  // Two formats: core compares their ids (same ids: agree; other ids: a conflict).
  [{ extract: ['w3c', 'b3-single'] }, (t, s) => ({ traceparent: `00-${t}-${s}-01`, b3: `${t}-${s}-1` })],
  [{ extract: ['w3c', 'b3-single'] }, (t, s) => ({ traceparent: `00-${t}-${s}-01`, b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' })],
  [{ extract: ['w3c', 'b3-single'], on_conflict: 'new-root' }, (t, s) => ({ traceparent: `00-${t}-${s}-01`, b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' })],
];

/** Core's op `op` (`remote`, `extract`) through the boundary, no template: its answer. */
function core(translator, op, headers, nInts, nStrs) {
  const vals = [];
  const ids = [];
  for (const [k, v] of Object.entries(headers)) {
    for (const line of Array.isArray(v) ? v : [v]) vals.push(line), ids.push(b.HEADER_INDEX.get(k));
  }
  b.put(vals, ids, vals.length);
  const r = b.done(translator[b.WASM]()[op](vals.length));
  if (r !== 1) return null;
  const ints = [];
  for (let i = 0; i < nInts; i++) ints.push(b.int(i));
  const strs = [];
  for (let s = 0; s < nStrs; s++) strs.push(b.str(s, vals));
  return { ints, strs };
}

/** Every shape, the first ids teaching a long-lived instance, then every kind of id. */
function* cases() {
  for (const [config, headers] of SHAPES) {
    const reference = new Translator(config);
    const learner = { adapter: new TraceBridgePropagator(config), direct: new Translator(config) };
    const teach = [hex(32), hex(16), hex(16)];
    for (const ids of [teach, ...idSets(), teach]) yield { config, reference, learner, headers: headers(...ids) };
  }
}

test('the adapter answers as core does, with and without templates', () => {
  let n = 0;
  for (const { config, reference, learner, headers } of cases()) {
    const want = core(reference, 'remote', headers, 1, 3);
    const got = api.trace.getSpanContext(learner.adapter.extract(api.ROOT_CONTEXT, headers, getter));
    const as = got === undefined ? null : [got.traceId, got.spanId, got.traceFlags, got.traceState?.serialize() ?? null];
    const expected = want === null ? null : [want.strs[0], want.strs[1], want.ints[0], want.strs[2]];
    assert.deepStrictEqual(as, expected, `${JSON.stringify(config)} ${JSON.stringify(headers)}`);
    n++;
  }
  assert.ok(n > 500);
});

test('Translator#extract answers as core does, with and without templates', () => {
  for (const { config, reference, learner, headers } of cases()) {
    const want = core(reference, 'extract', headers, 5, 4);
    const got = learner.direct.extract(headers);
    const expected =
      want === null
        ? null
        : {
            traceId: want.strs[0],
            spanId: want.strs[1],
            parentSpanId: want.strs[2],
            sampled: want.ints[1] < 0 ? null : want.ints[1] === 1,
            debug: want.ints[2] === 1,
            traceFlags: want.ints[0],
            traceState: want.strs[3],
            source: b.FORMATS[want.ints[3]],
          };
    assert.deepStrictEqual(got, expected, `${JSON.stringify(config)} ${JSON.stringify(headers)}`);
  }
});

/**
 * An ExtractTemplates over core's `remote` (or `extract`) that counts its calls into core; `reads`
 * and `readsIds` as the call sites pass them, unless a test replaces them.
 */
function counted(config, { reads = null, op = 'remote', readsIds } = {}) {
  const w = new Translator(config)[b.WASM]();
  const calls = { n: 0 };
  const [sizes, idSlots, field] = op === 'remote' ? [[2, 3], [0, 1], 1] : [[6, 4], [0, 1, 2], 5];
  const shapes = new ExtractTemplates(
    (vals, ids, n) => {
      calls.n++;
      b.put(vals, ids, n);
      return b.done(w[op](n));
    },
    () => sizes,
    idSlots,
    readsIds ?? (() => b.int(field) !== 0),
    reads,
  );
  // The call site's part: find, else core and learn.
  const extract = (headers) => {
    const vals = Object.values(headers);
    const ids = Object.keys(headers).map((k) => b.HEADER_INDEX.get(k));
    const t = shapes.find(vals, ids, vals.length);
    if (t !== null) return { template: true, traceId: t.outs[0](shapes.a, shapes.b), spanId: t.outs[1](shapes.a, shapes.b) };
    calls.n++;
    b.put(vals, ids, vals.length);
    const r = b.done(w[op](vals.length));
    const out = { template: false, traceId: b.str(0, vals), spanId: b.str(1, vals), ints: [b.int(0), b.int(1), b.int(2)] };
    shapes.learn(vals, ids, vals.length, r);
    return out;
  };
  return { calls, extract };
}

test('without the guards, the checks against core still refuse a rule on an id value', () => {
  // Our member's per-hop fields apply when its `s` is the span id (ext.rs): debug here. Learned from
  // a request where they apply, the probes (other span ids) answer otherwise: no template, whether
  // the difference is in the strings (`remote`: the member written again) or in the fields
  // (`extract`: debug).
  for (const op of ['remote', 'extract']) {
    const { calls, extract } = counted({ extract: ['w3c'] }, { op, readsIds: () => false });
    const request = (span) => ({ traceparent: `00-${hex(32)}-${span}-01`, tracestate: `tracebridge=s:${MEMBER_SPAN};m:x` });
    extract(request(MEMBER_SPAN));
    assert.ok(calls.n > 1, 'an attempt');
    const other = extract(request(hex(16)));
    assert.strictEqual(other.template, false, op);
    if (op === 'extract') assert.strictEqual(other.ints[2], 0, 'not debug');
  }
});

test('a shape is learned once and then answered without core; others are not learned', () => {
  const tp = (t, s, f = '01') => ({ traceparent: `00-${t}-${s}-${f}`, tracestate: 'a=1' });
  const { calls, extract } = counted({ extract: ['w3c', 'b3-single'] });
  const [t1, s1] = [hex(32), hex(16)];
  assert.strictEqual(extract(tp(t1, s1)).template, false);
  assert.strictEqual(calls.n, 5, 'the request, probes A and B, C and D');
  const [t2, s2] = [hex(32), hex(16)];
  assert.deepStrictEqual(extract(tp(t2, s2)), { template: true, traceId: t2, spanId: s2 });
  assert.strictEqual(calls.n, 5);
  // Another literal (flags, tracestate), or ids not admitted: core.
  assert.strictEqual(extract(tp(t2, s2, '00')).template, false);
  assert.strictEqual(extract({ traceparent: `00-${t2}-${s2}-01`, tracestate: 'a=2' }).template, false);
  assert.strictEqual(extract(tp(t2.toUpperCase(), s2)).template, false);
  assert.strictEqual(extract(tp('0000000000000000' + t2.slice(16), s2)).template, false);
  // The same characters and more after them (version 00 is exactly 55: core refuses it).
  assert.strictEqual(extract({ traceparent: `00-${t2}-${s2}-01-later`, tracestate: 'a=1' }).template, false);
  // Not learned: two formats, a member read against the ids, an id not cut from the input.
  const before = calls.n;
  extract({ traceparent: `00-${t1}-${s1}-01`, b3: `${t1}-${s1}-1` });
  extract({ traceparent: `00-${t1}-${s1}-01`, tracestate: `tracebridge=s:${s1};m:x` });
  extract({ b3: `${t1.slice(16)}-${s1}-1` });
  assert.strictEqual(calls.n, before + 3, 'one call each, no probes');
  assert.strictEqual(extract({ traceparent: `00-${t2}-${s2}-01`, b3: `${t2}-${s2}-1` }).template, false);
});

test('a template is of these headers in this order', () => {
  const { calls, extract } = counted({ extract: ['b3-multi'] });
  const multi = (t, s, flag, v) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, [flag]: v });
  extract(multi(hex(32), hex(16), 'x-b3-sampled', '1'));
  assert.strictEqual(calls.n, 5);
  assert.strictEqual(extract(multi(hex(32), hex(16), 'x-b3-sampled', '1')).template, true);
  // `x-b3-flags: 1` (debug) has the same value as `x-b3-sampled: 1`, under another name.
  assert.strictEqual(extract(multi(hex(32), hex(16), 'x-b3-flags', '1')).template, false);
  const [t, s] = [hex(32), hex(16)];
  assert.strictEqual(extract({ 'x-b3-spanid': s, 'x-b3-traceid': t, 'x-b3-sampled': '1' }).template, false);
});

test('a value outside the context reads matches any value only when core ignores it', () => {
  // As if `x-b3-sampled` were a header core only replaces: its value changes the answer, so the
  // template keeps it; the ids' headers are read.
  const reads = new Uint8Array(b.HEADERS.length);
  reads[b.HEADER_INDEX.get('x-b3-traceid')] = 1;
  reads[b.HEADER_INDEX.get('x-b3-spanid')] = 1;
  const { calls, extract } = counted({ extract: ['b3-multi'] }, { reads });
  const multi = (sampled) => ({ 'x-b3-traceid': hex(32), 'x-b3-spanid': hex(16), 'x-b3-sampled': sampled });
  extract(multi('1'));
  assert.strictEqual(calls.n, 6, 'the request, four probes, one other value (it changes the answer)');
  assert.strictEqual(extract(multi('1')).template, true);
  assert.strictEqual(extract(multi('0')).template, false);
  // A header core does not read at all (`x-b3-sampled` for W3C): any value.
  const w3c = counted({ extract: ['w3c'] }, { reads: reads.map((_, i) => (i === b.HEADER_INDEX.get('traceparent') ? 1 : 0)) });
  const tp = (sampled) => ({ traceparent: `00-${hex(32)}-${hex(16)}-01`, 'x-b3-sampled': sampled });
  w3c.extract(tp('1'));
  assert.strictEqual(w3c.extract(tp('0')).template, true);
  assert.strictEqual(w3c.extract(tp('anything at all')).template, true);
});

test('learning is bounded when shapes do not repeat', () => {
  const { calls, extract } = counted({ extract: ['w3c'] });
  const request = (i) => ({ traceparent: `00-${hex(32)}-${hex(16)}-01`, tracestate: `a=${i}` });
  let i = 0;
  const requests = (k) => {
    for (const end = i + k; i < end; ) extract(request(i++));
  };
  requests(8);
  assert.strictEqual(calls.n, 8 * 5, 'eight attempts free: each the request and four probes');
  requests(64);
  assert.strictEqual(calls.n, 8 * 5 + 64 + 4, 'then one in 64 requests without a template');
  // The templates learned went unused: the step doubles.
  requests(127);
  assert.strictEqual(calls.n, 8 * 5 + 64 + 4 + 127);
  requests(1);
  assert.strictEqual(calls.n, 8 * 5 + 64 + 4 + 128 + 4, 'one in 128');
  // The next attempt (256 on) learns a shape that repeats.
  const tp = `00-${hex(32)}-${hex(16)}-01`;
  requests(255);
  const before = calls.n;
  extract({ traceparent: tp, tracestate: 'a=1' });
  assert.strictEqual(calls.n, before + 5);
  assert.strictEqual(extract({ traceparent: `00-${hex(32)}-${hex(16)}-01`, tracestate: 'a=1' }).template, true);
});

/** Incoming headers for `translate`, as functions of the ids: [config, headers(t, s, p)]. */
const TRANSLATIONS = [
  [{ extract: ['b3-multi'], inject: ['w3c'] }, (t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1' })],
  // A stale traceparent that the translation replaces, different in every request.
  [{ extract: ['b3-multi'], inject: ['w3c'] }, (t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1', traceparent: `00-${hex(32)}-${hex(16)}-01` })],
  [{ extract: ['b3-single'], inject: ['w3c'] }, (t, s) => ({ b3: `${t}-${s}-1`, traceparent: 'garbage', tracestate: `x=${hex(4)}` })],
  [{ extract: ['b3-single'], inject: ['w3c'] }, (t, s) => ({ b3: `${t}-${s}-d`, tracestate: `tracebridge=s:${MEMBER_SPAN};m:d` })],
  [{ extract: ['b3-single'], inject: ['w3c', 'b3-multi'], remove_other_formats: true }, (t, s, p) => ({ b3: `${t}-${s}-1-${p}`, 'x-b3-flags': '1' })],
  [{ extract: ['jaeger'], inject: ['w3c'] }, (t, s) => ({ 'uber-trace-id': `${t}:${s}:0:1`, baggage: `k=${hex(3)}` })],
  [{ extract: ['jaeger'], inject: ['w3c'] }, (t, s) => ({ 'uber-trace-id': `${t}:${s}:0:1`, 'uberctx-k': hex(3) })],
  [{ extract: ['w3c'], inject: ['b3-single'] }, (t, s) => ({ traceparent: `00-${t}-${s}-01`, tracestate: 'a=1', b3: `${hex(32)}-${hex(16)}` })],
  [{ extract: ['xray'], inject: ['w3c'] }, (t, s) => ({ 'x-amzn-trace-id': `Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=${s};Sampled=1` })],
  [{ extract: ['b3-multi', 'w3c'], inject: ['w3c'] }, (t, s) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, traceparent: `00-${t}-${s}-01` })],
];

test('Translator#translate answers and writes as core does, with and without templates', () => {
  let n = 0;
  const kept = [];
  for (const [config, headers] of TRANSLATIONS) {
    const learner = new Translator(config);
    const teach = [hex(32), hex(16), hex(16)];
    for (const ids of [teach, ...idSets(), teach, ...idSets()]) {
      const incoming = headers(...ids);
      // Core alone: a translator that has seen no request yet.
      const want = { ...incoming };
      const wantReport = new Translator(config).translate(want);
      const got = { ...incoming };
      const report = learner.translate(got);
      const label = `${JSON.stringify(config)} ${JSON.stringify(incoming)}`;
      assert.deepStrictEqual(report, wantReport, label);
      assert.deepStrictEqual(got, want, label);
      kept.push([report, structuredClone(wantReport)]);
      n++;
    }
  }
  assert.ok(n > 300);
  // Each report is the caller's own: no later call changed it.
  for (const [report, want] of kept) assert.deepStrictEqual(report, want);
});

test("an inject of the adapter's own extract writes what core writes, also after its ids were replaced", () => {
  const config = { extract: ['b3-multi'], inject: ['w3c', 'b3-single'], id_width: 64 };
  const p = new TraceBridgePropagator(config);
  const w = new Translator(config)[b.WASM]();
  const [ROLE_TRACE, ROLE_SPAN, , ROLE_STATE] = b.layout.roles;
  /** Core's `inject_span` through the boundary: the headers as an object. */
  const core = (sc) => {
    const state = sc.traceState === undefined ? '' : sc.traceState.serialize();
    const vals = state === '' ? [sc.traceId, sc.spanId] : [sc.traceId, sc.spanId, state];
    b.put(vals, state === '' ? [ROLE_TRACE, ROLE_SPAN] : [ROLE_TRACE, ROLE_SPAN, ROLE_STATE], vals.length);
    const n = b.done(w.injectSpan(vals.length, sc.traceFlags));
    const out = {};
    for (let i = 0, at = 2 + b.int(0); i < n; i++) out[b.HEADERS[b.int(at + i)]] = b.str(i, vals);
    return out;
  };
  let templated = 0;
  for (const [t, s] of [[hex(32), hex(16)], ...idSets()]) {
    const replacements = [null, [hex(31) + 'G', s], [t.toUpperCase(), s], ['0'.repeat(32), s], [t, hex(15) + 'z'], [t, 42]];
    for (const replaced of replacements) {
      const ctx = p.extract(api.ROOT_CONTEXT, { 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1' }, getter);
      const sc = api.trace.getSpanContext(ctx);
      if (sc === undefined) continue;
      if (replaced !== null) [sc.traceId, sc.spanId] = replaced;
      else templated++;
      const got = {};
      p.inject(ctx, got, api.defaultTextMapSetter);
      const want = typeof sc.spanId === 'string' ? core(sc) : {};
      assert.deepStrictEqual(got, want, `${t} ${s} ${replaced}`);
    }
  }
  assert.ok(templated > 5);
});

// Requests drawn from small pools of parts, valid and not: templates are learned from some and must
// answer the others as core does, near misses included (one character of a literal, an id's case).
test('random requests: the adapter, extract and translate answer as core does', () => {
  const rand = hexDigits(23);
  const pick = (xs) => xs[parseInt(rand(4), 16) % xs.length];
  const ids = () => pick([[hex(32), hex(16)], [hex(32), hex(16)], [hex(32), MEMBER_SPAN], ['0'.repeat(16) + hex(16), hex(16)], [hex(32).toUpperCase(), hex(16)], [hex(31) + 'x', hex(16)], [hex(32), '0'.repeat(16)], [hex(16), hex(16)]]);
  const parts = {
    traceparent: (t, s) => `${pick(['00', '00', '01', 'cc', 'ff'])}-${t}-${s}-${pick(['01', '01', '00', '03', 'ff', '0x'])}${pick(['', '', '-x'])}`,
    tracestate: (t, s) => pick(['a=1', 'congo=t61rcWkgMzE', `tracebridge=s:${pick([s, MEMBER_SPAN])};m:x`, 'dd=p:00f067aa0ba902b7', 'a=1,a=2', 'bad']),
    b3: (t, s) => `${pick([t, t.slice(16)])}-${s}${pick(['-1', '-0', '-d', '', `-1-${hex(16)}`])}`,
    'x-b3-traceid': (t) => t,
    'x-b3-spanid': (t, s) => s,
    'x-b3-sampled': () => pick(['1', '0', 'true']),
    'x-b3-flags': () => '1',
    'uber-trace-id': (t, s) => `${pick([t, t.slice(16)])}:${s}:${pick(['0', hex(16)])}:${pick(['1', '0', '3', '5'])}`,
  };
  const configs = [
    [{ extract: ['w3c'] }, ['traceparent', 'tracestate']],
    [{ extract: ['b3-single', 'w3c'], drop_forced_sampling: true }, ['b3', 'traceparent', 'tracestate']],
    [{ extract: ['b3-multi'], id_width: 64 }, ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags']],
    [{ extract: ['jaeger'], tracestate: { key: 'tb' } }, ['uber-trace-id', 'tracestate']],
  ];
  for (const [config, names] of configs) {
    const reference = new Translator(config);
    const adapter = new TraceBridgePropagator(config);
    const direct = new Translator(config);
    const translating = new Translator({ ...config, inject: ['w3c', 'b3-single'] });
    for (let i = 0; i < 600; i++) {
      const [t, s] = ids();
      const headers = {};
      for (const name of names) if (pick([true, true, true, false])) headers[name] = parts[name](t, s);
      const label = `${JSON.stringify(config)} ${JSON.stringify(headers)}`;
      const want = core(reference, 'remote', headers, 1, 3);
      const sc = api.trace.getSpanContext(adapter.extract(api.ROOT_CONTEXT, headers, getter));
      const got = sc === undefined ? null : [sc.traceId, sc.spanId, sc.traceFlags, sc.traceState?.serialize() ?? null];
      assert.deepStrictEqual(got, want === null ? null : [want.strs[0], want.strs[1], want.ints[0], want.strs[2]], label);
      const wantX = core(reference, 'extract', headers, 5, 4);
      const x = direct.extract(headers);
      const gotX = x === null ? null : [x.traceId, x.spanId, x.parentSpanId, x.traceFlags, x.traceState, x.source];
      const expX = wantX === null ? null : [...wantX.strs.slice(0, 3), wantX.ints[0], wantX.strs[3], b.FORMATS[wantX.ints[3]]];
      assert.deepStrictEqual(gotX, expX, label);
      const [a1, a2] = [{ ...headers }, { ...headers }];
      assert.deepStrictEqual(translating.translate(a1), new Translator({ ...config, inject: ['w3c', 'b3-single'] }).translate(a2), label);
      assert.deepStrictEqual(a1, a2, label);
    }
  }
});
