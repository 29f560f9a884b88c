#!/usr/bin/env bash
# Builds the npm package's WebAssembly into node-binding/pkg/ (idempotent, non-interactive):
#   cargo (wasm32-unknown-unknown, profile wasm-release) → wasm-opt -Oz → wasm-bindgen --target nodejs
#   (wasm-opt first: see below); and copies the repository's LICENSE into node-binding/ (git keeps
#   one copy; the tarball needs its own). `npm pack` runs this as `prepack`, so a tarball made from a
#   clean clone has pkg/ and LICENSE. wasm-opt and wasm-bindgen run only when cargo's output changed.
# Installs what is missing: the wasm32 target, wasm-bindgen-cli at exactly the version in Cargo.lock
# (the CLI and the crate must match), binaryen's wasm-opt (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$ROOT/node-binding/pkg"
MAX_WASM_BYTES=$((100 * 1024))

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$want" ] || { echo "build-node: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }
BINDGEN=$(command -v wasm-bindgen || true)
[ -n "$BINDGEN" ] || BINDGEN="$HOME/.cargo/bin/wasm-bindgen"
have=$("$BINDGEN" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "build-node: installing wasm-bindgen-cli $want (found: ${have:-none})"
  # No --locked: its lock file does not resolve on every registry mirror.
  cargo install wasm-bindgen-cli --version "=$want" --force
  BINDGEN="$HOME/.cargo/bin/wasm-bindgen"
fi

if ! command -v wasm-opt >/dev/null; then
  echo "build-node: installing binaryen (wasm-opt)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq binaryen
fi

# Not stripped by cargo: wasm-bindgen reads the `target_features` section (reference types decide
# how it lays out the externref table); wasm-opt strips afterwards.
# opt-level 3, not the profile's "z": the npm package sits on a request's hot path and "z" made
# every call 1.3-1.5x slower (benches/node, same run) for 22 KiB less wasm (133 vs 155 KiB).
CARGO_PROFILE_WASM_RELEASE_STRIP=false CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=3 \
  cargo build -p tracebridge-node --target wasm32-unknown-unknown --profile wasm-release --locked
RAW="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/tracebridge_node.wasm"

cmp -s LICENSE node-binding/LICENSE || cp LICENSE node-binding/LICENSE

# The raw module, the tools, this script and the feature list it sources decide the output: skip
# the rest when none changed.
stamp=$( (sha256sum "$RAW" "$0" "$ROOT/scripts/wasm-features.sh" | cut -d' ' -f1; "$BINDGEN" --version; wasm-opt --version) | sha256sum | cut -d' ' -f1)
if [ -f "$PKG/.stamp" ] && [ "$(cat "$PKG/.stamp")" = "$stamp" ] &&
  [ -f "$PKG/tracebridge_node.js" ] && [ -f "$PKG/tracebridge_node_bg.wasm" ]; then
  size=$(wc -c <"$PKG/tracebridge_node_bg.wasm")
  echo "build-node: node-binding/pkg is up to date ($size bytes of wasm; limit $((MAX_WASM_BYTES / 1024)) KiB)"
  exit 0
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# wasm-opt runs before wasm-bindgen, not after: Debian's binaryen 108 re-points wasm-bindgen's
# `__wbindgen_externrefs` export at the funcref table (Node then throws "function-typed object must
# be null" at load). wasm-opt keeps the exported descriptor functions and custom sections that
# wasm-bindgen reads; wasm-bindgen itself then only adds glue and drops what it consumed.
# The features are those rustc enables by default for wasm32, and SIMD (.cargo/config.toml); all are
# in Node 18's V8.
# shellcheck source=scripts/wasm-features.sh
. "$ROOT/scripts/wasm-features.sh"
wasm-opt -Oz --converge --strip-debug --strip-producers "${WASM_OPT_FEATURES[@]}" --enable-simd \
  "$RAW" -o "$TMP/tracebridge_node.wasm"
"$BINDGEN" --target nodejs --out-dir "$TMP" --out-name tracebridge_node --no-typescript "$TMP/tracebridge_node.wasm"

mkdir -p "$PKG"
for f in tracebridge_node.js tracebridge_node_bg.wasm; do
  cmp -s "$TMP/$f" "$PKG/$f" || cp "$TMP/$f" "$PKG/$f"
done
echo "$stamp" >"$PKG/.stamp"
size=$(wc -c <"$PKG/tracebridge_node_bg.wasm")
echo "build-node: node-binding/pkg/tracebridge_node_bg.wasm is $size bytes ($((size / 1024)) KiB; limit $((MAX_WASM_BYTES / 1024)) KiB)"
if [ "$size" -gt "$MAX_WASM_BYTES" ]; then
  # Reported, not fatal: see node-binding/README.md "Size" for where the bytes go.
  echo "build-node: WARNING: the wasm is over the ${MAX_WASM_BYTES}-byte budget" >&2
fi
