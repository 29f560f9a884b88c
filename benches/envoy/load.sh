#!/usr/bin/env bash
# The gateway's cost per request against what users run today, in one run.
#
#   benches/envoy/load.sh [--rounds 16] [--b3 single|multi] [--out FILE]   (more: bench.py --help)
#
# Arms (benches/envoy/bench.py: each its own Envoy with one worker pinned to a CPU, time-sliced in turn
# so that the machine's drift hits every arm alike; the Envoy process's CPU time per request served):
#   passthrough   no HTTP filter but the router
#   empty-sdk     an empty proxy-wasm filter on the Rust SDK (benches/envoy/empty-filter)
#   floor         the least a translating wasm filter does: one callback, one read of the request
#                 headers, one header written (benches/envoy/floor-filter)
#   tracebridge   the filter, {"inject":["w3c"]}: every format extracted, W3C out (scripts/build-filter.sh)
#   lua           envoy.filters.http.lua running benches/envoy/b3-to-w3c.lua (B3 -> traceparent by hand)
# Every request carries B3 (single by default). Also prints the .wasm sizes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
"$root/scripts/ensure-tools.sh"
wasm=$target_dir/tracebridge.wasm
TRACEBRIDGE_WASM=$wasm "$root/scripts/build-filter.sh" >&2
empty=$("$here/build-reference.sh" empty-filter)
floor=$("$here/build-reference.sh" floor-filter)
size() { echo "$(wc -c <"$1" | tr -d ' ') bytes ($(( $(wc -c <"$1") / 1024 )) KiB)"; }
echo ".wasm sizes: tracebridge $(size "$wasm"); empty SDK filter $(size "$empty"); floor filter $(size "$floor")"
echo
python3 "$here/bench.py" --b3 single --rounds 16 --slice-ms 100 --rotations 10 --connections 32 \
  --title "Gateway cost per request" \
  --arm passthrough=none --arm "empty-sdk=wasm:$empty" --arm "floor=wasm:$floor" \
  --arm "tracebridge=wasm:$wasm:{\"inject\":[\"w3c\"]}" --arm "lua=lua:$here/b3-to-w3c.lua" \
  --expect floor --expect tracebridge --expect lua "$@"
