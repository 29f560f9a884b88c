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
const { admits, zeroHigh, derive, ExtractTemplates } = require('./template.js');

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

/**
 * A SpanContext the adapter's extract made. When its ids came through an extract template they were
 * checked there as an inject checks them (`admits`), and the context keeps them privately: an inject
 * of this context (a proxy passing on what it received) skips that check while the ids are still
 * those (a caller may have replaced them). A context an SDK made for a new span is checked as before.
 */
class RemoteSpanContext {
  #trace;
  #span;

  constructor(traceId, spanId, traceFlags, traceState, admitted) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.isRemote = true;
    this.traceFlags = traceFlags;
    this.traceState = traceState;
    this.#trace = admitted ? traceId : null;
    this.#span = admitted ? spanId : null;
  }

  /** Whether `sc` is one of these with the admitted ids it was made with. */
  static admitted(sc) {
    // The constructor first: `#trace in` a plain object (an SDK's span context) costs ≈ 1 000
    // instructions of node 20 (count.sh), the property read almost nothing.
    return (
      sc.constructor === RemoteSpanContext &&
      #trace in sc &&
      sc.#trace !== null &&
      sc.#trace === sc.traceId &&
      sc.#span === sc.spanId
    );
  }
}

// The extract's reads (one set, reused; a getter that calls back into a propagator gets its own).
const scratchVals = [];
const scratchIds = [];
let reading = false;

/** The SpanContext's traceState for core's tracestate (null: none). */
function stateOf(ts) {
  return ts === null ? undefined : new TraceBridgeTraceState(ts);
}

class TraceBridgePropagator {
  #w;
  #fields;
  #readIds;
  #readNames;
  #templates = new Map(); // by flags and zeroHigh (template.js)
  #shapes; // extract templates (template.js)
  #remote; // core's `remote` through the boundary: (vals, ids, n) => result

  /** @param config the tracebridge configuration, or a Translator (`extract` = formats read, `inject` = written). */
  constructor(config) {
    const translator = config instanceof Translator ? config : new Translator(config);
    // The JS Translator's wasm half, with the same configuration.
    this.#w = translator[b.WASM]();
    this.#fields = translator.fields().slice();
    this.#readIds = Array.from(this.#w.reads());
    this.#readNames = this.#readIds.map((i) => HEADERS[i]);
    const w = this.#w;
    this.#remote = b.caller((n) => w.remote(n));
    this.#shapes = new ExtractTemplates(
      this.#remote,
      () => SIZES,
      [0, 1],
      () => b.int(1) !== 0,
    );
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
      if (
        ts === '' &&
        (flags & 0xff) === flags &&
        (RemoteSpanContext.admitted(sc) || (admits(traceId, 32) && admits(spanId, 16)))
      ) {
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
      const mine = !reading;
      const vals = mine ? scratchVals : [];
      const ids = mine ? scratchIds : [];
      let n = 0;
      const names = this.#readNames;
      reading = true;
      try {
        for (let k = 0; k < names.length; k++) {
          const v = getter.get(carrier, names[k]);
          if (v === undefined || v === null) continue;
          if (typeof v === 'string') {
            vals[n] = v;
            ids[n++] = this.#readIds[k];
          } else if (Array.isArray(v)) {
            for (const line of v) {
              if (typeof line !== 'string') continue;
              vals[n] = line;
              ids[n++] = this.#readIds[k];
            }
          }
        }
      } finally {
        if (mine) reading = false;
      }
      if (n === 0) return context;
      // Core's answer for this shape with these ids (template.js), when it has one; its
      // tracestate, when it has no hole, made once.
      const shapes = this.#shapes;
      const t = shapes.find(vals, ids, n);
      if (t !== null) {
        const { a, b: span, c } = shapes;
        const fixed = t.fixed[2];
        const state =
          fixed === undefined ? stateOf(t.outs[2](a, span, c)) : (t.memo ??= { state: stateOf(fixed) }).state;
        const sc = new RemoteSpanContext(t.outs[0](a, span, c), t.outs[1](a, span, c), t.ints[0], state, true);
        return api.trace.setSpanContext(context, sc);
      }
      const r = this.#remote(vals, ids, n);
      if (r !== 1) return context;
      const sc = new RemoteSpanContext(b.str(0, vals), b.str(1, vals), b.int(0), stateOf(b.str(2, vals)), false);
      const out = api.trace.setSpanContext(context, sc);
      try {
        shapes.learn(vals, ids, n, r);
      } catch {
        // Learning is an optimization: the answer above stands.
      }
      return out;
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
// The fields and strings of core's `remote` answer (ops.rs).
const SIZES = [2, 3];

module.exports = { TraceBridgePropagator };
