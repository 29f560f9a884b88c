'use strict';
// The `tracebridge` npm package: a thin shape converter around the wasm exports of
// node-binding/src/lib.rs. All trace logic is in Rust (core). This file finds the trace headers in a
// header object (names from core's registry), hands their values to the boundary (boundary.js), and
// builds result objects and header writes from what comes back.

const b = require('./boundary.js');
const { admits, zeroHigh, derive, ExtractTemplates } = require('./template.js');

const { wasm, tables: T, HEADERS, PREFIXES, NAMED, FORMATS } = b;
const FORMAT_INDEX = new Map(FORMATS.map((f, i) => [f, i]));

// Core's names, by the numbers the wasm writes.
const STATUS = Object.freeze(T.statuses.map((s) => Object.freeze(s)));
const OUTCOMES = T.outcomes;
const ROOT_REASONS = T.rootReasons;
const SAMPLINGS = T.samplings;
const R = Object.fromEntries(T.report.map((name, i) => [name, i]));
const STATUS_AT = T.report.length;
// The fields and strings of core's `extract` answer (ops.rs).
const EXTRACT_SIZES = [6, 4];
const N_ERRORS = T.errors.length;
const N_PLAIN_STATUSES = STATUS.length - N_ERRORS;
const [ROLE_TRACE, ROLE_SPAN, ROLE_PARENT, ROLE_STATE] = b.layout.roles;
const [ERR_TRACE, ERR_SPAN, ERR_PARENT, ERR_STATE] = b.layout.injectErrors;

function argumentError(message) {
  const err = new TypeError(message);
  err.code = 'argument_invalid';
  return err;
}

// ---- reading a header object ----------------------------------------------------------------
//
// A `Want` is the set of headers a call reads: their indices and names, membership by index, and a
// bit per name length (a key of another length cannot be one of them: most keys of a request are
// passed over without a lookup); and the prefixes of the headers read by name (baggage:
// `uberctx-{key}`, `ot-baggage-{key}`), if any. Values go to `vals`, their header index (or NAMED) to
// `ids`, and the key (in its own case) each came from to `keys`: a NAMED entry's name crosses with it,
// and writes replace every case variant without scanning the object again.

class Want {
  constructor(ids, prefixes) {
    this.ids = ids;
    this.names = ids.map((i) => HEADERS[i]);
    this.has = new Uint8Array(HEADERS.length);
    this.lengths = 0;
    this.long = false;
    for (const i of ids) {
      this.has[i] = 1;
      const n = HEADERS[i].length;
      if (n < 31) this.lengths |= 1 << n;
      else this.long = true;
    }
    this.prefixes = prefixes;
    this.named = prefixes.length > 0;
    // The first characters of the prefixes, in both cases: most keys are passed over on that alone.
    this.first = new Uint8Array(128);
    for (const p of prefixes) {
      this.first[p.charCodeAt(0)] = 1;
      this.first[p.toUpperCase().charCodeAt(0)] = 1;
    }
  }

  /** The header index of carrier key `key` when it is one of these, else -1. */
  index(key) {
    const n = key.length;
    if (n < 31 ? ((this.lengths >>> n) & 1) === 0 : !this.long) return -1;
    const i = b.headerIndex(key);
    return i >= 0 && this.has[i] === 1 ? i : -1;
  }

  /** True when carrier key `key` starts with one of the prefixes read by name, in any case. */
  prefixed(key) {
    if (this.first[key.charCodeAt(0)] !== 1) return false;
    for (let k = 0; k < this.prefixes.length; k++) if (startsWithAnyCase(key, this.prefixes[k])) return true;
    return false;
  }
}

/** `key` starts with `prefix` (lowercase), ASCII letters in any case (RFC 9110 §5.1). */
function startsWithAnyCase(key, prefix) {
  if (typeof key !== 'string' || key.length < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) {
    const c = key.charCodeAt(k);
    const p = prefix.charCodeAt(k);
    if (c !== p && (c + 0x20 !== p || p < 0x61 || p > 0x7a)) return false;
  }
  return true;
}

const OBJECT = 0;
const MAP = 1;
const HEADERS_OBJ = 2;

function kindOf(headers) {
  if (headers === null || typeof headers !== 'object') {
    throw argumentError('headers: expected a plain object, a Headers or a Map');
  }
  // Plain objects (Node's header objects, the usual carrier) by their prototype first: ≈ 7 ns less
  // than two `instanceof` walks, on every call.
  const proto = Object.getPrototypeOf(headers);
  if (proto === Object.prototype || proto === null) return OBJECT;
  if (headers instanceof Map) return MAP;
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return HEADERS_OBJ;
  return OBJECT;
}

/** One read of a carrier: values, their header indices, and the keys they were under. */
class Gathered {
  constructor() {
    this.vals = [];
    this.ids = [];
    this.keys = [];
    this.n = 0;
  }

  add(id, key, value) {
    if (typeof value === 'string') {
      this.push(id, key, value);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v !== undefined && v !== null) this.push(id, key, typeof v === 'string' ? v : String(v));
      }
    } else if (value !== undefined && value !== null) {
      this.push(id, key, String(value));
    }
  }

  push(id, key, value) {
    const n = this.n++;
    this.vals[n] = value;
    this.ids[n] = id;
    this.keys[n] = key;
  }
}

// One Gathered reused by every call; a call made while another gathers (a getter on the header object
// calling back into tracebridge) gets its own.
const scratch = new Gathered();
let gathering = false;

function gather(headers, kind, want) {
  const g = gathering ? new Gathered() : scratch;
  g.n = 0;
  gathering = true;
  try {
    if (kind === HEADERS_OBJ && !want.named) {
      const names = want.names;
      for (let k = 0; k < names.length; k++) {
        const v = headers.get(names[k]);
        if (v !== null) g.add(want.ids[k], names[k], v);
      }
    } else if (kind === HEADERS_OBJ) {
      // Names by prefix can only be found by listing them: one pass (lowercase names, lines joined
      // as `get` joins them) instead of a `get` per name as well.
      for (const [key, v] of headers) {
        const i = want.index(key);
        if (i >= 0) g.add(i, key, v);
        else if (want.prefixed(key)) g.add(NAMED, key, v);
      }
    } else if (kind === MAP) {
      for (const [key, v] of headers) {
        if (typeof key !== 'string') continue;
        const i = want.index(key);
        if (i >= 0) g.add(i, key, v);
        else if (want.named && want.prefixed(key)) g.add(NAMED, key, v);
      }
    } else {
      for (const key in headers) {
        const i = want.index(key);
        if (i >= 0) g.add(i, key, headers[key]);
        else if (want.named && want.prefixed(key)) g.add(NAMED, key, headers[key]);
      }
    }
  } finally {
    gathering = false;
  }
  return g;
}

// ---- writing a header object ------------------------------------------------------------------

function deleteKey(headers, kind, key) {
  if (kind === MAP) headers.delete(key);
  else delete headers[key];
}

/** The header name (lowercase) of what `g` read as its entry `i`. */
function gatheredName(g, i) {
  const id = g.ids[i];
  return id === NAMED ? g.keys[i].toLowerCase() : HEADERS[id];
}

/** Remove every line of header `name` (every case variant). `g`: the keys seen when reading, if read. */
function removeHeader(headers, kind, name, g) {
  if (kind === HEADERS_OBJ) {
    headers.delete(name);
    return;
  }
  if (g !== undefined) {
    for (let i = 0; i < g.n; i++) if (gatheredName(g, i) === name) deleteKey(headers, kind, g.keys[i]);
    return;
  }
  if (headers instanceof Map ? headers.has(name) : Object.prototype.hasOwnProperty.call(headers, name)) {
    deleteKey(headers, kind, name);
  }
  removeVariants(headers, kind, name);
}

/** Remove the keys of header `name` in another case than `name` itself. */
function removeVariants(headers, kind, name) {
  if (kind === MAP) {
    for (const k of headers.keys()) if (k !== name && sameName(k, name)) headers.delete(k);
  } else {
    for (const k in headers) {
      if (k !== name && sameName(k, name) && Object.prototype.hasOwnProperty.call(headers, k)) delete headers[k];
    }
  }
}

/** `key` is header `name` (lowercase) in any case; keys of another length are passed over unread. */
function sameName(key, name) {
  return typeof key === 'string' && key.length === name.length && (key === name || key.toLowerCase() === name);
}

/** Set header `name` to `value`, replacing every case variant. `g`: the keys seen when reading, if read. */
function setHeader(headers, kind, name, value, g) {
  if (kind === HEADERS_OBJ) {
    headers.set(name, value);
    return;
  }
  if (g !== undefined) {
    for (let i = 0; i < g.n; i++) {
      if (g.keys[i] !== name && gatheredName(g, i) === name) deleteKey(headers, kind, g.keys[i]);
    }
  } else {
    removeVariants(headers, kind, name);
  }
  if (kind === MAP) headers.set(name, value);
  else headers[name] = value;
}

// ---- results ------------------------------------------------------------------------------------

const maskLists = new Map();
/** The formats of a bit mask, as a frozen list (shared: there are few masks). */
function formatList(mask) {
  let list = maskLists.get(mask);
  if (list === undefined) {
    list = Object.freeze(FORMATS.filter((_, i) => (mask & (1 << i)) !== 0));
    maskLists.set(mask, list);
  }
  return list;
}

// Per combination of statuses, one frozen object (few combinations occur). A key is the status codes
// of up to PER_KEY formats as the digits of one number, exact in a double (ten formats of about a
// hundred statuses each do not fit in one); the formats after those key a Map nested in it.
let PER_KEY = 0;
for (let m = STATUS.length; m <= Number.MAX_SAFE_INTEGER; m *= STATUS.length) PER_KEY++;
const STATUS_SETS_MAX = 4096;
const statusSets = new Map();
let statusSetCount = 0;

function statuses(at) {
  let map = statusSets;
  for (let i = 0; ; i += PER_KEY) {
    const end = Math.min(i + PER_KEY, FORMATS.length);
    let key = 0;
    for (let k = i; k < end; k++) key = key * STATUS.length + int(at + k);
    const found = map.get(key);
    if (end === FORMATS.length) return found === undefined ? statusSet(at, map, key) : found;
    if (found !== undefined) {
      map = found;
    } else if (statusSetCount < STATUS_SETS_MAX) {
      const next = new Map();
      map.set(key, next);
      map = next;
    } else {
      return statusSet(at, null, 0);
    }
  }
}

/** The frozen statuses object of the last call, kept in `map` under `key` while there is room. */
function statusSet(at, map, key) {
  const o = {};
  for (let i = 0; i < FORMATS.length; i++) o[FORMATS[i]] = STATUS[int(at + i)];
  Object.freeze(o);
  if (map !== null && statusSetCount < STATUS_SETS_MAX) {
    map.set(key, o);
    statusSetCount++;
  }
  return o;
}

/** An error code as core writes it in a report (`tracestate_error`): `{status, error, code}`, or null. */
function errorStatus(code) {
  return code < 0 ? null : STATUS[N_PLAIN_STATUSES + code];
}

// The answer `translate` reads: the boundary's (`tpl` null), or a template's with the ids of its
// `find` (template.js).
let tpl = null;
let tplIds = null;

function int(i) {
  return tpl === null ? b.int(i) : tpl.ints[i];
}

function str(slot, vals) {
  return tpl === null ? b.str(slot, vals) : tpl.outs[slot](tplIds.a, tplIds.b, tplIds.c);
}

/** The report of the last `translate` call. */
function report(vals) {
  const root = int(R.rootReason);
  const source = int(R.source);
  const sampling = int(R.sampling);
  return {
    outcome: OUTCOMES[int(R.outcome)],
    rootReason: root < 0 ? null : ROOT_REASONS[root],
    source: source < 0 ? null : FORMATS[source],
    traceId: str(0, vals),
    spanId: str(1, vals),
    sampling: sampling < 0 ? null : SAMPLINGS[sampling],
    formats: statuses(STATUS_AT),
    injected: formatList(int(R.injected)),
    removed: formatList(int(R.removed)),
    tracestateDropped: int(R.tracestateDropped),
    memberFieldsLost: int(R.memberFieldsLost),
    traceIdTruncated: int(R.traceIdTruncated) === 1,
    tracestateError: errorStatus(int(R.tracestateError)),
    baggageDropped: int(R.baggageDropped),
    baggageError: errorStatus(int(R.baggageError)),
  };
}

// `inspect` is core's JSON document (the CLI's `inspect --json`) with camelCase keys, as every other
// object of this API; inside a context, `tracestate` is `traceState` as in `extract` and `inject`.
function camel(key) {
  return key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

function camelKeys(value, inContext) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const name = inContext && k === 'tracestate' ? 'traceState' : camel(k);
    out[name] = camelKeys(v, k === 'context');
  }
  return out;
}

function configJson(config) {
  if (config === undefined || config === null) return '{}';
  if (typeof config === 'string') return config;
  if (typeof config === 'object') return JSON.stringify(config);
  const err = new TypeError('config: expected an object or a JSON string');
  err.code = 'config_invalid';
  throw err;
}

/**
 * The last `translate` answer (`tpl` null: the boundary's; else that template's) but the values
 * written: `{ report, removeAt, names, named }` (`named`: name, value or null, … for baggage).
 */
function decode(vals) {
  const nRemove = int(R.removals);
  const nSet = int(R.writes);
  const nNamed = int(R.named);
  const at = STATUS_AT + FORMATS.length;
  const removeAt = [];
  for (let i = 0; i < nRemove; i++) removeAt.push(HEADERS[int(at + i)]);
  const names = [];
  for (let i = 0; i < nSet; i++) names.push(HEADERS[int(at + nRemove + i)]);
  // Headers by name (baggage, e.g. `uberctx-{key}`): removals, then writes, as core plans them.
  let named = null;
  if (nNamed > 0) {
    named = [];
    for (let k = 0; k < nNamed; k++) named.push(b.namedName(k), b.namedValue(k));
  }
  return { report: report(vals), removeAt, names, named };
}

/** `templates.learn` after a call that found no template: learning is an optimization, never an error. */
function learnQuietly(templates, vals, ids, n) {
  try {
    templates.learn(vals, ids, n, 1);
  } catch {
    // The answer already read stands.
  }
}

/** The translation policy, built once from the configuration shared with core and the Envoy filter. */
class Translator {
  #w;
  #fields;
  #all;
  #reads;
  #idle;
  #shapes; // extract templates (template.js)
  #extract; // core's `extract` through the boundary: (vals, ids, n) => result (reads no header by name)
  #translations; // translate templates (template.js)

  constructor(config) {
    this.#w = new wasm.WasmTranslator(configJson(config));
    // What translate reads (every header it may touch, baggage included), what extract and inspect
    // read (no baggage: core's inspect reads none).
    const prefixes = Array.from(this.#w.prefixes(), (i) => PREFIXES[i]);
    this.#all = new Want(Array.from(this.#w.touches()), prefixes);
    this.#reads = new Want(Array.from(this.#w.reads()), []);
    this.#fields = Object.freeze(Array.from(this.#w.fields(), (i) => HEADERS[i]));
    const w = this.#w;
    this.#extract = b.caller((n) => w.extract(n));
    this.#shapes = new ExtractTemplates(
      this.#extract,
      () => EXTRACT_SIZES,
      [0, 1, 2],
      () => b.int(5) !== 0,
    );
    this.#translations = new ExtractTemplates(
      b.caller((n) => w.translate(n)),
      () =>
        b.int(R.named) !== 0
          ? null
          : [STATUS_AT + FORMATS.length + b.int(R.removals) + b.int(R.writes), 2 + b.int(R.writes)],
      [0, 1],
      () => b.int(R.memberReadsIds) !== 0,
      this.#reads.has,
    );
    b.fresh();
    // When no trace header at all leaves the headers untouched, that report is known: skip the call.
    const none = new Map();
    const report = this.translate(none);
    this.#idle = none.size === 0 ? report : null;
  }

  /** Every trace header name (lowercase) this translator may read or write (core's `fields`: baggage headers are not listed). */
  fields() {
    return this.#fields;
  }

  /** The chosen context, or null. */
  extract(headers) {
    const g = gather(headers, kindOf(headers), this.#reads);
    const n = g.n;
    if (n === 0) return null;
    const vals = g.vals;
    // Core's answer for this shape with these ids (template.js), when it has one.
    const shapes = this.#shapes;
    const t = shapes.find(vals, g.ids, n);
    if (t !== null) {
      const { a, b: span, c } = shapes;
      const { ints, outs } = t;
      return {
        traceId: outs[0](a, span, c),
        spanId: outs[1](a, span, c),
        parentSpanId: outs[2](a, span, c),
        sampled: ints[1] < 0 ? null : ints[1] === 1,
        debug: ints[2] === 1,
        traceFlags: ints[0],
        traceState: outs[3](a, span, c),
        source: FORMATS[ints[3]],
      };
    }
    const r = this.#extract(vals, g.ids, n);
    if (r !== 1) {
      if (r === 0) return null;
      throw b.internalError(r);
    }
    const sampled = b.int(1);
    const out = {
      traceId: b.str(0, vals),
      spanId: b.str(1, vals),
      parentSpanId: b.str(2, vals),
      sampled: sampled < 0 ? null : sampled === 1,
      debug: b.int(2) === 1,
      traceFlags: b.int(0),
      traceState: b.str(3, vals),
      source: FORMATS[b.int(3)],
    };
    learnQuietly(shapes, vals, g.ids, n);
    return out;
  }

  /** Everything read, per format: core's `inspect --json` document with camelCase keys. */
  inspect(headers) {
    return camelKeys(JSON.parse(this.inspectJson(headers)), false);
  }

  /** Exactly `tracebridge inspect --json`'s document (snake_case), as a JSON string. */
  inspectJson(headers) {
    const g = gather(headers, kindOf(headers), this.#reads);
    if (g.n > 0) b.put(g.vals, g.ids, g.n, g.keys);
    const json = this.#w.inspect(g.n);
    b.fresh();
    return json;
  }

  /** Translate `headers` in place (one wasm call); returns the report. */
  translate(headers) {
    const kind = kindOf(headers);
    const g = gather(headers, kind, this.#all);
    const n = g.n;
    if (n === 0 && this.#idle !== undefined && this.#idle !== null) return { ...this.#idle };
    const vals = g.vals;
    // Core's answer for this shape with these ids (template.js), when it has one: its report and
    // writes decoded once (`memo`), the ids and the values filled in per call.
    const translations = this.#translations;
    const t = n > 0 ? translations.find(vals, g.ids, n) : null;
    let p;
    let out;
    let set0 = null;
    let set1 = null;
    let sets = null;
    if (t !== null) {
      p = t.memo;
      if (p === undefined) {
        tpl = t;
        tplIds = translations;
        try {
          p = t.memo = decode(vals);
        } finally {
          tpl = null;
        }
      }
      const { a, b: span, c } = translations;
      const outs = t.outs;
      out = { ...p.report };
      out.traceId = outs[0](a, span, c);
      out.spanId = outs[1](a, span, c);
      for (let i = 0; i < p.names.length; i++) {
        const value = outs[2 + i](a, span, c);
        if (i === 0) set0 = value;
        else if (i === 1) set1 = value;
        else (sets ??= []).push(value);
      }
    } else {
      if (n > 0) b.put(vals, g.ids, n, g.keys);
      const r = b.done(this.#w.translate(n));
      if (r !== 1) throw b.internalError(r);
      // The strings first: the writes below may run user code (a Map subclass, a Headers guard).
      p = decode(vals);
      out = p.report;
      for (let i = 0; i < p.names.length; i++) {
        const value = b.str(2 + i, vals);
        if (i === 0) set0 = value;
        else if (i === 1) set1 = value;
        else (sets ??= []).push(value);
      }
      if (n > 0) learnQuietly(translations, vals, g.ids, n);
    }
    const { removeAt, names, named } = p;
    const nRemove = removeAt.length;
    const nSet = names.length;
    const nNamed = named === null ? 0 : named.length / 2;
    const keys = kind === HEADERS_OBJ ? undefined : g;
    // `g` may be the shared scratch: keep it ours while writing (a write may run user code).
    const held = g === scratch && !gathering;
    if (held) gathering = true;
    try {
      for (let i = 0; i < nRemove; i++) removeHeader(headers, kind, removeAt[i], keys);
      for (let k = 0; k < 2 * nNamed; k += 2) if (named[k + 1] === null) removeHeader(headers, kind, named[k], keys);
      for (let i = 0; i < nSet; i++) {
        setHeader(headers, kind, names[i], i === 0 ? set0 : i === 1 ? set1 : sets[i - 2], keys);
      }
      for (let k = 0; k < 2 * nNamed; k += 2) if (named[k + 1] !== null) setHeader(headers, kind, named[k], named[k + 1], keys);
    } finally {
      if (held) gathering = false;
    }
    return out;
  }

  /** The wasm half (otel.js). */
  [b.WASM]() {
    return this.#w;
  }

  /** Free the wasm memory now rather than at garbage collection. */
  free() {
    this.#w.free();
    b.fresh();
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

const W3C_ONLY = 1 + FORMAT_INDEX.get('w3c');
// 4 bits a format, eight in a word; the wasm takes two words (ops.rs `unpack_formats`).
const PACKED_FORMATS = b.layout.packedFormats;
const PER_WORD = 8;
// The high word of the last packFormats (two numbers without an array per call).
let packedHi = 0;

/**
 * Formats as the wasm takes them: 1 + index per 4 bits, first format lowest, formats 0..8 in the low
 * word (returned) and 8..16 in the high word (left in `packedHi`).
 */
function packFormats(formats) {
  packedHi = 0;
  if (formats === undefined) return W3C_ONLY;
  // The list a caller passes each time (an options object kept for its calls): checked name by name
  // against the copy packed last, which costs less than looking each name up again.
  if (formats === lastFormats.list && sameNames(formats, lastFormats.copy)) {
    packedHi = lastFormats.hi;
    return lastFormats.lo;
  }
  const lo = packNew(formats);
  lastFormats = { list: formats, copy: formats.slice(), lo, hi: packedHi };
  return lo;
}

let lastFormats = { list: null, copy: [], lo: 0, hi: 0 };

function sameNames(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function packNew(formats) {
  if (!Array.isArray(formats) || formats.length > PACKED_FORMATS) {
    throw argumentError(`formats: expected an array of at most ${PACKED_FORMATS} format names`);
  }
  let lo = 0;
  let hi = 0;
  for (let i = formats.length - 1; i >= 0; i--) {
    const f = FORMAT_INDEX.get(formats[i]);
    if (f === undefined) {
      throw argumentError(`formats: unknown format \`${formats[i]}\`, expected one of ${FORMATS.join(', ')}`);
    }
    if (i >= PER_WORD) hi = hi * 16 + f + 1;
    else lo = lo * 16 + f + 1;
  }
  packedHi = hi;
  return lo;
}

function injectError(r) {
  switch (r) {
    case ERR_TRACE:
      return argumentError('traceId: must be 32 (or 16) lowercase hex digits, not all zero');
    case ERR_SPAN:
      return argumentError('spanId: must be 16 lowercase hex digits, not all zero');
    case ERR_PARENT:
      return argumentError('parentSpanId: must be 16 lowercase hex digits, not all zero');
    default: {
      const e = ERR_STATE - r;
      if (e < 0 || e >= N_ERRORS) return b.internalError(r);
      const [code, message] = T.errors[e];
      const err = new Error(message);
      err.code = code;
      return err;
    }
  }
}

// Templates of the shapes `inject` has written (template.js), by shape; emptied when full (a shape
// includes the caller's list of formats, which a caller could vary without end).
const templates = new Map();
const TEMPLATES_MAX = 4096;

/** Write `context` into `headers` in each of `options.formats` (default: w3c). Returns `headers`. */
function inject(context, headers, options) {
  if (context === null || typeof context !== 'object') throw argumentError('context: expected an object');
  const kind = kindOf(headers);
  const packed = packFormats(options === undefined || options === null ? undefined : options.formats);
  const packedHigh = packedHi; // before any getter of `context` (user code) can pack again
  // Each property read once (a getter is user code).
  const traceId = context.traceId;
  const spanId = context.spanId;
  const parentSpanId = context.parentSpanId;
  const traceState = context.traceState;
  const sampled = context.sampled === true ? 1 : context.sampled === false ? 0 : -1;
  const debug = context.debug === true;
  const flags = Number.isInteger(context.traceFlags) ? context.traceFlags & 0xff : 0;
  const hasParent = typeof parentSpanId === 'string';
  // Core's output for this shape with these ids filled in (template.js), when it has one.
  const narrow = typeof traceId === 'string' && traceId.length === 16;
  if (
    packedHigh === 0 &&
    typeof traceState !== 'string' &&
    (narrow ? admits(traceId, 16) : admits(traceId, 32)) &&
    admits(spanId, 16) &&
    (!hasParent || admits(parentSpanId, 16))
  ) {
    const zero = zeroHigh(traceId);
    // Everything but the ids in one number (below 2^46: exact).
    const shape = (((flags * 3 + sampled + 1) * 2 + (debug ? 1 : 0)) * 3 + (narrow ? 2 : zero ? 1 : 0)) * 2;
    const key = packed * 16384 + shape + (hasParent ? 1 : 0);
    let t = templates.get(key);
    if (t === undefined) {
      const lens = hasParent ? [narrow ? 16 : 32, 16, 16] : [narrow ? 16 : 32, 16];
      t = derive(lens, zero, (ids) => coreInject(packed, 0, ids[0], ids[1], ids[2], undefined, sampled, debug, flags));
      if (templates.size >= TEMPLATES_MAX) templates.clear();
      templates.set(key, t);
    }
    if (t !== null) {
      const { remove, names, fns } = t;
      if (kind !== OBJECT) {
        for (let i = 0; i < remove.length; i++) removeHeader(headers, kind, remove[i]);
        for (let i = 0; i < names.length; i++) setHeader(headers, kind, names[i], fns[i](traceId, spanId, parentSpanId));
        return headers;
      }
      // What `removeHeader` and `setHeader` do name by name, in one pass over the object's keys: a
      // key that is a removed name in any case goes, and so does a case variant of a written name
      // (W3C removes a stale `tracestate` and writes `traceparent`, B3 multi writes three). The names
      // are distinct lowercase header names, so deleting first and assigning after leaves what the
      // calls one by one leave.
      for (const k in headers) {
        if (!Object.prototype.hasOwnProperty.call(headers, k)) continue;
        let drop = false;
        for (let i = 0; i < remove.length && !drop; i++) drop = sameName(k, remove[i]);
        for (let i = 0; i < names.length && !drop; i++) drop = k !== names[i] && sameName(k, names[i]);
        if (drop) delete headers[k];
      }
      for (let i = 0; i < names.length; i++) headers[names[i]] = fns[i](traceId, spanId, parentSpanId);
      return headers;
    }
  }
  const out = coreInject(packed, packedHigh, traceId, spanId, parentSpanId, traceState, sampled, debug, flags);
  for (let i = 0; i < out.remove.length; i++) removeHeader(headers, kind, out.remove[i]);
  for (const [name, value] of out.set) setHeader(headers, kind, name, value);
  return headers;
}

/** Core's inject of one context: `{ remove: [names], set: [[name, value], …] }`; throws core's error. */
function coreInject(packed, packedHigh, traceId, spanId, parentSpanId, traceState, sampled, debug, flags) {
  const vals = [];
  const ids = [];
  if (typeof traceId === 'string') vals.push(traceId), ids.push(ROLE_TRACE);
  if (typeof spanId === 'string') vals.push(spanId), ids.push(ROLE_SPAN);
  if (typeof parentSpanId === 'string') vals.push(parentSpanId), ids.push(ROLE_PARENT);
  if (typeof traceState === 'string') vals.push(traceState), ids.push(ROLE_STATE);
  b.put(vals, ids, vals.length);
  const r = b.done(wasm.inject(packed, packedHigh, sampled, debug, flags, vals.length));
  if (r < 0) throw injectError(r);
  const nRemove = b.int(0);
  const remove = [];
  for (let i = 0; i < nRemove; i++) remove.push(HEADERS[b.int(2 + i)]);
  const set = [];
  for (let i = 0, at = 2 + nRemove; i < r; i++) set.push([HEADERS[b.int(at + i)], b.str(i, vals)]);
  return { remove, set };
}

module.exports = { Translator, extract, inspect, inject, translate, FORMATS };
