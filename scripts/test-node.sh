#!/usr/bin/env bash
# Builds the npm package (scripts/build-node.sh), installs its dev dependencies with `npm ci` only
# when node_modules is missing or older than package-lock.json, and runs `npm test`: the API, the
# vectors, the OpenTelemetry adapter, the W3C test service, the declarations (tsc), and the package as
# a user gets it (test/pack.test.js: npm pack, an offline install into an empty project, require,
# import and tsc there).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-node.sh
cd node-binding
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
fi
npm test
