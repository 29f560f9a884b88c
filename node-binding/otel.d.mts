// The declarations for `import` of `tracebridge/otel` (see index.d.mts).
export * from './otel.js';
