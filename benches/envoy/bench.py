#!/usr/bin/env python3
"""Envoy CPU per request, arm against arm, in one run (benches/envoy/load.sh and ladder.sh call this).

    bench.py --arm NAME=SPEC [--arm ...] [--rounds 8] [--duration 5] [--connections 32]
             [--b3 single|multi] [--baseline passthrough] [--compare lua] [--delta ARM] [--out FILE]

SPEC is one of
    none                      Envoy with no HTTP filter but the router (passthrough)
    lua:FILE                  envoy.filters.http.lua running FILE
    wasm:FILE[:JSON]          envoy.filters.http.wasm running FILE with plugin configuration JSON

Every arm is its own Envoy (`--concurrency 1`: one worker) pinned to the last CPU with taskset; wrk
(one thread) and the upstream (an Envoy answering with direct_response) share the other CPUs, so an
arm's worker never competes with the load generator. 32 connections keep the pinned worker busy all
the time: measured at saturation, CPU per request varies far less from round to round than at partial
load, where idle wake-ups add to it (seen here: ±10 µs at 8 connections, ±2 µs at 32). Each round runs every arm once, in an order that
rotates every round, so drift in the machine hits every arm alike. Per arm and round the cost is the
Envoy process's CPU time (the sum of every thread's run time in /proc/PID/task/*/schedstat, in ns)
divided by the requests wrk completed: the proxy's own cost, which contention disturbs far less than
req/s.

Reported per arm: the median CPU per request, the median over rounds of the cost added over the
baseline arm (same round), and the median over rounds of the per-round ratio of that added cost to the
`--compare` arm's; also req/s relative to the compare arm (median of per-round ratios). The machine is
noisy, so only figures from one run, compared round by round, mean anything.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WANT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def cpu_ns(pid):
    """Run time of every thread of `pid`, in ns (schedstat's first field)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended between listdir and open
    return total


class Envoys:
    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, yaml, admin, cpus):
        # An Envoy already on this admin port (one left running by an interrupted run) would answer
        # the readiness check below for ours, which cannot bind: its CPU time would then read as 0.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1):
                raise SystemExit(f"bench: port {admin} already answers (an Envoy left from another run?)")
        except OSError:
            pass
        path = os.path.join(self.work, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(yaml)
        logf = open(os.path.join(self.work, f"{name}.log"), "w")
        cmd = ["taskset", "-c", cpus, "envoy", "-c", path, "--concurrency", "1", "--disable-hot-restart",
               "-l", "warning", "--base-id", str(len(self.procs) + 40)]
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        self.procs.append(p)
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1) as r:
                    if r.status == 200:
                        return p
            except OSError:
                pass
            if p.poll() is not None:
                break
            time.sleep(0.1)
        with open(os.path.join(self.work, f"{name}.log")) as f:
            sys.stderr.write(f.read())
        raise SystemExit(f"bench: envoy {name} did not become ready")

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def envoy_config(spec, listen, admin, upstream):
    args = [os.path.join(ROOT, "scripts", "envoy-config.sh"), "--listen", str(listen), "--admin", str(admin),
            "--upstream", str(upstream)]
    kind, _, rest = spec.partition(":")
    if kind == "none":
        args += ["--filter", "none"]
    elif kind == "lua":
        args += ["--filter", "lua", "--lua", rest]
    elif kind == "wasm":
        path, _, config = rest.partition(":")
        args += ["--wasm", path, "--config", config or "{}"]
    else:
        raise SystemExit(f"bench: unknown arm spec {spec!r}")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


UPSTREAM = """admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: {admin} }} }}
static_resources:
  listeners:
  - name: upstream
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: upstream
          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                direct_response: {{ status: 200, body: {{ inline_string: "ok" }} }}
                response_headers_to_add:
                - header: {{ key: x-echo-traceparent, value: "%REQ(traceparent)%" }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
"""


def echo(port, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.headers.get("x-echo-traceparent", "")


def start_wrk(url, seconds, connections, b3, cpus):
    env = dict(os.environ, B3=b3)
    return subprocess.Popen(["taskset", "-c", cpus, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                             "-s", os.path.join(HERE, "b3.lua"), url], stdout=subprocess.PIPE, text=True, env=env)


def wrk_result(proc):
    out, _ = proc.communicate()
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if proc.returncode != 0 or not m:
        raise SystemExit(f"bench: no RESULT line from wrk:\n{out}")
    return {k: float(v) for k, v in (f.split("=") for f in m.group(1).split())}


def wrk(url, seconds, connections, b3, cpus):
    return wrk_result(start_wrk(url, seconds, connections, b3, cpus))


def requests_served(admin):
    url = f"http://127.0.0.1:{admin}/stats?filter=%5Ehttp%5C.tracebridge%5C.downstream_rq_completed%24"
    with urllib.request.urlopen(url, timeout=5) as r:
        m = re.search(rb"downstream_rq_completed: (\d+)", r.read())
    return int(m.group(1)) if m else 0


def sliced_round(names, pid, admin, wrks, a):
    """One round of `a.rotations` rotations; in each, every arm's wrk runs alone for `a.slice_ms`."""
    t0 = {n: cpu_ns(pid[n]) for n in names}
    r0 = {n: requests_served(admin[n]) for n in names}
    for _ in range(a.rotations):
        for n in names:
            wrks[n].send_signal(signal.SIGCONT)
            time.sleep(a.slice_ms / 1000)
            wrks[n].send_signal(signal.SIGSTOP)
    time.sleep(0.05)  # requests in flight at the last stop finish
    out = {}
    busy = a.rotations * a.slice_ms / 1000
    for n in names:
        served = requests_served(admin[n]) - r0[n]
        out[n] = {"requests": served, "rps": served / busy, "errors": 0.0, "non2xx": 0.0,
                  "cpu_us": (cpu_ns(pid[n]) - t0[n]) / 1e3 / max(served, 1)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arm", action="append", required=True, metavar="NAME=SPEC")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--b3", choices=["single", "multi"], default="single")
    ap.add_argument("--baseline", default="passthrough")
    ap.add_argument("--compare", default="lua")
    ap.add_argument("--delta", metavar="NAME",
                    help="also report each arm's CPU over this arm's, as the median of per-round differences "
                         "(what a feature adds to the filter, paired round by round)")
    ap.add_argument("--expect", action="append", default=[], metavar="NAME",
                    help="arms that must write the translated traceparent (sanity check); others must not")
    ap.add_argument("--together", action="store_true",
                    help="run every arm at the same time in each round (one wrk each) instead of one after another")
    ap.add_argument("--slice-ms", type=int, default=0,
                    help="time-slice the arms: every arm's wrk runs alone for this long, in turn, many times "
                         "per round (so slow drift of the machine's speed hits every arm alike)")
    ap.add_argument("--rotations", type=int, default=10, help="with --slice-ms: turns of every arm per round")
    ap.add_argument("--title", default="")
    ap.add_argument("--out")
    a = ap.parse_args()
    arms = [tuple(x.split("=", 1)) for x in a.arm]
    names = [n for n, _ in arms]
    for need in (a.baseline, a.compare) + ((a.delta,) if a.delta else ()):
        if need not in names:
            raise SystemExit(f"bench: no arm named {need!r}")
    for tool in ("envoy", "wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/ensure-tools.sh installs envoy and wrk)")

    ncpu = os.cpu_count() or 1
    worker_cpu = str(ncpu - 1)
    other_cpus = f"0-{ncpu - 2}" if ncpu > 1 else "0"
    base = int(os.environ.get("BASE_PORT", "18200"))
    work = tempfile.mkdtemp(prefix="tracebridge-bench.")
    envoys = Envoys(work)
    wrks = {}
    try:
        up, up_admin = base, base + 1
        upstream = envoys.start("upstream", UPSTREAM.format(port=up, admin=up_admin), up_admin, other_cpus)
        port, pid, admin = {}, {}, {}
        for i, (name, spec) in enumerate(arms):
            listen, adm = base + 2 + 2 * i, base + 3 + 2 * i
            port[name], admin[name] = listen, adm
            pid[name] = envoys.start(name, envoy_config(spec, listen, adm, up), adm, worker_cpu).pid
        del upstream

        # Sanity: the arms that translate write the traceparent, the others do not.
        hdr = ({"b3": "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"} if a.b3 == "single" else
               {"X-B3-TraceId": "0af7651916cd43dd8448eb211c80319c", "X-B3-SpanId": "b7ad6b7169203331",
                "X-B3-Sampled": "1"})
        for name in names:
            got = echo(port[name], hdr)
            want = WANT if name in a.expect else ""
            if a.expect and got != want:
                raise SystemExit(f"bench: sanity: arm {name} sent traceparent {got!r} upstream, expected {want!r}")
        log(f"sanity ok ({', '.join(a.expect) or 'not checked'} write {WANT})")

        if a.slice_ms:
            # One wrk per arm for the whole run, stopped (SIGSTOP) except during its arm's slices.
            total = int(a.rounds * a.rotations * len(names) * a.slice_ms / 1000) + 60
            for n in names:
                wrks[n] = start_wrk(f"http://127.0.0.1:{port[n]}/", total, a.connections, a.b3, other_cpus)
                wrks[n].send_signal(signal.SIGSTOP)
        log("warm-up")
        for name in names:
            wrk(f"http://127.0.0.1:{port[name]}/", 2, a.connections, a.b3, other_cpus)
        rounds = []
        for r in range(a.rounds):
            got = {}
            if a.slice_ms:
                got = sliced_round(names, pid, admin, wrks, a)
            elif a.together:
                # Every arm at once, each with its own wrk: all see the same machine at the same moment.
                t0 = {n: cpu_ns(pid[n]) for n in names}
                procs = {n: start_wrk(f"http://127.0.0.1:{port[n]}/", a.duration, a.connections, a.b3, other_cpus)
                         for n in names}
                res = {n: wrk_result(p) for n, p in procs.items()}
                for n in names:
                    res[n]["cpu_us"] = (cpu_ns(pid[n]) - t0[n]) / 1e3 / max(res[n]["requests"], 1)
                got = res
            else:
                for name in names[r % len(names):] + names[:r % len(names)]:
                    t0 = cpu_ns(pid[name])
                    res = wrk(f"http://127.0.0.1:{port[name]}/", a.duration, a.connections, a.b3, other_cpus)
                    res["cpu_us"] = (cpu_ns(pid[name]) - t0) / 1e3 / max(res["requests"], 1)
                    got[name] = res
            for name, res in got.items():
                log(f"round {r + 1} {name}: {res['rps']:.0f} req/s, {res['cpu_us']:.2f} us CPU/request, "
                    f"errors {res['errors']:.0f}, non-2xx {res['non2xx']:.0f}")
            rounds.append(got)
    finally:
        for p in wrks.values():
            p.send_signal(signal.SIGCONT)
            p.kill()
        envoys.stop()
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median
    lines = []
    p = lines.append
    if a.title:
        p(f"### {a.title}\n")
    if a.slice_ms:
        mode = f"{a.rotations} turns of {a.slice_ms} ms per arm per round, arms in turn"
    elif a.together:
        mode = f"{a.duration} s, all arms at once in each round"
    else:
        mode = f"{a.duration} s per arm, one after another, order rotating"
    p(f"{a.rounds} rounds ({mode}); wrk -t1 -c{a.connections} per arm, B3 {a.b3} on every "
      f"request; each arm one Envoy worker (--concurrency 1) pinned to CPU {worker_cpu}, wrk and the upstream on "
      f"CPU {other_cpus}; {ncpu} CPUs; load average at the end {open('/proc/loadavg').read().split()[0]}.\n")
    delta_head = f" over {a.delta} (median of per-round differences) |" if a.delta else ""
    p(f"| arm | CPU/request (median) | per round | added over {a.baseline} (median of rounds) |{delta_head} "
      f"added / {a.compare}'s added (median of per-round ratios) | req/s vs {a.compare} (median of per-round ratios) | errors / non-2xx |")
    p("|---|---:|---|---:|" + ("---:|" if a.delta else "") + "---:|---:|---:|")
    for name in names:
        cpu = [g[name]["cpu_us"] for g in rounds]
        added = [g[name]["cpu_us"] - g[a.baseline]["cpu_us"] for g in rounds]
        cmp_added = [g[a.compare]["cpu_us"] - g[a.baseline]["cpu_us"] for g in rounds]
        ratio = [x / c if c > 0 else float("nan") for x, c in zip(added, cmp_added)]
        rps = [g[name]["rps"] / g[a.compare]["rps"] for g in rounds]
        errs = sum(g[name]["errors"] for g in rounds)
        non2xx = sum(g[name]["non2xx"] for g in rounds)
        per = " / ".join(f"{c:.1f}" for c in cpu)
        delta = ""
        if a.delta:
            delta = f" {med([g[name]['cpu_us'] - g[a.delta]['cpu_us'] for g in rounds]):+.1f} µs |"
        p(f"| {name} | {med(cpu):.1f} µs | {per} | {med(added):+.1f} µs |{delta} {med(ratio):.2f} | {med(rps):.2f}x | "
          f"{errs:.0f} / {non2xx:.0f} |")
    emit(lines, a.out)


def emit(lines, out):
    """Print the report's lines, and write them to `out` too when given (callgrind.py's as well)."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
