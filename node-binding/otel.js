'use strict';
// OpenTelemetry JS adapter: a TextMapPropagator with the Translator's whole policy, as the Rust
// adapter (core/src/otel.rs) has it. Extract is core's `Translator::remote` (precedence, trust,
// on_conflict, drop_forced_sampling, our tracestate member carrying what W3C cannot say); inject is
// core's `Translator::inject_span` (every `inject` format, id_width, the member's defer/debug/64-bit
// width restored). Like every OpenTelemetry propagator it never throws and writes nothing when
// tracing is suppressed. `@opentelemetry/api` is a peer dependency.

const api = require('@opentelemetry/api');
const b = require('./boundary.js');
const { Translator } = require('./index.js');
const { admits, zeroHigh, derive } = require('./template.js');

const { wasm, HEADERS } = b;
const [ROLE_TRACE, ROLE_SPAN, , ROLE_STATE] = b.layout.roles;

// The key `@opentelemetry/core`'s suppressTracing() sets (its isTracingSuppressed() reads it); the
// API creates keys by description, so the same description is the same key.
const SUPPRESS_TRACING = api.createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * A SpanContext's traceState as the string core wrote: `serialize()` returns it as is (what
 * propagators call); `get`/`set`/`unset` parse it once with the API's own TraceState.
 */
class TraceBridgeTraceState {
  #value;
  #parsed;

  constructor(value) {
    this.#value = value;
  }

  #state() {
    if (this.#parsed === undefined) this.#parsed = api.createTraceState(this.#value);
    return this.#parsed;
  }

  set(key, value) {
    return this.#state().set(key, value);
  }

  unset(key) {
    return this.#state().unset(key);
  }

  get(key) {
    return this.#state().get(key);
  }

  serialize() {
    return this.#value;
  }
}

class TraceBridgePropagator {
  #w;
  #fields;
  #readIds;
  #readNames;
  #templates = new Map(); // by flags and zeroHigh (template.js)

  /** @param config the tracebridge configuration, or a Translator (`extract` = formats read, `inject` = written). */
  constructor(config) {
    const translator = config instanceof Translator ? config : new Translator(config);
    // The JS Translator's wasm half, with the same configuration.
    this.#w = translator[b.WASM]();
    this.#fields = translator.fields().slice();
    this.#readIds = Array.from(this.#w.reads());
    this.#readNames = this.#readIds.map((i) => HEADERS[i]);
  }

  inject(context, carrier, setter) {
    try {
      if (context.getValue(SUPPRESS_TRACING) === true) return;
      const sc = api.trace.getSpanContext(context);
      if (sc === undefined) return;
      const traceId = sc.traceId;
      const spanId = sc.spanId;
      if (typeof traceId !== 'string' || typeof spanId !== 'string') return;
      const state = sc.traceState === undefined ? '' : sc.traceState.serialize();
      const ts = typeof state === 'string' ? state : '';
      const flags = sc.traceFlags;
      // Core's output for this shape with these ids filled in (template.js), when it has one.
      if (ts === '' && (flags & 0xff) === flags && admits(traceId, 32) && admits(spanId, 16)) {
        const zero = zeroHigh(traceId);
        const key = flags * 2 + (zero ? 1 : 0);
        let t = this.#templates.get(key);
        if (t === undefined) {
          t = derive(LENS, zero, (ids) => this.#core(ids[0], ids[1], '', flags));
          this.#templates.set(key, t);
        }
        if (t !== null) {
          const { names, fns } = t;
          for (let i = 0; i < names.length; i++) setter.set(carrier, names[i], fns[i](traceId, spanId));
          return;
        }
      }
      const out = this.#core(traceId, spanId, ts, flags);
      // Everything read before the setter runs: it is user code and may call back into tracebridge.
      if (out !== null) for (const [name, value] of out.set) setter.set(carrier, name, value);
    } catch {
      // A propagator never throws: a context that cannot be written is not written.
    }
  }

  /** Core's `inject_span` for these ids: `{ remove: [], set: [[name, value], …] }`, or null. */
  #core(traceId, spanId, ts, flags) {
    const vals = ts === '' ? [traceId, spanId] : [traceId, spanId, ts];
    b.put(vals, ts === '' ? ROLES_2 : ROLES_3, vals.length);
    const n = b.done(this.#w.injectSpan(vals.length, flags));
    if (n <= 0) return null;
    const at = 2 + b.int(0);
    const set = [];
    for (let i = 0; i < n; i++) set.push([HEADERS[b.int(at + i)], b.str(i, vals)]);
    return { remove: NONE, set };
  }

  extract(context, carrier, getter) {
    try {
      const vals = [];
      const ids = [];
      const names = this.#readNames;
      // (Fresh arrays: a getter is user code and may call back into a propagator.)
      for (let k = 0; k < names.length; k++) {
        const v = getter.get(carrier, names[k]);
        if (v === undefined || v === null) continue;
        if (typeof v === 'string') {
          vals.push(v);
          ids.push(this.#readIds[k]);
        } else if (Array.isArray(v)) {
          for (const line of v) {
            if (typeof line !== 'string') continue;
            vals.push(line);
            ids.push(this.#readIds[k]);
          }
        }
      }
      if (vals.length === 0) return context;
      b.put(vals, ids, vals.length);
      if (b.done(this.#w.remote(vals.length)) !== 1) return context;
      /** @type {import('@opentelemetry/api').SpanContext} */
      const sc = { traceId: b.str(0, vals), spanId: b.str(1, vals), isRemote: true, traceFlags: b.int(0) };
      const ts = b.str(2, vals);
      if (ts !== null) sc.traceState = new TraceBridgeTraceState(ts);
      return api.trace.setSpanContext(context, sc);
    } catch {
      return context;
    }
  }

  fields() {
    return this.#fields.slice();
  }
}

const ROLES_2 = [ROLE_TRACE, ROLE_SPAN];
const ROLES_3 = [ROLE_TRACE, ROLE_SPAN, ROLE_STATE];
const LENS = [32, 16];
const NONE = [];

module.exports = { TraceBridgePropagator };
