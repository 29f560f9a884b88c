//! tracebridge as an Envoy HTTP filter (proxy-wasm ABI 0.2.1): translates the request's trace headers
//! per core's [`Translator`](tracebridge::translate::Translator) policy and counts what it saw.
//!
//! Built for `wasm32-wasip1` (`scripts/build-filter.sh`). It speaks the ABI itself ([`abi`]) rather
//! than through the Rust SDK, to keep the host's calls into the VM per request to the three it needs.
//! The configuration, stat names, header view and stream table are plain Rust, unit-tested on the
//! host. See `README.md` for the configuration reference.
#![deny(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// In the VM, core and alloc only: std's panic machinery, its stderr and environment, and libc's
// dlmalloc stay out (≈ 23 KiB of the `.wasm`; see `abi` for the allocator and the panic
// handler). On the host (unit tests) std is there as usual.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

/// What std's prelude gives and a `no_std` crate imports from `alloc`.
mod prelude {
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

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
