#!/usr/bin/env bash
# Instructions per call of one benchmark case in node, counted by callgrind: exact where the times
# of bench.mjs wander (±30 % on this VM), to tell which change moved what; bench.mjs stays the judge
# of the targets (time against OpenTelemetry JS).
#
#   benches/node/count.sh <op> <format> <impl> [n]     e.g. count.sh extract w3c wasm
#
# Runs `case.mjs` twice under valgrind with TB_CASE_COUNT=n and =0 (the same fixed warm-up in both)
# and prints (count(n) - count(0)) / n. Wasm is compiled by the optimizing compiler up front
# (--no-liftoff --no-wasm-lazy-compilation), and V8 runs on one thread (--single-threaded): with
# background compiler threads, how much of their work finished before the process exited changed a
# count by more than the calls themselves. Two runs of one case agree to a few instructions.
# Needs valgrind (Debian: apt-get install valgrind) and `bash scripts/test-node.sh` run once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 3 ] || { sed -n '6p' "$0" >&2; exit 2; }
op=$1 format=$2 impl=$3 n=${4:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
  TB_CASE_COUNT=$1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" \
    node --single-threaded --no-liftoff --no-wasm-lazy-compilation "$here/case.mjs" "$op" "$format" "$impl" 2>"$tmp/log.$1" >/dev/null ||
    { cat "$tmp/log.$1" >&2; exit 1; }
  grep -o 'Collected : [0-9]*' "$tmp/log.$1" | grep -o '[0-9]*'
}
with=$(count "$n")
without=$(count 0)
echo "$op $format $impl: $(( (with - without) / n )) instructions per call ($n calls)"
