'use strict';
// The package as a user gets it: `npm pack` (which runs `prepack`, i.e. scripts/build-node.sh), the
// tarball installed into an empty project without the registry, loaded with require and import, and
// a TypeScript consumer type-checked as CommonJS (node10 and nodenext .cts) and as ESM (nodenext
// .mts). Dev tools come from this package's node_modules: typescript is run from there,
// @opentelemetry/api (the optional peer dependency) is installed from its directory.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pkgDir = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, cwd, what) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
  assert.strictEqual(r.status, 0, `${what} failed (${cmd} ${args.join(' ')}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack → install offline into an empty project → require, import, tsc (CommonJS and ESM)', { timeout: 600_000 }, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracebridge-pack-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const cache = path.join(tmp, 'npm-cache');

  // The tarball: the built wasm, the license, the declarations of both conditions; no sources.
  const packed = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', tmp, '--cache', cache], pkgDir, 'npm pack'));
  const files = packed[0].files.map((f) => f.path).sort();
  for (const f of ['LICENSE', 'README.md', 'package.json', 'index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'otel.js',
    'otel.mjs', 'otel.d.ts', 'otel.d.mts', 'boundary.js', 'pkg/tracebridge_node.js', 'pkg/tracebridge_node_bg.wasm']) {
    assert.ok(files.includes(f), `the tarball has ${f}: ${files.join(', ')}`);
  }
  assert.deepStrictEqual(files.filter((f) => /^(src|test|examples)\/|Cargo|\.stamp/.test(f)), [], 'no sources or build files');
  assert.match(fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  const tarball = path.join(tmp, packed[0].filename);

  // An empty project; the tarball and the peer dependency from local paths, nothing from the registry.
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const apiDir = path.join(pkgDir, 'node_modules', '@opentelemetry', 'api');
  run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--cache', cache, tarball, apiDir], app, 'npm install');
  assert.ok(fs.existsSync(path.join(app, 'node_modules', 'tracebridge', 'pkg', 'tracebridge_node_bg.wasm')));

  // require and import, each entry point, doing real work.
  const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const cjs = `
    const tb = require('tracebridge');
    const { TraceBridgePropagator } = require('tracebridge/otel');
    const api = require('@opentelemetry/api');
    const ctx = tb.extract({ b3: '80f198ee56343ba8-e457b5a2e4d86bd1-d' });
    const p = new TraceBridgePropagator({ inject: ['b3-single'] });
    const out = {};
    p.inject(p.extract(api.ROOT_CONTEXT, { traceparent: '${TP}' }, api.defaultTextMapGetter), out, api.defaultTextMapSetter);
    console.log(JSON.stringify([ctx.traceId, ctx.debug, out.b3, tb.FORMATS]));`;
  assert.deepStrictEqual(JSON.parse(run(process.execPath, ['-e', cjs], app, 'require')), [
    '000000000000000080f198ee56343ba8', true, '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1', [...require('..').FORMATS],
  ]);
  const esm = `
    import tb, { inject, FORMATS } from 'tracebridge';
    import { TraceBridgePropagator } from 'tracebridge/otel';
    const h = inject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true }, {});
    console.log(JSON.stringify([h.traceparent, tb.inject === inject, FORMATS[0], typeof TraceBridgePropagator]));`;
  assert.deepStrictEqual(JSON.parse(run(process.execPath, ['--input-type=module', '-e', esm], app, 'import')), [
    TP, true, 'w3c', 'function',
  ]);

  // TypeScript consumers in both module systems, against the installed declarations.
  const consumer = `
    import { extract, translate, Translator, FORMATS, type Config, type Format, type Report } from 'tracebridge';
    import { TraceBridgePropagator } from 'tracebridge/otel';
    const config: Config = { extract: ['b3-multi', 'w3c'], inject: ['w3c'], id_width: 64 };
    const report: Report = translate({ b3: '1' }, new Translator(config));
    const first: Format = FORMATS[0];
    const last: Format = 'gcp';
    const id: string | undefined = extract({})?.traceId;
    const p = new TraceBridgePropagator(config);
    void [report.outcome, first, last, id, p.fields()];
    // @ts-expect-error: not a format
    const bad: Format = 'zipkin';
    void bad;`;
  const tsc = require.resolve('typescript/bin/tsc');
  const check = (name, file, compilerOptions) => {
    const dir = path.join(app, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, file), consumer);
    const options = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', lib: ['es2022', 'dom'], types: [], ...compilerOptions };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: [file] }));
    const out = run(process.execPath, [tsc, '-p', dir, '--explainFiles'], dir, `tsc (${name})`);
    return out;
  };
  const node10 = check('cjs-node10', 'consumer.ts', { module: 'commonjs', moduleResolution: 'node10' });
  assert.match(node10, /node_modules\/tracebridge\/index\.d\.ts/);
  const cts = check('cjs-nodenext', 'consumer.cts', { module: 'nodenext', moduleResolution: 'nodenext' });
  assert.match(cts, /node_modules\/tracebridge\/index\.d\.ts/);
  assert.doesNotMatch(cts, /index\.d\.mts/);
  const mts = check('esm-nodenext', 'consumer.mts', { module: 'nodenext', moduleResolution: 'nodenext' });
  assert.match(mts, /node_modules\/tracebridge\/index\.d\.mts/);
  assert.match(mts, /node_modules\/tracebridge\/otel\.d\.mts/);
});
