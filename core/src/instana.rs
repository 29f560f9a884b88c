//! Instana: `X-INSTANA-T`, `X-INSTANA-S`, `X-INSTANA-L`.
//!
//! Headers ([IBM Instana: tracing headers](https://www.ibm.com/docs/en/instana-observability/current?topic=references-tracing-headers);
//! OpenTelemetry's `@opentelemetry/propagator-instana`, `InstanaPropagator.ts`):
//!
//! ```text
//! X-INSTANA-T = 1*32HEXDIGLC      ; trace id, not zero; up to 16 digits is a 64-bit id
//! X-INSTANA-S = 1*16HEXDIGLC      ; span id, not zero
//! X-INSTANA-L = level [ "," correlation ]
//! level       = "0" / "1"         ; 0: suppressed (deny), 1: traced (accept)
//! correlation = 1*VCHAR           ; "correlationType=web;correlationId=..." from website monitoring
//! ```
//!
//! Ids shorter than 16 or 32 digits are left-padded with zeros ("if traceId.length < 32, padStart",
//! the propagator above; Instana's own tracers may send 16-digit ids for 64-bit traces). Written
//! zero-padded to 16 or 32 digits per [`TraceContext::id_width`].
//!
//! | `X-INSTANA-L` | model |
//! |---------------|-------|
//! | `1`, or absent | [`Sampling::Accept`]: Instana traces unless told not to (the propagator reads a missing level as `1`) |
//! | `0`           | [`Sampling::Deny`] |
//!
//! `X-INSTANA-L: 0` without ids is a decision on its own ("perfectly valid to send X-INSTANA-L=0
//! without X-INSTANA-T/-S", ibid.): [`Propagation::SamplingOnly`]. *Defer* is written as no level.
//! The correlation part is kept as it arrived ([`TraceContext::instana_correlation`]) and written back
//! after the level.

use arrayvec::ArrayVec;

use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, Text, TraceContext};
use crate::id::{HexError, IdWidth, SpanId, TraceId};
use crate::Error;

/// `X-INSTANA-T`, lowercase.
pub const TRACE_ID: &str = "x-instana-t";
/// `X-INSTANA-S`, lowercase.
pub const SPAN_ID: &str = "x-instana-s";
/// `X-INSTANA-L`, lowercase.
pub const LEVEL: &str = "x-instana-l";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[TRACE_ID, SPAN_ID, LEVEL];

/// The level and correlation of an `X-INSTANA-L` value.
///
/// ```
/// use tracebridge::{instana, Sampling};
///
/// let (s, corr) = instana::parse_level(b"1,correlationType=web;correlationId=1234567890abcdef")?;
/// assert_eq!((s, corr), (Sampling::Accept, Some("correlationType=web;correlationId=1234567890abcdef")));
/// assert!(instana::parse_level(b"2").is_err());
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse_level(v: &[u8]) -> Result<(Sampling, Option<&str>), Error> {
    let v = carrier::visible_ascii(carrier::trim_ows(v))?;
    let (level, correlation) = match v.split_once(',') {
        Some((l, c)) => (l, Some(c.trim_matches(' '))),
        None => (v, None),
    };
    let sampling = match level.trim_matches(' ') {
        "1" => Sampling::Accept,
        "0" => Sampling::Deny,
        _ => return Err(Error::InstanaLevel),
    };
    match correlation {
        Some("") => Err(Error::InstanaLevel),
        c => Ok((sampling, c)),
    }
}

/// Parse the three values (`level` may be absent).
pub fn parse<'a>(trace: &[u8], span: &[u8], level: Option<&'a [u8]>) -> Result<TraceContext<'a>, Error> {
    parse_into(trace, span, level, &mut None).map(|ctx| *ctx)
}

/// [`parse`], the context built in `out` ([`Read`]).
fn parse_into<'a, 'o>(
    trace: &[u8],
    span: &[u8],
    level: Option<&'a [u8]>,
    out: &'o mut impl Slot<'a>,
) -> Result<&'o mut TraceContext<'a>, Error> {
    let (trace, span) = (carrier::trim_ows(trace), carrier::trim_ows(span));
    let trace_id = TraceId::from_hex_padded(trace).map_err(|e| match e {
        HexError::Zero => Error::InstanaTraceIdZero,
        _ => Error::InstanaTraceId,
    })?;
    let span_id = SpanId::from_hex_padded(span).map_err(|e| match e {
        HexError::Zero => Error::InstanaSpanIdZero,
        _ => Error::InstanaSpanId,
    })?;
    let (sampling, correlation) = match level {
        None => (Sampling::Accept, None),
        Some(l) => parse_level(l)?,
    };
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(sampling);
    ctx.id_width = IdWidth::of_digits(trace.len());
    ctx.instana_correlation = correlation.map(Text::Raw);
    Ok(ctx)
}

/// The Instana context of `headers`: `Ok(None)` when no `X-INSTANA-*` header is present.
///
/// ```
/// use tracebridge::{instana, Propagation, Sampling};
///
/// let suppressed = [("X-INSTANA-L", "0")];
/// assert_eq!(instana::extract(&suppressed[..])?, Some(Propagation::SamplingOnly(Sampling::Deny)));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    let [trace, span, level] = carrier::singles(headers, &[TRACE_ID, SPAN_ID, LEVEL], Error::InstanaDuplicate)?;
    match (trace, span, level) {
        (None, None, None) => Ok(Read::Absent),
        (None, None, Some(l)) => parse_level(l).map(|(s, _)| Read::SamplingOnly(s)),
        (None, Some(_), _) => Err(Error::InstanaMissingTraceId),
        (Some(_), None, _) => Err(Error::InstanaMissingSpanId),
        (Some(t), Some(s), l) => {
            carrier::visible_ascii(t)?;
            carrier::visible_ascii(s)?;
            parse_into(t, s, l, out).map(|_| Read::Context)
        }
    }
}

/// Write `X-INSTANA-L`: the level, and the correlation carried. Built where it is written, in a
/// buffer that is not zeroed: a 1 KiB `AsciiBuf` (room for the longest correlation) was zero-filled
/// and then copied out of a constructor, ≈ 240 of an inject's 1 965 instructions.
fn set_level<I: Injector + ?Sized>(headers: &mut I, level: u8, correlation: Option<Text<'_>>) {
    let mut out: ArrayVec<u8, { carrier::MAX_VALUE_LEN }> = ArrayVec::new();
    let _ = out.try_push(level);
    if let Some(c) = correlation.filter(|c| !c.is_empty()) {
        let _ = out.try_push(b',');
        c.bytes().for_each(|b| {
            let _ = out.try_push(b);
        });
    }
    // The correlation came with a request: checked as text, as `set` takes it.
    if let Ok(value) = core::str::from_utf8(&out) {
        headers.set(LEVEL, value);
    }
}

/// Write the `X-INSTANA-*` headers for `ctx`: ids zero-padded, `X-INSTANA-L` `1` (accept, debug) or
/// `0` (deny) with the correlation carried; no level for *defer*.
///
/// ```
/// use tracebridge::{instana, Sampling, SpanId, TraceContext, TraceId};
///
/// let ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Accept);
/// let mut out: Vec<(String, String)> = Vec::new();
/// instana::inject(&ctx, &mut out);
/// assert_eq!(out[0], ("x-instana-t".to_string(), "4bf92f3577b34da6a3ce929d0e0e4736".to_string()));
/// assert_eq!(out[2], ("x-instana-l".to_string(), "1".to_string()));
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    ctx.set_trace_id_hex(TRACE_ID, headers);
    headers.set_bytes(SPAN_ID, &ctx.span_id.to_hex());
    match ctx.sampling {
        Sampling::Accept | Sampling::Debug => set_level(headers, b'1', ctx.instana_correlation),
        Sampling::Deny => set_level(headers, b'0', ctx.instana_correlation),
        Sampling::Defer => headers.remove(LEVEL),
    }
}

/// Write `X-INSTANA-L` for a decision without ids (`0` for deny; nothing for the others, which
/// Instana would read as "trace"). Ids left from an invalid Instana context go (as B3 multi's do):
/// next to them the level would not read as a decision (found by the translator fuzz target).
pub(crate) fn inject_sampling_only<I: Injector + ?Sized>(s: Sampling, headers: &mut I) -> bool {
    if s == Sampling::Deny {
        headers.remove(TRACE_ID);
        headers.remove(SPAN_ID);
        headers.set(LEVEL, "0");
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn round(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, Error> {
        let headers = h(pairs);
        let mut out = Vec::new();
        if let Some(Propagation::Context(c)) = extract(&headers)? {
            inject(&c, &mut out);
        }
        Ok(out)
    }

    #[test]
    fn grammar() {
        let ok = [
            (TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736"),
            (SPAN_ID, "00f067aa0ba902b7"),
            (LEVEL, "1,correlationType=web;correlationId=abc"),
        ];
        assert_eq!(round(&ok), Ok(h(&ok)));
        assert_eq!(
            round(&[(TRACE_ID, "abc"), (SPAN_ID, "def")]),
            Ok(h(&[(TRACE_ID, "0000000000000abc"), (SPAN_ID, "0000000000000def"), (LEVEL, "1")]))
        );
        let e = |pairs: &[(&str, &str)]| extract(&h(pairs)).err();
        assert_eq!(e(&[(TRACE_ID, "ABC"), (SPAN_ID, "1")]), Some(Error::InstanaTraceId));
        assert_eq!(e(&[(TRACE_ID, "0"), (SPAN_ID, "1")]), Some(Error::InstanaTraceIdZero));
        assert_eq!(e(&[(TRACE_ID, "1"), (SPAN_ID, "00000000000000000")]), Some(Error::InstanaSpanId));
        assert_eq!(e(&[(TRACE_ID, "1"), (SPAN_ID, "0")]), Some(Error::InstanaSpanIdZero));
        assert_eq!(e(&[(TRACE_ID, "1"), (SPAN_ID, "1"), (LEVEL, "2")]), Some(Error::InstanaLevel));
        assert_eq!(e(&[(TRACE_ID, "1"), (SPAN_ID, "1"), (LEVEL, "1,")]), Some(Error::InstanaLevel));
        assert_eq!(e(&[(TRACE_ID, "1")]), Some(Error::InstanaMissingSpanId));
        assert_eq!(e(&[(SPAN_ID, "1"), (LEVEL, "1")]), Some(Error::InstanaMissingTraceId));
        assert_eq!(extract(&h(&[(LEVEL, "1")])), Ok(Some(Propagation::SamplingOnly(Sampling::Accept))));
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(t in any::<[u8; 16]>(), s in any::<[u8; 8]>(), narrow in any::<bool>(), deny in any::<bool>(), corr in proptest::option::of("[!-~]{1,40}")) {
            let mut t = t;
            if narrow {
                t.iter_mut().take(8).for_each(|b| *b = 0);
            }
            let (Some(trace_id), Some(span_id)) = (TraceId::from_bytes(t), SpanId::from_bytes(s)) else { return Ok(()) };
            let mut ctx = TraceContext::new(trace_id, span_id).with_sampling(if deny { Sampling::Deny } else { Sampling::Accept });
            ctx.id_width = if narrow { IdWidth::Bits64 } else { IdWidth::Bits128 };
            ctx.instana_correlation = corr.as_deref().map(Text::Raw);
            let mut out: Vec<(String, String)> = Vec::new();
            inject(&ctx, &mut out);
            prop_assert_eq!(extract(&out), Ok(Some(Propagation::Context(ctx))));
        }

        #[test]
        fn parse_never_panics(t in proptest::collection::vec(any::<u8>(), 0..40), s in proptest::collection::vec(any::<u8>(), 0..20), l in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20))) {
            let _ = parse(&t, &s, l.as_deref());
        }
    }
}
