#!/usr/bin/env bash
# Build the filter as it was at git revision REV, from a temporary worktree into the same target
# directory (so dependencies are reused); prints the .wasm's path. Used by ladder.sh and callgrind.sh
# for their `before` arm.
#
#   benches/envoy/build-before.sh REV
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
rev=${1:?usage: build-before.sh REV}
tree=$(mktemp -d "${TMPDIR:-/tmp}/tracebridge-before.XXXXXX")
git -C "$root" worktree add --detach "$tree" "$rev" >&2
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
out=$target_dir/ladder/before.wasm
mkdir -p "$(dirname "$out")"
# A target directory of its own: cargo names a workspace crate's artifacts by its path relative to
# the workspace, so the older sources built into the main target directory would overwrite the
# current build's artifacts, and the next build of the current tree could take them as up to date.
CARGO_TARGET_DIR=$target_dir/before TRACEBRIDGE_WASM=$out "$tree/scripts/build-filter.sh" >&2
echo "$out"
