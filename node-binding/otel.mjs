import cjs from './otel.js';

export const { TraceBridgePropagator } = cjs;
