#!/usr/bin/env bash
# The module's memory one request touches: every 64-byte line of the filter's linear memory that a
# request loads, stores, copies or fills, by region (shadow stack, statics, heap) and function.
# In Envoy each such line is a data-cache miss when Envoy's own work since the last request has
# evicted it (callgrind.sh --cache counts them for the whole module, code-lines.sh --data per
# function); this says which lines they are, so that one can tell a configuration read from a stack
# frame, and see a `memory.fill` or `memory.copy` (V8 runs each through a call out of the module).
#
#   benches/envoy/touched.sh [--config JSON]
#
# Builds the shipped filter with its names kept (build-named.sh), rewrites it with binaryen's
# --instrument-memory (each load and store reports its address to the host) and `memory.copy` /
# `memory.fill` turned into calls of host imports, then runs module-host.mjs --touched: 50
# requests, then one traced (B3 single in, W3C out, the headers module-host.mjs sends).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
config='{"inject":["w3c"]}'
while (($#)); do
  case "$1" in
    --config) config=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "touched: unknown option $1" >&2; exit 2 ;;
  esac
done
"$root/scripts/ensure-tools.sh"
out=$target_dir/touched
"$here/build-named.sh" "$out"
# shellcheck source=scripts/wasm-features.sh
. "$root/scripts/wasm-features.sh"
wasm-opt -g --instrument-memory "${WASM_OPT_FEATURES[@]}" "$out/named.wasm" -o "$out/instrumented.wasm"
wasm-dis "$out/instrumented.wasm" -o "$out/instrumented.wat"
python3 - "$out" <<'EOF'
import json, re, sys
out = sys.argv[1]
wat = open(f"{out}/instrumented.wat").read()
# memory.copy / memory.fill as calls of host imports (same operands), so that the host sees them.
wat = wat.replace("(memory.copy", "(call $host_copy").replace("(memory.fill", "(call $host_fill")
imports = (' (import "env" "copy" (func $host_copy (param i32 i32 i32)))\n'
           ' (import "env" "fill" (func $host_fill (param i32 i32 i32)))\n')
first = wat.index(" (import")
wat = wat[:first] + imports + wat[first:]
open(f"{out}/traced.wat", "w").write(wat)
# Which function each instrumented access (its id, the first operand) is in.
functions, current = {}, None
for m in re.finditer(r"\n \(func (\S+)|\(call \$(?:load_ptr|store_ptr)\s*\(i32\.const (\d+)\)", wat):
    if m.group(1):
        current = m.group(1).lstrip("$")
    else:
        functions[m.group(2)] = current
# The heap (lol_alloc) grows the memory past its initial pages; statics and the stack lie below.
pages = int(re.search(r"\(memory \$\S+ (\d+)", wat).group(1))
json.dump({"functions": functions, "heap_base": pages * 65536}, open(f"{out}/ids.json", "w"))
EOF
wasm-as -g "${WASM_OPT_FEATURES[@]}" "$out/traced.wat" -o "$out/traced.wasm"
node --no-warnings "$here/module-host.mjs" --wasm "$out/traced.wasm" --arm "tracebridge=$config" --touched "$out/ids.json"
