#!/usr/bin/env bash
# Build the Envoy filter: cargo (wasm32-wasip1, profile filter-release), then `wasm-opt -O3` when present.
# Output: <repo>/target/tracebridge.wasm (override with TRACEBRIDGE_WASM=path), and beside it
# tracebridge-response.wasm: the same filter with `proxy_on_response_headers` exported (cargo feature
# `response`), for `response_trace_id_header` and `traceresponse`. Prints the sizes.
# FILTER_FEATURES=a,b builds that one artifact with those cargo features instead (the benchmark
# ladder's builds).
# TRACEBRIDGE_KEEP_NAMES=1 builds the default artifact alone with its function names kept (the name
# section only: the same code), for the benchmark tools that name the module's functions
# (benches/envoy/build-named.sh).
# The default artifact's budget is 178 KiB (issue 15): warned about here, enforced by scripts/test.sh.
# Its size depends on the LLVM flags in .cargo/config.toml (a RUSTFLAGS variable replaces them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/wasm-features.sh
. "$root/scripts/wasm-features.sh"
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=${TRACEBRIDGE_WASM:-$root/target/tracebridge.wasm}

cd "$root"

# build FEATURES OUT: one artifact.
build() {
  local features=() built=$target_dir/wasm32-wasip1/filter-release/tracebridge_envoy.wasm out=$2 names=()
  [ -n "$1" ] && features=(--features "$1")
  if [ -n "${TRACEBRIDGE_KEEP_NAMES:-}" ]; then
    names=(-g)
    export CARGO_PROFILE_FILTER_RELEASE_STRIP=none
  fi
  cargo build --quiet -p tracebridge-envoy --target wasm32-wasip1 --profile filter-release "${features[@]}"
  mkdir -p "$(dirname "$out")"
  if command -v wasm-opt >/dev/null 2>&1; then
    # The features rustc enables by default for wasm32-wasip1 (V8 supports all of them).
    # -O3, not -Oz: the filter is on the hot path of every request (see the filter-release profile).
    # Functions with one caller are inlined only when small: left unbounded (binaryen's default), the
    # request callback swallowed the whole plan, and V8's code for that one huge function ran the
    # request 2.5-3x slower than the module without wasm-opt (benches/envoy/module-host.mjs: 5.4 µs
    # against 1.7 µs per request; 1.6 µs with this bound; the cliff lies between 1000 and 4000).
    wasm-opt "${names[@]}" -O3 --one-caller-inline-max-function-size 200 "${WASM_OPT_FEATURES[@]}" "$built" -o "$out.tmp"
    mv "$out.tmp" "$out"
  else
    echo "build-filter: wasm-opt not found (scripts/ensure-tools.sh installs binaryen); copying unoptimised" >&2
    cp "$built" "$out"
  fi
  printf '%s %s bytes (cargo: %s bytes)\n' "$out" "$(wc -c <"$out" | tr -d ' ')" "$(wc -c <"$built" | tr -d ' ')"
}

if [ -n "${FILTER_FEATURES:-}" ]; then
  build "$FILTER_FEATURES" "$out"
elif [ -n "${TRACEBRIDGE_KEEP_NAMES:-}" ]; then
  build "" "$out"
else
  build "" "$out"
  build response "${out%.wasm}-response.wasm"
  max=$((178 * 1024))
  size=$(wc -c <"$out" | tr -d ' ')
  if [ "$size" -gt "$max" ]; then
    echo "build-filter: warning: $out is $size bytes, over its $max-byte budget (RUSTFLAGS set? see .cargo/config.toml)" >&2
  fi
fi
