'use strict';
// The hand-written declarations (index.d.ts, otel.d.ts) are checked by the TypeScript compiler
// against test/types/usage.ts: valid uses compile, and each `@ts-expect-error` must be an error.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('TypeScript declarations accept the API and reject misuse', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
