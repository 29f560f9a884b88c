import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { Config, Translator } from './index';

/**
 * An OpenTelemetry `TextMapPropagator` with the Translator's whole policy (the same as the Rust
 * adapter's): `extract` reads the formats of `config.extract` in that order and applies `trust`,
 * `on_conflict` and `drop_forced_sampling` (no remote parent when the policy says start a new root);
 * `inject` writes every format of `config.inject` (default w3c) for the active span, with `id_width`.
 * What W3C cannot say (B3 debug and defer, a 64-bit trace id) rides in tracebridge's tracestate member
 * of the SpanContext's traceState, so extract → inject loses nothing. Never throws; writes nothing
 * when tracing is suppressed (`suppressTracing` of `@opentelemetry/core`).
 */
export class TraceBridgePropagator implements TextMapPropagator {
  /** @throws {import('./index').TraceBridgeError} TypeError with `code: "config_invalid"`. */
  constructor(config?: Config | Translator);
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void;
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context;
  /** Every header this propagator may read or write. */
  fields(): string[];
}
