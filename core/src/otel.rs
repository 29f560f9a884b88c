//! OpenTelemetry adapter (feature `opentelemetry`, for opentelemetry 0.33; `opentelemetry-0-32` gives
//! the same in [`crate::otel_0_32`] for 0.32): [`TraceBridgePropagator`], one
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
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use tracebridge::otel::TraceBridgePropagator;
//! use tracebridge::translate::FormatList;
//! use tracebridge::{Config, Format};
//!
//! // Read everything, write W3C and B3 single; `Default` reads everything and writes W3C.
//! let config = Config { inject: FormatList::new(&[Format::W3c, Format::B3Single]).map_err(|_| "repeat")?, ..Config::default() };
//! let propagator = TraceBridgePropagator::new(config).map_err(|_| "config")?;
//! assert!(propagator.fields().any(|f| f == "x-amzn-trace-id"));
//! assert!(TraceBridgePropagator::default().fields().any(|f| f == "traceparent"));
//! # Ok::<(), &str>(())
//! ```

use opentelemetry as otel;

include!("otel_adapter.rs");
