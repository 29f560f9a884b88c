//! One flat, `Copy` error type for every header: each variant names the header and what was wrong.
//!
//! Core never swallows an error: parsers return it, the [`Translator`](crate::Translator) records it
//! per format, and the doors (Envoy filter, npm package, CLI) decide what to count and log.

use core::fmt;

macro_rules! errors {
    ($( $(#[$doc:meta])* $name:ident = $code:literal : $msg:literal, )*) => {
        /// Why a header could not be read. `as_str()` is a human message that names the header;
        /// `code()` a stable snake_case identifier for programs (the npm package's `err.code`).
        ///
        /// ```
        /// use tracebridge::Error;
        ///
        /// let err = tracebridge::w3c::Traceparent::parse(b"not a traceparent").unwrap_err();
        /// assert!(Error::ALL.contains(&err));
        /// // A stable snake_case code for metrics and JSON, and a message naming the header.
        /// assert!(!err.code().is_empty() && err.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        /// assert!(err.to_string().contains("traceparent"));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Error {
            $( $(#[$doc])* $name, )*
        }

        impl Error {
            /// Every variant, for tests and documentation.
            pub const ALL: &'static [Error] = &[$(Error::$name,)*];

            /// The message: names the header and says what was wrong.
            pub const fn as_str(self) -> &'static str {
                match self { $( Error::$name => $msg, )* }
            }

            /// A stable identifier, e.g. `traceparent_trace_id_zero`.
            pub const fn code(self) -> &'static str {
                match self { $( Error::$name => $code, )* }
            }
        }
    };
}

errors! {
    /// A header value is longer than the configured limit, so it was not parsed at all.
    TooLong = "header_too_long": "trace header: value exceeds the length limit",
    /// A header value has bytes outside visible ASCII (e.g. CR, LF, NUL, non-ASCII).
    NotAscii = "header_not_ascii": "trace header: value contains characters that are not visible ASCII",

    /// More than one `traceparent` line ([W3C §3.2.1](https://www.w3.org/TR/trace-context/#traceparent-header)).
    TraceparentDuplicate = "traceparent_duplicate": "traceparent: more than one header line",
    /// `traceparent` too short, or version 00 not exactly 55 characters.
    TraceparentLength = "traceparent_length": "traceparent: wrong length (version 00 is exactly 55 characters)",
    /// A `-` is missing between fields.
    TraceparentDelimiter = "traceparent_delimiter": "traceparent: fields must be separated by '-'",
    /// Version is not two lowercase hex digits.
    TraceparentVersion = "traceparent_version": "traceparent: version is not 2 lowercase hex digits",
    /// Version `ff` is forbidden ([§3.2.2.2](https://www.w3.org/TR/trace-context/#version)).
    TraceparentVersionForbidden = "traceparent_version_ff": "traceparent: version ff is forbidden",
    /// trace-id is not 32 lowercase hex digits.
    TraceparentTraceId = "traceparent_trace_id": "traceparent: trace-id is not 32 lowercase hex digits",
    /// trace-id is all zeros.
    TraceparentTraceIdZero = "traceparent_trace_id_zero": "traceparent: trace-id is all zeros",
    /// parent-id is not 16 lowercase hex digits.
    TraceparentParentId = "traceparent_parent_id": "traceparent: parent-id is not 16 lowercase hex digits",
    /// parent-id is all zeros.
    TraceparentParentIdZero = "traceparent_parent_id_zero": "traceparent: parent-id is all zeros",
    /// trace-flags is not two lowercase hex digits.
    TraceparentFlags = "traceparent_flags": "traceparent: trace-flags is not 2 lowercase hex digits",

    /// A list-member is not `key=value`.
    TracestateMember = "tracestate_member": "tracestate: list-member is not key=value",
    /// A key breaks the key grammar.
    TracestateKey = "tracestate_key": "tracestate: invalid key",
    /// A value breaks the value grammar.
    TracestateValue = "tracestate_value": "tracestate: invalid value",
    /// More than 32 list-members.
    TracestateTooManyMembers = "tracestate_too_many_members": "tracestate: more than 32 list-members",
    /// The same key appears twice: the first is kept, the later ones are dropped (a warning, not a
    /// reason to drop the tracestate).
    TracestateDuplicateKey = "tracestate_duplicate_key": "tracestate: duplicate key (the first is kept)",

    /// More than one `b3` line.
    B3Duplicate = "b3_duplicate": "b3: more than one header line",
    /// Not `{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]` or a bare sampling state.
    B3Format = "b3_format": "b3: not {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]] or a bare 0, 1 or d",
    /// TraceId is not 16 or 32 lowercase hex digits.
    B3TraceId = "b3_trace_id": "b3: TraceId is not 16 or 32 lowercase hex digits",
    /// TraceId is all zeros.
    B3TraceIdZero = "b3_trace_id_zero": "b3: TraceId is all zeros",
    /// SpanId is not 16 lowercase hex digits.
    B3SpanId = "b3_span_id": "b3: SpanId is not 16 lowercase hex digits",
    /// SpanId is all zeros.
    B3SpanIdZero = "b3_span_id_zero": "b3: SpanId is all zeros",
    /// SamplingState is not `0`, `1` or `d`.
    B3SamplingState = "b3_sampling_state": "b3: SamplingState is not 0, 1 or d",
    /// ParentSpanId is not 16 lowercase hex digits, or all zeros.
    B3ParentSpanId = "b3_parent_span_id": "b3: ParentSpanId is not 16 non-zero lowercase hex digits",

    /// One of the `X-B3-*` headers appears on more than one line.
    XB3Duplicate = "x_b3_duplicate": "X-B3-*: a header appears on more than one line",
    /// `X-B3-TraceId` is not 16 or 32 lowercase hex digits.
    XB3TraceId = "x_b3_trace_id": "X-B3-TraceId: not 16 or 32 lowercase hex digits",
    /// `X-B3-TraceId` is all zeros.
    XB3TraceIdZero = "x_b3_trace_id_zero": "X-B3-TraceId: all zeros",
    /// `X-B3-SpanId` is not 16 lowercase hex digits.
    XB3SpanId = "x_b3_span_id": "X-B3-SpanId: not 16 lowercase hex digits",
    /// `X-B3-SpanId` is all zeros.
    XB3SpanIdZero = "x_b3_span_id_zero": "X-B3-SpanId: all zeros",
    /// `X-B3-ParentSpanId` is not 16 non-zero lowercase hex digits.
    XB3ParentSpanId = "x_b3_parent_span_id": "X-B3-ParentSpanId: not 16 non-zero lowercase hex digits",
    /// `X-B3-Sampled` is not `0`, `1` (or the legacy `true`/`false`).
    XB3Sampled = "x_b3_sampled": "X-B3-Sampled: not 0 or 1",
    /// `X-B3-TraceId` without `X-B3-SpanId`.
    XB3MissingSpanId = "x_b3_missing_span_id": "X-B3-SpanId: missing while X-B3-TraceId is present",
    /// `X-B3-SpanId` or `X-B3-ParentSpanId` without `X-B3-TraceId`.
    XB3MissingTraceId = "x_b3_missing_trace_id": "X-B3-TraceId: missing while X-B3-SpanId is present",

    /// More than one `uber-trace-id` line.
    JaegerDuplicate = "jaeger_duplicate": "uber-trace-id: more than one header line",
    /// Not four `:`-separated fields (plain or URL-encoded `%3A`).
    JaegerFormat = "jaeger_format": "uber-trace-id: not {trace-id}:{span-id}:{parent-span-id}:{flags}",
    /// trace-id is not 1 to 32 lowercase hex digits.
    JaegerTraceId = "jaeger_trace_id": "uber-trace-id: trace-id is not 1 to 32 hex digits",
    /// trace-id is zero.
    JaegerTraceIdZero = "jaeger_trace_id_zero": "uber-trace-id: trace-id is zero",
    /// span-id is not 1 to 16 lowercase hex digits.
    JaegerSpanId = "jaeger_span_id": "uber-trace-id: span-id is not 1 to 16 hex digits",
    /// span-id is zero.
    JaegerSpanIdZero = "jaeger_span_id_zero": "uber-trace-id: span-id is zero",
    /// flags is not 1 or 2 hex digits.
    JaegerFlags = "jaeger_flags": "uber-trace-id: flags is not 1 or 2 hex digits",

    /// More than one `X-Amzn-Trace-Id` line.
    XRayDuplicate = "xray_duplicate": "X-Amzn-Trace-Id: more than one header line",
    /// A field is not `key=value`.
    XRayField = "xray_field": "X-Amzn-Trace-Id: a field is not key=value",
    /// The same key twice.
    XRayDuplicateKey = "xray_duplicate_key": "X-Amzn-Trace-Id: a key appears twice",
    /// No `Root` field.
    XRayMissingRoot = "xray_missing_root": "X-Amzn-Trace-Id: Root is missing",
    /// `Root` is not `1-{8 hex}-{24 hex}`.
    XRayRoot = "xray_root": "X-Amzn-Trace-Id: Root is not 1-{8 hex digits}-{24 hex digits}",
    /// `Root` is all zeros.
    XRayRootZero = "xray_root_zero": "X-Amzn-Trace-Id: Root trace id is all zeros",
    /// No `Parent` field, so there is no span to continue.
    XRayMissingParent = "xray_missing_parent": "X-Amzn-Trace-Id: Parent is missing",
    /// `Parent` is not 16 lowercase hex digits, or all zeros.
    XRayParent = "xray_parent": "X-Amzn-Trace-Id: Parent is not 16 non-zero lowercase hex digits",
    /// `Sampled` is not `0`, `1` or `?`.
    XRaySampled = "xray_sampled": "X-Amzn-Trace-Id: Sampled is not 0, 1 or ?",
    /// More extra fields than can be carried.
    XRayTooManyFields = "xray_too_many_fields": "X-Amzn-Trace-Id: too many fields",

    /// More than one `grpc-trace-bin` line.
    GrpcDuplicate = "grpc_duplicate": "grpc-trace-bin: more than one header line",
    /// Not base64 (padded or unpadded).
    GrpcBase64 = "grpc_base64": "grpc-trace-bin: not base64",
    /// Version byte is not 0.
    GrpcVersion = "grpc_version": "grpc-trace-bin: unsupported version",
    /// A field is cut short.
    GrpcTruncated = "grpc_truncated": "grpc-trace-bin: truncated field",
    /// No trace id field.
    GrpcMissingTraceId = "grpc_missing_trace_id": "grpc-trace-bin: trace id field missing",
    /// Trace id is all zeros.
    GrpcTraceIdZero = "grpc_trace_id_zero": "grpc-trace-bin: trace id is all zeros",
    /// No span id field.
    GrpcMissingSpanId = "grpc_missing_span_id": "grpc-trace-bin: span id field missing",
    /// Span id is all zeros.
    GrpcSpanIdZero = "grpc_span_id_zero": "grpc-trace-bin: span id is all zeros",
    /// Fields out of order (the format requires ascending field ids).
    GrpcFieldOrder = "grpc_field_order": "grpc-trace-bin: fields out of order",

    /// One of the `x-datadog-*` headers appears on more than one line.
    DatadogDuplicate = "datadog_duplicate": "x-datadog-*: a header appears on more than one line",
    /// `x-datadog-trace-id` is not a decimal u64 (no sign, no spaces, no overflow).
    DatadogTraceId = "datadog_trace_id": "x-datadog-trace-id: not a decimal 64-bit unsigned integer",
    /// `x-datadog-trace-id` is 0.
    DatadogTraceIdZero = "datadog_trace_id_zero": "x-datadog-trace-id: zero",
    /// `x-datadog-parent-id` is not a decimal u64.
    DatadogParentId = "datadog_parent_id": "x-datadog-parent-id: not a decimal 64-bit unsigned integer",
    /// `x-datadog-parent-id` is 0.
    DatadogParentIdZero = "datadog_parent_id_zero": "x-datadog-parent-id: zero",
    /// `x-datadog-trace-id` without `x-datadog-parent-id`.
    DatadogMissingParentId = "datadog_missing_parent_id": "x-datadog-parent-id: missing while x-datadog-trace-id is present",
    /// `x-datadog-parent-id` (or another `x-datadog-*` context header) without `x-datadog-trace-id`.
    DatadogMissingTraceId = "datadog_missing_trace_id": "x-datadog-trace-id: missing while x-datadog-parent-id is present",
    /// `x-datadog-sampling-priority` is not a decimal integer.
    DatadogSamplingPriority = "datadog_sampling_priority": "x-datadog-sampling-priority: not a decimal integer",
    /// `x-datadog-tags` is not `key=value` pairs separated by `,` (the tags are dropped, the context kept).
    DatadogTags = "datadog_tags": "x-datadog-tags: not key=value pairs separated by ',' (tags dropped)",
    /// `x-datadog-tags` is longer than 512 characters (the tags are dropped, the context kept).
    DatadogTagsTooLong = "datadog_tags_too_long": "x-datadog-tags: longer than 512 characters (tags dropped)",
    /// `_dd.p.tid` is not 16 lowercase hex digits (the tag is dropped; the trace id stays 64-bit).
    DatadogTid = "datadog_tid": "x-datadog-tags: _dd.p.tid is not 16 lowercase hex digits (tag dropped)",

    /// More than one `X-Cloud-Trace-Context` line.
    GcpDuplicate = "gcp_duplicate": "X-Cloud-Trace-Context: more than one header line",
    /// Not `TRACE_ID/SPAN_ID[;o=OPTIONS]`.
    GcpFormat = "gcp_format": "X-Cloud-Trace-Context: not TRACE_ID/SPAN_ID[;o=OPTIONS]",
    /// TRACE_ID is not 32 lowercase hex digits.
    GcpTraceId = "gcp_trace_id": "X-Cloud-Trace-Context: TRACE_ID is not 32 lowercase hex digits",
    /// TRACE_ID is all zeros.
    GcpTraceIdZero = "gcp_trace_id_zero": "X-Cloud-Trace-Context: TRACE_ID is all zeros",
    /// SPAN_ID is not a decimal u64.
    GcpSpanId = "gcp_span_id": "X-Cloud-Trace-Context: SPAN_ID is not a decimal 64-bit unsigned integer",
    /// SPAN_ID is 0.
    GcpSpanIdZero = "gcp_span_id_zero": "X-Cloud-Trace-Context: SPAN_ID is zero",
    /// OPTIONS is not `o=0` or `o=1`.
    GcpOptions = "gcp_options": "X-Cloud-Trace-Context: options are not o=0 or o=1",

    /// One of the `ot-tracer-*` headers appears on more than one line.
    OtDuplicate = "ot_duplicate": "ot-tracer-*: a header appears on more than one line",
    /// `ot-tracer-traceid` is not 16 or 32 lowercase hex digits.
    OtTraceId = "ot_trace_id": "ot-tracer-traceid: not 16 or 32 lowercase hex digits",
    /// `ot-tracer-traceid` is all zeros.
    OtTraceIdZero = "ot_trace_id_zero": "ot-tracer-traceid: all zeros",
    /// `ot-tracer-spanid` is not 16 lowercase hex digits.
    OtSpanId = "ot_span_id": "ot-tracer-spanid: not 16 lowercase hex digits",
    /// `ot-tracer-spanid` is all zeros.
    OtSpanIdZero = "ot_span_id_zero": "ot-tracer-spanid: all zeros",
    /// `ot-tracer-sampled` is not `true` or `false`.
    OtSampled = "ot_sampled": "ot-tracer-sampled: not true or false",
    /// `ot-tracer-traceid` without `ot-tracer-spanid`.
    OtMissingSpanId = "ot_missing_span_id": "ot-tracer-spanid: missing while ot-tracer-traceid is present",
    /// `ot-tracer-spanid` or `ot-tracer-sampled` without `ot-tracer-traceid`.
    OtMissingTraceId = "ot_missing_trace_id": "ot-tracer-traceid: missing while ot-tracer-spanid is present",

    /// One of the `X-INSTANA-*` headers appears on more than one line.
    InstanaDuplicate = "instana_duplicate": "X-INSTANA-*: a header appears on more than one line",
    /// `X-INSTANA-T` is not 1 to 32 lowercase hex digits.
    InstanaTraceId = "instana_trace_id": "X-INSTANA-T: not 1 to 32 lowercase hex digits",
    /// `X-INSTANA-T` is zero.
    InstanaTraceIdZero = "instana_trace_id_zero": "X-INSTANA-T: zero",
    /// `X-INSTANA-S` is not 1 to 16 lowercase hex digits.
    InstanaSpanId = "instana_span_id": "X-INSTANA-S: not 1 to 16 lowercase hex digits",
    /// `X-INSTANA-S` is zero.
    InstanaSpanIdZero = "instana_span_id_zero": "X-INSTANA-S: zero",
    /// `X-INSTANA-L` is not `0` or `1`, optionally followed by `,correlationType=...;correlationId=...`.
    InstanaLevel = "instana_level": "X-INSTANA-L: not 0 or 1[,correlationType=...;correlationId=...]",
    /// `X-INSTANA-T` without `X-INSTANA-S`.
    InstanaMissingSpanId = "instana_missing_span_id": "X-INSTANA-S: missing while X-INSTANA-T is present",
    /// `X-INSTANA-S` without `X-INSTANA-T`.
    InstanaMissingTraceId = "instana_missing_trace_id": "X-INSTANA-T: missing while X-INSTANA-S is present",

    /// A `baggage` list-member is not `key=value[;properties]` by the W3C grammar (it is dropped).
    BaggageMember = "baggage_member": "baggage: a list-member is not key=value[;properties] (dropped)",
    /// Past 64 list-members or 8192 bytes: the members that do not fit are dropped.
    BaggageLimit = "baggage_limit": "baggage: more than 64 list-members or 8192 bytes (the rest dropped)",
    /// A `uberctx-*` / `ot-baggage-*` header has an empty or invalid key, or a value that is not
    /// visible ASCII (it is dropped).
    BaggageHeader = "baggage_header": "uberctx-*/ot-baggage-*: invalid key or value (dropped)",
    /// An entry cannot be written in a format's baggage (an OT value that is not visible ASCII): it
    /// is left out of that format.
    BaggageUnwritable = "baggage_unwritable": "ot-baggage-*: value cannot be written as a header (left out)",
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_messages_name_a_header() {
        for (i, a) in Error::ALL.iter().enumerate() {
            assert!(a.as_str().contains(':'), "{a:?} message should name its header");
            for b in Error::ALL.iter().skip(i + 1) {
                assert_ne!(a.code(), b.code());
            }
        }
    }
}
