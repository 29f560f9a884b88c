'use strict';
// The OpenTelemetry adapter with the real @opentelemetry/api, core and sdk-trace-base.
const test = require('node:test');
const assert = require('node:assert');
const api = require('@opentelemetry/api');
const { suppressTracing, isTracingSuppressed, W3CTraceContextPropagator } = require('@opentelemetry/core');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { TraceBridgePropagator } = require('../otel.js');
const { Translator } = require('..');

const provider = new BasicTracerProvider();
const tracer = provider.getTracer('tracebridge-test');
const getter = api.defaultTextMapGetter;
const setter = api.defaultTextMapSetter;
const ROOT = api.ROOT_CONTEXT;

const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '80f198ee56343ba8';
const SPAN = 'e457b5a2e4d86bd1';
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const remote = (p, carrier) => api.trace.getSpanContext(p.extract(ROOT, carrier, getter));
/** Extract, then inject the very context extracted (a proxy passing it on). */
const passOn = (p, carrier) => {
  const out = {};
  p.inject(p.extract(ROOT, carrier, getter), out, setter);
  return out;
};

const cases = {
  b3: { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  'b3 single 64-bit': { b3: `${T64}-${SPAN}-1` },
  jaeger: { 'uber-trace-id': `${T128}:${SPAN}:0:1` },
  xray: { 'x-amzn-trace-id': `Root=1-80f198ee-56343ba864fe8b2a57d3eff7;Parent=${SPAN};Sampled=1` },
};

for (const [name, carrier] of Object.entries(cases)) {
  test(`a span started under a context extracted from ${name} is a child in the same trace`, () => {
    const p = new TraceBridgePropagator();
    const ctx = p.extract(ROOT, carrier, getter);
    const parent = api.trace.getSpanContext(ctx);
    assert.ok(parent && parent.isRemote);
    assert.strictEqual(parent.spanId, SPAN);
    assert.strictEqual(parent.traceFlags, api.TraceFlags.SAMPLED);
    const span = tracer.startSpan('child', {}, ctx);
    const sc = span.spanContext();
    assert.strictEqual(sc.traceId, parent.traceId);
    assert.match(sc.traceId, /^(0{16})?80f198ee56343ba8/);
    assert.notStrictEqual(sc.spanId, parent.spanId);
    assert.strictEqual(span.parentSpanContext?.spanId ?? span.parentSpanId, SPAN);
    span.end();
  });
}

test('inject writes the configured formats from the active span; tracestate kept', () => {
  const p = new TraceBridgePropagator({ inject: ['w3c', 'b3-multi', 'jaeger'] });
  const ctx = p.extract(ROOT, { traceparent: TP, tracestate: 'a=1' }, getter);
  assert.strictEqual(api.trace.getSpanContext(ctx).traceState.get('a'), '1');
  const span = tracer.startSpan('child', {}, ctx);
  const out = {};
  p.inject(api.trace.setSpan(ROOT, span), out, setter);
  const id = span.spanContext().spanId;
  assert.deepStrictEqual(out, {
    traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${id}-01`,
    tracestate: 'a=1',
    'x-b3-traceid': '4bf92f3577b34da6a3ce929d0e0e4736',
    'x-b3-spanid': id,
    'x-b3-sampled': '1',
    'uber-trace-id': `4bf92f3577b34da6a3ce929d0e0e4736:${id}:0:1`,
  });
  span.end();
  const none = {};
  p.inject(ROOT, none, setter);
  assert.deepStrictEqual(none, {});
});

test('nothing valid leaves the context unchanged; fields lists every header', () => {
  const p = new TraceBridgePropagator();
  assert.strictEqual(p.extract(ROOT, { traceparent: 'garbage' }, getter), ROOT);
  assert.strictEqual(p.extract(ROOT, {}, getter), ROOT);
  assert.ok(p.fields().includes('x-amzn-trace-id') && p.fields().includes('x-b3-flags') && p.fields().includes('tracestate'));
  assert.deepStrictEqual(new TraceBridgePropagator({ extract: ['b3-single'], inject: ['b3-single'] }).fields(), ['b3']);
});

// ---- the Translator's policy (core's Translator::remote / inject_span) ----

test('policy: trust restart and ignore start a new root (no remote parent)', () => {
  const carrier = { b3: `${T128}-${SPAN}-1` };
  for (const trust of ['restart', 'ignore']) {
    assert.strictEqual(new TraceBridgePropagator({ trust }).extract(ROOT, carrier, getter), ROOT, trust);
  }
  assert.strictEqual(remote(new TraceBridgePropagator({ trust: 'continue' }), carrier).spanId, SPAN);
});

test('policy: on_conflict — prefer-first follows the extract order, new-root and pass-through give none', () => {
  const carrier = { traceparent: TP, b3: `${T128}-${SPAN}-1` };
  assert.strictEqual(remote(new TraceBridgePropagator(), carrier).traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.strictEqual(remote(new TraceBridgePropagator({ extract: ['b3-single', 'w3c'] }), carrier).traceId, T128);
  for (const on_conflict of ['new-root', 'pass-through']) {
    assert.strictEqual(new TraceBridgePropagator({ on_conflict }).extract(ROOT, carrier, getter), ROOT, on_conflict);
  }
  // The same trace in two formats is no conflict.
  const agree = { traceparent: `00-${T128}-${SPAN}-01`, b3: `${T128}-${SPAN}-1` };
  assert.strictEqual(remote(new TraceBridgePropagator({ on_conflict: 'new-root' }), agree).traceId, T128);
});

test('policy: drop_forced_sampling turns sampled and debug into defer, which inject passes on', () => {
  const p = new TraceBridgePropagator({ drop_forced_sampling: true, inject: ['b3-single'] });
  for (const state of ['1', 'd']) {
    const sc = remote(p, { b3: `${T128}-${SPAN}-${state}` });
    assert.strictEqual(sc.traceFlags & api.TraceFlags.SAMPLED, 0, state);
    assert.strictEqual(passOn(p, { b3: `${T128}-${SPAN}-${state}` }).b3, `${T128}-${SPAN}`, 'defer: no sampling state');
  }
});

test('policy: id_width 64 writes B3 and Jaeger trace ids in 16 digits; 128 widens a 64-bit id', () => {
  const p64 = new TraceBridgePropagator({ inject: ['b3-single', 'jaeger'], id_width: 64 });
  assert.deepStrictEqual(passOn(p64, { traceparent: `00-${T128}-${SPAN}-01` }), {
    b3: `${T128.slice(16)}-${SPAN}-1`,
    'uber-trace-id': `${T128.slice(16)}:${SPAN}:0:1`,
  });
  const p128 = new TraceBridgePropagator({ inject: ['b3-single'], id_width: 128 });
  assert.strictEqual(passOn(p128, { b3: `${T64}-${SPAN}-1` }).b3, `${'0'.repeat(16)}${T64}-${SPAN}-1`);
});

test('policy: the tracestate member can be renamed or left out', () => {
  const carrier = { b3: `${T64}-${SPAN}-d` };
  assert.strictEqual(remote(new TraceBridgePropagator(), carrier).traceState.serialize(), `tracebridge=s:${SPAN};w:64;m:x`);
  const renamed = remote(new TraceBridgePropagator({ tracestate: { key: 'tb' } }), carrier);
  assert.strictEqual(renamed.traceState.serialize(), `tb=s:${SPAN};w:64;m:x`);
  assert.strictEqual(remote(new TraceBridgePropagator({ tracestate: { member: false } }), carrier).traceState, undefined);
  // A Translator works as the configuration too.
  const t = new Translator({ inject: ['b3-single'], tracestate: { key: 'tb' } });
  assert.strictEqual(passOn(new TraceBridgePropagator(t), carrier).b3, `${T64}-${SPAN}-d`);
});

// ---- what W3C cannot say survives extract → inject ----

test('B3 debug survives extract → inject of the same context (single and multi)', () => {
  const p = new TraceBridgePropagator({ inject: ['b3-single', 'b3-multi', 'w3c'] });
  const sc = remote(p, { b3: `${T128}-${SPAN}-d` });
  assert.strictEqual(sc.traceFlags, api.TraceFlags.SAMPLED, 'W3C can only say sampled');
  assert.strictEqual(sc.traceState.serialize(), `tracebridge=s:${SPAN};m:x`);
  const out = passOn(p, { b3: `${T128}-${SPAN}-d` });
  assert.strictEqual(out.b3, `${T128}-${SPAN}-d`);
  assert.strictEqual(out['x-b3-flags'], '1');
  assert.strictEqual(out['x-b3-sampled'], undefined, 'debug implies sampled: B3 sends the flag alone');
  assert.strictEqual(out.traceparent, `00-${T128}-${SPAN}-01`);
  assert.strictEqual(out.tracestate, `tracebridge=s:${SPAN};m:x`);
  // And from B3 multi's X-B3-Flags.
  const multi = passOn(p, { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' });
  assert.strictEqual(multi.b3, `${T128}-${SPAN}-d`);
});

test('B3 defer survives extract → inject of the same context', () => {
  const p = new TraceBridgePropagator({ inject: ['b3-single', 'b3-multi'] });
  const sc = remote(p, { b3: `${T128}-${SPAN}` });
  assert.strictEqual(sc.traceFlags, 0, 'W3C writes defer as not sampled');
  const out = passOn(p, { b3: `${T128}-${SPAN}` });
  assert.deepStrictEqual(out, { b3: `${T128}-${SPAN}`, 'x-b3-traceid': T128, 'x-b3-spanid': SPAN });
  // Without the member, the same context would be written as a decision: not sampled.
  const plain = new TraceBridgePropagator({ inject: ['b3-single'], tracestate: { member: false } });
  assert.strictEqual(passOn(plain, { b3: `${T128}-${SPAN}` }).b3, `${T128}-${SPAN}-0`);
});

test('the 64-bit width survives extract → inject, also through a child span (debug does not)', () => {
  const p = new TraceBridgePropagator({ inject: ['b3-single', 'jaeger', 'w3c'] });
  const carrier = { b3: `${T64}-${SPAN}-d` };
  const sc = remote(p, carrier);
  assert.strictEqual(sc.traceId, `${'0'.repeat(16)}${T64}`);
  assert.deepStrictEqual(passOn(p, carrier), {
    b3: `${T64}-${SPAN}-d`,
    'uber-trace-id': `${T64}:${SPAN}:0:3`,
    traceparent: `00-${'0'.repeat(16)}${T64}-${SPAN}-01`,
    tracestate: `tracebridge=s:${SPAN};w:64;m:x`,
  });
  // A child span: the width is the trace's and stays; debug was the caller's hop and is not repeated.
  const span = tracer.startSpan('child', {}, p.extract(ROOT, carrier, getter));
  const child = span.spanContext().spanId;
  const out = {};
  p.inject(api.trace.setSpan(ROOT, span), out, setter);
  span.end();
  assert.strictEqual(out.b3, `${T64}-${child}-1`);
  assert.strictEqual(out['uber-trace-id'], `${T64}:${child}:0:1`);
  assert.strictEqual(out.tracestate, `tracebridge=s:${child};w:64`);
});

test('W3C Level 2: the random flag survives extract and inject', () => {
  const p = new TraceBridgePropagator();
  const ctx = p.extract(ROOT, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02' }, getter);
  assert.strictEqual(api.trace.getSpanContext(ctx).traceFlags, 0x02);
  // Passed on as it came (a child span of sdk-trace-base 2.x carries only the sampled bit: the SDK's
  // choice, not the propagator's).
  const out = {};
  p.inject(ctx, out, setter);
  assert.strictEqual(out.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02');
  // Reserved bits are not passed on by a service that starts spans (Level 2 §3.2.2.5.3).
  const reserved = p.extract(ROOT, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0d' }, getter);
  assert.strictEqual(api.trace.getSpanContext(reserved).traceFlags, api.TraceFlags.SAMPLED);
});

// ---- the propagator contract ----

test('suppressTracing: inject writes nothing (the key @opentelemetry/core sets)', () => {
  const p = new TraceBridgePropagator({ inject: ['w3c', 'b3-single'] });
  const ctx = p.extract(ROOT, { traceparent: TP }, getter);
  const suppressed = suppressTracing(ctx);
  assert.ok(isTracingSuppressed(suppressed));
  const out = {};
  p.inject(suppressed, out, setter);
  assert.deepStrictEqual(out, {});
  p.inject(ctx, out, setter);
  assert.strictEqual(out.traceparent, TP);
});

test('never throws: bad contexts, carriers, getters and setters', () => {
  const p = new TraceBridgePropagator({ inject: ['w3c', 'b3-multi'] });
  const boom = () => {
    throw new Error('boom');
  };
  const good = api.trace.setSpanContext(ROOT, { traceId: T128, spanId: SPAN, traceFlags: 1 });
  const bad = [
    [undefined, {}, setter],
    [null, {}, setter],
    [{ getValue: boom }, {}, setter],
    [api.trace.setSpanContext(ROOT, { traceId: 42, spanId: SPAN, traceFlags: 1 }), {}, setter],
    [api.trace.setSpanContext(ROOT, { traceId: 'XYZ', spanId: SPAN, traceFlags: 1 }), {}, setter],
    [api.trace.setSpanContext(ROOT, { traceId: T128, spanId: SPAN, traceFlags: 1, traceState: { serialize: boom } }), {}, setter],
    [good, null, setter],
    [good, {}, { set: boom }],
    [good, {}, null],
  ];
  for (const [ctx, carrier, s] of bad) assert.doesNotThrow(() => p.inject(ctx, carrier, s));
  const out = {};
  p.inject(api.trace.setSpanContext(ROOT, { traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 }), out, setter);
  assert.deepStrictEqual(out, {}, 'an invalid span context is not written');
  // An invalid traceState is left out, the ids still written (as the Rust adapter does).
  const odd = {};
  const weird = { serialize: () => 'NOT VALID', get() {}, set() {}, unset() {} };
  p.inject(api.trace.setSpanContext(ROOT, { traceId: T128, spanId: SPAN, traceFlags: 1, traceState: weird }), odd, setter);
  assert.deepStrictEqual(Object.keys(odd).sort(), ['traceparent', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);

  const ctx = ROOT.setValue(api.createContextKey('x'), 1);
  for (const [carrier, g] of [
    [null, getter],
    [undefined, getter],
    [{}, { get: boom, keys: boom }],
    [{}, null],
    [{ traceparent: 42 }, getter],
    [{ traceparent: [TP, 7, null] }, getter],
    [{ traceparent: { toString: boom } }, getter],
  ]) {
    let got;
    assert.doesNotThrow(() => (got = p.extract(ctx, carrier, g)));
    assert.ok(got === ctx || api.trace.getSpanContext(got)?.traceId === '4bf92f3577b34da6a3ce929d0e0e4736');
  }
  assert.ok(Array.isArray(p.fields()));
});

test('a setter that calls back into tracebridge does not disturb the inject under way', () => {
  const p = new TraceBridgePropagator({ inject: ['w3c', 'b3-multi', 'jaeger'] });
  const other = new TraceBridgePropagator({ inject: ['xray'] });
  const ctx = api.trace.setSpanContext(ROOT, { traceId: T128, spanId: SPAN, traceFlags: 1 });
  const nested = api.trace.setSpanContext(ROOT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 });
  const out = {};
  const reentrant = {
    set(carrier, key, value) {
      carrier[key] = value;
      other.inject(nested, {}, setter);
      other.extract(ROOT, { 'x-amzn-trace-id': 'Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=0' }, getter);
    },
  };
  p.inject(ctx, out, reentrant);
  const plain = {};
  p.inject(ctx, plain, setter);
  assert.deepStrictEqual(out, plain);
  assert.strictEqual(out['uber-trace-id'], `${T128}:${SPAN}:0:1`);
});

test('the extracted traceState is a TraceState: get, set, unset, serialize', () => {
  const p = new TraceBridgePropagator();
  const ts = remote(p, { traceparent: TP, tracestate: 'a=1,b=2' }).traceState;
  assert.strictEqual(ts.serialize(), 'a=1,b=2');
  assert.strictEqual(ts.get('b'), '2');
  assert.strictEqual(ts.set('c', '3').serialize(), 'c=3,a=1,b=2');
  assert.strictEqual(ts.unset('a').serialize(), 'b=2');
  assert.strictEqual(ts.serialize(), 'a=1,b=2', 'unchanged');
  // OpenTelemetry's own W3C propagator writes it as it is.
  const out = {};
  new W3CTraceContextPropagator().inject(p.extract(ROOT, { traceparent: TP, tracestate: 'a=1,b=2' }, getter), out, setter);
  assert.deepStrictEqual(out, { traceparent: TP, tracestate: 'a=1,b=2' });
});

test('baggage is left to OpenTelemetry\'s baggage propagators: not read, written or listed', () => {
  const { CompositePropagator, W3CBaggagePropagator } = require('@opentelemetry/core');
  const p = new TraceBridgePropagator({ extract: ['w3c', 'jaeger', 'ot'], inject: ['w3c', 'jaeger', 'ot'] });
  assert.deepStrictEqual(p.fields().filter((f) => /baggage|uberctx/.test(f)), []);
  const carrier = { traceparent: TP, baggage: 'k=v', 'uberctx-a': 'b', 'ot-baggage-c': 'd' };
  const ctx = p.extract(ROOT, carrier, getter);
  assert.deepStrictEqual(api.trace.getSpanContext(ctx), remote(p, { traceparent: TP }));
  assert.strictEqual(api.propagation.getBaggage(ctx), undefined);
  const out = {};
  p.inject(ctx, out, setter);
  assert.deepStrictEqual(Object.keys(out).filter((k) => /baggage|uberctx/.test(k)), []);
  // Composed with OpenTelemetry's own, as the README shows: the baggage crosses through that one.
  const both = new CompositePropagator({ propagators: [p, new W3CBaggagePropagator()] });
  const out2 = {};
  both.inject(both.extract(ROOT, carrier, getter), out2, setter);
  assert.strictEqual(out2.baggage, 'k=v');
  assert.strictEqual(out2.traceparent, TP);
});
