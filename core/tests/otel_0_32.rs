//! The opentelemetry 0.32 adapter (`tracebridge::otel_0_32`, feature `opentelemetry-0-32`): the same
//! propagator as `otel` (tests/otel.rs) on the older release, cross-checked with
//! opentelemetry-jaeger-propagator, which has not moved past 0.32.

// opentelemetry-jaeger-propagator is deprecated upstream (Jaeger moved to OTLP and W3C); it is still
// what Jaeger-instrumented OpenTelemetry users run, so it stays the reference here.
#![allow(deprecated)]

use std::collections::HashMap;

use opentelemetry_0_32::propagation::TextMapPropagator;
use opentelemetry_0_32::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_0_32::Context;
use opentelemetry_jaeger_propagator::Propagator as JaegerPropagator;
use tracebridge::otel_0_32::TraceBridgePropagator;
use tracebridge::translate::{Config, FormatList};
use tracebridge::Format;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn jaeger_only() -> TraceBridgePropagator {
    let list = FormatList::new(&[Format::Jaeger]).unwrap_or(FormatList::ALL);
    TraceBridgePropagator::new(Config { extract: list, inject: list, ..Config::default() })
        .unwrap_or_else(|e| panic!("config: {e}"))
}

fn remote(p: &dyn TextMapPropagator, h: &HashMap<String, String>) -> SpanContext {
    p.extract(h).span().span_context().clone()
}

fn inject(p: &dyn TextMapPropagator, sc: SpanContext) -> HashMap<String, String> {
    let mut out = HashMap::new();
    p.inject_context(&Context::new().with_remote_span_context(sc), &mut out);
    out
}

fn ids(sc: &SpanContext) -> (String, String, bool) {
    (sc.trace_id().to_string(), sc.span_id().to_string(), sc.is_sampled())
}

#[test]
fn cross_check_jaeger_with_opentelemetry_jaeger_propagator() {
    let (ours, theirs) = (jaeger_only(), JaegerPropagator::new());
    for sampled in [true, false] {
        let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::NOT_SAMPLED };
        let (Ok(t), Ok(s)) = (TraceId::from_hex(TRACE), SpanId::from_hex(SPAN)) else { panic!("ids") };
        let sc = SpanContext::new(t, s, flags, false, TraceState::default());
        let by_us = inject(&ours, sc.clone());
        assert_eq!(ids(&remote(&theirs, &by_us)), ids(&sc), "they extract ours: {by_us:?}");
        let by_them = inject(&theirs, sc.clone());
        assert_eq!(ids(&remote(&ours, &by_them)), ids(&sc), "we extract theirs: {by_them:?}");
    }
}

#[test]
fn jaeger_flags_are_a_hex_byte() {
    // Jaeger "Propagation Format": flags is "one byte bitmap, as two hex digits". 0x0b is
    // sampled | debug | firehose. opentelemetry-jaeger-propagator 0.32 parses flags as decimal and
    // drops the whole header.
    let h = HashMap::from([("uber-trace-id".to_string(), format!("{TRACE}:{SPAN}:0:0b"))]);
    assert!(!remote(&JaegerPropagator::new(), &h).is_valid(), "revisit this test");
    assert_eq!(ids(&remote(&jaeger_only(), &h)), (TRACE.into(), SPAN.into(), true));
}

#[test]
fn default_reads_every_format_and_writes_w3c() {
    let p = TraceBridgePropagator::default();
    let h = HashMap::from([("uber-trace-id".to_string(), format!("{TRACE}:{SPAN}:0:1"))]);
    let out = inject(&p, remote(&p, &h));
    assert_eq!(out.get("traceparent").map(String::as_str), Some(format!("00-{TRACE}-{SPAN}-01").as_str()));
}
