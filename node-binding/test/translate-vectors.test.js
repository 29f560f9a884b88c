'use strict';
// Runs tests/vectors/translate.json (the translation policy, baggage included) through
// `Translator#translate`, checking what the other doors' runners check:
// - tests/tests/translate.rs (core): the outcome, the source, the status of each format the vector
//   lists, and the whole header list after the translation (lowercase names, in any order);
// - tests/tests/envoy_e2e.rs `translate_vectors_through_envoy`: the trace headers alone (baggage
//   headers included), sorted by name with the order within a name kept.
// Each vector runs on each carrier shape: a Map and a plain object (a repeated name is one key with
// an array of values), and a fetch `Headers`, which joins repeated lines with `, ` as it does for any
// request, so its result is compared with the expected headers joined the same way.
//
// Randomness: a vector's `random` (48 hex digits) is what core's `random` returns for a new root in the
// Rust runner. The npm package draws it with `getRandomValues` from `node:crypto`, which the glue
// takes when it loads: this file hands the glue a `node:crypto` whose `getRandomValues` returns the
// vector's bytes (zeros when it has none, as the Rust runner), so new roots are checked exactly (the
// Envoy runner, with real randomness, can only check their shape).
//
// Every vector runs; none is skipped. A file's `deviations` list is printed (none today).

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const crypto = require('node:crypto');

let random = new Uint8Array(24);
let drawn = 0;
const load = Module._load;
Module._load = function (request, parent, ...rest) {
  const m = load.call(this, request, parent, ...rest);
  if (/^(node:)?crypto$/.test(request) && parent && /tracebridge_node\.js$/.test(parent.filename)) {
    const getRandomValues = (buf) => {
      drawn++;
      buf.set(random.subarray(0, buf.length));
      return buf;
    };
    return Object.create(crypto, { getRandomValues: { value: getRandomValues } });
  }
  return m;
};
const { Translator } = require('..');
const b = require('../boundary.js');
Module._load = load;

const file = path.join(__dirname, '..', '..', 'tests', 'vectors', 'translate.json');
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));

function bytes(hex) {
  const out = new Uint8Array(24);
  for (let i = 0; i < 24 && typeof hex === 'string'; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) || 0;
  return out;
}

/** tests/tests/envoy_support `is_trace_header`: every header a format reads or writes, baggage included. */
function isTraceHeader(name) {
  const n = name.toLowerCase();
  return b.HEADER_INDEX.has(n) || b.PREFIXES.some((p) => n.startsWith(p));
}

const lower = (pairs) => pairs.map(([n, v]) => [n.toLowerCase(), v]);
const byPair = (x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
/** translate.rs `sorted`. */
const sorted = (pairs) => lower(pairs).sort(byPair);
/** envoy_support `only_trace_headers`: stable sort by name. */
const onlyTrace = (pairs) => lower(pairs.filter(([n]) => isTraceHeader(n))).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));

const shapes = {
  Map: {
    make(pairs) {
      const m = new Map();
      for (const [n, v] of pairs) m.set(n, m.has(n) ? [].concat(m.get(n), v) : v);
      return m;
    },
    pairs: (m) => [...m].flatMap(([n, v]) => (Array.isArray(v) ? v.map((x) => [n, x]) : [[n, v]])),
    expect: (pairs) => pairs,
  },
  object: {
    make(pairs) {
      const o = {};
      for (const [n, v] of pairs) o[n] = n in o ? [].concat(o[n], v) : v;
      return o;
    },
    pairs: (o) => Object.entries(o).flatMap(([n, v]) => (Array.isArray(v) ? v.map((x) => [n, x]) : [[n, v]])),
    expect: (pairs) => pairs,
  },
  Headers: {
    make: (pairs) => new Headers(pairs),
    pairs: (h) => [...h],
    expect: (pairs) => [...new Headers(pairs)],
  },
};

test('translate vectors file', () => {
  assert.strictEqual(doc.format, 'translate');
  assert.ok(doc.vectors.length > 0, 'no vectors');
  for (const d of doc.deviations || []) console.log(`# translate.json: deviation ${d.name}: ${d.reason}`);
});

for (const [shape, carrier] of Object.entries(shapes)) {
  test(`translate vectors through Translator#translate (${shape})`, () => {
    const failures = [];
    let roots = 0;
    for (const v of doc.vectors) {
      const fail = (what) => failures.push(`${v.name}: ${what}`);
      random = bytes(v.random);
      let t;
      try {
        t = new Translator(v.config);
      } catch (e) {
        fail(`config: ${e.message}`);
        continue;
      }
      const headers = carrier.make(v.headers);
      const before = drawn;
      const report = t.translate(headers);
      if (report.rootReason !== null) roots++;
      if (report.rootReason !== null && drawn === before) fail('a new root drew no randomness through the hook');
      const want = v.expect;
      if (report.outcome !== want.outcome) fail(`outcome ${report.outcome}, expected ${want.outcome}`);
      if (report.source !== want.source) fail(`source ${report.source}, expected ${want.source}`);
      for (const [f, st] of Object.entries(want.status || {})) {
        const got = report.formats[f] && report.formats[f].status;
        if (got !== st) fail(`status of ${f} is ${got}, expected ${st}`);
      }
      const got = carrier.pairs(headers);
      const expected = carrier.expect(want.headers);
      try {
        assert.deepStrictEqual(sorted(got), sorted(expected));
      } catch {
        fail(`headers\n   got ${JSON.stringify(sorted(got))}\n  want ${JSON.stringify(sorted(expected))}`);
      }
      try {
        assert.deepStrictEqual(onlyTrace(got), onlyTrace(expected));
      } catch {
        fail(`trace headers\n   got ${JSON.stringify(onlyTrace(got))}\n  want ${JSON.stringify(onlyTrace(expected))}`);
      }
    }
    assert.ok(roots > 0, 'no vector started a new root');
    assert.deepStrictEqual(failures, [], `${failures.length} of ${doc.vectors.length} translate vectors failed`);
  });
}
