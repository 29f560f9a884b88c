import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { Config, Translator } from './index';

/**
 * An OpenTelemetry `TextMapPropagator` that extracts from every format in `config.extract` (first
 * valid wins; a remote SpanContext with traceFlags and traceState) and injects the formats in
 * `config.inject` (default w3c) from the active span.
 */
export class TraceBridgePropagator implements TextMapPropagator {
  constructor(config?: Config | Translator);
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void;
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context;
  /** Every header this propagator may read or write. */
  fields(): string[];
}
