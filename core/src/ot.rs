//! OpenTracing (basictracer, Lightstep): `ot-tracer-traceid`, `ot-tracer-spanid`, `ot-tracer-sampled`.
//!
//! Headers as the OpenTracing basic tracers write them (opentracing/basictracer-go `propagation_ot.go`,
//! `fieldNameTraceID`/`fieldNameSpanID`/`fieldNameSampled`) and as OpenTelemetry's `ot` propagators
//! read them ([OpenTelemetry: OT Trace propagator](https://github.com/open-telemetry/opentelemetry-go-contrib/tree/main/propagators/ot)):
//!
//! | header | grammar | model |
//! |--------|---------|-------|
//! | `ot-tracer-traceid` | 16 or 32 lowercase hex digits, not all zeros | [`TraceContext::trace_id`]; 16 digits (or fewer) is [`IdWidth::Bits64`] |
//! | `ot-tracer-spanid` | 16 lowercase hex digits, not all zeros | [`TraceContext::span_id`] |
//! | `ot-tracer-sampled` | `true` / `false` | accept / deny; absent: *defer* |
//!
//! Baggage rides in `ot-baggage-{key}` headers ([`crate::baggage`]).
//!
//! Ids are written zero-padded to 16 or 32 digits, as OpenTelemetry's propagators do.
//! `// interop:` basictracer-go and lightstep-tracer-go write ids with `strconv.FormatUint(id, 16)`,
//! which drops leading zeros, so shorter ids are read and left-padded (as Jaeger's are).
//! The format is present when any of its three headers is; the ids come together.

use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::id::{HexError, IdWidth, SpanId, TraceId};
use crate::Error;

/// `ot-tracer-traceid`.
pub const TRACE_ID: &str = "ot-tracer-traceid";
/// `ot-tracer-spanid`.
pub const SPAN_ID: &str = "ot-tracer-spanid";
/// `ot-tracer-sampled`.
pub const SAMPLED: &str = "ot-tracer-sampled";
/// Every header this format reads or writes (baggage aside: [`crate::baggage::OT_PREFIX`]).
pub const HEADERS: &[&str] = &[TRACE_ID, SPAN_ID, SAMPLED];

/// Parse the three values (`sampled` may be absent).
///
/// ```
/// use tracebridge::{ot, IdWidth, Sampling};
///
/// let ctx = ot::parse(b"463ac35c9f6413ad", b"a2fb4a1d1a96d312", Some(b"true"))?;
/// assert_eq!((ctx.id_width, ctx.sampling), (IdWidth::Bits64, Sampling::Accept));
/// assert_eq!(ot::parse(b"463ac35c9f6413ad", b"a2fb4a1d1a96d312", Some(b"1")).err(), Some(tracebridge::Error::OtSampled));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse(trace: &[u8], span: &[u8], sampled: Option<&[u8]>) -> Result<TraceContext<'static>, Error> {
    parse_into(trace, span, sampled, &mut None).map(|ctx| *ctx)
}

/// [`parse`], the context built in `out` ([`Read`]).
fn parse_into<'a, 'o>(
    trace: &[u8],
    span: &[u8],
    sampled: Option<&[u8]>,
    out: &'o mut impl Slot<'a>,
) -> Result<&'o mut TraceContext<'a>, Error> {
    let (trace, span) = (carrier::trim_ows(trace), carrier::trim_ows(span));
    let trace_id = TraceId::from_hex_padded(trace).map_err(|e| match e {
        HexError::Zero => Error::OtTraceIdZero,
        _ => Error::OtTraceId,
    })?;
    let span_id = SpanId::from_hex_padded(span).map_err(|e| match e {
        HexError::Zero => Error::OtSpanIdZero,
        _ => Error::OtSpanId,
    })?;
    let sampling = match sampled.map(carrier::trim_ows) {
        None => Sampling::Defer,
        Some(b"true") => Sampling::Accept,
        Some(b"false") => Sampling::Deny,
        Some(_) => return Err(Error::OtSampled),
    };
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(sampling);
    ctx.id_width = IdWidth::of_digits(trace.len());
    Ok(ctx)
}

/// The OpenTracing context of `headers`: `Ok(None)` when no `ot-tracer-*` header is present.
///
/// ```
/// use tracebridge::{ot, Error};
///
/// let no_span = [("ot-tracer-traceid", "463ac35c9f6413ad")];
/// assert_eq!(ot::extract(&no_span[..]).err(), Some(Error::OtMissingSpanId));
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    let [trace, span, sampled] = carrier::singles(headers, &[TRACE_ID, SPAN_ID, SAMPLED], Error::OtDuplicate)?;
    match (trace, span) {
        (None, None) if sampled.is_none() => Ok(Read::Absent),
        (None, _) => Err(Error::OtMissingTraceId),
        (Some(_), None) => Err(Error::OtMissingSpanId),
        (Some(t), Some(s)) => {
            for v in [Some(t), Some(s), sampled].into_iter().flatten() {
                carrier::visible_ascii(v)?;
            }
            parse_into(t, s, sampled, out).map(|_| Read::Context)
        }
    }
}

/// Write the `ot-tracer-*` headers for `ctx`: ids zero-padded to 16 or 32 digits per
/// [`TraceContext::id_width`], `ot-tracer-sampled: true` for accept and debug, `false` for deny,
/// removed for *defer*.
///
/// ```
/// use tracebridge::{ot, Sampling, SpanId, TraceContext, TraceId};
///
/// let ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Deny);
/// let mut out: Vec<(String, String)> = Vec::new();
/// ot::inject(&ctx, &mut out);
/// assert_eq!(out[2], ("ot-tracer-sampled".to_string(), "false".to_string()));
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    ctx.set_trace_id_hex(TRACE_ID, headers);
    headers.set_bytes(SPAN_ID, &ctx.span_id.to_hex());
    match ctx.sampling {
        Sampling::Accept | Sampling::Debug => headers.set(SAMPLED, "true"),
        Sampling::Deny => headers.set(SAMPLED, "false"),
        Sampling::Defer => headers.remove(SAMPLED),
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

    #[test]
    fn grammar() {
        let e = |t: &str, s: &str| parse(t.as_bytes(), s.as_bytes(), None).err();
        assert_eq!(e("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"), None);
        assert_eq!(e("4BF92F3577B34DA6A3CE929D0E0E4736", "00f067aa0ba902b7"), Some(Error::OtTraceId));
        assert_eq!(e("4bf92f3577b34da6a3ce929d0e0e47361", "00f067aa0ba902b7"), Some(Error::OtTraceId));
        assert_eq!(e("0", "00f067aa0ba902b7"), Some(Error::OtTraceIdZero));
        assert_eq!(e("1", "0000000000000000"), Some(Error::OtSpanIdZero));
        assert_eq!(e("1", "100f067aa0ba902b7"), Some(Error::OtSpanId));
        assert_eq!(e("", "1"), Some(Error::OtTraceId));
        // interop: unpadded ids (basictracer-go) are padded.
        assert_eq!(
            parse(b"abc", b"def", None).map(|c| (c.trace_id.to_string(), c.id_width)),
            Ok(("00000000000000000000000000000abc".into(), IdWidth::Bits64))
        );
        assert_eq!(parse(b"1", b"1", Some(b"True")).err(), Some(Error::OtSampled));
        assert_eq!(extract(&h(&[(SAMPLED, "true")])).err(), Some(Error::OtMissingTraceId));
        assert_eq!(extract(&h(&[(SPAN_ID, "1")])).err(), Some(Error::OtMissingTraceId));
        assert_eq!(extract(&h(&[])), Ok(None));
        assert_eq!(extract(&h(&[(TRACE_ID, "1"), (SPAN_ID, "1"), (SPAN_ID, "2")])).err(), Some(Error::OtDuplicate));
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(t in any::<[u8; 16]>(), s in any::<[u8; 8]>(), narrow in any::<bool>(), samp in 0..3u8) {
            let mut t = t;
            if narrow {
                t.iter_mut().take(8).for_each(|b| *b = 0);
            }
            let (Some(trace_id), Some(span_id)) = (TraceId::from_bytes(t), SpanId::from_bytes(s)) else { return Ok(()) };
            let sampling = match samp { 0 => Sampling::Deny, 1 => Sampling::Defer, _ => Sampling::Accept };
            let mut ctx = TraceContext::new(trace_id, span_id).with_sampling(sampling);
            ctx.id_width = if narrow { IdWidth::Bits64 } else { IdWidth::Bits128 };
            let mut out: Vec<(String, String)> = Vec::new();
            inject(&ctx, &mut out);
            prop_assert_eq!(extract(&out), Ok(Some(Propagation::Context(ctx))));
        }

        #[test]
        fn parse_never_panics(t in proptest::collection::vec(any::<u8>(), 0..40), s in proptest::collection::vec(any::<u8>(), 0..20), x in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6))) {
            let _ = parse(&t, &s, x.as_deref());
        }
    }
}
