// The OpenTelemetry adapter, for whichever `opentelemetry` release the including module names
// `otel` (`otel.rs`: 0.33, `otel_0_32.rs`: 0.32). Included, not a module, so both releases share one
// source; the examples are in `otel.rs`.

use std::string::{String, ToString};
use std::vec::Vec;

use otel::propagation::text_map_propagator::FieldIter;
use otel::propagation::{Extractor as OtelExtractor, Injector as OtelInjector, TextMapPropagator};
use otel::trace::{SpanContext, TraceContextExt, TraceState as OtelTraceState};
use otel::Context;

use crate::carrier::{Extractor, Injector};
use crate::context::TraceFlags;
use crate::id::{SpanId, TraceId};
use crate::tracestate::TraceState;
use crate::translate::{Config, ConfigError, Translator};

/// An OpenTelemetry [`TextMapPropagator`] for every format, driven by one [`Config`].
#[derive(Debug, Clone)]
pub struct TraceBridgePropagator {
    translator: Translator,
    fields: Vec<String>,
}

impl TraceBridgePropagator {
    /// A propagator for `config` (checked as by [`Translator::new`]).
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Translator::new(config).map(Self::from_translator)
    }

    /// A propagator for an existing translator.
    pub fn from_translator(translator: Translator) -> Self {
        let mut fields: Vec<String> = Vec::new();
        for f in translator.fields() {
            if !fields.iter().any(|x| x == f) {
                fields.push(f.to_string());
            }
        }
        TraceBridgePropagator { translator, fields }
    }

    /// The translator and its configuration.
    pub fn translator(&self) -> &Translator {
        &self.translator
    }

    /// The remote span context the headers carry, after the configured policy
    /// ([`Translator::remote`]); `None` when the SDK should start a new root.
    fn remote(&self, extractor: &dyn OtelExtractor) -> Option<SpanContext> {
        let carrier = OtelCarrier(extractor);
        // Written in place: a `Remote` moves its 4 KiB buffer.
        let mut tracestate = crate::tracestate::TraceStateBuf::new();
        let ctx = self.translator.remote_into(&carrier, &mut tracestate)?;
        let trace_state = OtelTraceState::from_key_value(
            TraceState::parse(tracestate.as_str()).unwrap_or(TraceState::EMPTY).members(),
        )
        .unwrap_or_default();
        Some(SpanContext::new(
            otel::TraceId::from_bytes(ctx.trace_id.to_bytes()),
            otel::SpanId::from_bytes(ctx.span_id.to_bytes()),
            otel::TraceFlags::new(ctx.trace_flags.0),
            true,
            trace_state,
        ))
    }
}

/// Every format read, W3C written, the default policy ([`Config::default`]).
impl Default for TraceBridgePropagator {
    fn default() -> Self {
        Self::from_translator(Translator::default())
    }
}

impl TextMapPropagator for TraceBridgePropagator {
    /// [`Translator::inject_span`] for the context's span.
    fn inject_context(&self, cx: &Context, injector: &mut dyn OtelInjector) {
        let span = cx.span();
        let sc = span.span_context();
        let (Some(trace_id), Some(span_id)) =
            (TraceId::from_bytes(sc.trace_id().to_bytes()), SpanId::from_bytes(sc.span_id().to_bytes()))
        else {
            return;
        };
        let header = sc.trace_state().header();
        let span = crate::propagate::SpanContext {
            trace_id,
            span_id,
            trace_flags: TraceFlags(sc.trace_flags().to_u8()),
            tracestate: TraceState::parse(&header).unwrap_or(TraceState::EMPTY),
        };
        self.translator.inject_span(&span, &mut OtelSink(injector));
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn OtelExtractor) -> Context {
        match self.remote(extractor) {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// OpenTelemetry's extractor as core's: every line of a header (its `get_all`), so a tracestate sent
/// on several lines is combined as W3C requires (§3.3.1.1).
struct OtelCarrier<'e>(&'e dyn OtelExtractor);

impl Extractor for OtelCarrier<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> core::ops::ControlFlow<()>) {
        crate::carrier::visit_each(self.0.get_all(name).into_iter().flatten().map(str::as_bytes), each);
    }

    /// Through OpenTelemetry's `keys()`: one call (and one `Vec`) instead of a `get_all` (and a
    /// `Vec`) for each name of every format read.
    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        // No keys at all, from an extractor that may still answer `get_all`: treated as not listed.
        let keys = self.0.keys();
        keys.iter().for_each(|k| each(k.as_bytes()));
        !keys.is_empty()
    }

    /// Through OpenTelemetry's `keys()`: every header whose name has the prefix, each of its values.
    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> core::ops::ControlFlow<()>) {
        for key in self.0.keys().into_iter().filter(|k| crate::carrier::has_prefix(k.as_bytes(), prefix)) {
            for v in self.0.get_all(key).into_iter().flatten() {
                if each(key.as_bytes(), v.as_bytes()).is_break() {
                    return;
                }
            }
        }
    }
}

/// OpenTelemetry's injector as core's: `set` only (OpenTelemetry has no removal).
struct OtelSink<'i>(&'i mut dyn OtelInjector);

impl Injector for OtelSink<'_> {
    fn set(&mut self, name: &str, value: &str) {
        self.0.set(name, value.to_string());
    }

    fn remove(&mut self, _name: &str) {}
}
