// The ESM consumer (the `import` condition, index.d.mts/otel.d.mts): named and default imports.
import tracebridge, { extract, Translator, FORMATS, type Format, type ExtractedContext } from 'tracebridge';
import { TraceBridgePropagator } from 'tracebridge/otel';

const ctx: ExtractedContext | null = extract({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' });
const same: typeof extract = tracebridge.extract;
const t: Translator = new tracebridge.Translator({ inject: ['w3c'] });
const formats: readonly Format[] = FORMATS;
const p = new TraceBridgePropagator(t);
void [ctx, same, formats, p.fields()];
// @ts-expect-error: not a format name
new Translator({ extract: ['zipkin'] });
