//! tracebridge as an Envoy HTTP filter (proxy-wasm ABI 0.2.1): translates the request's trace headers
//! per core's [`Translator`](tracebridge::translate::Translator) policy and counts what it saw.
//!
//! Built for `wasm32-wasip1` (`scripts/build-filter.sh`). It speaks the ABI itself ([`abi`]) rather
//! than through the Rust SDK, to keep the host's calls into the VM per request to the three it needs.
//! The configuration, stat names, header view and stream table are plain Rust, unit-tested on the
//! host. See `README.md` for the configuration reference.
#![deny(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod access_log;
pub mod callers;
pub mod config;
pub mod headers;
pub mod stats;
pub mod streams;

// The host calls exist only inside a proxy-wasm VM.
#[cfg(target_arch = "wasm32")]
#[allow(missing_docs)]
mod abi;
#[cfg(target_arch = "wasm32")]
mod filter;
