#!/usr/bin/env bash
# Builds the npm package (scripts/build-node.sh), installs its dev dependencies with `npm ci` only
# when node_modules is missing or older than package-lock.json, and runs `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-node.sh
cd node-binding
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
fi
npm test
