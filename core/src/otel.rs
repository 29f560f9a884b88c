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
//! **Extract** runs [`Translator::inspect`] and applies the configured policy: precedence is the
//! `extract` list (the first valid context wins, unlike OpenTelemetry's composite propagator, where
//! the last one does); `trust: restart` or `ignore`, and `on_conflict: new-root` or `pass-through`
//! when headers name different traces, return the context unchanged so the SDK starts a new root;
//! `drop_forced_sampling` clears the sampled flag. A B3 decision without ids (`b3: 0`) cannot be a
//! `SpanContext` and is not extracted. What W3C cannot say (B3 *defer*/*debug*, a 64-bit id, Jaeger
//! flags, X-Ray `Lineage`/`Self`) rides in tracebridge's own tracestate member, exactly as the
//! [`Translator`] writes it, so a pass-through of the remote context loses nothing.
//!
//! The `SpanContext`'s trace flags carry the sampled bit and W3C Level 2's `random` bit (`0x02`,
//! [§3.2.2.5.2](https://www.w3.org/TR/trace-context-2/#random-trace-id-flag)): the trace id is kept, so
//! the claim that it is random still holds, and the SDK passes the flags on to child spans, whose
//! `traceparent` this propagator writes with the bit set again (the official test suite's
//! `test_propagates_random_flag`). Reserved bits are not passed: a service that starts spans sets them
//! to zero (§3.2.2.5.3). Caveat: opentelemetry-zipkin and opentelemetry-aws give `0x02` a private
//! meaning (*deferred*); inject with this propagator, not theirs, under a context it extracted.
//!
//! **Inject** builds a [`TraceContext`] from the current span context and calls
//! [`Format::inject`](crate::Format::inject) for every configured `inject` format, plus `tracestate`
//! when W3C is among them. Sampling is the span's sampled flag, except that our member's *defer* or
//! *debug* applies while the span id is the one the member describes (an unchanged remote context).
//! OpenTelemetry's injector cannot remove headers: a format's removals are ignored (carriers given to
//! `inject` start empty in practice).

use std::string::{String, ToString};
use std::vec::Vec;

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor as OtelExtractor, Injector as OtelInjector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState as OtelTraceState};
use opentelemetry::Context;

use crate::carrier::{Extractor, Injector};
use crate::context::{Sampling, TraceContext, TraceFlags};
use crate::ext;
use crate::format::Format;
use crate::id::{IdWidth, SpanId, TraceId};
use crate::tracestate::{self, TraceState};
use crate::translate::{Config, ConfigError, OnConflict, Translator, Trust, WidthPolicy};

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

    /// The remote span context the headers carry, after the configured policy; `None` when the SDK
    /// should start a new root.
    fn remote(&self, extractor: &dyn OtelExtractor) -> Option<SpanContext> {
        let carrier = OtelCarrier(extractor);
        let ins = self.translator.inspect(&carrier);
        let cfg = self.translator.config();
        let mut ctx = ins.context?;
        if cfg.trust != Trust::Continue || (ins.conflicts() > 0 && cfg.on_conflict != OnConflict::PreferFirst) {
            return None;
        }
        if cfg.drop_forced_sampling && ctx.sampling.is_sampled() {
            ctx = ctx.with_sampling(Sampling::Defer);
        }
        // The sampled bit (defer → 0, W3C §3.2.2.5.1) and the random bit (module docs).
        let flags = TraceFlags(ctx.trace_flags.0 & TraceFlags::RANDOM).with_sampled(ctx.sampling.is_sampled());
        let ts = &cfg.tracestate;
        let member = if ts.member { ext::encode(&ctx, ins.restarted_from) } else { None };
        let written = ctx.tracestate.write(ts.key.as_str(), member.as_ref().map(|m| m.as_str()), ts.max_len);
        let trace_state =
            OtelTraceState::from_key_value(TraceState::parse(written.as_str()).unwrap_or(TraceState::EMPTY).members())
                .unwrap_or_default();
        Some(SpanContext::new(
            opentelemetry::TraceId::from_bytes(ctx.trace_id.to_bytes()),
            opentelemetry::SpanId::from_bytes(ctx.span_id.to_bytes()),
            opentelemetry::TraceFlags::new(flags.0),
            true,
            trace_state,
        ))
    }
}

impl TextMapPropagator for TraceBridgePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn OtelInjector) {
        let span = cx.span();
        let sc = span.span_context();
        let (Some(trace_id), Some(span_id)) =
            (TraceId::from_bytes(sc.trace_id().to_bytes()), SpanId::from_bytes(sc.span_id().to_bytes()))
        else {
            return;
        };
        let cfg = self.translator.config();
        let header = sc.trace_state().header();
        let sampling = if sc.is_sampled() { Sampling::Accept } else { Sampling::Deny };
        // Sampled and random (module docs); reserved bits are written as zero.
        let mut ctx = TraceContext::new(trace_id, span_id).with_sampling(sampling);
        ctx.trace_flags = TraceFlags(sc.trace_flags().to_u8() & (TraceFlags::SAMPLED | TraceFlags::RANDOM));
        ctx.tracestate = TraceState::parse(&header).unwrap_or(TraceState::EMPTY);
        let key = cfg.tracestate.key.as_str();
        let mut restarted_from = None;
        if let Some(member) = ctx.tracestate.get(key) {
            ext::clear_extras(&mut ctx);
            restarted_from = ext::apply(&mut ctx, member).restarted_from;
        }
        match cfg.id_width {
            WidthPolicy::Keep => {}
            WidthPolicy::Bits64 => ctx.id_width = IdWidth::Bits64,
            WidthPolicy::Bits128 => ctx.id_width = IdWidth::Bits128,
        }
        let mut out = OtelSink(injector);
        for f in cfg.inject.iter() {
            f.inject(&ctx, &mut out);
        }
        if cfg.inject.contains(Format::W3c) {
            let member = if cfg.tracestate.member { ext::encode(&ctx, restarted_from) } else { None };
            let written = ctx.tracestate.write(key, member.as_ref().map(|m| m.as_str()), cfg.tracestate.max_len);
            if !written.as_str().is_empty() {
                out.set(tracestate::HEADER, written.as_str());
            }
        }
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

/// OpenTelemetry's extractor as core's: every line of a header via `get_all`, so a tracestate sent
/// on several lines is combined as W3C requires (§3.3.1.1).
struct OtelCarrier<'e>(&'e dyn OtelExtractor);

impl Extractor for OtelCarrier<'_> {
    fn get_all<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s [u8]> {
        self.0.get_all(name).into_iter().flatten().map(str::as_bytes)
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
