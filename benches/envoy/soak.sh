#!/usr/bin/env bash
# Gateway soak: a bounded mixed load (valid, malformed, oversized, duplicated, hostile trace headers)
# through a real Envoy running the filter on 127.0.0.1, checked request by request.
#
#   benches/envoy/soak.sh [REQUESTS]      default 200000 (or $SOAK_REQUESTS); SOAK_THREADS=4 connections
#
# It is tests/tests/envoy_soak.rs's ignored `soak_full` (the test command runs `soak_small`, 8k
# requests): see that file's doc comment for what is checked. Prints the figures; exits non-zero when
# a property fails. Bounded: REQUESTS requests, and a 30-minute limit inside the test.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SOAK_REQUESTS=${1:-${SOAK_REQUESTS:-200000}}
export SOAK_THREADS=${SOAK_THREADS:-4}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export TRACEBRIDGE_WASM=${TRACEBRIDGE_WASM:-$CARGO_TARGET_DIR/tracebridge.wasm}

cd "$root"
scripts/ensure-tools.sh
scripts/build-filter.sh >&2
echo "soak: $SOAK_REQUESTS requests, $SOAK_THREADS connections per listener, $(nproc) CPUs, $(envoy --version | sed -n 's/.*version: //p')" >&2
cargo test --quiet -p tracebridge-tests --test envoy_soak -- --ignored --exact soak_full --nocapture
