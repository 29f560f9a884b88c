// The filter module's own cost per request, without Envoy: a minimal proxy-wasm host in JS (V8, as in
// Envoy) drives target/tracebridge.wasm through the callbacks Envoy makes per request (those it exports), with
// host calls that do (almost) nothing. What Envoy's side of each host call costs is not in here: that
// is what benches/envoy/bench.py measures; this isolates the wasm work a configuration adds.
//
//   node benches/envoy/module-host.mjs [--wasm target/tracebridge.wasm] [--slice 2000] [--rotations 20]
//       [--rounds 21] [--arm NAME[@WASM]=JSON ...] [--requests N [--evict KIB]] [--touched IDS.json]
//
// --requests N: run the first arm for N requests, untimed, and exit (for a profiler around node:
// benches/envoy/code-lines.sh). --evict KIB: between requests, write KIB KiB of a buffer of its own,
// as Envoy's work between two requests evicts the module's data from the caches (code-lines.sh
// --data counts what the module then misses).
//
// --touched IDS.json: the first arm's module is one that binaryen's --instrument-memory rewrote (every
// load and store calls the host; `memory.copy` and `memory.fill` are calls of imports `copy` and
// `fill`: touched.sh builds it), and IDS.json names the function of each instrumented access and
// gives `heap_base`. One request after 50 is traced, and every 64-byte line of module memory it
// touches is listed: where (the shadow stack below 1 MiB, static data, the heap), how (loaded,
// stored, copied, filled) and by which functions.
//
// An arm may name a .wasm of its own (`before@/tmp/before.wasm={"inject":["w3c"]}`): another build of
// the filter measured interleaved with this one, as the same requests through the same host.
// Every request carries B3 single, x-client-name and the headers a browser-ish client sends. Each arm
// is its own VM instance; a round runs every arm for `slice` requests in turn, `rotations` times (this
// machine's speed drifts within seconds: short slices in turn make it drift alike for every arm).
// Reported: the median over rounds of ns per request, and of the per-round difference to the first
// arm.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    wasm: { type: "string", default: "target/tracebridge.wasm" },
    slice: { type: "string", default: "2000" },
    rotations: { type: "string", default: "20" },
    rounds: { type: "string", default: "21" },
    arm: { type: "string", multiple: true },
    requests: { type: "string" },
    evict: { type: "string", default: "0" },
    touched: { type: "string" },
  },
});
const arms = (opt.arm ?? [
  'tracebridge={"inject":["w3c"]}',
  'caller={"inject":["w3c"],"caller":{"header":"x-client-name"}}',
  'property={"inject":["w3c"],"caller":{"attribute":["request","headers","x-client-name"]}}',
  'access_log={"inject":["w3c"],"caller":{"header":"x-client-name"},"access_log":true}',
  'traceresponse={"inject":["w3c"],"traceresponse":true}',
]).map((a) => { const i = a.indexOf("="); return [a.slice(0, i), a.slice(i + 1)]; });
const slice = Number(opt.slice);
const rotations = Number(opt.rotations);
const modules = new Map();
const load = (path) => {
  if (!modules.has(path)) modules.set(path, new WebAssembly.Module(readFileSync(path)));
  return modules.get(path);
};
const enc = new TextEncoder();
// --touched: the accesses of the request being traced, as [address, bytes, kind, function].
let trace = null;
const traced = (kind, id, addr, bytes) => { trace?.push([addr, bytes, kind, id]); return addr; };
// The function a copy or fill runs in, from the stack V8 reports (`at <name> (wasm://...)`).
const caller = () => new Error().stack.split("\n").map((l) => l.match(/at (\S+) \(wasm:/)?.[1]).find((n) => n && !/\.(copy|fill)$/.test(n))?.replace(/^.*\.wasm\./, "") ?? "?";

// `count:u32 (name_len:u32 value_len:u32)* (name NUL value NUL)*`, the ABI's header map.
function serialize(pairs) {
  const parts = pairs.map(([n, v]) => [enc.encode(n), enc.encode(v)]);
  const size = 4 + parts.length * 8 + parts.reduce((s, [n, v]) => s + n.length + v.length + 2, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let at = 4 + parts.length * 8;
  parts.forEach(([n, v], i) => {
    dv.setUint32(4 + i * 8, n.length, true);
    dv.setUint32(8 + i * 8, v.length, true);
    out.set(n, at); at += n.length + 1;
    out.set(v, at); at += v.length + 1;
  });
  return out;
}

const request = serialize([
  [":authority", "shop.example.com"], [":path", "/api/cart/items?page=2"], [":method", "GET"],
  [":scheme", "https"], ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"],
  ["accept", "application/json"], ["accept-encoding", "gzip, deflate, br"], ["x-forwarded-proto", "https"],
  ["x-request-id", "4f1b6a2c-9d3e-4b7a-8c11-2f5e6d7a8b9c"], ["x-client-name", "checkout"],
  ["b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"],
]);
const response = serialize([[":status", "200"], ["content-type", "application/json"]]);

function instance(name, config) {
  const at = name.indexOf("@");
  // Response headers are served by the response build only (wasm-filter/README.md, "Two builds").
  const c = JSON.parse(config);
  const own = c.traceresponse === true || (c.response_trace_id_header ?? null) !== null
    ? opt.wasm.replace(/\.wasm$/, "-response.wasm") : opt.wasm;
  const module = load(at < 0 ? own : name.slice(at + 1));
  let mem, ex;
  const u8 = () => new Uint8Array(mem.buffer);
  const dv = () => new DataView(mem.buffer);
  // Copy bytes into module memory the way Envoy does: through proxy_on_memory_allocate.
  const give = (bytes, ptrPtr, sizePtr) => {
    const p = ex.proxy_on_memory_allocate(bytes.length);
    u8().set(bytes, p);
    dv().setUint32(ptrPtr, p, true);
    dv().setUint32(sizePtr, bytes.length, true);
    return 0;
  };
  const cfg = enc.encode(config);
  const client = enc.encode("checkout");
  let metrics = 0;
  const env = {
    proxy_log: () => 0,
    proxy_get_log_level: (p) => { dv().setUint32(p, 2, true); return 0; },
    proxy_set_tick_period_milliseconds: () => 0,
    proxy_get_buffer_bytes: (_kind, _start, _max, pp, sp) => give(cfg, pp, sp),
    proxy_get_header_map_pairs: (map, pp, sp) => give(map === 0 ? request : response, pp, sp),
    proxy_replace_header_map_value: () => 0,
    proxy_remove_header_map_value: () => 0,
    proxy_define_metric: (_k, _n, _l, idp) => { dv().setUint32(idp, ++metrics, true); return 0; },
    proxy_increment_metric: () => 0,
    proxy_get_current_time_nanoseconds: (p) => { dv().setBigUint64(p, 0n, true); return 0; },
    proxy_get_property: (_p, _l, pp, sp) => give(client, pp, sp),
    proxy_set_property: () => 0,
    proxy_get_header_map_value: () => 1, // NotFound: the upstream sent no traceresponse
    // A module instrumented for --touched (imports that others do not have are not asked for).
    load_ptr: (id, bytes, offset, addr) => traced("load", id, addr + offset, bytes) - offset,
    store_ptr: (id, bytes, offset, addr) => traced("store", id, addr + offset, bytes) - offset,
    ...Object.fromEntries(["load", "store"].flatMap((k) => ["i32", "i64", "f32", "f64"].map((t) => [`${k}_val_${t}`, (_id, v) => v]))),
    copy: (dst, src, n) => {
      if (trace && n) trace.push([src, n, "copied from", caller()], [dst, n, "copied to", caller()]);
      u8().copyWithin(dst, src, src + n);
    },
    fill: (dst, value, n) => {
      if (trace && n) trace.push([dst, n, "filled", caller()]);
      u8().fill(value, dst, dst + n);
    },
  };
  const wasi = new WASI({ version: "preview1" });
  const inst = new WebAssembly.Instance(module, { env, wasi_snapshot_preview1: wasi.wasiImport });
  ex = inst.exports;
  mem = ex.memory;
  wasi.initialize(inst);
  // Envoy calls only what a module exports; older builds export proxy_on_context_create, current ones not.
  const create = ex.proxy_on_context_create ?? (() => {});
  // ... and proxy_on_response_headers only in the response build.
  const respond = ex.proxy_on_response_headers ?? (() => 0);
  create(1, 0);
  if (!ex.proxy_on_configure(1, cfg.length)) throw new Error(`configuration refused: ${config}`);
  let ctx = 2;
  // One write per 64-byte line: nothing of the module's data stays in the caches.
  const evict = new Float64Array((Number(opt.evict) * 1024) / 8);
  // `n` requests; returns the ns they took.
  return (n) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < evict.length; j += 8) evict[j] += 1;
      create(ctx, 1);
      ex.proxy_on_request_headers(ctx, 11, 1);
      respond(ctx, 2, 1);
      ctx++;
      if ((ctx & 0x3fff) === 0) ex.proxy_on_tick(1); // a flush now and then, as the 500 ms tick
    }
    return Number(process.hrtime.bigint() - t0);
  };
}

if (opt.touched !== undefined) {
  const [[name, config]] = arms;
  const run = instance(name, config);
  const ids = JSON.parse(readFileSync(opt.touched, "utf8"));
  run(50);
  trace = [];
  run(1);
  const lines = new Map();
  for (const [addr, bytes, kind, id] of trace) {
    const fn = (typeof id === "number" ? ids.functions[id] ?? "?" : id).replace(/17h[0-9a-f]{16}E$/, "");
    for (let l = Math.floor(addr / 64); l <= Math.floor((addr + bytes - 1) / 64); l++) {
      const line = lines.get(l) ?? { kinds: new Set(), fns: new Set() };
      line.kinds.add(kind);
      line.fns.add(fn);
      lines.set(l, line);
    }
  }
  // wasm-ld's layout: the shadow stack grows down from 1 MiB, static data follows it, then the heap.
  const region = (l) => (l * 64 < 1 << 20 ? "stack" : l * 64 < ids.heap_base ? "static" : "heap");
  const count = {};
  for (const l of lines.keys()) count[region(l)] = (count[region(l)] ?? 0) + 1;
  const regions = Object.entries(count).map(([r, n]) => `${r} ${n}`).join(", ");
  console.log(`${config}: ${trace.length} accesses, ${lines.size} lines of 64 bytes (${regions})\n`);
  console.log("| line | region | access | functions |\n|---|---|---|---|");
  for (const [l, { kinds, fns }] of [...lines].sort((a, b) => a[0] - b[0])) {
    const names = [...fns].map((f) => `\`${f.slice(0, 80)}\``).join(" ");
    console.log(`| 0x${(l * 64).toString(16)} | ${region(l)} | ${[...kinds].join(", ")} | ${names} |`);
  }
  process.exit(0);
}

if (opt.requests !== undefined) {
  const [[name, config]] = arms;
  instance(name, config)(Number(opt.requests));
  process.exit(0);
}
const runs = arms.map(([name, config]) => [name, instance(name, config)]);
for (const [, run] of runs) run(50000); // warm-up: V8 tiers up
const per = Object.fromEntries(arms.map(([n]) => [n, []]));
for (let r = 0; r < Number(opt.rounds); r++) {
  const ns = Object.fromEntries(arms.map(([n]) => [n, 0]));
  for (let t = 0; t < rotations; t++) {
    for (const [name, run] of t % 2 ? [...runs].reverse() : runs) ns[name] += run(slice);
  }
  for (const [name] of arms) per[name].push(ns[name] / (slice * rotations));
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const first = arms[0][0];
console.log(`node ${process.version}, ${opt.wasm}; ${opt.rounds} rounds of ${rotations} turns of ${slice} requests per arm\n`);
console.log(`| arm | ns/request (median) | over ${first} (median of per-round differences) |`);
console.log("|---|---:|---:|");
for (const [name, config] of arms) {
  const diff = per[name].map((x, i) => x - per[first][i]);
  console.log(`| ${name} \`${config}\` | ${median(per[name]).toFixed(0)} | ${median(diff) >= 0 ? "+" : ""}${median(diff).toFixed(0)} |`);
}
