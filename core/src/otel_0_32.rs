//! The OpenTelemetry adapter of [`crate::otel`] for opentelemetry 0.32 (feature `opentelemetry-0-32`):
//! the same [`TraceBridgePropagator`], for an application still on that release (the last one
//! opentelemetry-jaeger-propagator supports).

use opentelemetry_0_32 as otel;

include!("otel_adapter.rs");
