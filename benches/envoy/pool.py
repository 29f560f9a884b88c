#!/usr/bin/env python3
"""Pool the rounds of several load.sh (bench.py) runs: each arm's added cost against the compared
arm's, per round, over every round of every run, with how far that median can be trusted.

    pool.py [--baseline passthrough] [--compare lua] [--against ARM ...] RUN.md [RUN.md ...]

Reads the per-round CPU per request of each arm from the tables bench.py writes (`--out`). Per round:
(arm - baseline) / (compare - baseline), as bench.py does; pooled: the median of every round's ratio,
how many rounds are at most 1, and two 95 % bootstrap intervals of that median (2 000 resamples,
seeded): one resampling rounds (as if every round were independent), one resampling whole runs
(what the machine does between runs moves every arm of a run together, so runs, not rounds, are
the independent samples: the honest interval, and the wider). With --against ARM (repeatable), also
each arm's added cost over that arm's, round by round (a build against the build before it). Every
row also gives the median of the per-round differences of CPU per request, in µs (how far above the
empty filter, the floor, Lua).

Why: one run of 30 rounds read anywhere from 0.60x to 1.35x Lua for one build on this machine, and
two sets of five such runs of the same builds differed by 7 %. Whether a difference of a few percent is
there at all is a question for the pooled rounds and their interval, not for one run.
"""

import argparse
import random
import re
import statistics
import sys

ROW = re.compile(r"\| (\S+) \| [\d.]+ µs \| ([\d. /]+) \|")


def rounds(path):
    """arm -> CPU per request (µs) of each round, from one bench.py table."""
    arms = {}
    with open(path) as f:
        for line in f:
            m = ROW.match(line)
            if m:
                arms[m.group(1)] = [float(x) for x in m.group(2).split("/")]
    return arms


def ratios(run, arm, base, over):
    """Per round: arm's added cost over `base` divided by `over`'s (rounds where `over` adds nothing
    are left out)."""
    return [(a - b) / (o - b) for a, b, o in zip(run[arm], run[base], run[over]) if o - b > 0]


def interval(samples, pick, n=2000, seed=1):
    """95 % bootstrap interval of the median of what `pick` makes of a resample of `samples`."""
    rng = random.Random(seed)
    meds = sorted(statistics.median(pick(rng.choices(samples, k=len(samples)))) for _ in range(n))
    return meds[n * 25 // 1000], meds[n * 975 // 1000]


def pooled(runs, arm, base, over):
    """Median of every round's ratio, rounds at most 1, the two intervals (rounds, runs), and the
    median of the per-round differences in µs."""
    have = [r for r in runs if arm in r and base in r and over in r]
    per_run = [ratios(r, arm, base, over) for r in have]
    flat = [x for run in per_run for x in run]
    if not flat:
        return None
    diff = statistics.median(a - o for r in have for a, o in zip(r[arm], r[over]))
    return (statistics.median(flat), sum(1 for x in flat if x <= 1.0), len(flat),
            interval(flat, lambda s: s), interval(per_run, lambda s: [x for run in s for x in run]), diff)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", metavar="RUN.md")
    ap.add_argument("--baseline", default="passthrough")
    ap.add_argument("--compare", default="lua")
    ap.add_argument("--against", action="append", default=[], help="also each arm against this one, round by round")
    a = ap.parse_args()
    runs = [rounds(p) for p in a.runs]
    for path, run in zip(a.runs, runs):
        if a.baseline not in run or a.compare not in run:
            sys.exit(f"pool.py: {path} has no {a.baseline} or {a.compare} rows (a bench.py --out table?)")
    arms = [arm for arm in runs[0] if arm not in (a.baseline, a.compare)]
    print(f"{len(runs)} runs; per round, added over {a.baseline} / {a.compare}'s added; 95 % bootstrap "
          "intervals of the median, resampling rounds and resampling runs")
    print()
    print("| arm | against | median of every round | rounds ≤ 1 | interval (rounds) | interval (runs) "
          "| difference (µs, median of rounds) |")
    print("|---|---|---:|---:|---|---|---:|")
    pairs = [(arm, over) for over in [a.compare] + a.against for arm in arms if arm != over]
    for arm, over in pairs:
        got = pooled(runs, arm, a.baseline, over)
        if got is None:
            continue
        med, low, n, (r0, r1), (u0, u1), diff = got
        print(f"| {arm} | {over} | {med:.3f} | {low} of {n} | {r0:.3f}–{r1:.3f} | {u0:.3f}–{u1:.3f} | {diff:+.2f} |")


if __name__ == "__main__":
    main()
