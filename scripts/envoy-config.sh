#!/usr/bin/env bash
# Print a static Envoy configuration (YAML) running the tracebridge filter in front of one upstream.
#
#   scripts/envoy-config.sh --wasm target/tracebridge.wasm --config '{"inject":["w3c"]}' \
#       --listen 10000 --upstream 8080 --admin 9901 > envoy.yaml
#
# Other filters in the same place (benchmarks compare against them):
#   --filter none                  no filter before the router (plain pass-through proxy)
#   --filter lua --lua FILE        an envoy.filters.http.lua filter running FILE instead of tracebridge
#
# Everything listens on 127.0.0.1. The plugin configuration is passed to the filter as a
# google.protobuf.StringValue (see wasm-filter/README.md for its keys).
set -euo pipefail

wasm="" config="" listen=10000 upstream=8080 admin=9901 filter=wasm lua=""
while (($#)); do
  case "$1" in
    --wasm) wasm=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --upstream) upstream=$2; shift 2 ;;
    --admin) admin=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --lua) lua=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "envoy-config: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$filter" in
  wasm)
    [ -n "$wasm" ] || { echo "envoy-config: --wasm is required" >&2; exit 2; }
    case "$wasm" in /*) ;; *) wasm="$PWD/$wasm" ;; esac ;;
  lua)
    [ -n "$lua" ] || { echo "envoy-config: --filter lua needs --lua FILE" >&2; exit 2; }
    case "$lua" in /*) ;; *) lua="$PWD/$lua" ;; esac ;;
  none) ;;
  *) echo "envoy-config: --filter must be wasm, lua or none" >&2; exit 2 ;;
esac

# JSON text -> YAML double-quoted scalar (the same escapes as a JSON string).
quote() {
  local s=${1//$'\n'/ }
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# The HTTP filter in front of the router, per --filter.
trace_filter() {
  case "$filter" in
    wasm) cat <<FILTER
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: tracebridge
                root_id: tracebridge
                vm_config:
                  vm_id: tracebridge
                  runtime: envoy.wasm.runtime.v8
                  code:
                    local: { filename: $(quote "$wasm") }
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: $(quote "$config")
FILTER
      ;;
    lua) cat <<FILTER
          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code:
                filename: $(quote "$lua")
FILTER
      ;;
    none) ;;
  esac
}

cat <<YAML
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin }
static_resources:
  listeners:
  - name: tracebridge
    address:
      socket_address: { address: 127.0.0.1, port_value: $listen }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: tracebridge
          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
$(trace_filter)
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: $upstream }
YAML
