'use strict';
// Inject templates (template.js) against core itself: for every shape (formats, configuration,
// flags, tracestate) and ids of every kind, what the adapter and `inject` write equals what core's
// inject writes for the same input through the boundary, template or not.
const test = require('node:test');
const assert = require('node:assert');
const api = require('@opentelemetry/api');
const { TraceBridgePropagator } = require('../otel.js');
const { Translator, inject } = require('..');
const b = require('../boundary.js');
const { hexDigits } = require('./hex.js');
const { derive, fill, admits } = require('../template.js');

const setter = api.defaultTextMapSetter;
const [ROLE_TRACE, ROLE_SPAN, , ROLE_STATE] = b.layout.roles;

// The same ids on every run.
const hex = hexDigits(7);

const SPAN = 'e457b5a2e4d86bd1';
/** Trace and span ids of every kind the fast path admits or must leave to core. */
function ids() {
  const out = [];
  for (let i = 0; i < 6; i++) out.push([hex(32), hex(16)]);
  out.push(
    ['0000000000000000' + hex(16), hex(16)], // a 64-bit id in 128 bits
    [hex(16) + '0000000000000000', hex(16)], // low half zero
    ['000000000000000000000000000000a1', '00000000000000b2'], // leading zeros
    [hex(32), SPAN], // the span id the member below names
    [hex(32).toUpperCase(), hex(16)],
    [hex(32), hex(16).toUpperCase()],
    [hex(16), hex(16)], // 16 digits: not a W3C trace id
    [hex(32), '0000000000000000'],
    ['00000000000000000000000000000000', hex(16)],
    [hex(31) + 'g', hex(16)],
    // Not one byte: U+0161 and U+0130 end in the bytes of `a` and `0`.
    [hex(31) + '\u0161', hex(16)],
    [hex(32), hex(15) + '\u0130'],
  );
  return out;
}

const STATES = [
  '',
  'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  `tracebridge=s:${SPAN};m:x`,
  `tracebridge=s:${SPAN};m:d`,
  `tracebridge=s:${SPAN};w:64,congo=t61rcWkgMzE`,
  `tracebridge=s:${SPAN};o:4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7`,
  'dd=s:2;p:00f067aa0ba902b7;o:rum',
  'not a tracestate',
];

const CONFIGS = [
  ...b.FORMATS.map((f) => ({ inject: [f] })),
  { inject: b.FORMATS.slice() },
  { inject: ['b3-single', 'jaeger', 'w3c'], id_width: 64 },
  { inject: ['b3-multi', 'w3c'], id_width: 128 },
  { inject: ['w3c', 'datadog'], tracestate: { key: 'tb' } },
  { inject: ['w3c'], tracestate: { member: false } },
];

/** Core's `inject_span` through the boundary, no template: the headers as an object. */
function coreInject(translator, traceId, spanId, state, flags) {
  const w = translator[b.WASM]();
  const vals = state === '' ? [traceId, spanId] : [traceId, spanId, state];
  b.put(vals, state === '' ? [ROLE_TRACE, ROLE_SPAN] : [ROLE_TRACE, ROLE_SPAN, ROLE_STATE], vals.length);
  const n = b.done(w.injectSpan(vals.length, flags));
  const out = {};
  const at = 2 + b.int(0);
  for (let i = 0; i < n; i++) out[b.HEADERS[b.int(at + i)]] = b.str(i, vals);
  return out;
}

test('the adapter writes what core writes, for every shape and id', () => {
  let templated = 0;
  for (const config of CONFIGS) {
    const p = new TraceBridgePropagator(config);
    const translator = new Translator(config);
    for (const state of STATES) {
      for (const flags of [0, 1, 2, 3, 255]) {
        for (const [traceId, spanId] of ids()) {
          const sc = { traceId, spanId, traceFlags: flags, isRemote: false };
          if (state !== '') sc.traceState = { serialize: () => state };
          const got = {};
          p.inject(api.trace.setSpanContext(api.ROOT_CONTEXT, sc), got, setter);
          const want = coreInject(translator, traceId, spanId, state, flags);
          assert.deepStrictEqual(got, want, `${JSON.stringify(config)} ${state} ${flags} ${traceId} ${spanId}`);
          if (state === '' && admits(traceId, 32) && admits(spanId, 16)) templated++;
        }
      }
    }
  }
  assert.ok(templated > 500, `${templated}`);
});

test('a template is core output with the ids as holes, and none where core does not copy digits', () => {
  const run = (formats, config) => (id) => {
    const out = coreInject(new Translator({ ...config, inject: formats }), id[0], id[1], '', 1);
    return { remove: [], set: Object.entries(out) };
  };
  const x = derive([32, 16], false, run(['xray', 'b3-single']));
  assert.deepStrictEqual(x.names, ['x-amzn-trace-id', 'b3']);
  const T = '4bf92f3577b34da6a3ce929d0e0e4736';
  assert.strictEqual(fill(x.segs[0], T, SPAN), `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${SPAN};Sampled=1`);
  assert.strictEqual(fill(x.segs[1], T, SPAN), `${T}-${SPAN}-1`);
  // The compiled fillers the injects call say the same.
  assert.deepStrictEqual(x.fns.map((f) => f(T, SPAN)), x.segs.map((v) => fill(v, T, SPAN)));
  // Literals and holes alternate: the ids are cut where the format cuts them, nowhere else.
  assert.strictEqual(x.segs[0].filter((s) => typeof s === 'number').length, 3);
  // Datadog writes ids in decimal and grpc-trace-bin in base64: no template.
  assert.strictEqual(derive([32, 16], false, run(['datadog'])), null);
  assert.strictEqual(derive([32, 16], false, run(['grpc-trace-bin'])), null);
  // A 64-bit width is written (`w:64` in our member) only for a trace id whose high half is zero:
  // one template for each, each with its own member.
  const w64 = run(['w3c', 'b3-single'], { id_width: 64 });
  const low = '00000000000000008a3c60f7d188f8fa';
  for (const [zero, traceId, member] of [[true, low, `tracebridge=s:${SPAN};w:64`], [false, T, undefined]]) {
    const t = derive([32, 16], zero, w64);
    assert.ok(t !== null, `zero high half: ${zero}`);
    const got = Object.fromEntries(t.names.map((n, i) => [n, fill(t.segs[i], traceId, SPAN)]));
    assert.deepStrictEqual(got, w64([traceId, SPAN]).set.reduce((o, [n, v]) => ({ ...o, [n]: v }), {}));
    assert.strictEqual(got.tracestate, member);
  }
  // The template of ids with a high half is wrong for one without: two shapes.
  const wide = derive([32, 16], false, w64);
  assert.notStrictEqual(fill(wide.segs[1], low, SPAN), w64([low, SPAN]).set[1][1]);
});

test('no template when the headers written or removed change with the ids', () => {
  // Probe B's trace id starts with `1`, probe C's with `d` (A's and D's with `0`): a change seen by
  // one probe alone.
  const header = (ids) => [['traceparent', `00-${ids[0]}-${ids[1]}-01`]];
  assert.notStrictEqual(derive([32, 16], false, (ids) => ({ remove: [], set: header(ids) })), null);
  for (const first of ['1', 'd']) {
    const when = (ids) => ids[0][0] === first;
    const removes = (ids) => ({ remove: when(ids) ? ['b3'] : [], set: header(ids) });
    const renames = (ids) => ({ remove: [], set: when(ids) ? [['b3', header(ids)[0][1]]] : header(ids) });
    assert.strictEqual(derive([32, 16], false, removes), null, `removal, probe ${first}`);
    assert.strictEqual(derive([32, 16], false, renames), null, `name, probe ${first}`);
  }
});

/** Core's `inject` through the boundary, no template, applied to `headers` (a plain object). */
function coreDirect(formats, ctx, headers) {
  let lo = 0;
  let hi = 0;
  for (let i = formats.length - 1; i >= 0; i--) {
    const f = b.FORMATS.indexOf(formats[i]) + 1;
    if (i >= 8) hi = hi * 16 + f;
    else lo = lo * 16 + f;
  }
  const vals = [];
  const roles = [];
  const [rt, rs, rp, rst] = b.layout.roles;
  for (const [v, r] of [[ctx.traceId, rt], [ctx.spanId, rs], [ctx.parentSpanId, rp], [ctx.traceState, rst]]) {
    if (typeof v === 'string') vals.push(v), roles.push(r);
  }
  b.put(vals, roles, vals.length);
  const sampled = ctx.sampled === true ? 1 : ctx.sampled === false ? 0 : -1;
  const r = b.done(b.wasm.inject(lo, hi, sampled, ctx.debug === true, ctx.traceFlags ?? 0, vals.length));
  if (r < 0) return 'error';
  const nRemove = b.int(0);
  const set = [];
  for (let i = 0, at = 2 + nRemove; i < r; i++) set.push([b.HEADERS[b.int(at + i)], b.str(i, vals)]);
  // Every case variant of a name removed or written goes (the API's rule for header objects).
  const drop = (name) => {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name) delete headers[k];
  };
  for (let i = 0; i < nRemove; i++) drop(b.HEADERS[b.int(2 + i)]);
  for (const [name, value] of set) drop(name), (headers[name] = value);
  return headers;
}

test('inject writes (and removes) what core does, for every shape and id', () => {
  // Every header already there, and again in upper case.
  const old = () => Object.fromEntries(b.HEADERS.flatMap((h) => [[h, 'old'], [h.toUpperCase(), 'old']]));
  let templated = 0;
  const FORMAT_SETS = [...b.FORMATS.map((f) => [f]), b.FORMATS.slice(), ['b3-single', 'w3c']];
  for (const formats of FORMAT_SETS) {
    for (const traceState of [undefined, ...STATES]) {
      for (const [sampled, debug, traceFlags] of [[true], [false], [undefined], [true, true], [undefined, false, 2]]) {
        for (const [traceId, spanId] of ids()) {
          for (const parentSpanId of [undefined, hex(16)]) {
            const ctx = { traceId, spanId, sampled, debug, traceFlags, traceState, parentSpanId };
            let got;
            try {
              got = inject(ctx, old(), { formats });
            } catch {
              got = 'error';
            }
            const want = coreDirect(formats, ctx, old());
            assert.deepStrictEqual(got, want, JSON.stringify({ formats, ...ctx }));
            if (want !== 'error' && traceState === undefined && admits(spanId, 16)) templated++;
          }
        }
      }
    }
  }
  assert.ok(templated > 1000, `${templated}`);
});
