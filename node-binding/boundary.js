'use strict';
// The JS half of the boundary described in src/lib.rs (internal; `index.js` and `otel.js` use it).
// It moves bytes and builds strings, nothing else: which header a value is comes from core's
// registry (`tables()`), what it means is core's business.
//
// In:  `put(values, ids, n, names)` writes n strings into the input area and one entry per string,
//      `[header or role, start, len, flags]`; an entry whose id is NAMED (a baggage header such as
//      `uberctx-{key}`, not in the header list) has its name, `names[i]`, written right before it.
// Out: `int(i)` reads op field i; `str(slot, values)` is string `slot`: a substring of one of
//      `values`, a literal decoded once, or raw bytes (a call's raw bytes are decoded at once);
//      `namedName(k)`/`namedValue(k)` are the k-th header handed back by name (raw).

const wasm = require('./pkg/tracebridge_node.js');

const T = JSON.parse(wasm.tables());
const L = T.layout;
const memory = wasm.wasmMemory();

// Buffer's latin1Slice/utf8Write are what Buffer#toString/#write call; use them directly when
// present (they are on every Node this package supports), the documented methods otherwise.
const B = Buffer.prototype;
const hasFast = typeof B.latin1Slice === 'function' && typeof B.utf8Write === 'function';

let buf; // Buffer over the whole wasm memory
let u8;
let i32;
let IN; // input area: byte address
let IN_CAP;
let ENT; // entries: i32 index
let ENT_CAP;
let INTS; // output ints: i32 index
let BYTES; // output bytes: byte address

function views(layout) {
  buf = Buffer.from(memory.buffer);
  u8 = new Uint8Array(memory.buffer);
  i32 = new Int32Array(memory.buffer);
  IN = layout[0];
  IN_CAP = layout[1];
  ENT = layout[2] >> 2;
  ENT_CAP = layout[3];
  INTS = layout[4] >> 2;
  BYTES = layout[5];
}
views(wasm.layout());

// A wasm allocation that grows the memory detaches the old ArrayBuffer: its views read as empty.
function fresh() {
  if (u8.length === 0) views(wasm.layout());
}

const latin1 = hasFast ? (a, b) => buf.latin1Slice(a, b) : (a, b) => buf.toString('latin1', a, b);
const utf8Write = hasFast ? (s, at) => buf.utf8Write(s, at) : (s, at) => buf.write(s, at);

// Below this many characters, a charCodeAt loop beats a native write (the native call costs
// ≈ 65 ns, the loop ≈ 3 ns a character on the dev machine). Several values without names are
// joined and written in one native call (`putJoined`): in callgrind's count one write is ≈ 700
// instructions of node 20, and flattening the joined string costs less than a second write.
const SHORT = 20;

const NAMED = L.namedEntry;
const NAME_SHIFT = L.nameShift;

/** Write string `v` at byte `p` (exact UTF-8); returns the end. */
function write(v, p) {
  if (v.length >= SHORT) return p + utf8Write(v, p);
  const start = p;
  let all = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    all |= c;
    u8[p++] = c;
  }
  return all > 0x7f ? start + utf8Write(v, start) : p;
}

/**
 * Write `values[0..n)` (strings) into the input area, entry i naming `ids[i]` (a header index or
 * a role, or NAMED: then `names[i]` is written before the value and its length goes in the flags).
 * Non-ASCII strings are written as their exact UTF-8 bytes (core rejects them) and flagged so that no
 * string handed back is cut from them.
 */
function put(values, ids, n, names) {
  fresh();
  let total = 0;
  let named = false;
  for (let i = 0; i < n; i++) {
    total += values[i].length;
    if (ids[i] === NAMED) {
      total += names[i].length;
      named = true;
    }
  }
  if (total * 3 > IN_CAP || n > ENT_CAP) {
    views(wasm.reserve(total * 3, n));
  }
  if (n > 1 && !named && putJoined(values, ids, n, total)) return;
  let p = IN;
  for (let i = 0, e = ENT; i < n; i++, e += 4) {
    const v = values[i];
    let flags = 0;
    if (ids[i] === NAMED) {
      const from = p;
      p = write(names[i], p);
      flags = (p - from) << NAME_SHIFT;
    }
    const start = p;
    if (v.length < SHORT) {
      let all = 0;
      for (let k = 0; k < v.length; k++) {
        const c = v.charCodeAt(k);
        all |= c;
        u8[p++] = c;
      }
      if (all > 0x7f) p = start + utf8Write(v, start);
    } else {
      p += utf8Write(v, start);
    }
    if (p - start !== v.length) flags |= L.notAscii;
    i32[e] = ids[i];
    i32[e + 1] = start - IN;
    i32[e + 2] = p - start;
    i32[e + 3] = flags;
  }
}

/**
 * `put` for several values and no names, in one native write of the values joined: the write is
 * most of what a value costs (≈ 700 instructions in node 20, about what 25 characters cost through
 * the `charCodeAt` loop), and joining two to a few header values copies less than a write per value
 * does. False when some value is not ASCII (the bytes written are more than the characters): its
 * offsets would not be character offsets, and `put` writes value by value instead.
 */
function putJoined(values, ids, n, total) {
  let joined = values[0];
  for (let i = 1; i < n; i++) joined += values[i];
  if (utf8Write(joined, IN) !== total) return false;
  for (let i = 0, e = ENT, at = 0; i < n; i++, e += 4) {
    const len = values[i].length;
    i32[e] = ids[i];
    i32[e + 1] = at;
    i32[e + 2] = len;
    i32[e + 3] = 0;
    at += len;
  }
  return true;
}

// The JS copy of core's literal table.
const lits = new Array(L.litSlots).fill('');
// The raw bytes of the last call, decoded once when a string needs them.
let raw = null;

/** After every call: the result, with the literal table brought up to date. */
function done(result) {
  fresh();
  raw = null;
  const n = i32[INTS + L.litCount];
  for (let k = 0, at = INTS + L.lits; k < n; k++, at += 3) {
    const a = BYTES + i32[at + 1];
    lits[i32[at]] = latin1(a, a + i32[at + 2]);
  }
  return result;
}

/** `(vals, ids, n) => result` of wasm op `op(n)` on those values: `put`, the call, `done`. */
function caller(op) {
  return (vals, ids, n) => {
    put(vals, ids, n);
    return done(op(n));
  };
}

/** Op field `i` of the last call. */
function int(i) {
  return i32[INTS + L.fields + i];
}

/** String `slot` of the last call (null when absent); `values` are the strings given to `put`. */
function str(slot, values) {
  const at = INTS + L.strings + 3 * slot;
  const kind = i32[at];
  if (kind >= 0) {
    const v = values[kind];
    const a = i32[at + 1];
    const len = i32[at + 2];
    return a === 0 && len === v.length ? v : v.substring(a, a + len);
  }
  if (kind === L.lit) return lits[i32[at + 1]];
  if (kind === L.null) return null;
  if (raw === null) raw = latin1(BYTES, BYTES + i32[INTS + L.rawEnd]);
  const a = i32[at + 1];
  return raw.substring(a, a + i32[at + 2]);
}

/**
 * Where string `slot` of the last call came from, into `at` (three numbers): the index of the value
 * given to `put` it is a substring of (negative when it is not one: a literal, raw bytes, null), and
 * its start and length in that value.
 */
function source(slot, at) {
  const p = INTS + L.strings + 3 * slot;
  at[0] = i32[p];
  at[1] = i32[p + 1];
  at[2] = i32[p + 2];
}

/** The name of the k-th header the last call handed back by name. */
function namedName(k) {
  const at = INTS + L.named + 3 * k;
  if (raw === null) raw = latin1(BYTES, BYTES + i32[INTS + L.rawEnd]);
  const a = i32[at];
  return raw.substring(a, a + i32[at + 1]);
}

/** Its value, or null: remove it. */
function namedValue(k) {
  const at = INTS + L.named + 3 * k;
  const len = i32[at + 2];
  if (len < 0) return null;
  if (raw === null) raw = latin1(BYTES, BYTES + i32[INTS + L.rawEnd]);
  const a = i32[at] + i32[at + 1];
  return raw.substring(a, a + len);
}

/** An error for a failed call (cannot happen within core's limits; named rather than hidden). */
function internalError(result) {
  const err = new Error(`tracebridge: internal error ${result} at the WebAssembly boundary`);
  err.code = 'internal_error';
  return err;
}

/**
 * `s` as the engine's own copy of a property name: in V8 the internalized string, which a property
 * access with it finds without a lookup. `JSON.parse` leaves strings longer than a few characters
 * uninternalized, and `carrier[name] = value` with one of those looked the name up in the string
 * table on every call: ≈ 15 ns a header in node 20, against a string literal's ≈ 0.
 */
const internalized = (s) => Object.keys({ [s]: 0 })[0];

const HEADERS = Object.freeze(T.headers.map(internalized));
const PREFIXES = Object.freeze(T.prefixes.map(internalized));
const FORMATS = Object.freeze(T.formats.map(internalized));
const HEADER_INDEX = new Map(HEADERS.map((h, i) => [h, i]));

// Carrier keys (any case) → header index, or -1; filled on demand, bounded (keys come from requests).
const KEY_INDEX = new Map(HEADER_INDEX);
const KEY_INDEX_MAX = 4096;

/** The header index of a carrier key in any case, or -1. */
function headerIndex(key) {
  let i = KEY_INDEX.get(key);
  if (i === undefined) {
    i = HEADER_INDEX.get(key.toLowerCase());
    if (i === undefined) i = -1;
    if (KEY_INDEX.size < KEY_INDEX_MAX) KEY_INDEX.set(key, i);
  }
  return i;
}

// The JS Translator's wasm half, for otel.js (not part of the public API).
const WASM = Symbol('tracebridge.wasm');

module.exports = {
  WASM,
  wasm,
  tables: T,
  layout: L,
  put,
  done,
  caller,
  fresh,
  int,
  str,
  source,
  namedName,
  namedValue,
  internalError,
  headerIndex,
  HEADERS,
  HEADER_INDEX,
  PREFIXES,
  NAMED,
  FORMATS,
};
