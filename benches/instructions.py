#!/usr/bin/env python3
"""Instructions per op, counted by callgrind: the ops of the criterion bench, tracebridge against
OpenTelemetry Rust and the floor (the carrier lookups and writes alone), as a markdown table.

Exact and repeatable on a shared, busy machine, where criterion's times wander: a second measure
beside them, not a replacement (instructions are not time — an allocation, a cache miss or a page
fault costs more than its count).

    python3 benches/instructions.py [--n 2000]

Each case runs `instructions <op> <format> <impl> <n>` (benches/src/bin/instructions.rs) twice under
`valgrind --tool=callgrind`, with n and with 0 repetitions; the difference over n is one op's
instructions, setup excluded. Needs valgrind (Debian: `apt-get install valgrind`).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIVE = ["w3c", "b3-single", "b3-multi", "jaeger", "xray"]
CASES = (
    [("extract", f) for f in FIVE]
    + [("remote", f) for f in FIVE]
    + [("inject", f) for f in FIVE]
    + [("translate", f) for f in FIVE if f != "w3c"]
    + [("tracestate-parse", n) for n in ("1", "8", "32")]
    + [("tracestate-mutate", n) for n in ("1", "8", "32")]
    + [("request", "five-formats"), ("request", "five-formats-no-member")]
)
FLOORED = {"extract", "remote", "inject", "translate", "request"}


def build() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "-q", "--profile", "bench", "-p", "tracebridge-benches", "--bin", "instructions"],
        cwd=ROOT,
        check=True,
    )
    # The bench profile (the one criterion uses: one codegen unit, see Cargo.toml) builds into `release`.
    return target / "release" / "instructions"


def count(binary: Path, op: str, fmt: str, imp: str, n: int) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out", str(binary), op, fmt, imp, str(n)],
            capture_output=True,
            text=True,
        )
    if out.returncode != 0:
        sys.exit(f"{op} {fmt} {imp}: {out.stderr.strip().splitlines()[-1:]}")
    m = re.search(r"Collected : (\d+)", out.stderr)
    if not m:
        sys.exit(f"{op} {fmt} {imp}: no instruction count in callgrind's output")
    return int(m.group(1))


def per_op(binary: Path, op: str, fmt: str, imp: str, n: int) -> float:
    return (count(binary, op, fmt, imp, n) - count(binary, op, fmt, imp, 0)) / n


def main(argv):
    n = int(argv[argv.index("--n") + 1]) if "--n" in argv else 2000
    if not shutil.which("valgrind"):
        sys.exit("instructions.py: needs valgrind (Debian: apt-get install valgrind)")
    binary = build()
    print("| op | format | tracebridge instr/op | OpenTelemetry instr/op | ratio (OTel / tracebridge) "
          "| floor instr/op | OTel / floor |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for op, fmt in CASES:
        tb = per_op(binary, op, fmt, "tracebridge", n)
        ot = per_op(binary, op, fmt, "otel", n)
        fl = per_op(binary, op, fmt, "floor", n) if op in FLOORED else None
        cells = [f"{tb:,.0f}", f"{ot:,.0f}", f"{ot / tb:.1f}x",
                 f"{fl:,.0f}" if fl else "—", f"{ot / fl:.1f}x" if fl else "—"]
        print(f"| {op} | {fmt} | " + " | ".join(cells) + " |", flush=True)
    tb = per_op(binary, "parse-format", "traceparent", "tracebridge", n)
    mc = per_op(binary, "parse-format", "traceparent", "memcpy", n)
    lut = per_op(binary, "parse-format", "traceparent", "hex-table", n)
    ch = per_op(binary, "parse-format", "traceparent", "const-hex", n)
    print()
    print("| op | memcpy instr/op | tracebridge instr/op | tracebridge / memcpy | hex-table instr/op "
          "| const-hex instr/op |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| parse-format traceparent | {mc:,.0f} | {tb:,.0f} | {tb / mc:.1f}x | {lut:,.0f} | {ch:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
