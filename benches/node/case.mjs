// One benchmark case in a process of its own: `node case.mjs <op> <format> <impl> [ms]` prints
// `{"ns": <median ns/op>, ...}`. One op × one format × one implementation per process, so every call
// site stays monomorphic as it would be in a service (in one shared process the sites go
// megamorphic and the figures lie). bench.mjs runs the cases, pairs and repeats them.
//
// op:     extract | inject | translate (legacy → W3C)
// impl:   otel    — the matching @opentelemetry propagator
//         adapter — tracebridge/otel's TraceBridgePropagator for that format
//         direct  — tracebridge's own API (Translator#extract, inject, Translator#translate)
//         floor   — what an adapter that answers from templates of core's output (node-binding/
//                   template.js) pays at least: for extract the carrier reads, the check of the two
//                   ids (template.js `admits`) and the OpenTelemetry context set; for inject the span
//                   context reads, that check and the header writes; for translate the carrier's keys
//                   matched against core's header registry, that check and the header write (all
//                   with constant values)
//         wasm    — the adapter's wasm call alone (core's Translator::remote with the boundary's
//                   own work in wasm) on input written once, which it makes only for a request
//                   without a template; for translate with its input write; for inject core's
//                   inject_span, which the adapter calls only for a shape without a template
//
// format: a propagation format, or `w3c-vendor`: W3C whose tracestate carries a vendor's span id
// (`rojo=<span id>`, as in the W3C spec's example), different in every request, so that no extract
// template matches (template.js): the floor and each implementation take the requests in turn.

import { createRequire } from 'node:module';

const require = createRequire(new URL('../../node-binding/package.json', import.meta.url));
const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3');
const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const tb = require('tracebridge');
const { TraceBridgePropagator } = require('tracebridge/otel');

const [op, format, impl, msArg] = process.argv.slice(2);
const MS = Number(msArg ?? 400);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
export const inputs = {
  'w3c-vendor': { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: `congo=t61rcWkgMzE,rojo=${SPAN}` },
  w3c: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' },
  'b3-single': { b3: `${TRACE}-${SPAN}-1` },
  'b3-multi': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  jaeger: { 'uber-trace-id': `${TRACE}:${SPAN}:0:1` },
  xray: { 'x-amzn-trace-id': `Root=1-${TRACE.slice(0, 8)}-${TRACE.slice(8)};Parent=${SPAN};Sampled=1` },
};
// A request as Node gives it: the trace headers among ordinary ones (lowercase names).
const noise = {
  host: 'api.example.com',
  'user-agent': 'curl/8.5.0',
  accept: '*/*',
  'accept-encoding': 'gzip',
  'content-type': 'application/json',
  'content-length': '42',
  cookie: 'a=b; c=d',
  'x-request-id': 'abc123',
};

function otelPropagator(f) {
  switch (f) {
    case 'w3c':
    case 'w3c-vendor':
      return new W3CTraceContextPropagator();
    case 'b3-single':
      return new B3Propagator();
    case 'b3-multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
    case 'jaeger':
      return new JaegerPropagator();
    case 'xray':
      return new AWSXRayPropagator();
  }
  throw new Error(`no OpenTelemetry propagator for ${f}`);
}

const getter = api.defaultTextMapGetter;
const setter = api.defaultTextMapSetter;
const ROOT = api.ROOT_CONTEXT;
// Values as Node's HTTP parser makes them: flat one-byte strings, not the concatenations above.
const flat = (s) => Buffer.from(s, 'latin1').toString('latin1');
const carrier = Object.fromEntries(Object.entries({ ...noise, ...inputs[format] }).map(([k, v]) => [k, flat(v)]));
// `w3c-vendor`'s requests: 1 024 with their own ids, each call with the next of 65 536 tracestates
// (a vendor's span id, never repeated within the templates' horizon: template.js `STEP_MAX`).
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
const ring =
  format === 'w3c-vendor'
    ? Array.from({ length: 1024 }, () => {
        const [t, s] = [hex(32), hex(16)];
        const trace = { traceparent: `00-${t}-${s}-01`, tracestate: '' };
        return Object.fromEntries(Object.entries({ ...noise, ...trace }).map(([k, v]) => [k, flat(v)]));
      })
    : null;
const states = ring === null ? null : Array.from({ length: 65536 }, () => flat(`congo=t61rcWkgMzE,rojo=${hex(16)}`));
/** The next request of the ring. */
const request = () => {
  const c = ring[turn & 1023];
  c.tracestate = states[turn++ & 65535];
  return c;
};
let turn = 0;
// The format's name in tracebridge.
const tbFormat = format === 'w3c-vendor' ? 'w3c' : format;
const spanCtx = api.trace.setSpanContext(ROOT, { traceId: flat(TRACE), spanId: flat(SPAN), traceFlags: 1, isRemote: false });
let sink;

// The floor's pieces: the boundary's own write and an empty wasm call.
const b = require('./boundary.js');
const { admits } = require('./template.js');

function floorFor() {
  // The headers the format reads (core's registry), as the adapter asks the getter for them.
  const ids = b.tables.formatHeaders[b.FORMATS.indexOf(tbFormat)];
  const fields = ids.map((i) => b.HEADERS[i]);
  const sc = { traceId: TRACE, spanId: SPAN, isRemote: true, traceFlags: 1 };
  const written = Object.keys(tb.inject({ traceId: TRACE, spanId: SPAN, sampled: true }, {}, { formats: [op === 'translate' ? 'w3c' : tbFormat] }));
  const value = 'x'.repeat(55);
  switch (op) {
    case 'extract':
      return () => {
        const c = ring === null ? carrier : request();
        const vals = [];
        for (let k = 0; k < fields.length; k++) {
          const v = getter.get(c, fields[k]);
          if (typeof v === 'string') vals.push(v);
        }
        if (vals.length === 0 || !admits(TRACE, 32) || !admits(SPAN, 16)) return;
        sink = api.trace.setSpanContext(ROOT, sc);
      };
    case 'inject':
      return () => {
        const s = api.trace.getSpanContext(spanCtx);
        if (spanCtx.getValue(SUPPRESS) === true) return;
        if (!admits(s.traceId, 32) || !admits(s.spanId, 16)) return;
        const c = {};
        for (const h of written) setter.set(c, h, value);
        sink = c;
      };
    case 'translate':
      return () => {
        const vals = [];
        const got = [];
        for (const key in carrier) {
          const i = b.headerIndex(key);
          if (i >= 0 && ids.includes(i)) vals.push(carrier[key]), got.push(i);
        }
        if (vals.length === 0 || !admits(TRACE, 32) || !admits(SPAN, 16)) return;
        carrier.traceparent = value;
        sink = carrier;
      };
  }
  throw new Error(op);
}
const SUPPRESS = api.createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
const ROLES = b.layout.roles.slice(0, 2);

function wasmFor() {
  const t = new tb.Translator({ extract: [tbFormat], inject: [op === 'translate' ? 'w3c' : tbFormat] });
  const w = t[b.WASM]();
  const headers = Object.entries(carrier).filter(([k]) => b.HEADER_INDEX.has(k));
  const ids = headers.map(([k]) => b.HEADER_INDEX.get(k));
  const vals = headers.map(([, v]) => v);
  const span = [TRACE, SPAN];
  switch (op) {
    case 'extract':
      b.put(vals, ids, vals.length);
      return () => (sink = b.done(w.remote(vals.length)));
    case 'inject':
      b.put(span, ROLES, 2);
      return () => (sink = b.done(w.injectSpan(2, 1)));
    case 'translate':
      // The extract's call: the inject fills a template (no call) since 2026-12-04.
      return () => {
        b.put(vals, ids, vals.length);
        sink = b.done(w.remote(vals.length));
      };
  }
  throw new Error(op);
}

/** The op through an OpenTelemetry propagator `p`; translate writes W3C with `w3c`. */
function propagatorCase(p, w3c) {
  switch (op) {
    case 'extract':
      if (ring !== null) return () => (sink = p.extract(ROOT, request(), getter));
      return () => (sink = p.extract(ROOT, carrier, getter));
    case 'inject':
      return () => {
        const c = {};
        p.inject(spanCtx, c, setter);
        sink = c;
      };
    case 'translate':
      return () => {
        w3c.inject(p.extract(ROOT, carrier, getter), carrier, setter);
        sink = carrier;
      };
  }
}

function caseFn() {
  if (impl === 'floor') return floorFor();
  if (impl === 'wasm') return wasmFor();
  if (impl === 'otel') return propagatorCase(otelPropagator(format), new W3CTraceContextPropagator());
  if (impl === 'adapter') {
    const inject = op === 'translate' ? 'w3c' : tbFormat;
    const p = new TraceBridgePropagator({ extract: [tbFormat], inject: [inject] });
    return propagatorCase(p, p);
  }
  if (impl === 'direct') {
    switch (op) {
      case 'extract': {
        const t = new tb.Translator({ extract: [tbFormat] });
        if (ring !== null) return () => (sink = t.extract(request()));
        return () => (sink = t.extract(carrier));
      }
      case 'inject': {
        const ctx = { traceId: TRACE, spanId: SPAN, sampled: true };
        const opts = { formats: [format] };
        return () => (sink = tb.inject(ctx, {}, opts));
      }
      case 'translate': {
        const t = new tb.Translator({ extract: [format], inject: ['w3c'] });
        return () => (sink = t.translate(carrier));
      }
    }
  }
  throw new Error(`unknown case ${op} ${format} ${impl}`);
}

const fn = caseFn();
// The same answer from every implementation is checked by the tests; here only that it runs.
fn();
if (sink === undefined) throw new Error('no result');

// TB_CASE_COUNT=N (count.sh): a fixed warm-up, then exactly N calls and no clock, for callgrind to
// count the instructions of N calls: exact where the times wander (count.sh subtracts N = 0).
if (process.env.TB_CASE_COUNT !== undefined) {
  const n = Number(process.env.TB_CASE_COUNT);
  for (let i = 0; i < 20000; i++) fn();
  for (let i = 0; i < n; i++) fn();
  process.exit(0);
}

// Warm up (the optimizing compiler), then batches of ~10 ms; the median batch is the figure.
const now = () => Number(process.hrtime.bigint()) / 1e6;
let batch = 256;
for (const end = now() + Math.min(300, MS / 2); now() < end; ) for (let i = 0; i < batch; i++) fn();
const t0 = now();
let t1 = now();
for (let i = 0; i < batch; i++) fn();
const per = (now() - t1) / batch;
batch = Math.max(64, Math.round(10 / Math.max(per, 1e-6)));
const samples = [];
while (now() - t0 < MS) {
  t1 = now();
  for (let i = 0; i < batch; i++) fn();
  samples.push(((now() - t1) * 1e6) / batch);
}
samples.sort((a, c) => a - c);
const ns = samples[samples.length >> 1];
process.stdout.write(JSON.stringify({ op, format, impl, ns, min: samples[0], batches: samples.length }) + '\n');
