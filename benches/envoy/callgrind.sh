#!/usr/bin/env bash
# Envoy's instructions per request for each arm, counted by callgrind (benches/envoy/callgrind.py):
# exact where CPU time per request is noise (±4 µs per round on this VM), to tell which change moved
# what. load.sh stays the judge of the gateway target (CPU time); this explains it.
#
#   benches/envoy/callgrind.sh [--before REV] [--ladder] [--cache] [--branches] [--requests 2000] [--out FILE]
#
# Arms: passthrough, floor (benches/envoy/floor-filter), tracebridge {"inject":["w3c"]} (every format
# extracted), lua (b3-to-w3c.lua), and with --before REV the filter as built at git revision REV.
# --ladder adds ladder.sh's builds that stop after each step (callbacks, fetch, plan, apply) and its
# `direct` build (the B3 header read and the traceparent written by core, no plan); --cache
# simulates the caches too (callgrind.py: misses and a cycle estimate, ≈ 2 min per arm); --branches
# the branch predictor (mispredictions per request, and the estimate with them).
# Every request carries B3 single. Needs valgrind (Debian: apt-get install valgrind); ≈ 1 min per arm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
before="" ladder="" args=()
while (($#)); do
  case "$1" in
    --before) before=$2; shift 2 ;;
    --ladder) ladder=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
"$root/scripts/ensure-tools.sh"
wasm=$target_dir/tracebridge.wasm
TRACEBRIDGE_WASM=$wasm "$root/scripts/build-filter.sh" >&2
floor=$("$here/build-reference.sh" floor-filter)
cfg='{"inject":["w3c"]}'
arms=(--arm passthrough=none --arm "floor=wasm:$floor")
expect=(--expect floor --expect tracebridge --expect lua)
if [ -n "$before" ]; then
  before_wasm=$("$here/build-before.sh" "$before")
  arms+=(--arm "before=wasm:$before_wasm:$cfg")
  expect+=(--expect before)
fi
if [ -n "$ladder" ]; then
  out_dir=$target_dir/ladder
  mkdir -p "$out_dir"
  for stage in empty fetch plan apply direct; do
    FILTER_FEATURES=ladder-$stage TRACEBRIDGE_WASM=$out_dir/$stage.wasm "$root/scripts/build-filter.sh" >&2
  done
  arms+=(--arm "callbacks=wasm:$out_dir/empty.wasm:$cfg" --arm "fetch=wasm:$out_dir/fetch.wasm:$cfg"
    --arm "plan=wasm:$out_dir/plan.wasm:$cfg" --arm "apply=wasm:$out_dir/apply.wasm:$cfg"
    --arm "direct=wasm:$out_dir/direct.wasm:$cfg")
  expect+=(--expect apply --expect direct)
fi
arms+=(--arm "tracebridge=wasm:$wasm:$cfg" --arm "lua=lua:$here/b3-to-w3c.lua")
python3 "$here/callgrind.py" "${arms[@]}" "${expect[@]}" ${args[@]+"${args[@]}"}
