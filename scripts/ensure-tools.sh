#!/usr/bin/env bash
# Installs what the build and tests need, only when missing. Idempotent, never prompts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have_target() { rustup target list --installed | grep -qx "$1"; }
for t in wasm32-wasip1 wasm32-unknown-unknown; do
  have_target "$t" || rustup target add "$t"
done
