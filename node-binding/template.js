'use strict';
// Templates of core's answers (internal; `index.js` and `otel.js` use them), with the ids as holes:
// inject templates (what core writes for one shape of span) here, extract templates (what core
// answers for one shape of incoming headers: `ExtractTemplates`, below) after them.
//
// Inject templates: what core writes for one shape of span — the formats and configuration, the
// flags and sampling, the ids' lengths — with the ids left as holes.
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
 * digits not all zero.
 */
function admits(id, len) {
  return typeof id === 'string' && id.length === len && admitsAt(id, 0, len);
}

/**
 * Whether the `len` (32 or 16) characters of string `v` from `at` are an admitted id. Four characters
 * a step through a table: in node 20 this is ≈ 70 ns for a trace and a span id, against ≈ 110 ns for
 * two regular expressions and ≈ 95 ns for a plain loop (the character reads are most of it, ≈ 1.4 ns
 * each on the dev machine).
 */
function admitsAt(v, at, len) {
  let ok = 1;
  let all = 0;
  const end = at + len;
  for (let i = at; i < end; i += 4) {
    const a = v.charCodeAt(i);
    const b = v.charCodeAt(i + 1);
    const c = v.charCodeAt(i + 2);
    const d = v.charCodeAt(i + 3);
    all |= a | b | c | d;
    ok &= HEX_DIGIT[a & 255] & HEX_DIGIT[b & 255] & HEX_DIGIT[c & 255] & HEX_DIGIT[d & 255];
  }
  return ok === 1 && all < 256 && (v.charCodeAt(end - 1) !== 48 || !v.startsWith(ZERO16, end - 16));
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
/** Which id hole `h` cuts (0, 1, 2), and where: the reverse of `hole`. */
const holeSrc = (h) => h >> 12;
const holeStart = (h) => (h >> 6) & 63;
const holeEnd = (h) => h & 63;

/** The digits hole `h` stands for. */
function cut(h, a, b, c) {
  const src = holeSrc(h);
  const id = src === 0 ? a : src === 1 ? b : c;
  const start = holeStart(h);
  const end = holeEnd(h);
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
  const whole = (h, src) => holeSrc(h) === src && holeStart(h) === 0 && holeEnd(h) === (src === 0 ? 32 : 16);
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
  if (v.length === 7 && holeSrc(v[1]) === 0 && holeSrc(v[3]) === 0 && whole(v[5], 1)) {
    // X-Ray's: the trace id in two parts, then the span id; the cuts as constants, not through
    // `cut` (≈ 5 % of an X-Ray inject through the adapter, bench.mjs's case against OpenTelemetry's).
    const [l0, h1, l1, h2, l2, , l3] = v;
    const [s1, e1, s2, e2] = [holeStart(h1), holeEnd(h1), holeStart(h2), holeEnd(h2)];
    return (a, b) => l0 + a.substring(s1, e1) + l1 + a.substring(s2, e2) + l2 + b + l3;
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
  const answer = (ids) => {
    let r;
    try {
      r = run(ids);
    } catch {
      return null;
    }
    if (r === null) return null;
    const names = r.set.map(([name]) => name);
    return { key: JSON.stringify([r.remove, names]), strs: r.set.map(([, v]) => v), r };
  };
  const t = readOff(lens, zero, answer, null);
  if (t === null) return null;
  const { remove, set } = t.first.r;
  return { remove, names: set.map(([name]) => name), segs: t.segs, fns: t.outs };
}

/**
 * What `derive` and `ExtractTemplates` share. `answer(ids)` is core's answer for ids of `lens` as
 * `{ key, strs }` — `key` a string of all in it that must not change with the ids, `strs` its
 * strings (null: none) that copy their digits — or null. Probes A and B give a template per string,
 * checked against core's answers for probes C and D, and for `known` (`{ ids, got }`: an answer
 * already had) when given. The result is `{ first, segs, outs, whole }`, or null: A's answer, and
 * per string its template value (null for none), the `compile`d filler the calls use (which is what
 * the checks compare with core) and the string itself when it has no hole (null when always none,
 * undefined when it has holes).
 */
function readOff(lens, zero, answer, known) {
  const a = answer(probe(lens, zero, probeA));
  const b = answer(probe(lens, zero, probeB));
  if (a === null || b === null || a.key !== b.key || a.strs.length !== b.strs.length) return null;
  const at = positions(lens);
  const segs = [];
  const outs = [];
  const whole = [];
  for (let s = 0; s < a.strs.length; s++) {
    const x = a.strs[s];
    const y = b.strs[s];
    if (x === null || y === null) {
      if (x !== y) return null;
      segs.push(null);
      outs.push(NULL_OUT);
      whole.push(null);
      continue;
    }
    const v = segments(x, y, at, lens);
    if (v === null) return null;
    segs.push(v);
    outs.push(v.length === 1 ? () => x : compile(v));
    whole.push(v.length === 1 ? x : undefined);
  }
  const check = (ids, got) =>
    got !== null &&
    got.key === a.key &&
    got.strs.length === outs.length &&
    outs.every((f, s) => f(ids[0], ids[1], ids[2]) === got.strs[s]);
  if (known !== null && !check(known.ids, known.got)) return null;
  for (const digits of [C, D]) {
    const ids = fixed(lens, zero, digits);
    if (!check(ids, answer(ids))) return null;
  }
  return { first: a, segs, outs, whole };
}

const NULL_OUT = () => null;

/** Probe digit pairs (A's digit, B's digit) → their position across the ids of `lens`. */
function positions(lens) {
  const at = new Map();
  let total = 0;
  for (const n of lens) total += n;
  for (let k = 0; k < total; k++) at.set(probeA(k) + probeB(k), k);
  return at;
}

function same(x, y) {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}


// ---- extract templates ------------------------------------------------------------------------
//
// What core answers for one shape of incoming trace headers — which headers, in which order, each
// value's length and every character of it but the ids' digits — with the ids as holes.
//
// Why: the call into core for an extract (the values written into wasm memory, the call, the answer
// read back) costs more than OpenTelemetry JS's whole W3C or B3 multi extract. Core answers the same
// for two requests that differ only in the ids' digits, up to copying those digits, with the
// exceptions named below. The holes are where core's own answer says the ids came from (the boundary
// hands ids back as substrings of the values given, `source`; else the first place they are in);
// the answer with other ids is read off core's answers for probes A and B in the holes, and checked
// against core's answers for probes C and D and for the request it was learned from before it is
// used. Nothing here knows a format. `translate` answers the same way (its report and its writes).
//
// No template (every call goes to core): ids that are not a substring of what came in (X-Ray's split
// trace id, a 16-digit id widened, Datadog's decimal ids, grpc-trace-bin's base64); headers of more
// than one format (core compares their ids); a tracestate with a member whose reading compares ids
// (`member_reads_ids` in ops.rs); a header read by name (baggage); an answer that writes headers by
// name; holes whose digits `admitsAt` does not admit (zero, uppercase).
// A template matches only a request whose every character outside the holes is the same, so a
// tracestate is part of it as it came: where the tracestate changes per request, no template matches
// and the extract costs what it did, plus a bounded share of attempts to learn one (`learn`).

const HOLE_LENS = [32, 16, 16]; // trace id, span id, parent span id
const SHAPES_MAX = 8; // templates per call site
const ATTEMPTS_FREE = 8; // then one attempt per `step` calls without a template:
const MISS_STEP = 64; // at first, doubled (up to STEP_MAX) while the templates learned go unused
const STEP_MAX = 4096;

let boundary = null; // boundary.js, loaded on first use (the inject tests use this file without it)
let formatOf = null; // header index → the one format that reads it, or -1

/** Whether the headers `ids[0..n)` that are context reads (`reads[id]` is 1; every one when null) are of one format. */
function oneFormat(ids, n, reads) {
  if (formatOf === null) {
    formatOf = new Int8Array(boundary.HEADERS.length).fill(-1);
    boundary.tables.formatHeaders.forEach((hs, f) => {
      for (const h of hs) formatOf[h] = formatOf[h] === -1 ? f : -2;
    });
  }
  let f = -1;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (reads !== null && reads[id] !== 1) continue;
    const g = id >= 0 && id < formatOf.length ? formatOf[id] : -2;
    if (g < 0 || (f >= 0 && g !== f)) return false;
    f = g;
  }
  return f >= 0;
}

/**
 * The templates of one call site of one core op that reads incoming headers (`remote`, `extract`,
 * `translate`): `find` before the call, `learn` after a call that found none. `call(vals, ids, n)` is
 * the op through the boundary; `sizes()`, after it, how many fields and strings its answer has
 * (`[nInts, nStrs]`), or null when the answer has parts a template does not keep (headers by name);
 * `idSlots` are the strings that are the ids (trace, span, and parent when there is one), and
 * `readsIds()`, after it, is core's `member_reads_ids` of the answer. `reads` (by header index;
 * null: all) are the headers the op reads a context from: `translate` also takes the headers it may
 * replace or remove, which core does not compare with anything (that, too, the probes check).
 */
class ExtractTemplates {
  #call;
  #sizes;
  #idSlots;
  #readsIds;
  #reads;
  #list = [];
  #attempts = 0;
  #misses = 0;
  #step = MISS_STEP;
  #last = 0; // `#misses` at the last attempt

  constructor(call, sizes, idSlots, readsIds, reads = null) {
    boundary ??= require('./boundary.js');
    this.#call = call;
    this.#sizes = sizes;
    this.#idSlots = idSlots;
    this.#readsIds = readsIds;
    this.#reads = reads;
    // The ids of the last `find` that matched (strings; `c` undefined without a parent).
    this.a = '';
    this.b = '';
    this.c = undefined;
  }

  /**
   * The template for `vals[0..n)` read from headers `ids`, or null. A template is
   * `{ ints, outs, fixed, memo }`: core's fields; per string a function of the ids (this.a, .b, .c),
   * and the string itself when it has no hole (`fixed`); `memo` is the call site's own.
   */
  find(vals, ids, n) {
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (t.n === n && this.#matches(t, vals, ids, n)) {
        t.hits++;
        return t;
      }
    }
    return null;
  }

  #matches(t, vals, ids, n) {
    for (let i = 0; i < n; i++) if (ids[i] !== t.ids[i]) return false;
    // Whole values first (one compare tells a tracestate of another request apart), then the
    // characters outside the holes.
    const pats = t.pats;
    const exact = t.exact;
    for (let k = 0; k < exact.length; k++) if (vals[exact[k]] !== pats[exact[k]]) return false;
    const partial = t.partial;
    for (let k = 0; k < partial.length; k++) {
      const v = vals[partial[k]];
      const p = pats[partial[k]];
      if (v.length !== p.len) return false;
      const lit = p.lit;
      for (let j = 0; j < lit.length; j += 2) if (v.charCodeAt(lit[j]) !== lit[j + 1]) return false;
    }
    const h = t.holes;
    for (let k = 0; k < h.length; k += 3) if (!admitsAt(vals[h[k]], h[k + 1], h[k + 2])) return false;
    const trace = cutAt(vals, h, 0);
    if (zeroHigh(trace) !== t.zero) return false;
    this.a = trace;
    this.b = cutAt(vals, h, 3);
    this.c = h.length > 6 ? cutAt(vals, h, 6) : undefined;
    return true;
  }

  /**
   * After a call into core for `vals[0..n)` that found no template, while the boundary still holds
   * its answer `ret`: learn a template of its shape, when it has one and the budget allows. The
   * budget: `ATTEMPTS_FREE` attempts, then one per `step` calls that found none (each attempt is
   * four to six more calls into core), the step doubling up to `STEP_MAX` while what was learned goes
   * unused, so that requests of shapes that never repeat (a tracestate per request) pay a share that
   * shrinks to almost nothing. With `SHAPES_MAX` templates, a new one replaces the oldest.
   */
  learn(vals, ids, n, ret) {
    const b = boundary;
    if (ret !== 1 || n === 0) return;
    this.#misses++;
    if (this.#attempts >= ATTEMPTS_FREE && this.#misses - this.#last < this.#step) return;
    this.#attempts++;
    this.#last = this.#misses;
    if (this.#readsIds() || !oneFormat(ids, n, this.#reads)) return;
    // A header read by name (baggage) crosses with its name, which a template does not keep.
    for (let i = 0; i < n; i++) if (ids[i] < 0) return;
    const sizes = this.#sizes();
    if (sizes === null) return;
    const holes = [];
    const at = [0, 0, 0];
    for (let k = 0; k < this.#idSlots.length; k++) {
      const id = b.str(this.#idSlots[k], vals);
      if (k === 2 && id === null) break; // no parent
      if (typeof id !== 'string' || id.length !== HOLE_LENS[k]) return;
      // Where the boundary found the id; it does not look every time (out.rs `locate`), then the
      // first place it is in (a wrong one fails the probes).
      b.source(this.#idSlots[k], at);
      for (let i = 0; at[0] < 0 && i < n; i++) {
        const p = vals[i].indexOf(id);
        if (p >= 0) at[0] = i, at[1] = p;
      }
      if (at[0] < 0 || at[0] >= n || !admitsAt(vals[at[0]], at[1], HOLE_LENS[k])) return;
      for (let j = 0; j < holes.length; j += 3) {
        if (holes[j] === at[0] && holes[j + 1] < at[1] + id.length && at[1] < holes[j + 1] + holes[j + 2]) return;
      }
      holes.push(at[0], at[1], id.length);
    }
    const vs = vals.slice(0, n);
    const idList = ids.slice(0, n);
    // Templates that matched nothing since the last attempt, over at least MISS_STEP calls without
    // a template, go: requests with a tracestate of their own leave one each, and `find` would try
    // them all on every call.
    const misses = this.#misses;
    const list = this.#list.filter((x) => x.hits > 0 || misses - x.born < MISS_STEP);
    const unused = list.length < this.#list.length;
    this.#step = unused ? Math.min(this.#step * 2, STEP_MAX) : MISS_STEP;
    for (const x of list) x.hits = 0;
    this.#list = list;
    const t = this.#derive(vs, idList, holes, ret, this.#answer(vs, sizes));
    if (t === null) return;
    t.born = misses;
    if (list.length < SHAPES_MAX) {
      list.push(t);
      return;
    }
    let least = 0;
    for (let i = 1; i < list.length; i++) if (list[i].born < list[least].born) least = i;
    list[least] = t;
  }

  /** The boundary's answer to the last call, of `sizes`: `{ ints, key, strs }` (`key`: the ints). */
  #answer(vals, [nInts, nStrs]) {
    const ints = [];
    for (let i = 0; i < nInts; i++) ints.push(boundary.int(i));
    const strs = [];
    for (let s = 0; s < nStrs; s++) strs.push(boundary.str(s, vals));
    return { ints, key: ints.join(), strs };
  }

  /** The template of the shape of `vals` (answered `first`), or null. */
  #derive(vals, ids, holes, ret, first) {
    const n = vals.length;
    const lens = [];
    for (let k = 2; k < holes.length; k += 3) lens.push(holes[k]);
    const orig = [];
    for (let k = 0; k < holes.length; k += 3) orig.push(cutAt(vals, holes, k));
    const zero = zeroHigh(orig[0]);
    // Core's answer for values `pv` (its fields are the key), or null.
    const answer = (pv) => {
      let r;
      try {
        r = this.#call(pv, ids, n);
      } catch {
        return null;
      }
      const sizes = r === ret ? this.#sizes() : null;
      if (sizes === null || sizes[1] !== first.strs.length) return null;
      return this.#answer(pv, sizes);
    };
    // The same for the request with `idv` in the holes.
    const run = (idv) => {
      const pv = vals.slice();
      // Holes from the last to the first, so that the positions before each stay right.
      const order = [];
      for (let k = 0; k < holes.length; k += 3) order.push(k);
      order.sort((x, y) => holes[y] - holes[x] || holes[y + 1] - holes[x + 1]);
      for (const k of order) {
        const v = pv[holes[k]];
        pv[holes[k]] = v.slice(0, holes[k + 1]) + idv[k / 3] + v.slice(holes[k + 1] + holes[k + 2]);
      }
      return answer(pv);
    };
    const t = readOff(lens, zero, run, { ids: orig, got: first });
    if (t === null) return null;
    const { outs, whole } = t;
    // Values of headers core does not read a context from (`translate` replaces or removes them):
    // when two other values there (every character changed; the value twice) change nothing in the
    // answer, a request matches whatever they are. A request with B3 and a stale traceparent that the
    // translation replaces then finds its template, whatever that traceparent was.
    const loose = [];
    for (let i = 0; i < n && this.#reads !== null; i++) {
      if (this.#reads[ids[i]] !== 1 && !holes.some((h, k) => k % 3 === 0 && h === i)) loose.push(i);
    }
    const unread = (change) => {
      const pv = vals.slice();
      for (const i of loose) pv[i] = change(pv[i]);
      const got = answer(pv);
      return got !== null && got.key === first.key && same(got.strs, first.strs);
    };
    const anyUnread = loose.length > 0 && unread(other) && unread((v) => v + ',' + v);
    // Per value: null when any value matches, itself when it has no hole, else its length and each
    // character outside the holes.
    const pats = vals.map((v, i) => {
      if (anyUnread && loose.includes(i)) return null;
      let inHole = null;
      for (let k = 0; k < holes.length; k += 3) {
        if (holes[k] !== i) continue;
        inHole ??= new Uint8Array(v.length);
        inHole.fill(1, holes[k + 1], holes[k + 1] + holes[k + 2]);
      }
      if (inHole === null) return v;
      const lit = [];
      for (let p = 0; p < v.length; p++) if (inHole[p] === 0) lit.push(p, v.charCodeAt(p));
      return { len: v.length, lit: Int32Array.from(lit) };
    });
    // `memo`: the call site's own, for what it derives from the template once.
    const exact = [];
    const partial = [];
    pats.forEach((p, i) => {
      if (typeof p === 'string') exact.push(i);
      else if (p !== null) partial.push(i);
    });
    return {
      n,
      ids: Int32Array.from(ids),
      pats,
      exact: Int32Array.from(exact),
      partial: Int32Array.from(partial),
      holes: Int32Array.from(holes),
      zero,
      ints: first.ints,
      outs,
      fixed: whole,
      hits: 0,
      born: 0,
      memo: undefined,
    };
  }
}

/** `v` with every character changed (`a` for any other, `b` for `a`). */
function other(v) {
  let out = '';
  for (let i = 0; i < v.length; i++) out += v[i] === 'a' ? 'b' : 'a';
  return out;
}

/** The id in hole `k` (index into `h`, three numbers a hole) of `vals`. */
function cutAt(vals, h, k) {
  const v = vals[h[k]];
  const start = h[k + 1];
  const end = start + h[k + 2];
  return start === 0 && end === v.length ? v : v.substring(start, end);
}

module.exports = { admits, zeroHigh, derive, fill, ExtractTemplates };
