#!/usr/bin/env python3
"""Turn criterion's output into the markdown tables of BENCHMARKS.md.

Reads every `<criterion dir>/**/new/benchmark.json` (for the `<op>/<format>/<impl>` id: criterion
replaces `/` in directory names, so the id is taken from this file, not the path) and the
`estimates.json` beside it (the mean's point estimate and 95% confidence interval, in ns).

    python3 benches/report.py [target/criterion] [--stat mean|median]

Prints one table of tracebridge against OpenTelemetry (ratio = OpenTelemetry / tracebridge, so 10.0x
means tracebridge is ten times faster), with the floor where one was measured (the carrier lookups and
writes alone; OTel / floor is the best ratio any implementation could reach), then the baseline table (traceparent parse+format against a
memcpy of its 55 bytes). Standard library only.
"""

import json
import os
import sys
from pathlib import Path

OPS = ["parse-format", "extract", "inject", "translate", "tracestate-parse", "tracestate-mutate", "request"]
FORMATS = ["traceparent", "w3c", "b3-single", "b3-multi", "jaeger", "xray", "grpc-trace-bin", "datadog", "ot",
           "instana", "gcp", "1", "8", "32", "five-formats", "five-formats-no-member"]


def load(root: Path, stat: str):
    """{(op, format): {impl: (ns, lo, hi)}}"""
    out = {}
    for bench in root.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())[stat]
        full = meta.get("full_id") or f"{meta['group_id']}/{meta['function_id']}"
        parts = full.split("/")
        if len(parts) != 3:
            continue
        op, fmt, impl = parts
        ci = est["confidence_interval"]
        out.setdefault((op, fmt), {})[impl] = (est["point_estimate"], ci["lower_bound"], ci["upper_bound"])
    return out


def order(key):
    op, fmt = key
    return (OPS.index(op) if op in OPS else len(OPS), FORMATS.index(fmt) if fmt in FORMATS else len(FORMATS), fmt)


def ns(v):
    if v is None:
        return "—"
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    stat = "median" if "--stat" in argv and argv[argv.index("--stat") + 1] == "median" else "mean"
    args = [a for a in args if a not in ("mean", "median")]
    root = Path(args[0] if args else os.environ.get("CARGO_TARGET_DIR", "target") + "/criterion")
    data = load(root, stat)
    if not data:
        sys.exit(f"no criterion results under {root}")

    print("| op | format | tracebridge ns/op | OpenTelemetry ns/op | ratio (OTel / tracebridge) "
          "| floor ns/op | OTel / floor |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for key in sorted(data, key=order):
        impls = data[key]
        if "memcpy" in impls:
            continue
        tb = impls.get("tracebridge", (None,))[0]
        ot = impls.get("otel", (None,))[0]
        fl = impls.get("floor", (None,))[0]
        ratio = f"{ot / tb:.1f}x" if tb and ot else "—"
        best = f"{ot / fl:.1f}x" if fl and ot else "—"
        print(f"| {key[0]} | {key[1]} | {ns(tb)} | {ns(ot)} | {ratio} | {ns(fl)} | {best} |")

    base = {k: v for k, v in data.items() if "memcpy" in v}
    if base:
        others = sorted({i for v in base.values() for i in v} - {"memcpy"}, key=lambda i: (i != "tracebridge", i))
        print()
        print("| op | format | memcpy ns/op | " + " | ".join(f"{i} ns/op | {i} / memcpy" for i in others) + " |")
        print("|---|---|---:|" + "---:|---:|" * len(others))
        for key in sorted(base, key=order):
            m = base[key]["memcpy"][0]
            cells = []
            for i in others:
                v = base[key].get(i, (None,))[0]
                cells += [ns(v), f"{v / m:.1f}x" if v and m else "—"]
            print(f"| {key[0]} | {key[1]} | {ns(m)} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main(sys.argv[1:])
