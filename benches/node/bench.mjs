// Benchmark (not a test): tracebridge against the OpenTelemetry JS propagators, each case in a Node
// process of its own (case.mjs). Run (after `bash scripts/test-node.sh`, which builds the wasm and
// installs node-binding's devDependencies):
//
//   node benches/node/bench.mjs [--reps 7] [--ms 300] [--only extract/b3-single] [--json out.json]
//
// For every op × format it runs the OpenTelemetry propagator and each tracebridge implementation
// (`adapter`: tracebridge/otel, `direct`: the package's own API) as a pair of processes back to back,
// alternating which goes first, `reps` times; and the `floor` (what any wasm-backed adapter pays at
// least, see case.mjs) and `wasm` (the adapter's wasm calls alone) once per repetition. The machine drifts by up to 1.8x within seconds, so a
// ratio is taken within each pair (OpenTelemetry ns / tracebridge ns: above 1 is faster than
// OpenTelemetry) and the median of those ratios is reported, with the median ns/op of each side.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const REPS = Number(opt('reps', 7));
const MS = Number(opt('ms', 300));
const ONLY = opt('only', '');
const JSON_OUT = opt('json', '');
const CASE = fileURLToPath(new URL('./case.mjs', import.meta.url));

const FORMATS = ['w3c', 'w3c-vendor', 'b3-single', 'b3-multi', 'jaeger', 'xray'];
const cases = [];
for (const op of ['extract', 'inject', 'translate']) {
  for (const format of FORMATS) {
    if (op === 'translate' && format.startsWith('w3c')) continue; // legacy → W3C only
    if (op === 'inject' && format === 'w3c-vendor') continue; // a kind of request: extract only
    if (ONLY && !`${op}/${format}`.startsWith(ONLY)) continue;
    cases.push({ op, format });
  }
}

function run(op, format, impl) {
  const r = spawnSync(process.execPath, [CASE, op, format, impl, String(MS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${op} ${format} ${impl}: ${r.stderr}`);
  return JSON.parse(r.stdout).ns;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const results = new Map();
const key = (c, impl) => `${c.op}/${c.format}/${impl}`;
const record = (k, field, v) => {
  if (!results.has(k)) results.set(k, { otel: [], ours: [], ratio: [], floor: [], wasm: [] });
  results.get(k)[field].push(v);
};

const started = new Date();
for (let rep = 0; rep < REPS; rep++) {
  for (const c of cases) {
    for (const impl of ['adapter', 'direct']) {
      const first = rep % 2 === 0 ? 'otel' : impl;
      const a = run(c.op, c.format, first);
      const b = run(c.op, c.format, first === 'otel' ? impl : 'otel');
      const [otel, ours] = first === 'otel' ? [a, b] : [b, a];
      const k = key(c, impl);
      record(k, 'otel', otel);
      record(k, 'ours', ours);
      record(k, 'ratio', otel / ours);
    }
    record(key(c, 'adapter'), 'floor', run(c.op, c.format, 'floor'));
    record(key(c, 'adapter'), 'wasm', run(c.op, c.format, 'wasm'));
  }
  process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
}

const rows = [];
for (const c of cases) {
  for (const impl of ['adapter', 'direct']) {
    const r = results.get(key(c, impl));
    const { floor, wasm } = results.get(key(c, 'adapter'));
    rows.push({
      op: c.op,
      format: c.format,
      impl,
      otel_ns: Math.round(median(r.otel)),
      tracebridge_ns: Math.round(median(r.ours)),
      ratio: Number(median(r.ratio).toFixed(2)),
      ratio_min: Number(Math.min(...r.ratio).toFixed(2)),
      ratio_max: Number(Math.max(...r.ratio).toFixed(2)),
      floor_ns: Math.round(median(floor)),
      wasm_ns: Math.round(median(wasm)),
    });
  }
}

const target = (op) => (op === 'translate' ? 1.5 : 1.0);
console.log(`node ${process.version}; ${REPS} alternating pairs per row, ${MS} ms per process; ` +
  `ratio = median over pairs of OpenTelemetry ns / tracebridge ns (above 1: faster)`);
console.log('| op | format | via | OpenTelemetry ns/op | tracebridge ns/op | ratio (min–max) | target | floor ns/op | adapter wasm ns/op |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const met = r.ratio >= target(r.op) ? '' : ' ✗';
  console.log(
    `| ${r.op} | ${r.format} | ${r.impl} | ${r.otel_ns} | ${r.tracebridge_ns} | ` +
      `${r.ratio.toFixed(2)}${met} (${r.ratio_min.toFixed(2)}–${r.ratio_max.toFixed(2)}) | ${target(r.op)} | ` +
      `${r.floor_ns} | ${r.wasm_ns} |`,
  );
}
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ started, node: process.version, reps: REPS, ms: MS, rows }, null, 2));
