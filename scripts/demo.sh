#!/usr/bin/env bash
# tracebridge in Envoy, end to end on loopback:
#   ensure tools, build the filter, start an echo upstream and Envoy, send one request per legacy
#   format and show the trace headers that went in and what the upstream received.
#
#   scripts/demo.sh          keep serving until Ctrl-C (try your own curl against the listener)
#   scripts/demo.sh --once   exit after the demo requests
#
# Ports (env): LISTEN_PORT=10000 UPSTREAM_PORT=10080 ADMIN_PORT=9901.
# Filter configuration (env): TRACEBRIDGE_CONFIG (JSON, see wasm-filter/README.md).
set -euo pipefail

once=false
case "${1:-}" in
  --once) once=true ;;
  "") ;;
  *) echo "usage: $0 [--once]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
listen=${LISTEN_PORT:-10000} upstream=${UPSTREAM_PORT:-10080} admin=${ADMIN_PORT:-9901}
config=${TRACEBRIDGE_CONFIG:-'{"extract":["w3c","b3-single","b3-multi","jaeger","xray","grpc-trace-bin"],"inject":["w3c"],"on_missing":"new-root","response_trace_id_header":"x-trace-id"}'}
work=$(mktemp -d "${TMPDIR:-/tmp}/tracebridge-demo.XXXXXX")

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/scripts/ensure-tools.sh"
TRACEBRIDGE_WASM=$root/target/tracebridge.wasm "$root/scripts/build-filter.sh"
# Response headers (`response_trace_id_header`, `traceresponse`) are served by the response build only
# (wasm-filter/README.md, "Two builds").
wasm=$root/target/tracebridge.wasm
if python3 -c 'import json, sys; c = json.loads(sys.argv[1])
sys.exit(0 if c.get("response_trace_id_header") is not None or c.get("traceresponse") is True else 1)' "$config"; then
  wasm=$root/target/tracebridge-response.wasm
fi

"$root/scripts/envoy-config.sh" --wasm "$wasm" --config "$config" \
  --listen "$listen" --upstream "$upstream" --admin "$admin" >"$work/envoy.yaml"

python3 "$root/scripts/demo-upstream.py" "$upstream" &
pids+=($!)
envoy -c "$work/envoy.yaml" --concurrency 1 --disable-hot-restart -l warn --component-log-level wasm:info \
  >"$work/envoy.log" 2>&1 &
pids+=($!)

# Wait for Envoy's listener (and make sure it did not refuse the configuration).
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$admin/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then
    echo "demo: envoy exited; its log:" >&2; cat "$work/envoy.log" >&2; exit 1
  fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$admin/ready" >/dev/null || { echo "demo: envoy did not become ready" >&2; cat "$work/envoy.log" >&2; exit 1; }

trace_headers='traceparent|tracestate|b3|x-b3-[a-z]+|uber-trace-id|uberctx-[a-z0-9-]+|x-amzn-trace-id|grpc-trace-bin'
show_upstream() {
  python3 -c '
import json, re, sys
got = json.load(sys.stdin)
for name in sorted(got):
    if re.fullmatch(sys.argv[1], name):
        for v in got[name]:
            print(f"    {name}: {v}")
' "$trace_headers"
}

send() {
  local title=$1; shift
  printf '\n== %s\n  sent:\n' "$title"
  local args=()
  for h in "$@"; do printf '    %s\n' "$h"; args+=(-H "$h"); done
  printf '  upstream received:\n'
  curl -fsS "${args[@]}" "http://127.0.0.1:$listen/demo" | show_upstream
}

echo "filter configuration: $config"
send "B3 single" "b3: 0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"
send "B3 multi" "X-B3-TraceId: 0af7651916cd43dd8448eb211c80319c" "X-B3-SpanId: b7ad6b7169203331" "X-B3-Sampled: 1"
send "Jaeger" "uber-trace-id: 0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1"
send "AWS X-Ray" "X-Amzn-Trace-Id: Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1"
send "grpc-trace-bin" "grpc-trace-bin: AAAK92UZFs1D3YRI6yEcgDGcAbeta3FpIDMxAgE="
send "nothing (a new root is started)"

cat <<EOF

listener:  http://127.0.0.1:$listen/   (upstream echo on 127.0.0.1:$upstream)
stats:     http://127.0.0.1:$admin/stats?filter=wasmcustom.tracebridge
           http://127.0.0.1:$admin/stats/prometheus  (tracebridge_* counters)
envoy log: $work/envoy.log
EOF
# The filter hands its counts to Envoy every 500 ms (wasm-filter/README.md, "Stats").
sleep 0.6
curl -fsS "http://127.0.0.1:$admin/stats?filter=wasmcustom.tracebridge" | grep -v ': 0$' | sed 's/^/  /'

if $once; then exit 0; fi
echo
echo "serving; Ctrl-C to stop"
wait "${pids[1]}"
