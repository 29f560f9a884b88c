'use strict';
// Inject templates (internal; `index.js` and `otel.js` use it): what core writes for one shape of
// span — the formats and configuration, the flags and sampling, the ids' lengths — with the ids left
// as holes.
//
// Why: an inject through the wasm writes the ids into wasm memory, calls core and decodes the headers
// back, and that boundary alone costs more than OpenTelemetry JS's whole inject (a template string).
// What core writes for a span depends on its ids only by copying their hex digits, so once core has
// written a shape, the same headers for other ids are core's own output with other digits in the
// holes. Nothing here knows a format: the template is read off core's output for probe ids, and
// checked against core's output for two more probes before it is used. A shape whose output is not a
// copy of the digits (Datadog's decimal ids, grpc-trace-bin's base64) gets no template and every
// inject of it goes through core, as does every inject with a tracestate (its members are core's to
// merge, and most tracestates carry values of one request: a template per tracestate would cost four
// calls into core to save part of one) and every inject of ids the fast path does not admit.
//
// Admitted ids (`admits`): lowercase hex of the probed length, neither the trace id's low 64 bits nor
// the span or parent id zero. That is a subset of what core accepts, and leaves out the inputs on
// which core's writers look at an id's value: a zero id (an error) and a 64-bit width over a zero low
// half (then the full id is written). The one other such rule, a 64-bit width written only for a
// trace id whose high half is zero (ext.rs, `w:64` in our member), is part of the shape (`zeroHigh`):
// a zero high half is probed as zero digits. Anything else — uppercase, another length, a zero id —
// takes the call into core, which accepts, normalizes or refuses it exactly as before.

const HEX = '0123456789abcdef';

// Lowercase hex digits (by character code).
const HEX_DIGIT = new Uint8Array(256);
for (let i = 0; i < 16; i++) HEX_DIGIT[HEX.charCodeAt(i)] = 1;
const ZERO16 = '0000000000000000';

/**
 * Whether `id` (any value) is an admitted id of `len` (32 or 16) digits: lowercase hex, its low 16
 * digits not all zero. Four characters a step through a table: in node 20 this is ≈ 70 ns for a
 * trace and a span id, against ≈ 110 ns for two regular expressions and ≈ 95 ns for a plain loop
 * (the character reads are most of it, ≈ 1.4 ns each on the dev machine).
 */
function admits(id, len) {
  if (typeof id !== 'string' || id.length !== len) return false;
  let ok = 1;
  let all = 0;
  for (let i = 0; i < len; i += 4) {
    const a = id.charCodeAt(i);
    const b = id.charCodeAt(i + 1);
    const c = id.charCodeAt(i + 2);
    const d = id.charCodeAt(i + 3);
    all |= a | b | c | d;
    ok &= HEX_DIGIT[a & 255] & HEX_DIGIT[b & 255] & HEX_DIGIT[c & 255] & HEX_DIGIT[d & 255];
  }
  return ok === 1 && all < 256 && (id.charCodeAt(len - 1) !== 48 || !id.endsWith(ZERO16));
}

/** Whether the high half of a 32-digit trace id is zero (a 64-bit id in 128 bits): part of the shape. */
function zeroHigh(id) {
  return id.length === 32 && id.charCodeAt(0) === 48 && id.startsWith(ZERO16);
}

// Probe ids. In probes A and B position k, counted across the ids in order, holds digits a(k) and
// b(k): they differ at every position and the pair names the position (b - a is 1 + k / 16, for up
// to 64 positions). C and D check the result: other digits, and leading zeros. In a `zeroHigh` shape
// the first 16 digits of a 32-digit trace id are zero in every probe (literals of the template).
const probeA = (k) => HEX[k & 15];
const probeB = (k) => HEX[(k + 1 + (k >> 4)) & 15];
const C = 'd4e5f6071829304a5b6c7d8e9fa0b1c2a1b2c3d4e5f60718c3d4e5f607182930';
const D = '0000000000000001000000000000f00d00000000000000420000000000000007';

/** The probe ids of `lens` (digit k of them from `digit(k)`). */
function probe(lens, zero, digit) {
  const ids = [];
  let k = 0;
  for (const n of lens) {
    let id = '';
    for (let i = 0; i < n; i++, k++) id += zero && k < 16 ? '0' : digit(k);
    ids.push(id);
  }
  return ids;
}

/** The ids of `lens` cut from a fixed string of digits (each id from its own place in it). */
function fixed(lens, zero, digits) {
  const ids = [];
  let at = 0;
  for (const n of lens) {
    // A 16-digit first id (a 64-bit trace id) is the low half of the 32-digit one.
    const from = at === 0 && n === 16 ? 16 : at;
    ids.push(digits.slice(from, from + n));
    at = from + n;
  }
  if (zero) ids[0] = ZERO16 + ids[0].slice(16);
  return ids;
}

// A template value alternates literals and holes, `[literal, hole, literal, …, literal]` (literals
// may be empty). A hole is a number: id index × 4096 + start × 64 + end (digits of that id).
const hole = (src, start, end) => src * 4096 + start * 64 + end;

/** The digits hole `h` stands for. */
function cut(h, a, b, c) {
  const src = h >> 12;
  const id = src === 0 ? a : src === 1 ? b : c;
  const start = (h >> 6) & 63;
  const end = h & 63;
  return start === 0 && end === id.length ? id : id.substring(start, end);
}

/** One header value from its template `v` and the ids (at most three). */
function fill(v, a, b, c) {
  let out = v[0];
  for (let i = 1; i < v.length; i += 2) out += cut(v[i], a, b, c) + v[i + 1];
  return out;
}

/**
 * `fill` for one template value, as a function of the ids: the forms core writes (one or two holes,
 * each a whole id, trace id first; three holes, X-Ray's) as one concatenation without a loop, ≈ 15–25
 * ns less a call than `fill` in node 20; any other through `fill`.
 */
function compile(v) {
  const whole = (h, src) => h >> 12 === src && ((h >> 6) & 63) === 0 && (h & 63) === (src === 0 ? 32 : 16);
  if (v.length === 3 && whole(v[1], 0)) {
    const [l0, , l1] = v;
    return (a) => l0 + a + l1;
  }
  if (v.length === 3 && whole(v[1], 1)) {
    const [l0, , l1] = v;
    return (a, b) => l0 + b + l1;
  }
  if (v.length === 5 && whole(v[1], 0) && whole(v[3], 1)) {
    const [l0, , l1, , l2] = v;
    return (a, b) => l0 + a + l1 + b + l2;
  }
  if (v.length === 7) {
    const [l0, h1, l1, h2, l2, h3, l3] = v;
    return (a, b, c) => l0 + cut(h1, a, b, c) + l1 + cut(h2, a, b, c) + l2 + cut(h3, a, b, c) + l3;
  }
  return (a, b, c) => fill(v, a, b, c);
}

/** The template of `va` (written for probe A) against `vb` (for probe B), or null. */
function segments(va, vb, at, lens) {
  if (va.length !== vb.length) return null;
  const segs = [];
  let lit = '';
  let last = -1; // the hole just pushed, as src * 64 + end, while no literal follows it
  for (let i = 0; i < va.length; i++) {
    if (va[i] === vb[i]) {
      lit += va[i];
      last = -1;
      continue;
    }
    const k = at.get(va[i] + vb[i]);
    if (k === undefined) return null;
    let src = 0;
    let off = k;
    while (off >= lens[src]) off -= lens[src++];
    if (last === src * 64 + off) {
      segs[segs.length - 1] += 1; // the hole's end, one digit on
    } else {
      segs.push(lit, hole(src, off, off + 1));
      lit = '';
    }
    last = src * 64 + off + 1;
  }
  segs.push(lit);
  return segs;
}

/**
 * The template of a shape, or null. `lens` are the ids' lengths in the order `run` takes them, and
 * `zero` whether the trace id's high half is zero (`zeroHigh`); `run(ids)` is core's inject for
 * those ids as `{ remove: [names], set: [[name, value], …] }`, or null when core refuses them (a
 * throw counts as null: none is known, and the shape is then left to core, call by call). The
 * template is `{ remove, names, segs, fns }`: per header its template value and the `compile`d
 * filler the injects call, which is what the last two probes check against core.
 */
function derive(lens, zero, run) {
  const core = (ids) => {
    try {
      return run(ids);
    } catch {
      return null;
    }
  };
  const at = new Map();
  let total = 0;
  for (const n of lens) total += n;
  for (let k = 0; k < total; k++) at.set(probeA(k) + probeB(k), k);
  const a = core(probe(lens, zero, probeA));
  const b = core(probe(lens, zero, probeB));
  if (a === null || b === null || a.set.length !== b.set.length || !same(a.remove, b.remove)) return null;
  const names = [];
  const segs = [];
  for (let i = 0; i < a.set.length; i++) {
    if (a.set[i][0] !== b.set[i][0]) return null;
    const s = segments(a.set[i][1], b.set[i][1], at, lens);
    if (s === null) return null;
    names.push(a.set[i][0]);
    segs.push(s);
  }
  const fns = segs.map(compile);
  for (const digits of [C, D]) {
    const ids = fixed(lens, zero, digits);
    const want = core(ids);
    if (want === null || !same(want.remove, a.remove) || want.set.length !== names.length) return null;
    for (let i = 0; i < names.length; i++) {
      if (want.set[i][0] !== names[i] || want.set[i][1] !== fns[i](ids[0], ids[1], ids[2])) return null;
    }
  }
  return { remove: a.remove, names, segs, fns };
}

function same(x, y) {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

module.exports = { admits, zeroHigh, derive, fill };
