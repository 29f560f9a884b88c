'use strict';
// The hand-written declarations are checked by the TypeScript compiler against test/types: usage.ts
// (CommonJS: the `require` condition, index.d.ts) and usage.mts (ESM: the `import` condition,
// index.d.mts). Valid uses compile, and each `@ts-expect-error` must be an error, so both directions
// are tested; and each file must get its types from its own condition.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('TypeScript declarations accept the API and reject misuse, per condition', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json'), '--explainFiles'], {
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  // `--explainFiles` names each declaration file and why it was included.
  const why = (file) => r.stdout.split(/\r?\n(?=\S)/).find((block) => block.startsWith(file) || block.includes(`/${file}\n`)) ?? '';
  assert.match(why('index.d.mts'), /usage\.mts/, 'usage.mts gets index.d.mts');
  assert.match(why('index.d.ts'), /usage\.ts/, 'usage.ts gets index.d.ts');
  assert.match(why('otel.d.mts'), /usage\.mts/, 'usage.mts gets otel.d.mts');
  assert.doesNotMatch(why('index.d.ts'), /from file '[^']*usage\.mts'/, 'not the CommonJS types for import');
});
