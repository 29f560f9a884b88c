//! Translate distributed trace context between W3C Trace Context, Zipkin B3 (single and multi
//! header), Jaeger `uber-trace-id`, AWS X-Ray `X-Amzn-Trace-Id`, gRPC `grpc-trace-bin`, Datadog
//! `x-datadog-*`, OpenTracing `ot-tracer-*`, Instana `X-INSTANA-*` and Google Cloud
//! `X-Cloud-Trace-Context`, with baggage (W3C `baggage`, Jaeger `uberctx-*`, OT `ot-baggage-*`).
//!
//! ```
//! # use tracebridge::{Config, Translator};
//! # let mut headers = vec![("b3".to_string(), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_string())];
//! # let random_bytes = || [7u8; 24];
//! let translator = Translator::new(Config::default())?; // once, from your configuration
//! let report = translator.translate(&mut headers, random_bytes); // per request, in place
//! println!("{:?} from {:?}", report.outcome, report.source); // count, log
//! # assert!(headers.iter().any(|(n, v)| n == "traceparent" && v == "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"));
//! # Ok::<(), tracebridge::translate::ConfigError>(())
//! ```
//!
//! `headers` is anything that implements [`Extractor`] and [`Injector`]: a `Vec<(String, String)>`,
//! an `http::HeaderMap` (feature `http`), or your own header type. `random_bytes` returns 24 random
//! bytes and is called only when a new root trace is started. The [`Report`] says where the context
//! came from, what was done ([`Outcome`]), and the status of every format.
//!
//! # What is where
//!
//! - [`Translator`] and [`Config`] ([`translate`]): the policy — which formats to read in which order,
//!   which to write, what to do when nothing or several different traces arrive, whether to trust the
//!   caller. [`Translator::inspect`] reads without writing; [`Translator::plan`] decides without
//!   touching the carrier.
//! - One module per format, each with its header names, a parser and an encoder into a fixed buffer:
//!   [`w3c`], [`b3::single`], [`b3::multi`], [`jaeger`], [`xray`], [`grpc`], [`datadog`], [`ot`],
//!   [`instana`], [`gcp`]. [`Format`] dispatches to them by name. [`baggage`] carries baggage between
//!   W3C, Jaeger and OT; [`decimal`] is the strict decimal id codec of Datadog and GCP.
//! - One model, [`TraceContext`]: ids ([`TraceId`], [`SpanId`] with their [`IdWidth`]), the sampling
//!   decision ([`Sampling`], which keeps B3's *defer* and *debug*), W3C [`TraceState`], and the fields
//!   only one format has, so nothing is lost on the way through.
//! - Adapters, behind features (below): `otel::TraceBridgePropagator` for OpenTelemetry and
//!   `tower::TraceBridgeLayer` for axum, hyper and tonic.
//!
//! `#![no_std]`; no heap allocation on any parse, format or translation path (outputs are fixed-size
//! buffers); no panics on any input; errors are a flat [`Error`] enum with stable codes.
//!
//! # Features
//!
//! | feature         | default | adds                                                                  | costs                                                        |
//! |-----------------|---------|-----------------------------------------------------------------------|--------------------------------------------------------------|
//! | `std`           | yes     | nothing of its own yet (errors use `core::error::Error`); implies `alloc` | links `std`: turn default features off for `no_std`/wasm      |
//! | `alloc`         | via std | `Vec<(N, V)>` as a carrier                                            | an allocator; no more crates                                  |
//! | `serde`         | no      | `Deserialize` for [`Config`] (the JSON shape every door shares; read through `json`'s checks), `Serialize` for contexts and reports; implies `json` | `serde` + derive: 9 more crates, proc-macro build time |
//! | `json`          | no      | `Config::from_json` and `json::parse`: a small JSON reader for the configuration, for wasm builds (no serde, no floats); implies `alloc` | nothing more |
//! | `http`          | no      | `http::HeaderMap` as a carrier; implies `std`                         | `http`, `bytes`, `itoa`: 3 more crates                        |
//! | `opentelemetry` | no      | `otel::TraceBridgePropagator`; implies `std`                          | `opentelemetry` 0.33 (`trace` only)                           |
//! | `opentelemetry-0-32` | no | `otel_0_32::TraceBridgePropagator`, the same for opentelemetry 0.32; implies `std` | `opentelemetry` 0.32 (`trace` only) |
//! | `tower`         | no      | `tower::TraceBridgeLayer`; implies `http`                             | `tower-layer`, `tower-service`, `getrandom`, `http`: 8 more crates |
//!
//! With no features the crate depends on `arrayvec` only (`no_std`, no allocation) and
//! builds for `wasm32-unknown-unknown`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod ascii_buf;
pub mod b3;
pub mod baggage;
mod base64;
pub mod carrier;
pub mod context;
pub mod datadog;
mod datadog_fields;
pub mod decimal;
pub mod error;
mod ext;
pub mod format;
pub mod gcp;
pub mod grpc;
pub mod id;
pub mod instana;
pub mod jaeger;
#[cfg(feature = "json")]
pub mod json;
mod lanes;
mod name_filter;
pub mod ot;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod otel;
#[cfg(feature = "opentelemetry-0-32")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry-0-32")))]
pub mod otel_0_32;
pub mod propagate;
mod swar;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
pub mod tracestate;
pub mod translate;
pub mod w3c;
pub mod xray;
mod xray_fields;

pub use carrier::{Extractor, Injector};
pub use context::{Propagation, Sampling, TraceContext, TraceFlags};
pub use error::Error;
pub use format::Format;
pub use id::{IdWidth, SpanId, TraceId};
pub use tracestate::TraceState;
pub use translate::{Config, Inspection, Outcome, Plan, Report, Status, Translator};
