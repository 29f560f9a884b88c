#!/usr/bin/env bash
# The shipped filter with its function names kept (the name section only: the same code), for the
# tools that name the module's functions: code-lines.sh, touched.sh. cargo keeps the names
# (strip = none) in a target directory of its own, wasm-opt keeps them (-g) with the flags of
# scripts/build-filter.sh.
#
#   benches/envoy/build-named.sh OUT_DIR    # writes OUT_DIR/named.wasm
set -euo pipefail
out=${1:?usage: build-named.sh OUT_DIR}
mkdir -p "$out"
CARGO_PROFILE_FILTER_RELEASE_STRIP=none cargo build --quiet -p tracebridge-envoy --target wasm32-wasip1 \
  --profile filter-release --target-dir "$out/cargo"
wasm-opt -g -O3 --one-caller-inline-max-function-size 200 --enable-bulk-memory --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue --enable-reference-types \
  "$out/cargo/wasm32-wasip1/filter-release/tracebridge_envoy.wasm" -o "$out/named.wasm"
