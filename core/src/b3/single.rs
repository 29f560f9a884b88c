//! STUB: to be written.

use crate::carrier::{Extractor, Injector};
use crate::context::{Propagation, Sampling, TraceContext};
use crate::Error;

/// Header name.
pub const HEADER: &str = "b3";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[HEADER];

/// Read this format.
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    let _ = headers;
    Ok(None)
}

/// Write this format.
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    let _ = (ctx, headers);
}

/// Write a decision without ids.
pub fn inject_sampling_only<I: Injector + ?Sized>(sampling: Sampling, headers: &mut I) {
    let _ = (sampling, headers);
}
