'use strict';
// The `tracebridge` npm package: a thin shape converter around the wasm exports of
// node-binding/src/lib.rs. All trace logic is in Rust (core); this file only turns header objects
// into the flat `name\0value\0…` string the wasm reads, and applies the writes it returns.

const wasm = require('./pkg/tracebridge_node.js');

const FORMATS = Object.freeze(['w3c', 'b3-single', 'b3-multi', 'jaeger', 'xray', 'grpc-trace-bin']);

function argumentError(message) {
  const err = new TypeError(message);
  err.code = 'argument_invalid';
  return err;
}

function isHeaders(h) {
  return typeof Headers !== 'undefined' && h instanceof Headers;
}

// Append every value of one header (string, string[] or a number Node may hold) to the flat string.
// A NUL in a value becomes DEL: both are rejected by core as `header_not_ascii`, and the entry
// boundaries cannot be forged.
function addValue(flat, name, value) {
  if (Array.isArray(value)) {
    for (const v of value) flat = addValue(flat, name, v);
    return flat;
  }
  if (value === undefined || value === null) return flat;
  let v = typeof value === 'string' ? value : String(value);
  if (v.indexOf('\0') !== -1) v = v.replaceAll('\0', '\x7f');
  return flat === '' ? name + '\0' + v : flat + '\0' + name + '\0' + v;
}

// Only the headers some format reads cross the boundary (`names`: lowercase Set).
function flatten(headers, names) {
  if (headers === null || typeof headers !== 'object') {
    throw argumentError('headers: expected a plain object, a Headers or a Map');
  }
  let flat = '';
  if (isHeaders(headers)) {
    for (const name of names) {
      const v = headers.get(name);
      if (v !== null) flat = addValue(flat, name, v);
    }
  } else if (headers instanceof Map) {
    for (const [name, v] of headers) {
      if (typeof name === 'string' && names.has(name.toLowerCase())) flat = addValue(flat, name, v);
    }
  } else {
    for (const name in headers) {
      if (names.has(name.toLowerCase())) flat = addValue(flat, name, headers[name]);
    }
  }
  return flat;
}

// Write side: replace every line of `name` (any case) with `value`, or remove them.
function setHeader(headers, name, value) {
  if (isHeaders(headers)) {
    headers.set(name, value);
    return;
  }
  removeHeader(headers, name);
  if (headers instanceof Map) headers.set(name, value);
  else headers[name] = value;
}

function removeHeader(headers, name) {
  if (isHeaders(headers)) {
    headers.delete(name);
  } else if (headers instanceof Map) {
    for (const k of [...headers.keys()]) if (typeof k === 'string' && k.toLowerCase() === name) headers.delete(k);
  } else {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name) delete headers[k];
  }
}

function configJson(config) {
  if (config === undefined || config === null) return '{}';
  if (typeof config === 'string') return config;
  if (typeof config === 'object') return JSON.stringify(config);
  const err = new TypeError('config: expected an object or a JSON string');
  err.code = 'config_invalid';
  throw err;
}

/** The translation policy, built once from the configuration shared with core and the Envoy filter. */
class Translator {
  #inner;
  #names;
  #fields;

  constructor(config) {
    this.#inner = new wasm.WasmTranslator(configJson(config));
    this.#fields = Object.freeze(this.#inner.fields().split(','));
    this.#names = new Set(this.#fields);
  }

  /** Every header name (lowercase) this translator may read or write. */
  fields() {
    return this.#fields;
  }

  /** The chosen context, or null. */
  extract(headers) {
    const json = this.#inner.extract(flatten(headers, this.#names));
    return json === undefined ? null : JSON.parse(json);
  }

  /** Everything read, per format: the same document as `tracebridge inspect --json`. */
  inspect(headers) {
    return JSON.parse(this.#inner.inspect(flatten(headers, this.#names)));
  }

  /** Translate `headers` in place (one wasm call); returns the report. */
  translate(headers) {
    const out = JSON.parse(this.#inner.translate(flatten(headers, this.#names)));
    for (const name of out.remove) removeHeader(headers, name);
    for (const [name, value] of out.set) setHeader(headers, name, value);
    return out.report;
  }

  /** Free the wasm memory now rather than at garbage collection. */
  free() {
    this.#inner.free();
  }
}

const defaultTranslator = new Translator();
const cache = new WeakMap();

function translatorFor(config) {
  if (config === undefined || config === null) return defaultTranslator;
  if (config instanceof Translator) return config;
  if (typeof config !== 'object') return new Translator(config);
  let t = cache.get(config);
  if (t === undefined) {
    t = new Translator(config);
    cache.set(config, t);
  }
  return t;
}

function extract(headers, config) {
  return translatorFor(config).extract(headers);
}

function inspect(headers, config) {
  return translatorFor(config).inspect(headers);
}

function translate(headers, config) {
  return translatorFor(config).translate(headers);
}

function str(v) {
  return typeof v === 'string' ? v : undefined;
}

/** Write `context` into `headers` in each of `options.formats` (default: w3c). Returns `headers`. */
function inject(context, headers, options) {
  if (context === null || typeof context !== 'object') throw argumentError('context: expected an object');
  if (headers === null || typeof headers !== 'object') {
    throw argumentError('headers: expected a plain object, a Headers or a Map');
  }
  const formats = options && options.formats !== undefined ? options.formats : ['w3c'];
  if (!Array.isArray(formats)) throw argumentError('formats: expected an array of format names');
  const sampled = context.sampled === true || context.sampled === false ? context.sampled : undefined;
  const flat = wasm.injectContext(
    formats.join(','),
    str(context.traceId),
    str(context.spanId),
    str(context.parentSpanId === null ? undefined : context.parentSpanId),
    sampled,
    context.debug === true,
    Number.isInteger(context.traceFlags) ? context.traceFlags & 0xff : 0,
    str(context.traceState === null ? undefined : context.traceState),
  );
  if (flat !== '') {
    const parts = flat.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) setHeader(headers, parts[i], parts[i + 1]);
  }
  return headers;
}

module.exports = { Translator, extract, inspect, inject, translate, FORMATS };
