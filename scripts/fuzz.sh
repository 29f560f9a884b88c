#!/usr/bin/env bash
# Fuzz every parser and the Translator with libFuzzer (cargo-fuzz, nightly), one target at a time,
# each for a bounded time, then print a summary. Exit status 1 when any target crashed.
#
#   scripts/fuzz.sh            # smoke: 5 s per target (what the README test command runs)
#   scripts/fuzz.sh 120        # a longer session: 2 min per target (about 20 min in all)
#   FUZZ_TARGETS="xray translator" scripts/fuzz.sh 600
#
# Bounded: -max_total_time per target, -timeout per input (a slow input is a failure), -rss_limit_mb.
# Corpora are seeded from tests/vectors/*.json (fuzz/seed_corpus.py) into fuzz/corpus/<target>/
# (gitignored; libFuzzer adds what it finds there). Crashes land in fuzz/artifacts/<target>/;
# reproduce one with `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-5}"
PER_INPUT_TIMEOUT="${FUZZ_TIMEOUT:-10}"
TARGETS="${FUZZ_TARGETS:-traceparent tracestate tracestate_write b3_single b3_multi jaeger xray grpc_trace_bin datadog gcp ot instana baggage translator remote_inject config envoy_headers}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
export CARGO_TERM_COLOR=never

rustup toolchain list | grep -q '^nightly' || { echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz

python3 fuzz/seed_corpus.py
cargo +nightly fuzz build --fuzz-dir fuzz >/dev/null

max_len() {
  case "$1" in
    # Past tracestate::MAX_INPUT_LEN (16512) so the length limit is exercised.
    tracestate | tracestate_write | translator | remote_inject) echo 20000 ;;
    # Past carrier::MAX_VALUE_LEN (1024).
    *) echo 2048 ;;
  esac
}

count() { if [ -d "$1" ]; then find "$1" -maxdepth 1 -type f | wc -l; else echo 0; fi; }

logs="$CARGO_TARGET_DIR/fuzz-logs"
mkdir -p "$logs"
failed=0
total=0
rows=()
for t in $TARGETS; do
  before=$(count "fuzz/artifacts/$t")
  status=ok
  cargo +nightly fuzz run --fuzz-dir fuzz "$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$PER_INPUT_TIMEOUT" -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 >"$logs/$t.log" 2>&1 || status=CRASH
  after=$(count "fuzz/artifacts/$t")
  if [ "$after" -gt "$before" ]; then status=CRASH; fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  corpus=$(count "fuzz/corpus/$t")
  total=$((total + ${execs:-0}))
  if [ "$status" != ok ]; then
    failed=1
    echo "--- $t crashed; log: $logs/$t.log"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$logs/$t.log" | head -5 || true
  fi
  rows+=("$(printf '%-16s %12s %9s %8s  %s' "$t" "${execs:-?}" "${secs:-?}" "$corpus" "$status")")
done

printf '\n%-16s %12s %9s %8s  %s\n' target executions exec/s corpus result
printf '%s\n' "${rows[@]}"
printf '%-16s %12s   (%s s per target, -timeout=%s s per input)\n' total "$total" "$SECONDS_PER_TARGET" "$PER_INPUT_TIMEOUT"
exit "$failed"
