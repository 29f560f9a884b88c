#!/usr/bin/env bash
# The shipped filter with its function names kept (the name section only: the same code), for the
# tools that name the module's functions: code-lines.sh, touched.sh. scripts/build-filter.sh builds
# it (TRACEBRIDGE_KEEP_NAMES: cargo's strip off, wasm-opt -g, its flags otherwise), in a target
# directory of its own so that the shipped build's is left as it is.
#
#   benches/envoy/build-named.sh OUT_DIR    # writes OUT_DIR/named.wasm
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: build-named.sh OUT_DIR}
CARGO_TARGET_DIR=$out/cargo TRACEBRIDGE_KEEP_NAMES=1 TRACEBRIDGE_WASM=$out/named.wasm "$root/scripts/build-filter.sh" >&2
