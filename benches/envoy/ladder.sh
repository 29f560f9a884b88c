#!/usr/bin/env bash
# The filter's ablation ladder: where each µs of Envoy CPU per request goes.
#
#   benches/envoy/ladder.sh [--rounds 10] [--before REV] [--out FILE]   (other options: bench.py --help)
#
# Arms, all in one run (benches/envoy/bench.py: one pinned Envoy worker each, interleaved rounds):
#   passthrough   no HTTP filter
#   empty-sdk     an empty proxy-wasm filter on the Rust SDK (benches/envoy/empty-filter)
#   before        (with --before REV) the filter as built at git revision REV
#   callbacks     tracebridge built to return at once: the cost of its exported callbacks alone
#   fetch         ... to stop after reading the request headers
#   plan          ... after core's Translator::plan_into (the general route: every format inspected)
#   apply         ... after translating as shipped (Translator::translate_into: a request of one
#                 format takes its direct route, which plans nothing), no counters
#   direct        ... to translate without the translator: core reads `b3` and writes `traceparent`,
#                 nothing else (the least real translation; what the policy's generality costs is the rest)
#   tracebridge   the filter as shipped (+ counters)
#   lua           benches/envoy/b3-to-w3c.lua, the hand-written comparison
# Every tracebridge arm runs {"inject":["w3c"]} with every format extracted (the default); requests carry
# B3 single.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
before="" args=()
while (($#)); do
  case "$1" in
    --before) before=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
"$root/scripts/ensure-tools.sh"
out_dir=$target_dir/ladder
mkdir -p "$out_dir"
for stage in empty fetch plan apply direct; do
  FILTER_FEATURES=ladder-$stage TRACEBRIDGE_WASM=$out_dir/$stage.wasm "$root/scripts/build-filter.sh" >&2
done
TRACEBRIDGE_WASM=$out_dir/tracebridge.wasm "$root/scripts/build-filter.sh" >&2
empty=$("$here/build-reference.sh" empty-filter)
cfg='{"inject":["w3c"]}'
arms=(--arm passthrough=none --arm "empty-sdk=wasm:$empty")
expect=(--expect apply --expect direct --expect tracebridge --expect lua)
if [ -n "$before" ]; then
  before_wasm=$("$here/build-before.sh" "$before")
  arms+=(--arm "before=wasm:$before_wasm:$cfg")
  expect+=(--expect before)
fi
arms+=(--arm "callbacks=wasm:$out_dir/empty.wasm:$cfg" --arm "fetch=wasm:$out_dir/fetch.wasm:$cfg"
  --arm "plan=wasm:$out_dir/plan.wasm:$cfg" --arm "apply=wasm:$out_dir/apply.wasm:$cfg"
  --arm "direct=wasm:$out_dir/direct.wasm:$cfg" --arm "tracebridge=wasm:$out_dir/tracebridge.wasm:$cfg" --arm "lua=lua:$here/b3-to-w3c.lua")
python3 "$here/bench.py" --b3 single --rounds 10 --slice-ms 100 --rotations 10 --connections 32 --title "Ablation ladder" \
  "${arms[@]}" "${expect[@]}" ${args[@]+"${args[@]}"}
