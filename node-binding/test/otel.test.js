'use strict';
// The OpenTelemetry adapter with the real @opentelemetry/api and sdk-trace-base.
const test = require('node:test');
const assert = require('node:assert');
const api = require('@opentelemetry/api');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { TraceBridgePropagator } = require('../otel.js');

const provider = new BasicTracerProvider();
const tracer = provider.getTracer('tracebridge-test');

const cases = {
  b3: { 'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': '1' },
  'b3 single 64-bit': { b3: '80f198ee56343ba8-e457b5a2e4d86bd1-1' },
  jaeger: { 'uber-trace-id': '80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:1' },
  xray: { 'x-amzn-trace-id': 'Root=1-80f198ee-56343ba864fe8b2a57d3eff7;Parent=e457b5a2e4d86bd1;Sampled=1' },
};

for (const [name, carrier] of Object.entries(cases)) {
  test(`a span started under a context extracted from ${name} is a child in the same trace`, () => {
    const p = new TraceBridgePropagator();
    const ctx = p.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
    const parent = api.trace.getSpanContext(ctx);
    assert.ok(parent && parent.isRemote);
    assert.strictEqual(parent.spanId, 'e457b5a2e4d86bd1');
    assert.strictEqual(parent.traceFlags, api.TraceFlags.SAMPLED);
    const span = tracer.startSpan('child', {}, ctx);
    const sc = span.spanContext();
    assert.strictEqual(sc.traceId, parent.traceId);
    assert.match(sc.traceId, /^(0{16})?80f198ee56343ba8/);
    assert.notStrictEqual(sc.spanId, parent.spanId);
    assert.strictEqual(span.parentSpanContext?.spanId ?? span.parentSpanId, 'e457b5a2e4d86bd1');
    span.end();
  });
}

test('inject writes the configured formats from the active span; tracestate kept', () => {
  const p = new TraceBridgePropagator({ inject: ['w3c', 'b3-multi', 'jaeger'] });
  const ctx = p.extract(
    api.ROOT_CONTEXT,
    { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' },
    api.defaultTextMapGetter,
  );
  assert.strictEqual(api.trace.getSpanContext(ctx).traceState.get('a'), '1');
  const span = tracer.startSpan('child', {}, ctx);
  const out = {};
  p.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), out, api.defaultTextMapSetter);
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
  p.inject(api.ROOT_CONTEXT, none, api.defaultTextMapSetter);
  assert.deepStrictEqual(none, {});
});

test('nothing valid leaves the context unchanged; fields lists every header', () => {
  const p = new TraceBridgePropagator();
  assert.strictEqual(p.extract(api.ROOT_CONTEXT, { traceparent: 'garbage' }, api.defaultTextMapGetter), api.ROOT_CONTEXT);
  assert.ok(p.fields().includes('x-amzn-trace-id') && p.fields().includes('x-b3-flags') && p.fields().includes('tracestate'));
});

test('W3C Level 2: the random flag survives extract and inject', () => {
  const p = new TraceBridgePropagator();
  const ctx = p.extract(
    api.ROOT_CONTEXT,
    { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02' },
    api.defaultTextMapGetter,
  );
  assert.strictEqual(api.trace.getSpanContext(ctx).traceFlags, 0x02);
  // Passed on as it came (a child span of sdk-trace-base 2.x carries only the sampled bit: the SDK's
  // choice, not the propagator's).
  const out = {};
  p.inject(ctx, out, api.defaultTextMapSetter);
  assert.strictEqual(out.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02');
  // Reserved bits are not passed on by a service that starts spans (Level 2 §3.2.2.5.3).
  const reserved = p.extract(
    api.ROOT_CONTEXT,
    { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0d' },
    api.defaultTextMapGetter,
  );
  assert.strictEqual(api.trace.getSpanContext(reserved).traceFlags, api.TraceFlags.SAMPLED);
});
