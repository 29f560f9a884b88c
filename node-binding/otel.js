'use strict';
// OpenTelemetry JS adapter: a TextMapPropagator that reads every format tracebridge knows and
// writes the configured ones. `@opentelemetry/api` is a peer dependency.

const api = require('@opentelemetry/api');
const { Translator, inject } = require('./index.js');

class TraceBridgePropagator {
  #translator;
  #inject;

  /** @param config the tracebridge configuration (`extract` = formats read, `inject` = formats written). */
  constructor(config) {
    this.#translator = config instanceof Translator ? config : new Translator(config);
    const formats = config && !(config instanceof Translator) && config.inject;
    this.#inject = Array.isArray(formats) ? formats.slice() : ['w3c'];
  }

  inject(context, carrier, setter) {
    const sc = api.trace.getSpanContext(context);
    if (!sc || !api.isSpanContextValid(sc)) return;
    const ts = sc.traceState ? sc.traceState.serialize() : '';
    const out = inject(
      {
        traceId: sc.traceId,
        spanId: sc.spanId,
        sampled: (sc.traceFlags & api.TraceFlags.SAMPLED) === api.TraceFlags.SAMPLED,
        // Sampled and W3C Level 2's random bit (0x02); reserved bits are written as zero.
        traceFlags: sc.traceFlags & 0x03,
        traceState: ts === '' ? undefined : ts,
      },
      new Map(),
      { formats: this.#inject },
    );
    for (const [name, value] of out) setter.set(carrier, name, value);
  }

  extract(context, carrier, getter) {
    const headers = new Map();
    for (const name of this.#translator.fields()) {
      const v = getter.get(carrier, name);
      if (v !== undefined) headers.set(name, v);
    }
    const got = this.#translator.extract(headers);
    if (got === null) return context;
    /** @type {import('@opentelemetry/api').SpanContext} */
    const sc = {
      traceId: got.traceId,
      spanId: got.spanId,
      isRemote: true,
      // The sampled bit, and the random bit (0x02) while the trace id is kept (W3C Level 2 §3.2.2.5.2).
      traceFlags: got.traceFlags & 0x03,
    };
    if (got.traceState !== null) sc.traceState = api.createTraceState(got.traceState);
    return api.trace.setSpanContext(context, sc);
  }

  fields() {
    return this.#translator.fields().slice();
  }
}

module.exports = { TraceBridgePropagator };
