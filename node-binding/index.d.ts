/**
 * tracebridge: read and write distributed-trace context in W3C Trace Context, Zipkin B3 (single
 * `b3` and multi `X-B3-*`), Jaeger `uber-trace-id`, AWS X-Ray `X-Amzn-Trace-Id`, gRPC
 * `grpc-trace-bin`, Datadog `x-datadog-*`, OpenTracing `ot-tracer-*`, Instana `X-INSTANA-*` and
 * Google Cloud `X-Cloud-Trace-Context`. The logic is the Rust core compiled to WebAssembly; ids are
 * lowercase hex.
 */

/** A format name, as in the configuration: core's registry, in the default extraction order. */
export type Format =
  | 'w3c'
  | 'b3-single'
  | 'b3-multi'
  | 'jaeger'
  | 'xray'
  | 'grpc-trace-bin'
  | 'datadog'
  | 'ot'
  | 'instana'
  | 'gcp';

/** Every format, in the default extraction order: core's registry (`Format::NAMES`). */
export const FORMATS: readonly Format[];

/**
 * Request headers: a plain object (names in any case; `string` or `string[]` values, as Node's
 * `IncomingHttpHeaders`), a fetch `Headers`, or a `Map` of name → value(s). An array value is one
 * header line per element. Write operations mutate it in place.
 */
export type HeaderCarrier =
  | Record<string, string | string[] | number | undefined>
  | Headers
  | Map<string, string | string[]>;

/**
 * The translator configuration: the very same JSON shape the Envoy filter and the Rust core take
 * (snake_case keys). Every key is optional. Also accepted as a JSON string.
 */
export interface Config {
  /** Formats read, in precedence order (first valid context wins). Default: all, w3c first. */
  extract?: Format[];
  /** Formats written. Default: `["w3c"]`. */
  inject?: Format[];
  /** Remove the headers of formats that are read but not injected. Default: false. */
  remove_other_formats?: boolean;
  /** Nothing valid arrived. Default: `"pass-through"`. */
  on_missing?: 'pass-through' | 'new-root';
  /** Valid headers name different traces. Default: `"prefer-first"`. */
  on_conflict?: 'prefer-first' | 'new-root' | 'pass-through';
  /** Continue, restart (linked via tracestate) or ignore the incoming trace. Default: `"continue"`. */
  trust?: 'continue' | 'restart' | 'ignore';
  /** An incoming sampled/debug decision becomes "defer". Default: false. */
  drop_forced_sampling?: boolean;
  /** Sampling of a new root. Default: `"defer"`. */
  root_sampling?: 'defer' | 'accept' | 'deny';
  /** Trace id width written in B3/Jaeger headers. Default: `"keep"`. */
  id_width?: 'keep' | 64 | 128 | '64' | '128';
  /**
   * Carry baggage (W3C `baggage`, Jaeger `uberctx-{key}`, OT `ot-baggage-{key}`) from the formats read
   * to every injected format that has baggage; `false`: baggage headers are neither read, written nor
   * removed. Default: true.
   */
  baggage?: boolean;
  tracestate?: {
    /** Write tracebridge's own tracestate member. Default: true. */
    member?: boolean;
    /** Its key. Default: `"tracebridge"`. */
    key?: string;
    /** Longest tracestate written, 512..=4096. Default: 1024. */
    max_len?: number;
  };
}

/** A trace context as `extract` returns it. */
export interface ExtractedContext {
  /** 32 lowercase hex digits (a 64-bit B3/Jaeger id is left-padded with zeros). */
  traceId: string;
  /** 16 lowercase hex digits: the remote parent span. */
  spanId: string;
  /** The parent's parent, where the format carries it (B3, Jaeger). */
  parentSpanId: string | null;
  /** The sampling decision; `null` when the caller deferred it. */
  sampled: boolean | null;
  /** Forced sampling (B3 `d`, `X-B3-Flags: 1`, Jaeger flags 0x03). */
  debug: boolean;
  /** W3C trace-flags: bit 0 sampled (in step with `sampled`), bit 1 Level 2 `random`. */
  traceFlags: number;
  /** The W3C tracestate (canonical form), or null. */
  traceState: string | null;
  /** The format the context came from. */
  source: Format;
}

/** A context to write with `inject`. */
export interface InjectContext {
  /** 32 lowercase hex digits (16 for a 64-bit id, written as such in B3/Jaeger). */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId?: string | null;
  /** `true`/`false`; absent or null defers the decision. */
  sampled?: boolean | null;
  debug?: boolean;
  /** W3C trace-flags other than `sampled` (which comes from `sampled`/`debug`), e.g. 0x02 `random`. Default 0. */
  traceFlags?: number;
  /** Written as the `tracestate` header beside `traceparent` (validated). */
  traceState?: string | null;
}

/** What was found for one format. */
export interface FormatStatus {
  status: 'not-read' | 'absent' | 'valid' | 'invalid' | 'conflict';
  /** When invalid: the message (names the header). */
  error?: string;
  /** When invalid: the stable code, e.g. `traceparent_trace_id_zero`. */
  code?: string;
}

/**
 * The `inspect` document: core's (the same as `tracebridge inspect --json`) with camelCase keys, as
 * every object of this API; `inspectJson` returns the CLI's document itself.
 */
export interface Inspection {
  source: Format | null;
  context: {
    traceId: string;
    spanId: string;
    parentSpanId: string | null;
    sampled: boolean | null;
    debug: boolean;
    traceState: string | null;
    idWidth: 64 | 128;
  } | null;
  /** A B3 decision without ids (`b3: 0`), when no context arrived. */
  samplingOnly: 'deny' | 'defer' | 'accept' | 'debug' | null;
  formats: Record<Format, FormatStatus>;
  /** Why a tracestate next to a valid traceparent was dropped. */
  tracestateError: FormatStatus | null;
  /**
   * The formats read valid with a part dropped, and why (`w3c`: the tracestate, as `tracestateError`;
   * `datadog`: `x-datadog-tags`, e.g. code `datadog_tags`). Empty when nothing was dropped.
   */
  warnings: Partial<Record<Format, FormatStatus>>;
}

/** What `translate` did. Its `formats`, `injected` and `removed` are shared and frozen. */
export interface Report {
  outcome: 'continued' | 'new-root' | 'sampling-only' | 'ignored' | 'pass-through';
  rootReason: 'missing' | 'conflict' | 'untrusted' | null;
  /** Where the continued context (or decision) came from; null: nothing valid arrived. */
  source: Format | null;
  traceId: string | null;
  spanId: string | null;
  sampling: 'deny' | 'defer' | 'accept' | 'debug' | null;
  formats: Readonly<Record<Format, Readonly<FormatStatus>>>;
  injected: readonly Format[];
  removed: readonly Format[];
  tracestateDropped: number;
  memberFieldsLost: number;
  traceIdTruncated: boolean;
  tracestateError: Readonly<FormatStatus> | null;
  /** Baggage list-members dropped (malformed, over the W3C limits, or not writable in a format). */
  baggageDropped: number;
  /** Why the first of them was dropped, e.g. code `baggage_member`. */
  baggageError: Readonly<FormatStatus> | null;
}

/**
 * Errors thrown carry a stable `code`: `config_invalid` (TypeError; the message names the key,
 * e.g. `tracestate.max_len: must be between 512 and 4096`), `argument_invalid` (TypeError), or a
 * header error code of the core (Error), e.g. `tracestate_key`. `internal_error` means a bug.
 */
export interface TraceBridgeError extends Error {
  code: string;
}

/** A translator built once from a configuration; reuse it (each call is one WebAssembly call). */
export class Translator {
  /** @throws {TraceBridgeError} TypeError with `code: "config_invalid"`. */
  constructor(config?: Config | string);
  /**
   * Every trace header name (lowercase) this translator may read or write: core's `fields`. Baggage
   * headers (`baggage`, `uberctx-*`, `ot-baggage-*`), which `translate` also carries, are not listed.
   */
  fields(): readonly string[];
  /** The chosen context, or null when no configured format carried one. */
  extract(headers: HeaderCarrier): ExtractedContext | null;
  /** Everything read, per format (core's document, camelCase keys). */
  inspect(headers: HeaderCarrier): Inspection;
  /** Exactly the JSON text `tracebridge inspect --json` prints (snake_case keys), e.g. to diff with the CLI. */
  inspectJson(headers: HeaderCarrier): string;
  /**
   * Rewrite `headers` in place by the configuration, trace context and baggage; returns what was done.
   */
  translate(headers: HeaderCarrier): Report;
  /** Release the WebAssembly memory now instead of at garbage collection. */
  free(): void;
}

/** `new Translator(config).extract(headers)`; translators are cached per config object. */
export function extract(headers: HeaderCarrier, config?: Config | string | Translator): ExtractedContext | null;
/** `new Translator(config).inspect(headers)`. */
export function inspect(headers: HeaderCarrier, config?: Config | string | Translator): Inspection;
/** `new Translator(config).translate(headers)`. */
export function translate(headers: HeaderCarrier, config?: Config | string | Translator): Report;
/**
 * Write `context` into `headers` in each of `options.formats` (default `["w3c"]`); returns `headers`.
 * Headers a format leaves out for this context (e.g. `X-B3-ParentSpanId` without a parent) are removed.
 * @throws {TraceBridgeError} `argument_invalid` for bad ids or format names; a core code for a bad traceState.
 */
export function inject<H extends HeaderCarrier>(context: InjectContext, headers: H, options?: { formats?: readonly Format[] }): H;
