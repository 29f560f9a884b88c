#!/usr/bin/env bash
# Builds a reference proxy-wasm filter of benches/envoy (empty-filter: an empty filter on the Rust SDK;
# floor-filter: the least a translating filter does) with the wasm-opt flags of the real filter, and
# prints the path of the .wasm.
#
#   benches/envoy/build-reference.sh empty-filter|floor-filter
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
# shellcheck source=scripts/wasm-features.sh
. "$root/scripts/wasm-features.sh"
name=${1:?usage: build-reference.sh empty-filter|floor-filter}
case "$name" in
  # The SDK filter is built like the filter was before it left the SDK (profile wasm-release, -Oz).
  empty-filter) profile=wasm-release opt=-Oz ;;
  floor-filter) profile=release opt=-O3 ;;
  *) echo "build-reference: unknown filter $name" >&2; exit 2 ;;
esac
(cd "$here/$name" && CARGO_TARGET_DIR=$target_dir/$name cargo build --quiet --target wasm32-wasip1 --profile "$profile")
raw=$target_dir/$name/wasm32-wasip1/$profile/${name//-/_}.wasm
out=$target_dir/$name.wasm
wasm-opt "$opt" "${WASM_OPT_FEATURES[@]}" "$raw" -o "$out"
echo "$out"
