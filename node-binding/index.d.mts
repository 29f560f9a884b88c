// The declarations for `import` (the `import` condition of package.json's exports): the ESM entry
// point re-exports the CommonJS module, so its types are those of index.d.ts, plus the default export
// (the whole module object).
export * from './index.js';
import * as tracebridge from './index.js';
export default tracebridge;
