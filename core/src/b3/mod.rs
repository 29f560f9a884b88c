//! Zipkin B3 propagation: the single `b3` header and the multiple `X-B3-*` headers.
//! STUB: shared field parsing to be written.

pub mod multi;
pub mod single;
