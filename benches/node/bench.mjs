// Benchmark (not a test): tracebridge (wasm) against the OpenTelemetry JS propagators on identical
// inputs and carriers. Run: `bash scripts/build-node.sh && (cd node-binding && npm ci) && node benches/node/bench.mjs`
// (uses node-binding's devDependencies). Reports ops/s and tracebridge/OTel ratios; all
// implementations are measured in the same run, interleaved, so ratios hold on a noisy machine.

import { createRequire } from 'node:module';
const require = createRequire(new URL('../../node-binding/package.json', import.meta.url));
const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3');
const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const tb = require('tracebridge');
const { TraceBridgePropagator } = require('tracebridge/otel');

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const inputs = {
  w3c: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' },
  'b3-single': { b3: `${TRACE}-${SPAN}-1` },
  'b3-multi': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  jaeger: { 'uber-trace-id': `${TRACE}:${SPAN}:0:1` },
  xray: { 'x-amzn-trace-id': `Root=1-${TRACE.slice(0, 8)}-${TRACE.slice(8)};Parent=${SPAN};Sampled=1` },
};
// A realistic request: the trace headers among ordinary ones.
const noise = { host: 'api.example.com', 'user-agent': 'curl/8.5.0', accept: '*/*', 'accept-encoding': 'gzip', 'content-type': 'application/json', 'content-length': '42', cookie: 'a=b; c=d', 'x-request-id': 'abc123' };

const otel = {
  w3c: new W3CTraceContextPropagator(),
  'b3-single': new B3Propagator(),
  'b3-multi': new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  jaeger: new JaegerPropagator(),
  xray: new AWSXRayPropagator(),
};

function bench(fn, ms = Number(process.env.BENCH_MS ?? 400)) {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const end = performance.now() + ms;
  let t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return n / ((performance.now() - t0) / 1000);
}

const rows = [];
function compare(op, format, ours, theirs, note = '') {
  // Interleave three rounds each; take the best of each (least disturbed).
  let a = 0;
  let b = 0;
  for (let r = 0; r < 3; r++) {
    a = Math.max(a, bench(ours));
    b = Math.max(b, bench(theirs));
  }
  rows.push({ op, format, tracebridge: Math.round(a), otel: Math.round(b), ratio: (a / b).toFixed(2), note });
}

const sink = [];
for (const f of Object.keys(inputs)) {
  const headers = { ...noise, ...inputs[f] };
  const t = new tb.Translator({ extract: [f] });
  compare('extract', f, () => sink.push(t.extract(headers)), () => sink.push(otel[f].extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter)), 'tracebridge.extract → plain object');
  const tbp = new TraceBridgePropagator({ extract: [f] });
  compare('extract (OTel adapter)', f, () => sink.push(tbp.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter)), () => sink.push(otel[f].extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter)), 'same SpanContext out');
  sink.length = 0;
}

const ctxValue = { traceId: TRACE, spanId: SPAN, sampled: true };
const spanCtx = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: false });
for (const f of Object.keys(inputs)) {
  const opts = { formats: [f] };
  const tbp = new TraceBridgePropagator({ inject: [f] });
  compare('inject', f, () => sink.push(tb.inject(ctxValue, {}, opts)), () => { const c = {}; otel[f].inject(spanCtx, c, api.defaultTextMapSetter); sink.push(c); }, 'tracebridge.inject');
  compare('inject (OTel adapter)', f, () => { const c = {}; tbp.inject(spanCtx, c, api.defaultTextMapSetter); sink.push(c); }, () => { const c = {}; otel[f].inject(spanCtx, c, api.defaultTextMapSetter); sink.push(c); });
  sink.length = 0;
}

// translate legacy → W3C: tracebridge in one wasm call vs OTel extract(legacy) + inject(W3C).
for (const f of ['b3-single', 'b3-multi', 'jaeger', 'xray']) {
  const t = new tb.Translator({ extract: [f], inject: ['w3c'] });
  compare('translate → w3c', f, () => { const h = { ...noise, ...inputs[f] }; sink.push(t.translate(h)); }, () => {
    const h = { ...noise, ...inputs[f] };
    otel.w3c.inject(otel[f].extract(api.ROOT_CONTEXT, h, api.defaultTextMapGetter), h, api.defaultTextMapSetter);
    sink.push(h);
  }, 'both copy the carrier first');
  sink.length = 0;
}

console.log(`node ${process.version}; ops/s, best of 3 interleaved rounds; ratio = tracebridge / OpenTelemetry`);
console.table(rows);
