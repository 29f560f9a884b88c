#!/usr/bin/env bash
# Envoy throughput and latency with and without tracebridge, on loopback, with wrk.
#
#   benches/envoy/load.sh [--rounds 3] [--duration 10] [--connections 16] [--concurrency 1]
#                         [--b3 multi|single] [--out FILE]
#
# Four arms, each its own Envoy (--concurrency N) in front of the same upstream, measured in
# alternating rounds (the order rotates every round) so that drift in the machine's load hits every
# arm alike:
#   passthrough   no HTTP filter but the router
#   empty-wasm    an empty proxy-wasm filter (benches/envoy/empty-filter): what any wasm filter costs
#   tracebridge   the wasm filter, {"inject":["w3c"]} (every format extracted), scripts/build-filter.sh
#   lua           envoy.filters.http.lua running benches/envoy/b3-to-w3c.lua (B3 -> traceparent by hand)
# Every request carries B3 (benches/envoy/b3.lua). The upstream is a fourth Envoy answering with a
# direct_response (its capacity alone is measured too, to show it is not the bottleneck); it echoes the
# traceparent it received in a response header, which the sanity check before the rounds reads.
#
# Per arm: req/s, p50/p99 (wrk) and the proxy's CPU time per request (/proc/<pid>/stat across the
# round), which a shared machine disturbs much less than req/s.
# Also measures the .wasm size against an empty proxy-wasm filter built the same way
# (benches/envoy/empty-filter). Prints a Markdown report (and writes it to --out when given).
# Ports: BASE_PORT (default 18100) .. BASE_PORT+9 on 127.0.0.1.
set -euo pipefail

rounds=3 duration=10 connections=16 concurrency=1 b3=multi out=""
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --b3) b3=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$b3" in multi|single) ;; *) echo "load.sh: --b3 is multi or single" >&2; exit 2 ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
base=${BASE_PORT:-18100}
work=$(mktemp -d "${TMPDIR:-/tmp}/tracebridge-load.XXXXXX")
say() { printf 'load: %s\n' "$*" >&2; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/scripts/ensure-tools.sh"

# --- sizes -------------------------------------------------------------------------------------
wasm=$target_dir/tracebridge.wasm
TRACEBRIDGE_WASM=$wasm "$root/scripts/build-filter.sh" >&2
say "building the empty proxy-wasm filter (size floor)"
(cd "$here/empty-filter" && CARGO_TARGET_DIR=$target_dir/empty-filter \
  cargo build --quiet --target wasm32-wasip1 --profile wasm-release)
empty_raw=$target_dir/empty-filter/wasm32-wasip1/wasm-release/empty_filter.wasm
empty=$target_dir/empty-filter.wasm
wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals --enable-multivalue --enable-reference-types "$empty_raw" -o "$empty"
size_tb=$(wc -c <"$wasm" | tr -d ' ')
size_empty=$(wc -c <"$empty" | tr -d ' ')

# --- Envoys ------------------------------------------------------------------------------------
upstream=$base upstream_admin=$((base + 1))
cat >"$work/upstream.yaml" <<YAML
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $upstream_admin } }
static_resources:
  listeners:
  - name: upstream
    address: { socket_address: { address: 127.0.0.1, port_value: $upstream } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: upstream
          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "ok" } }
                response_headers_to_add:
                - header: { key: x-echo-traceparent, value: "%REQ(traceparent)%" }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
YAML

arms=(passthrough empty-wasm tracebridge lua)
declare -A port admin
port[passthrough]=$((base + 2)) admin[passthrough]=$((base + 3))
port[empty-wasm]=$((base + 8)) admin[empty-wasm]=$((base + 9))
port[tracebridge]=$((base + 4)) admin[tracebridge]=$((base + 5))
port[lua]=$((base + 6)) admin[lua]=$((base + 7))
common=(--upstream "$upstream")
"$root/scripts/envoy-config.sh" --filter none "${common[@]}" \
  --listen "${port[passthrough]}" --admin "${admin[passthrough]}" >"$work/passthrough.yaml"
"$root/scripts/envoy-config.sh" --wasm "$empty" "${common[@]}" \
  --listen "${port[empty-wasm]}" --admin "${admin[empty-wasm]}" >"$work/empty-wasm.yaml"
"$root/scripts/envoy-config.sh" --wasm "$wasm" --config '{"inject":["w3c"]}' "${common[@]}" \
  --listen "${port[tracebridge]}" --admin "${admin[tracebridge]}" >"$work/tracebridge.yaml"
"$root/scripts/envoy-config.sh" --filter lua --lua "$here/b3-to-w3c.lua" "${common[@]}" \
  --listen "${port[lua]}" --admin "${admin[lua]}" >"$work/lua.yaml"

declare -A pid_of
start_envoy() { # name config concurrency admin-port
  envoy -c "$2" --concurrency "$3" --disable-hot-restart -l warning \
    >"$work/$1.log" 2>&1 &
  pids+=($!)
  local pid=$!
  pid_of[$1]=$pid
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$4/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  say "envoy $1 did not become ready; its log:"; cat "$work/$1.log" >&2; exit 1
}
start_envoy upstream "$work/upstream.yaml" 1 "$upstream_admin"
for arm in "${arms[@]}"; do start_envoy "$arm" "$work/$arm.yaml" "$concurrency" "${admin[$arm]}"; done

# --- sanity: each arm does what it claims ---------------------------------------------------------
want=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
if [ "$b3" = single ]; then
  b3_args=(-H "b3: 0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")
else
  b3_args=(-H "X-B3-TraceId: 0af7651916cd43dd8448eb211c80319c" -H "X-B3-SpanId: b7ad6b7169203331" -H "X-B3-Sampled: 1")
fi
for arm in "${arms[@]}"; do
  got=$(curl -fsS -o /dev/null -D - "${b3_args[@]}" "http://127.0.0.1:${port[$arm]}/" |
    tr -d '\r' | sed -n 's/^x-echo-traceparent: //Ip')
  expect=$want
  case "$arm" in passthrough|empty-wasm) expect="" ;; esac
  [ "$got" = "$expect" ] || { say "sanity: arm $arm sent traceparent '$got' upstream, expected '$expect'"; exit 1; }
done
say "sanity ok: tracebridge and lua write $want, passthrough and empty-wasm write nothing"

# --- load --------------------------------------------------------------------------------------
results=$work/results.tsv
: >"$results"
# CPU time (user + system, clock ticks) the process has used: the proxy's own cost per request, which
# contention from other work on the machine disturbs much less than throughput.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run_wrk() { # label url seconds [envoy-pid] -> RESULT fields appended to results.tsv
  local line t0=0 t1=0 cpu_us=0
  [ -n "${4:-}" ] && t0=$(cpu_ticks "$4")
  line=$(B3=$b3 wrk -t1 -c"$connections" -d"${3}s" --latency -s "$here/b3.lua" "$2" | grep '^RESULT ')
  [ -n "${4:-}" ] && t1=$(cpu_ticks "$4")
  local n=${line##*requests=}
  n=${n%% *}
  cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
  say "$1: ${line#RESULT } envoy_cpu_us_per_req=$cpu_us"
  printf '%s\t%s envoy_cpu_us=%s\n' "$1" "${line#RESULT }" "$cpu_us" >>"$results"
}

say "upstream alone (is it fast enough?)"
run_wrk upstream-direct "http://127.0.0.1:$upstream/" "$duration" "${pid_of[upstream]}"
say "warm-up"
for arm in "${arms[@]}"; do B3=$b3 wrk -t1 -c"$connections" -d2s -s "$here/b3.lua" "http://127.0.0.1:${port[$arm]}/" >/dev/null; done
for r in $(seq 1 "$rounds"); do
  for i in "${!arms[@]}"; do
    arm=${arms[$(((i + r - 1) % ${#arms[@]}))]}
    run_wrk "$arm" "http://127.0.0.1:${port[$arm]}/" "$duration" "${pid_of[$arm]}"
  done
done

# Envoy counters: no request failed in the filters, the wasm VM never restarted.
for arm in "${arms[@]}"; do
  curl -fsS "http://127.0.0.1:${admin[$arm]}/stats" |
    grep -E '^(http\.tracebridge\.downstream_rq_(2xx|5xx)|wasm\.(tracebridge\.vm_reload.*|envoy\.wasm\.runtime.*)|wasmcustom\.tracebridge\.requests|http\.tracebridge\.lua\.errors):' |
    sed "s/^/$arm: /" >>"$work/stats.txt" || true
done

# --- report ------------------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
python3 - "$results" "$work/stats.txt" "$size_tb" "$size_empty" "$rounds" "$duration" "$connections" \
  "$concurrency" "$b3" "$(nproc)" "$cpu" "$(envoy --version | sed -n 's/.*version: //p')" \
  "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  <<'PY' | tee "${out:-/dev/null}"
import statistics, sys
(results, stats, size_tb, size_empty, rounds, duration, conns, conc, b3, ncpu, cpu, envoy, wrk,
 load) = sys.argv[1:]
runs = {}
for line in open(results):
    label, fields = line.rstrip("\n").split("\t")
    kv = dict(f.split("=") for f in fields.split())
    runs.setdefault(label, []).append({k: float(v) for k, v in kv.items()})
med = lambda label, k: statistics.median(r[k] for r in runs[label])
base = med("passthrough", "rps")
print(f"arms: {rounds} rounds x {duration} s each, wrk -t1 -c{conns}, Envoy --concurrency {conc}, "
      f"B3 {b3} on every request; {ncpu} CPUs ({cpu}); {envoy}; {wrk}; load average before the "
      f"report {load}\n")
print("| arm | req/s (median) | req/s per round | vs passthrough | p50 | p99 | Envoy CPU per request (median) | errors / non-2xx |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for label in ["passthrough", "empty-wasm", "tracebridge", "lua"]:
    rs = runs[label]
    per = " / ".join(f"{r['rps']:.0f}" for r in rs)
    errs = sum(r["errors"] for r in rs)
    non2xx = sum(r["non2xx"] for r in rs)
    print(f"| {label} | {med(label, 'rps'):.0f} | {per} | {med(label, 'rps') / base:.1%} | "
          f"{med(label, 'p50_us') / 1000:.2f} ms | {med(label, 'p99_us') / 1000:.2f} ms | "
          f"{med(label, 'envoy_cpu_us'):.1f} us | {errs:.0f} / {non2xx:.0f} |")
u = runs["upstream-direct"][0]
print(f"\nupstream alone (wrk straight at the direct_response Envoy): {u['rps']:.0f} req/s, "
      f"p50 {u['p50_us'] / 1000:.2f} ms, p99 {u['p99_us'] / 1000:.2f} ms "
      f"({u['rps'] / base:.1f}x the passthrough proxy)")
tb, lua, empty = med("tracebridge", "rps"), med("lua", "rps"), med("empty-wasm", "rps")
print(f"\ntracebridge / passthrough = {tb / base:.1%} (target >= 95%); tracebridge / lua = {tb / lua:.2f}x; "
      f"tracebridge / empty-wasm = {tb / empty:.1%}")
cpu = lambda label: med(label, "envoy_cpu_us")
print(f"\nEnvoy CPU per request (all its threads, median of rounds): passthrough {cpu('passthrough'):.1f} us; "
      f"any wasm filter (empty-wasm) +{cpu('empty-wasm') - cpu('passthrough'):.1f} us; tracebridge's own work "
      f"+{cpu('tracebridge') - cpu('empty-wasm'):.1f} us more; lua +{cpu('lua') - cpu('passthrough'):.1f} us over passthrough")
print(f"\n.wasm: tracebridge {int(size_tb)} bytes ({int(size_tb) / 1024:.1f} KiB, target <= 150 KiB); "
      f"empty proxy-wasm filter, same profile and wasm-opt: {int(size_empty)} bytes "
      f"({int(size_empty) / 1024:.1f} KiB); tracebridge's own share {(int(size_tb) - int(size_empty)) / 1024:.1f} KiB")
print("\nEnvoy counters after the run (2xx/5xx, wasm VMs and reloads, filter requests, lua errors):\n")
print("```")
print(open(stats).read().rstrip() or "(none)")
print("```")
PY
