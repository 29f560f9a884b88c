// Type-checked by test/types.test.js with `tsc --noEmit`: the declarations accept what the
// API accepts, and reject (@ts-expect-error) what it refuses. An expected error that does not
// occur fails the check, so both directions are tested.
import {
  extract, inject, inspect, translate, Translator, FORMATS,
  type Config, type ExtractedContext, type Format, type Report, type Inspection,
} from 'tracebridge';
import { TraceBridgePropagator } from 'tracebridge/otel';

const config: Config = {
  extract: ['b3-multi', 'w3c'],
  inject: ['w3c', 'xray', 'datadog', 'ot', 'instana', 'gcp'],
  on_missing: 'new-root',
  id_width: 64,
  baggage: false,
  tracestate: { member: true, key: 'tracebridge', max_len: 1024 },
};
const t = new Translator(config);
const fields: readonly string[] = t.fields();
const headers: Record<string, string | string[] | undefined> = { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' };
const ctx: ExtractedContext | null = extract(headers);
if (ctx) {
  const id: string = ctx.traceId;
  const sampled: boolean | null = ctx.sampled;
  const from: Format = ctx.source;
  void [id, sampled, from];
}
const report: Report = translate(new Map([['x-b3-traceid', '463ac35c9f6413ad']]), t);
const outcome: 'continued' | 'new-root' | 'sampling-only' | 'ignored' | 'pass-through' = report.outcome;
const baggageDropped: number = report.baggageDropped;
const baggageCode: string | undefined = report.baggageError?.code;
const ins: Inspection = inspect(new Headers({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }));
const width: 64 | 128 | undefined = ins.context?.idWidth;
const tagsDropped: string | undefined = ins.warnings.datadog?.code;
const cli: string = t.inspectJson({});
const injected: readonly Format[] = report.injected;
const written = inject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true }, {}, { formats: ['b3-single'] });
const all: readonly Format[] = FORMATS;
const propagator = new TraceBridgePropagator({ inject: ['w3c', 'b3-multi'] });
const touched: string[] = propagator.fields();
void [fields, outcome, baggageDropped, baggageCode, ins, written, all, touched, width, tagsDropped, cli, injected];

// @ts-expect-error: not a format name
const badFormat: Config = { inject: ['zipkin'] };
// @ts-expect-error: not an on_missing value
const badMissing: Config = { on_missing: 'explode' };
// @ts-expect-error: id_width is keep, 64 or 128
const badWidth: Config = { id_width: 32 };
// @ts-expect-error: baggage is on or off
const badBaggage: Config = { baggage: 'w3c' };
// @ts-expect-error: a context needs a traceId
inject({ spanId: '00f067aa0ba902b7' }, {});
// @ts-expect-error: the JS objects are camelCase
void ins.context?.trace_id;
// @ts-expect-error: a report's lists are shared and frozen
report.injected.push('w3c');
void [badFormat, badMissing, badWidth, badBaggage];
