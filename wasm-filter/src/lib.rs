//! tracebridge as an Envoy HTTP filter (proxy-wasm ABI): translates the request's trace headers per
//! core's [`Translator`](tracebridge::translate::Translator) policy and counts what it saw.
//!
//! Built for `wasm32-wasip1` (`scripts/build-filter.sh`); the configuration and stat names are plain
//! Rust so they are unit-tested on the host. See `README.md` for the configuration reference.
#![deny(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod stats;

// The host calls exist only inside a proxy-wasm VM.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `proxy_wasm::main!` exports `_initialize` (`#[no_mangle]`).
mod filter;
