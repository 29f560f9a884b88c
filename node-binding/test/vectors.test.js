'use strict';
// Runs every tests/vectors/<format>.json through the wasm binding, as tests/tests/vectors.rs runs them
// through core: each vector's headers are inspected with config {"extract": [format]} and the
// outcome must equal `expect` (fields the vector leaves out are not checked). The vectors use the
// CLI's `inspect --json` shape (snake_case), which `Translator#inspectJson` returns as is; a context's
// `warning` is the format's entry in the document's `warnings` (what the Rust runner takes from
// `Format::extract`).
//
// Deliberate deviations, listed rather than skipped:
// - `reformat` (what injecting the parsed context writes back) is not checked here: the JS API injects
//   a context given as {traceId, spanId, parentSpanId, sampled, debug, traceState}, which does not carry
//   the format-private fields (X-Ray Lineage/Self/extras, Jaeger's other flag bits) that `reformat`
//   pins. The Rust runner checks it on the same core code.
// - A file's own `deviations` list is printed; none applies to the binding.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { Translator } = require('..');

const dir = path.join(__dirname, '..', '..', 'tests', 'vectors');

function outcome(t, format, headers) {
  const ins = JSON.parse(t.inspectJson(pairs(headers)));
  const st = ins.formats[format];
  if (st.status === 'absent') return null;
  if (st.status === 'invalid') return { error: st.code };
  if (ins.sampling_only !== null) return { sampling_only: ins.sampling_only };
  const ctx = { ...ins.context };
  // As tests/tests/vectors.rs: the format's own warning (W3C: the tracestate dropped; Datadog: its tags).
  const warning = ins.warnings[format];
  if (warning) ctx.warning = warning.code;
  return ctx;
}

// Header pairs may repeat a name: a Map keyed by name would merge them, so pass name → [values].
function pairs(headers) {
  const m = new Map();
  for (const [n, v] of headers) {
    const list = m.get(n);
    if (list) list.push(v);
    else m.set(n, [v]);
  }
  return m;
}

function strip(expect, got) {
  if (expect === null || got === null || typeof expect !== 'object' || typeof got !== 'object') return got;
  return Object.fromEntries(Object.entries(got).filter(([k]) => k in expect));
}

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('vector files exist', () => assert.ok(files.length > 0, `no vectors in ${dir}`));

for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  if (doc.format === 'translate') continue; // translator-level vectors: translate-vectors.test.js
  test(`vectors: ${file}`, () => {
    const t = new Translator({ extract: [doc.format] });
    const failures = [];
    for (const v of doc.vectors) {
      const got = outcome(t, doc.format, v.headers);
      try {
        assert.deepStrictEqual(strip(v.expect, got), v.expect);
      } catch {
        failures.push(`${v.name}: expected ${JSON.stringify(v.expect)}, got ${JSON.stringify(got)}`);
      }
    }
    assert.ok(doc.vectors.length > 0, 'no vectors');
    assert.deepStrictEqual(failures, [], `${failures.length} of ${doc.vectors.length} vectors failed`);
    for (const d of doc.deviations || []) console.log(`# ${file}: deviation ${d.name}: ${d.reason}`);
  });
}
