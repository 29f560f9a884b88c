"""Per wasm function of the filter: the 64-byte lines of V8's code it runs on every request, and its
instructions per request. From a callgrind dump (`--dump-instr=yes`) of node running the module
(benches/envoy/module-host.mjs --requests N) and V8's perf map (`--perf-basic-prof`), which names
each compiled wasm function. A line counts when its instructions ran at least N times in all: once
per request or more (configuration-time code runs once and is left out).

    python3 code_lines.py DUMP PERF_MAP N [--top 40] [--data]

--data (a dump made with `--cache-sim=yes`, the module's data evicted between requests): each
function's data-cache misses per request (D1 read + write misses of its instructions), the lines of
data it brings in on every request, sorted by them.

In Envoy every request finds these lines evicted by Envoy's own code since the last one (the cache
model of callgrind.sh --cache), so their number is what the module's code costs beyond its
instructions. Node's V8 is not Envoy's, and compiles alike only roughly: read the shares.
"""
import argparse
import bisect
import collections
import re


def ranges_of(perf_map):
    """(start, end, name) of every code object V8 logged, sorted."""
    out = []
    for line in open(perf_map):
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) < 3:
            continue
        start, size, name = int(parts[0], 16), int(parts[1], 16), parts[2]
        # `JS:<wasm function name>-<index>-turbofan`; Rust names lose their hash.
        m = re.match(r"JS:(.*)-\d+-(turbofan|liftoff)$", name)
        if m and not m.group(1).startswith(("wasm-to-js", "js-to-wasm")):
            name = "wasm " + re.sub(r"17h[0-9a-f]{16}E$", "", m.group(1))
        out.append((start, start + size, name))
    return sorted(out)


def costs_of(dump, events=("Ir",)):
    """Per address, the sum of `events` (instructions by default), from a callgrind dump with
    `positions: instr line`."""
    cost = collections.Counter()
    addr, skip, columns = 0, False, [0]
    for line in open(dump):
        first = line[:1]
        if line.startswith("events:"):
            names = line.split()[1:]
            columns = [names.index(e) for e in events if e in names]
        if not first or first.isalpha() or first in "#\n":
            # The cost line after `calls=` is the call's inclusive cost: not this address's own.
            skip = line.startswith("calls=")
            continue
        parts = line.split()
        pos = parts[0]
        if pos.startswith("0x"):
            addr = int(pos, 16)
        elif pos[0] in "+-":
            addr += int(pos)
        elif pos != "*":
            continue
        if skip:
            skip = False
            continue
        # After the two positions, the events in `events:` order (trailing zeros left out).
        values = parts[2:]
        cost[addr] += sum(int(values[c]) for c in columns if c < len(values) and values[c].isdigit())
    return cost


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("perf_map")
    ap.add_argument("requests", type=int)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--data", action="store_true")
    a = ap.parse_args()
    ranges = ranges_of(a.perf_map)
    starts = [r[0] for r in ranges]

    def owner(addr):
        i = bisect.bisect_right(starts, addr) - 1
        return ranges[i][2] if i >= 0 and addr < ranges[i][1] else None

    cost = costs_of(a.dump)
    per_line = collections.Counter()
    instr = collections.Counter()
    for addr, c in cost.items():
        name = owner(addr)
        if name and name.startswith("wasm "):
            per_line[(name, addr >> 6)] += c
            instr[name] += c
    lines = collections.Counter(name for (name, _), c in per_line.items() if c >= a.requests)
    n = a.requests
    if a.data:
        misses = collections.Counter()
        for addr, c in costs_of(a.dump, ("D1mr", "D1mw")).items():
            name = owner(addr)
            if name and name.startswith("wasm "):
                misses[name] += c
        print("| wasm function | data-cache misses per request | code lines run every request |")
        print("|---|---:|---:|")
        for name, m in misses.most_common(a.top):
            print(f"| `{name[5:][:100]}` | {m / n:.1f} | {lines[name]} |")
        print(f"| **all** | **{sum(misses.values()) / n:.1f}** | **{sum(lines.values())}** |")
        return
    print(f"| wasm function | code lines run every request | instructions per request |")
    print("|---|---:|---:|")
    for name, count in lines.most_common(a.top):
        print(f"| `{name[5:][:100]}` | {count} | {instr[name] / n:.0f} |")
    print(f"| **all** | **{sum(lines.values())}** | **{sum(instr[k] for k in lines) / n:.0f}** |")


if __name__ == "__main__":
    main()
