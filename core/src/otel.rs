//! OpenTelemetry adapter (feature `opentelemetry`): [`TraceBridgePropagator`], one
//! [`TextMapPropagator`] that reads every format tracebridge knows and writes the configured ones.
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use std::collections::HashMap;
//! use tracebridge::otel::TraceBridgePropagator;
//! use tracebridge::Config;
//!
//! let propagator = TraceBridgePropagator::new(Config::default())?;
//! let headers = HashMap::from([(
//!     "b3".to_string(),
//!     "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_string(),
//! )]);
//! let cx = propagator.extract(&headers);
//! let remote = cx.span().span_context().clone();
//! assert_eq!(remote.trace_id().to_string(), "80f198ee56343ba864fe8b2a57d3eff7");
//! assert_eq!(remote.span_id().to_string(), "e457b5a2e4d86bd1");
//! assert!(remote.is_sampled() && remote.is_remote());
//! # Ok::<(), tracebridge::translate::ConfigError>(())
//! ```
//!
//! Install it with `opentelemetry::global::set_text_map_propagator(propagator)`.
//!
//! The policy is the [`Translator`]'s, shared with the npm package's adapter: **extract** is
//! [`Translator::remote`] (precedence, trust, conflicts, `drop_forced_sampling`; our tracestate member
//! carries what W3C cannot say) and **inject** is [`Translator::inject_span`]; see
//! [`crate::propagate`]. The `SpanContext`'s trace flags carry the sampled bit and W3C Level 2's
//! `random` bit. Caveat: opentelemetry-zipkin and opentelemetry-aws give `0x02` a private meaning
//! (*deferred*); inject with this propagator, not theirs, under a context it extracted.
//! OpenTelemetry's injector cannot remove headers: a format's removals are ignored (carriers given to
//! `inject` start empty in practice).

use std::string::{String, ToString};
use std::vec::Vec;

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor as OtelExtractor, Injector as OtelInjector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState as OtelTraceState};
use opentelemetry::Context;

use crate::carrier::{Extractor, Injector};
use crate::context::TraceFlags;
use crate::id::{SpanId, TraceId};
use crate::tracestate::TraceState;
use crate::translate::{Config, ConfigError, Translator};

/// An OpenTelemetry [`TextMapPropagator`] for every format, driven by one [`Config`].
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use tracebridge::otel::TraceBridgePropagator;
/// use tracebridge::{Config, Format};
/// use tracebridge::translate::FormatList;
///
/// // Read everything, write W3C and B3 single.
/// let config = Config { inject: FormatList::new(&[Format::W3c, Format::B3Single]).unwrap(), ..Config::default() };
/// let propagator = TraceBridgePropagator::new(config).unwrap();
/// assert!(propagator.fields().any(|f| f == "x-amzn-trace-id"));
/// ```
#[derive(Debug, Clone)]
pub struct TraceBridgePropagator {
    translator: Translator,
    fields: Vec<String>,
}

impl TraceBridgePropagator {
    /// A propagator for `config` (checked as by [`Translator::new`]).
    ///
    /// ```
    /// use tracebridge::otel::TraceBridgePropagator;
    /// use tracebridge::Config;
    /// use tracebridge::translate::FormatList;
    ///
    /// let empty = Config { extract: FormatList::EMPTY, ..Config::default() };
    /// assert!(TraceBridgePropagator::new(empty).is_err());
    /// ```
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Translator::new(config).map(Self::from_translator)
    }

    /// A propagator for an existing translator.
    ///
    /// ```
    /// use tracebridge::otel::TraceBridgePropagator;
    /// use tracebridge::Translator;
    ///
    /// let propagator = TraceBridgePropagator::from_translator(Translator::default());
    /// assert_eq!(propagator.translator(), &Translator::default());
    /// ```
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
    ///
    /// ```
    /// # use tracebridge::otel::TraceBridgePropagator;
    /// # use tracebridge::Config;
    /// let p = TraceBridgePropagator::new(Config::default()).unwrap();
    /// assert_eq!(p.translator().config(), &Config::default());
    /// ```
    pub fn translator(&self) -> &Translator {
        &self.translator
    }

    /// The remote span context the headers carry, after the configured policy
    /// ([`Translator::remote`]); `None` when the SDK should start a new root.
    fn remote(&self, extractor: &dyn OtelExtractor) -> Option<SpanContext> {
        let carrier = OtelCarrier(extractor);
        let remote = self.translator.remote(&carrier)?;
        let ctx = remote.context;
        let trace_state = OtelTraceState::from_key_value(
            TraceState::parse(remote.tracestate.as_str()).unwrap_or(TraceState::EMPTY).members(),
        )
        .unwrap_or_default();
        Some(SpanContext::new(
            opentelemetry::TraceId::from_bytes(ctx.trace_id.to_bytes()),
            opentelemetry::SpanId::from_bytes(ctx.span_id.to_bytes()),
            opentelemetry::TraceFlags::new(ctx.trace_flags.0),
            true,
            trace_state,
        ))
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
}

/// OpenTelemetry's injector as core's: `set` only (OpenTelemetry has no removal).
struct OtelSink<'i>(&'i mut dyn OtelInjector);

impl Injector for OtelSink<'_> {
    fn set(&mut self, name: &str, value: &str) {
        self.0.set(name, value.to_string());
    }

    fn remove(&mut self, _name: &str) {}
}
