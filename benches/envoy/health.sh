#!/usr/bin/env bash
# What the per-caller counters, the access-log fields and traceresponse add to the gateway's cost,
# in one run (issue 13; the target of issue 15 must hold with the caller dimension on).
#
#   benches/envoy/health.sh [--rounds 20] [--out FILE]   (more: bench.py --help)
#
# Arms (benches/envoy/bench.py, method as load.sh; every request carries B3 single and
# x-client-name: checkout):
#   passthrough    no HTTP filter but the router
#   tracebridge    {"inject":["w3c"]}
#   caller         + "caller": {"header": "x-client-name"}      (read from the headers already fetched)
#   property       + "caller": {"attribute": ["request", "headers", "x-client-name"]}
#                  (the same caller through proxy_get_property: what principal / istio_peer pay)
#   access_log     + "caller": {"header": ...}, "access_log": true   (one proxy_set_property)
#   traceresponse  {"inject":["w3c"],"traceresponse":true}   (one header read, one write on the response)
#   lua            envoy.filters.http.lua running benches/envoy/b3-to-w3c.lua
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
"$root/scripts/ensure-tools.sh"
wasm=$target_dir/tracebridge.wasm
TRACEBRIDGE_WASM=$wasm "$root/scripts/build-filter.sh" >&2
echo ".wasm size: tracebridge $(wc -c <"$wasm" | tr -d ' ') bytes, the response build (traceresponse arm) $(wc -c <"${wasm%.wasm}-response.wasm" | tr -d ' ') bytes"
echo
w3c='"inject":["w3c"]'
header='"caller":{"header":"x-client-name"}'
python3 "$here/bench.py" --b3 single --rounds 20 --slice-ms 100 --rotations 10 --connections 32 \
  --title "Per-caller counters and access-log fields: cost" --delta tracebridge \
  --arm passthrough=none \
  --arm "tracebridge=wasm:$wasm:{$w3c}" \
  --arm "caller=wasm:$wasm:{$w3c,$header}" \
  --arm "property=wasm:$wasm:{$w3c,\"caller\":{\"attribute\":[\"request\",\"headers\",\"x-client-name\"]}}" \
  --arm "access_log=wasm:$wasm:{$w3c,$header,\"access_log\":true}" \
  --arm "traceresponse=wasm:${wasm%.wasm}-response.wasm:{$w3c,\"traceresponse\":true}" \
  --arm "lua=lua:$here/b3-to-w3c.lua" \
  --expect tracebridge --expect caller --expect property --expect access_log --expect traceresponse --expect lua "$@"
