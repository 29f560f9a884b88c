//! tracebridge: translate distributed trace context between W3C Trace Context, Zipkin B3 (single
//! and multi header), Jaeger `uber-trace-id`, AWS X-Ray `X-Amzn-Trace-Id` and gRPC `grpc-trace-bin`.
//!
//! One model ([`TraceContext`]), one module per format (parse and format as a pair), and the
//! translation policy ([`Translator`]). `#![no_std]`, no heap on any parse or format path, no panics.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod b3;
pub mod carrier;
pub mod context;
pub mod error;
mod ext;
pub mod format;
pub mod grpc;
pub mod id;
pub mod jaeger;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod otel;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
pub mod tracestate;
pub mod translate;
pub mod w3c;
pub mod xray;

pub use carrier::{Extractor, Injector};
pub use context::{Propagation, Sampling, TraceContext, TraceFlags};
pub use error::Error;
pub use format::Format;
pub use id::{IdWidth, SpanId, TraceId};
pub use tracestate::TraceState;
pub use translate::{Config, Inspection, Outcome, Plan, Report, Status, Translator};
