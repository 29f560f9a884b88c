#!/usr/bin/env bash
# The test command: builds everything and runs every test in every language.
# Idempotent and non-interactive; installs what it needs (scripts/ensure-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "tools"
bash scripts/ensure-tools.sh

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The crate's optional doors (opentelemetry, tower) and their tests.
cargo clippy -p tracebridge --all-targets --all-features --locked -- -D warnings
# The Envoy filter's host-call code exists only for wasm32.
cargo clippy -p tracebridge-envoy --target wasm32-wasip1 --locked -- -D warnings

step "MSRV: the crate builds with its declared rust-version ($(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml))"
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
cargo "+$msrv" check -p tracebridge --no-default-features --locked
cargo "+$msrv" check -p tracebridge --all-features --locked

step "no_std core for wasm32-unknown-unknown (no features)"
cargo build -p tracebridge --target wasm32-unknown-unknown --no-default-features --locked

step "Envoy filter (wasm32-wasip1) for the end-to-end tests"
bash scripts/build-filter.sh

step "the Envoy filter's .wasm within its budget: 178 KiB (issue 15)"
size=$(wc -c <target/tracebridge.wasm | tr -d ' ')
if [ "$size" -gt $((178 * 1024)) ]; then
  echo "target/tracebridge.wasm: $size bytes, over the budget of $((178 * 1024)) (see .cargo/config.toml)" >&2
  exit 1
fi
echo "target/tracebridge.wasm: $size bytes"

step "rust tests"
cargo test --workspace --locked

step "tracebridge with every feature: OpenTelemetry propagator, tower layer, all doctests"
cargo test -p tracebridge --all-features --locked

step "benches compile (benchmarks are run by hand, see BENCHMARKS.md)"
cargo bench -p tracebridge-benches --no-run --locked --quiet

step "npm package: build (wasm-bindgen, wasm-opt) and node --test"
bash scripts/test-node.sh

step "fuzz smoke: every target a few seconds (scripts/fuzz.sh 120 for a real session, see fuzz/README.md)"
bash scripts/fuzz.sh 3

step "docs and package"
RUSTDOCFLAGS="-D warnings" cargo doc -p tracebridge --no-deps --all-features --locked
cargo package -p tracebridge --allow-dirty --no-verify --locked --quiet
