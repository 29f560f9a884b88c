#!/usr/bin/env bash
# Where the filter module's code goes on every request: per wasm function, the 64-byte lines of V8's
# code it runs on every request and its instructions (benches/envoy/code_lines.py). In Envoy those
# lines are fetched again on every request (Envoy's own code evicts them in between): callgrind's
# cache model (callgrind.sh --cache) counts them as the module's instruction-cache misses, which is
# most of what separates the filter from the Lua script. This names them.
#
#   benches/envoy/code-lines.sh [--requests 3000] [--config JSON] [--top 40] [--data]
#
# Builds the filter with its function names kept (same code: the name section only), runs it in node
# (benches/envoy/module-host.mjs --requests N, V8's optimizing compiler only) under callgrind, and
# reads V8's perf map for the functions' addresses. Needs valgrind (Debian: apt-get install valgrind).
# --data: also each function's data-cache misses per request (callgrind's cache model, with 1 MiB of
# other data written between requests, as Envoy's work evicts the module's between two requests).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
requests=3000 config='{"inject":["w3c"]}' top=40 data=()
while (($#)); do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --data) data=(--data); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "code-lines: unknown option $1" >&2; exit 2 ;;
  esac
done
"$root/scripts/ensure-tools.sh"
command -v valgrind >/dev/null || { echo "code-lines: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
out=$target_dir/code-lines
"$here/build-named.sh" "$out"
rm -f "$out"/callgrind.out "$out"/perf-*.map
# Every function compiled up front by TurboFan (no Liftoff tier, no lazy compilation): one copy of
# each function's code, named in the perf map (V8 writes it to /tmp/perf-<pid>.map).
cache=() evict=0
if ((${#data[@]})); then cache=(--cache-sim=yes) evict=1024; fi
valgrind --tool=callgrind "${cache[@]}" --smc-check=all --dump-instr=yes --callgrind-out-file="$out/callgrind.out" \
  node --perf-basic-prof --logfile="$out/v8.log" --no-logfile-per-isolate --no-liftoff --no-wasm-tier-up \
  --no-wasm-lazy-compilation --no-warnings \
  "$here/module-host.mjs" --wasm "$out/named.wasm" --requests "$requests" --evict "$evict" --arm "tracebridge=$config" \
  2>"$out/valgrind.log" &
pid=$!
wait $pid
mv "/tmp/perf-$pid.map" "$out/" 2>/dev/null || true
map=$(ls "$out"/perf-*.map 2>/dev/null | head -1)
[ -n "$map" ] || { echo "code-lines: node wrote no perf map (valgrind log: $out/valgrind.log)" >&2; exit 1; }
echo "node $(node --version), $config, $requests requests (V8 TurboFan code, callgrind)"
echo
python3 "$here/code_lines.py" "$out/callgrind.out" "$map" "$requests" --top "$top" "${data[@]}"
