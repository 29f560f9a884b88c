#!/usr/bin/env bash
# Print a static Envoy configuration (YAML) running the tracebridge filter in front of one upstream.
#
#   scripts/envoy-config.sh --wasm target/tracebridge.wasm --config '{"inject":["w3c"]}' \
#       --listen 10000 --upstream 8080 --admin 9901 > envoy.yaml
#
# Other filters in the same place (benchmarks compare against them):
#   --filter none                  no filter before the router (plain pass-through proxy)
#   --filter lua --lua FILE        an envoy.filters.http.lua filter running FILE instead of tracebridge
#   --access-log FILE              a file access log on the listener that prints the filter's
#                                  per-request fields (plugin configuration "access_log": true)
#
# Everything listens on 127.0.0.1. The plugin configuration is passed to the filter as a
# google.protobuf.StringValue (see wasm-filter/README.md for its keys). The output always has the
# stats_config tag that turns the per-caller counters ("caller" in the plugin configuration) into
# the Prometheus label `caller`; it matches no other stat.
set -euo pipefail

wasm="" config="" listen=10000 upstream=8080 admin=9901 filter=wasm lua="" access_log=""
while (($#)); do
  case "$1" in
    --wasm) wasm=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --upstream) upstream=$2; shift 2 ;;
    --admin) admin=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --lua) lua=$2; shift 2 ;;
    --access-log) access_log=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
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

# The listener's access log, per --access-log: the default format plus the filter's fields.
listener_access_log() {
  [ -n "$access_log" ] || return 0
  case "$access_log" in /*) ;; *) access_log="$PWD/$access_log" ;; esac
  cat <<LOG
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: $(quote "$access_log")
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\" %RESPONSE_CODE% tracebridge: %FILTER_STATE(wasm.tracebridge:PLAIN)%\n"
LOG
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
stats_config:
  stats_tags:
  # Per-caller counters: wasmcustom.caller=.=alpha;.;tracebridge.missing is the stat
  # wasmcustom.tracebridge.missing with the tag caller="alpha", i.e. tracebridge_missing{caller="alpha"}.
  - tag_name: caller
    regex: '(caller=\.=(.*?);\.;)'
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
$(listener_access_log)
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
