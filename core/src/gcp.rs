//! Google Cloud: `X-Cloud-Trace-Context`.
//!
//! Header: `X-Cloud-Trace-Context`
//! ([Google Cloud Trace: legacy HTTP header](https://cloud.google.com/trace/docs/trace-context#legacy-http-header);
//! the same grammar in Google's OpenTelemetry propagators, e.g. `@google-cloud/opentelemetry-cloud-trace-propagator`).
//!
//! ```text
//! X-Cloud-Trace-Context = TRACE_ID "/" SPAN_ID [ ";o=" OPTIONS ]
//! TRACE_ID = 32HEXDIGLC          ; a 128-bit id, not all zeros
//! SPAN_ID  = 1*DIGIT             ; "the decimal representation of the (unsigned) span ID", not 0
//! OPTIONS  = "0" / "1"           ; 1: trace this request ("TRACE_TRUE"), 0: do not
//! ```
//!
//! | `;o=` | model |
//! |-------|-------|
//! | `1`   | [`Sampling::Accept`] |
//! | `0`   | [`Sampling::Deny`] |
//! | absent | [`Sampling::Defer`]: Google's docs define only `1` (trace) and `0` (do not); without the flag the caller made no decision, and Cloud Trace applies its own sampling |
//!
//! The span id is decimal, unlike every other format: it is parsed strictly ([`crate::decimal`]: no
//! sign, spaces or overflow) and written in decimal. A span id of `0` cannot be continued (every other
//! format refuses a zero id) and is invalid. The trace id is lowercase hex as Google writes it.
//! A trace id alone (`TRACE_ID` or `TRACE_ID/;o=1`, which App Engine documents) names no parent span
//! and is invalid as a context ([`Error::GcpFormat`]).

use crate::ascii_buf::AsciiBuf;
use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::decimal::{parse_u64, Decimal};
use crate::id::{HexError, SpanId, TraceId};
use crate::Error;

/// Header name.
pub const HEADER: &str = "x-cloud-trace-context";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[HEADER];

/// Parse an `X-Cloud-Trace-Context` value.
///
/// ```
/// use tracebridge::{gcp, Sampling};
///
/// let ctx = gcp::parse(b"105445aa7843bc8bf206b12000100000/1;o=1")?;
/// assert_eq!((ctx.span_id.to_string().as_str(), ctx.sampling), ("0000000000000001", Sampling::Accept));
/// assert_eq!(gcp::parse(b"105445aa7843bc8bf206b12000100000/1")?.sampling, Sampling::Defer);
/// assert_eq!(gcp::encode(&ctx).as_str(), "105445aa7843bc8bf206b12000100000/1;o=1");
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse(value: &[u8]) -> Result<TraceContext<'static>, Error> {
    parse_into(value, &mut None).map(|ctx| *ctx)
}

/// [`parse`], the context built in `out` ([`Read`]).
fn parse_into<'a, 'o>(value: &[u8], out: &'o mut impl Slot<'a>) -> Result<&'o mut TraceContext<'a>, Error> {
    let value = carrier::trim_ows(value);
    carrier::visible_ascii(value)?;
    let (trace, rest) = value.split_at_checked(32).ok_or(Error::GcpFormat)?;
    let rest = rest.strip_prefix(b"/").ok_or(Error::GcpFormat)?;
    let (span, options) = match rest.iter().position(|&b| b == b';') {
        Some(i) => {
            let (span, opt) = rest.split_at(i);
            (span, Some(opt.get(1..).unwrap_or_default()))
        }
        None => (rest, None),
    };
    let trace_id = TraceId::from_hex(trace).map_err(|e| match e {
        HexError::Zero => Error::GcpTraceIdZero,
        _ => Error::GcpTraceId,
    })?;
    if span.is_empty() {
        return Err(Error::GcpFormat);
    }
    let span = parse_u64(span).map_err(|_| Error::GcpSpanId)?;
    let span_id = SpanId::from_bytes(span.to_be_bytes()).ok_or(Error::GcpSpanIdZero)?;
    let sampling = match options {
        None => Sampling::Defer,
        Some(b"o=1") => Sampling::Accept,
        Some(b"o=0") => Sampling::Deny,
        Some(_) => return Err(Error::GcpOptions),
    };
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(sampling);
    Ok(ctx)
}

/// An encoded `X-Cloud-Trace-Context` value in a fixed buffer.
#[derive(Clone, Copy)]
pub struct Encoded {
    buf: AsciiBuf<{ Encoded::LEN }>,
}

impl Encoded {
    /// The longest value: 32 hex digits, `/`, 20 decimal digits and `;o=1`.
    pub const LEN: usize = 32 + 1 + 20 + 4;

    /// The value.
    pub fn as_str(&self) -> &str {
        self.buf.as_str()
    }

    /// The value as bytes (ASCII), for [`Injector::set_bytes`].
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }
}

/// The value for `ctx`: `;o=1` for accept and debug, `;o=0` for deny, no options for *defer*.
pub fn encode(ctx: &TraceContext<'_>) -> Encoded {
    let mut out = AsciiBuf::<{ Encoded::LEN }>::new();
    out.extend(&ctx.trace_id.to_hex());
    out.extend(b"/");
    out.extend(Decimal::new(u64::from_be_bytes(ctx.span_id.to_bytes())).as_str().as_bytes());
    match ctx.sampling {
        Sampling::Accept | Sampling::Debug => out.extend(b";o=1"),
        Sampling::Deny => out.extend(b";o=0"),
        Sampling::Defer => {}
    }
    Encoded { buf: out }
}

/// The Google Cloud context of `headers`: `Ok(None)` when there is no `X-Cloud-Trace-Context`.
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    carrier::read_single(headers, HEADER, Error::GcpDuplicate, out, parse_into)
}

/// Write `X-Cloud-Trace-Context` for `ctx` (see [`encode`]).
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    headers.set_bytes(HEADER, encode(ctx).as_bytes());
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};

    const T: &str = "105445aa7843bc8bf206b12000100000";

    fn p(v: &str) -> Result<(String, Sampling), Error> {
        parse(v.as_bytes()).map(|c| (encode(&c).as_str().to_string(), c.sampling))
    }

    #[test]
    fn grammar() {
        assert_eq!(p(&std::format!("{T}/123;o=1")), Ok((std::format!("{T}/123;o=1"), Sampling::Accept)));
        assert_eq!(p(&std::format!("{T}/123;o=0")), Ok((std::format!("{T}/123;o=0"), Sampling::Deny)));
        assert_eq!(p(&std::format!("{T}/0123")), Ok((std::format!("{T}/123"), Sampling::Defer)));
        assert_eq!(p(&std::format!("{T}/18446744073709551615;o=1")).map(|t| t.1), Ok(Sampling::Accept));
        assert_eq!(p(&std::format!("{T}/18446744073709551616;o=1")), Err(Error::GcpSpanId));
        assert_eq!(p(&std::format!("{T}/0;o=1")), Err(Error::GcpSpanIdZero));
        assert_eq!(p(&std::format!("{T}/+1;o=1")), Err(Error::GcpSpanId));
        assert_eq!(p(&std::format!("{T}/1 ;o=1")), Err(Error::GcpSpanId));
        assert_eq!(p(&std::format!("{T}/;o=1")), Err(Error::GcpFormat));
        assert_eq!(p(T), Err(Error::GcpFormat));
        assert_eq!(p(&std::format!("{T}/1;o=2")), Err(Error::GcpOptions));
        assert_eq!(p(&std::format!("{T}/1;o=")), Err(Error::GcpOptions));
        assert_eq!(p(&std::format!("{T}/1;")), Err(Error::GcpOptions));
        assert_eq!(p(&std::format!("{T}/1;o=1;o=1")), Err(Error::GcpOptions));
        assert_eq!(p("105445AA7843BC8BF206B12000100000/1;o=1"), Err(Error::GcpTraceId));
        assert_eq!(p("00000000000000000000000000000000/1;o=1"), Err(Error::GcpTraceIdZero));
        assert_eq!(p("105445aa/1;o=1"), Err(Error::GcpFormat));
        assert_eq!(p(""), Err(Error::GcpFormat));
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(t in any::<[u8; 16]>(), s in 1..u64::MAX, samp in 0..3u8) {
            let Some(trace_id) = TraceId::from_bytes(t) else { return Ok(()) };
            let Some(span_id) = SpanId::from_bytes(s.to_be_bytes()) else { return Ok(()) };
            let sampling = match samp { 0 => Sampling::Deny, 1 => Sampling::Defer, _ => Sampling::Accept };
            let ctx = TraceContext::new(trace_id, span_id).with_sampling(sampling);
            prop_assert_eq!(parse(encode(&ctx).as_str().as_bytes()), Ok(ctx));
        }

        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse(&v);
        }

        #[test]
        fn parse_near_the_grammar_never_panics(v in "[0-9a-f]{30,33}/[0-9+ -]{0,22}(;o=[0-9]?)?") {
            if let Ok(c) = parse(v.as_bytes()) {
                prop_assert_eq!(parse(encode(&c).as_str().as_bytes()), Ok(c));
            }
        }
    }
}
