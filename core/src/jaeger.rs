//! Jaeger: `uber-trace-id`.
//!
//! Header: `uber-trace-id`
//! ([Jaeger client libraries, "Propagation Format"](https://www.jaegertracing.io/docs/1.52/client-libraries/#propagation-format)).
//!
//! ```text
//! uber-trace-id  = trace-id sep span-id sep parent-span-id sep flags
//! sep            = ":" / "%3A" / "%3a"       ; one form for the whole value
//! trace-id       = 1*32HEXDIGLC              ; not zero; <= 16 digits is a 64-bit id
//! span-id        = 1*16HEXDIGLC              ; not zero
//! parent-span-id = *VCHAR                    ; deprecated: ignored on receipt (kept when valid)
//! flags          = 1*2HEXDIGLC               ; bitmap, leading zero may be omitted
//! ```
//!
//! | flags bit | meaning  | model                                           |
//! |-----------|----------|-------------------------------------------------|
//! | `0x01`    | sampled  | [`Sampling::Accept`]                            |
//! | `0x02`    | debug    | [`Sampling::Debug`] when `0x01` is set too      |
//! | others    | e.g. `0x08` firehose | kept in [`TraceContext::jaeger_flags`] |
//!
//! Debug counts only together with sampled: "the debug flag should only be set when the sampled flag
//! is set" (ibid., flags), and the Jaeger clients test `sampled` on its own. So `0x02` without `0x01`
//! is neither sampled nor debug ([`Sampling::Deny`]); the bit is kept in
//! [`TraceContext::jaeger_flags`] so the header is written back as it came, and dropped as soon as the
//! context is sampled (it would then turn into a debug flag nobody set).
//!
//! The parent-span-id field is deprecated: "most Jaeger clients ignore \[it\] on the receiving side"
//! (ibid., parent-span-id). It is ignored whatever it holds (`0`, hex, even non-hex or empty), so a
//! stale or odd value never invalidates the ids beside it; a valid non-zero id is kept in
//! [`TraceContext::parent_span_id`] so the round trip is exact.
//!
//! Ids may arrive with leading zeros stripped ("Receivers MUST accept hex-strings shorter than 32
//! characters and 0-pad them on the left", ibid.). The width on the wire is kept: up to 16 digits is
//! [`IdWidth::Bits64`], 17 to 32 digits [`IdWidth::Bits128`].
//!
//! Hex is lowercase only. Every mainstream Jaeger client writes lowercase (Go `%x`/`FormatUint`,
//! Java `Long.toHexString`, Node and Python `'{:x}'`-style formatting, and the OpenTelemetry Jaeger
//! propagators), so no producer needs uppercase and we stay strict like the W3C and B3 parsers.
//!
//! The URL-encoded form (`%3A` for `:`) is accepted: some HTTP libraries percent-encode header values
//! (seen with jaeger-client-node), and the Jaeger clients decode it before parsing.

use crate::ascii_buf::AsciiBuf;
use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::id::{decode_hex_padded, encode_hex, hex_digit, HexError, IdWidth, SpanId, TraceId};
use crate::swar;
use crate::Error;

/// Header name.
pub const HEADER: &str = "uber-trace-id";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[HEADER];

/// Flag bit: sampled.
pub const FLAG_SAMPLED: u8 = 0x01;
/// Flag bit: debug (forced sampling).
pub const FLAG_DEBUG: u8 = 0x02;
/// Flag bit: firehose (kept in [`TraceContext::jaeger_flags`], not interpreted).
pub const FLAG_FIREHOSE: u8 = 0x08;

/// Parse an `uber-trace-id` value into a context (no tracestate, no X-Ray fields).
///
/// ```
/// use tracebridge::{jaeger, IdWidth, Sampling};
///
/// // Leading zeros may be stripped; `%3A` is accepted for `:`.
/// let ctx = jaeger::parse(b"463ac35c9f6413ad%3Aa2fb4a1d1a96d312%3A0%3A3")?;
/// assert_eq!((ctx.id_width, ctx.sampling), (IdWidth::Bits64, Sampling::Debug));
/// assert_eq!(jaeger::encode(&ctx).as_str(), "463ac35c9f6413ad:a2fb4a1d1a96d312:0:3");
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse(value: &[u8]) -> Result<TraceContext<'static>, Error> {
    parse_into(value, &mut None).map(|ctx| *ctx)
}

/// [`parse`], the context built in `out` (a few hundred bytes: not copied on the way to the
/// translator, [`Read`]).
fn parse_into<'a, 'o>(value: &[u8], out: &'o mut impl Slot<'a>) -> Result<&'o mut TraceContext<'a>, Error> {
    // The usual shapes are read where their fields must be; anything else, and any error (so that
    // it is the one the general reading gives), through the checks and the split below.
    let ids = match fixed_fields(value).map(parse_ids_inline) {
        Some(Ok(ids)) => ids,
        _ => parse_general(value)?,
    };
    let Ids { trace_id, id_width, span_id, parent_span_id, flags } = ids;
    // Debug only with sampled (module docs).
    let (sampling, meaning) = match (flags & FLAG_SAMPLED != 0, flags & FLAG_DEBUG != 0) {
        (true, true) => (Sampling::Debug, FLAG_SAMPLED | FLAG_DEBUG),
        (true, false) => (Sampling::Accept, FLAG_SAMPLED),
        (false, _) => (Sampling::Deny, 0),
    };
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(sampling);
    (ctx.parent_span_id, ctx.id_width, ctx.jaeger_flags) = (parent_span_id, id_width, flags & !meaning);
    Ok(ctx)
}

/// Any value, trimmed, checked and split: the general reading. Out of line and cold, so that the
/// fixed reading stays small in the instruction cache.
#[cold]
#[inline(never)]
fn parse_general(value: &[u8]) -> Result<Ids, Error> {
    // HTTP strips OWS around field values (RFC 9110 §5.5); a proxy may see it raw.
    let value = carrier::trim_ows(value);
    carrier::check_visible_ascii(value)?;
    parse_ids(split_fields(value).ok_or(Error::JaegerFormat)?)
}

/// The four fields when the value has the shape clients write, `:` exactly where the lengths put
/// it: a 32- or 16-digit trace id, a 16-digit span id, a parent of `0` or 16 digits, one or two
/// flag digits. Fields that parse (and the parent, checked here) are hex digits, never `:`, `%` or
/// whitespace, so they are the fields [`split_fields`] gives.
// Inlined, as `parse_ids` on the fixed reading: returned through memory, the fields and the ids
// were written a few bytes at a time and read back wider, a load that waits for the stores to
// reach the cache (`perf`: most of a Jaeger extract's time outside the decoding sat there).
#[inline(always)]
fn fixed_fields(value: &[u8]) -> Option<[&[u8]; 4]> {
    let t = match (value.get(32), value.get(16)) {
        (Some(b':'), _) => 32,
        (_, Some(b':')) => 16,
        _ => return None,
    };
    let (trace, rest) = value.split_at_checked(t)?;
    let (span, rest) = rest.get(1..)?.split_at_checked(16)?;
    let (&b':', rest) = rest.split_first()? else { return None };
    let p = match rest {
        [b'0', b':', ..] => 1,
        [_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, b':', ..] => 16,
        _ => return None,
    };
    let (parent, flags) = rest.split_at_checked(p)?;
    let flags = flags.get(1..)?;
    // The parent is ignored when it is not an id (module docs), so its bytes are checked here: hex
    // digits, like every other field that reads.
    let shaped = (1..=2).contains(&flags.len()) && parent.iter().all(u8::is_ascii_hexdigit);
    shaped.then_some([trace, span, parent, flags])
}

/// The fields of a context, checked.
#[derive(Debug, PartialEq, Eq)]
struct Ids {
    trace_id: TraceId,
    id_width: IdWidth,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    flags: u8,
}

fn parse_ids(fields: [&[u8]; 4]) -> Result<Ids, Error> {
    parse_ids_inline(fields)
}

/// [`parse_ids`], inlined where it is hot.
#[inline(always)]
fn parse_ids_inline([trace, span, parent, flags]: [&[u8]; 4]) -> Result<Ids, Error> {
    let trace_id = TraceId::from_hex_padded(trace).map_err(|e| match e {
        HexError::Zero => Error::JaegerTraceIdZero,
        _ => Error::JaegerTraceId,
    })?;
    let id_width = IdWidth::of_digits(trace.len());
    let span_id = SpanId::from_hex_padded(span).map_err(|e| match e {
        HexError::Zero => Error::JaegerSpanIdZero,
        _ => Error::JaegerSpanId,
    })?;
    // Deprecated field, ignored on receipt whatever it holds (module docs); kept when it is an id.
    // `0`, what clients send, is none: told without decoding it (≈ 45 instructions a header).
    let parent_span_id = match parent {
        b"0" => None,
        _ => SpanId::from_hex_padded(parent).ok(),
    };
    // One digit is what clients write: its value without the padded decoding of two.
    let flags = match *flags {
        [d] => hex_digit(d),
        _ => {
            let mut byte = [0u8; 1];
            decode_hex_padded(flags, &mut byte).ok().map(|()| byte[0])
        }
    }
    .ok_or(Error::JaegerFlags)?;
    Ok(Ids { trace_id, id_width, span_id, parent_span_id, flags })
}

/// The four fields, split on `:` or on its URL-encoded form `%3A`/`%3a`, whichever comes first.
/// `None` unless there are exactly four.
fn split_fields(value: &[u8]) -> Option<[&[u8]; 4]> {
    let colon = swar::find_byte(value, b':');
    let encoded = match swar::find_byte(value.get(..colon.unwrap_or(value.len())).unwrap_or_default(), b'%') {
        // interop: jaeger-client-node behind HTTP libraries that percent-encode header values.
        Some(i) => value.get(i..i + 3).is_some_and(|s| s.eq_ignore_ascii_case(b"%3a")),
        None if colon.is_some() => false,
        None => return None,
    };
    let next = |rest: &[u8]| -> Option<(usize, usize)> {
        if encoded {
            rest.windows(3).position(|w| w.eq_ignore_ascii_case(b"%3a")).map(|i| (i, 3))
        } else {
            swar::find_byte(rest, b':').map(|i| (i, 1))
        }
    };
    let mut out: [&[u8]; 4] = [&[]; 4];
    let mut rest = value;
    let (last, firsts) = out.split_last_mut()?;
    for slot in firsts {
        let (at, len) = next(rest)?;
        let (field, tail) = rest.split_at(at);
        *slot = field;
        rest = tail.get(len..)?;
    }
    if next(rest).is_some() {
        return None;
    }
    *last = rest;
    Some(out)
}

/// An encoded `uber-trace-id` value in a fixed buffer.
#[derive(Clone, Copy)]
pub struct Encoded {
    buf: AsciiBuf<{ Encoded::LEN }>,
}

impl Encoded {
    /// The longest value: 32 + 16 + 16 hex digits, 2 flag digits and 3 colons.
    pub const LEN: usize = 32 + 1 + 16 + 1 + 16 + 1 + 2;

    /// The value.
    pub fn as_str(&self) -> &str {
        self.buf.as_str()
    }

    /// The value as bytes (ASCII), for [`Injector::set_bytes`].
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }
}

/// The `uber-trace-id` value for `ctx`.
///
/// Ids are written zero-padded to 16 or 32 digits per [`TraceContext::id_width`]: OpenTelemetry's
/// Jaeger propagators and current Jaeger clients pad, and every parser accepts both padded and
/// stripped ids, so padding is the form most readers have been tested with. A 64-bit width whose low
/// 64 bits are zero (an id that did not come from a 64-bit header) is written with 32 digits rather
/// than as an invalid zero id. The parent is `0` when there is none. Flags are the sampled/debug bits
/// from [`TraceContext::sampling`] (debug `3`, accept `1`, deny and defer `0`: Jaeger cannot say
/// *defer*) OR'd with [`TraceContext::jaeger_flags`] (whose debug bit, carried from a header that had
/// it without sampled, is written only while the context is not sampled), in hex without a leading
/// zero as Jaeger clients write them (`1`, `3`, `9`).
///
/// ```
/// use tracebridge::{jaeger, Sampling, SpanId, TraceContext, TraceId};
///
/// let mut ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Accept);
/// ctx.jaeger_flags = 0x08; // firehose
/// assert_eq!(jaeger::encode(&ctx).as_str(), "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:9");
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn encode(ctx: &TraceContext<'_>) -> Encoded {
    let mut out = Encoded { buf: AsciiBuf::new() };
    encode_into(ctx, &mut out.buf);
    out
}

/// The flags field as written, and how many of its two digits: the sampling decision's bits and the
/// other bits as they arrived, in hex, one digit when the high one is zero.
#[inline(always)]
fn flag_digits(ctx: &TraceContext<'_>) -> ([u8; 2], usize) {
    let bits = match ctx.sampling {
        Sampling::Debug => FLAG_SAMPLED | FLAG_DEBUG,
        Sampling::Accept => FLAG_SAMPLED,
        Sampling::Deny | Sampling::Defer => 0,
    };
    let carried = if bits == 0 { !FLAG_SAMPLED } else { !(FLAG_SAMPLED | FLAG_DEBUG) };
    let mut hex = [0u8; 2];
    encode_hex(&[bits | (ctx.jaeger_flags & carried)], &mut hex);
    match hex {
        [b'0', d] => ([d, b'0'], 1),
        digits => (digits, 2),
    }
}

/// [`encode`] into `out` (empty), where the caller keeps it: [`inject`] writes the value from there
/// (for the shapes it does not write at fixed places).
/// Returned in an [`Encoded`], the value was copied out with 16-byte loads right after it was
/// written a few bytes at a time, and such a load waits for the stores to reach the cache (`perf`:
/// a quarter of an inject's time). Inlined, so that the buffer's length stays in a register and the
/// bounds checks of its writes fold away (inject Jaeger 592 → 570 instructions, the five-format
/// request 5 910 → 5 859; the time within noise).
#[inline(always)]
fn encode_into(ctx: &TraceContext<'_>, out: &mut AsciiBuf<{ Encoded::LEN }>) {
    out.put_hex_id(&ctx.trace_id_hex());
    out.extend(b":");
    out.extend(&ctx.span_id.to_hex());
    out.extend(b":");
    match ctx.parent_span_id {
        Some(p) => out.extend(&p.to_hex()),
        None => out.extend(b"0"),
    }
    out.extend(b":");
    let ([first, second], n) = flag_digits(ctx);
    out.push(first);
    if n == 2 {
        out.push(second);
    }
}

/// The Jaeger context of `headers`: `Ok(None)` when there is no `uber-trace-id`.
///
/// ```
/// use tracebridge::{jaeger, Error};
///
/// let twice = [("uber-trace-id", "1:2:0:1"), ("Uber-Trace-Id", "1:2:0:1")];
/// assert!(matches!(jaeger::extract(&twice[..]), Err(Error::JaegerDuplicate)));
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    carrier::read_single(headers, HEADER, Error::JaegerDuplicate, out, parse_into)
}

/// Write `uber-trace-id` for `ctx` (see [`encode`]).
///
/// The usual shape (a 128-bit trace id, no parent: what every W3C or B3 context becomes) is written
/// at fixed places, each id's digits where they stay; through `encode_into` they were written to a
/// buffer of their own first and copied (inject Jaeger 570 → 520 instructions, 32.7 → 28.2 ns in a
/// loop). The same value either way (tested against [`encode`]).
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    if ctx.id_width == IdWidth::Bits128 && ctx.parent_span_id.is_none() {
        // `<32 digits>:<16 digits>:0:<flags>`.
        let mut value = *b"00000000000000000000000000000000:0000000000000000:0:00";
        if let Some(dst) = value.get_mut(..32) {
            encode_hex(ctx.trace_id.as_bytes(), dst);
        }
        if let Some(dst) = value.get_mut(33..49) {
            encode_hex(ctx.span_id.as_bytes(), dst);
        }
        let (digits, n) = flag_digits(ctx);
        if let Some(dst) = value.get_mut(52..54) {
            dst.copy_from_slice(&digits);
        }
        headers.set_bytes(HEADER, value.get(..52 + n).unwrap_or_default());
        return;
    }
    let mut value = AsciiBuf::<{ Encoded::LEN }>::new();
    encode_into(ctx, &mut value);
    headers.set_bytes(HEADER, value.as_bytes());
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};

    fn ids(v: &str) -> Result<(String, Option<String>, Sampling, IdWidth, u8), Error> {
        parse(v.as_bytes()).map(|c| {
            (c.trace_id.to_string(), c.parent_span_id.map(|p| p.to_string()), c.sampling, c.id_width, c.jaeger_flags)
        })
    }

    fn round(v: &str) -> Result<String, Error> {
        parse(v.as_bytes()).map(|c| encode(&c).as_str().to_string())
    }

    #[test]
    fn docs_example_and_widths() {
        assert_eq!(
            ids("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
            Ok(("4bf92f3577b34da6a3ce929d0e0e4736".into(), None, Sampling::Accept, IdWidth::Bits128, 0))
        );
        assert_eq!(
            ids("a3ce929d0e0e4736:f067aa0ba902b7:53995c3f42cd8ad8:3"),
            Ok((
                "0000000000000000a3ce929d0e0e4736".into(),
                Some("53995c3f42cd8ad8".into()),
                Sampling::Debug,
                IdWidth::Bits64,
                0
            ))
        );
        // 17 digits is a 128-bit id with its leading zeros stripped.
        assert_eq!(ids("1a3ce929d0e0e4736:1:0:0").map(|t| t.3), Ok(IdWidth::Bits128));
        assert_eq!(round("abc:def:0:1"), Ok("0000000000000abc:0000000000000def:0:1".into()));
        assert_eq!(
            round("0000000000000000a3ce929d0e0e4736:1:0:0"),
            Ok("0000000000000000a3ce929d0e0e4736:0000000000000001:0:0".into())
        );
    }

    #[test]
    fn flags() {
        assert_eq!(ids("1:1:0:0").map(|t| (t.2, t.4)), Ok((Sampling::Deny, 0)));
        assert_eq!(ids("1:1:0:09").map(|t| (t.2, t.4)), Ok((Sampling::Accept, FLAG_FIREHOSE)));
        assert_eq!(ids("1:1:0:ff").map(|t| (t.2, t.4)), Ok((Sampling::Debug, 0xfc)));
        // Debug without sampled is neither sampled nor debug; the bit is written back as it came,
        // and not once the context is sampled.
        assert_eq!(ids("1:1:0:2").map(|t| (t.2, t.4)), Ok((Sampling::Deny, FLAG_DEBUG)));
        assert_eq!(ids("1:1:0:a").map(|t| (t.2, t.4)), Ok((Sampling::Deny, FLAG_DEBUG | FLAG_FIREHOSE)));
        assert_eq!(round("1:1:0:2"), Ok("0000000000000001:0000000000000001:0:2".into()));
        let sampled = parse(b"1:1:0:2").map(|c| encode(&c.with_sampling(Sampling::Accept)).as_str().to_string());
        assert_eq!(sampled, Ok("0000000000000001:0000000000000001:0:1".into()));
        assert_eq!(round("1:1:0:09"), Ok("0000000000000001:0000000000000001:0:9".into()));
        assert_eq!(round("1:1:0:ff"), Ok("0000000000000001:0000000000000001:0:ff".into()));
        assert_eq!(ids("1:1:0:"), Err(Error::JaegerFlags));
        assert_eq!(ids("1:1:0:100"), Err(Error::JaegerFlags));
        assert_eq!(ids("1:1:0:0x"), Err(Error::JaegerFlags));
        assert_eq!(ids("1:1:0:A"), Err(Error::JaegerFlags));
    }

    #[test]
    fn url_encoded() {
        let want = Ok("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1".into());
        assert_eq!(round("4bf92f3577b34da6a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1"), want);
        assert_eq!(round("4bf92f3577b34da6a3ce929d0e0e4736%3a00f067aa0ba902b7%3A0%3a1"), want);
        assert_eq!(ids("1%3A1%3A0"), Err(Error::JaegerFormat));
        assert_eq!(ids("1%3A1%3A0%3A1%3A1"), Err(Error::JaegerFormat));
        // One form per value: a stray encoded colon lands in a field.
        assert_eq!(ids("1:1%3A0:1"), Err(Error::JaegerFormat));
        assert_eq!(ids("1%3A1%3A0:1"), Err(Error::JaegerFormat));
        assert_eq!(ids("1%3B1%3B0%3B1"), Err(Error::JaegerFormat));
    }

    #[test]
    fn invalid() {
        assert_eq!(ids(""), Err(Error::JaegerFormat));
        assert_eq!(ids("1:1:0"), Err(Error::JaegerFormat));
        assert_eq!(ids("1:1:0:1:"), Err(Error::JaegerFormat));
        assert_eq!(ids("0:1:0:1"), Err(Error::JaegerTraceIdZero));
        assert_eq!(ids("00000000000000000000000000000000:1:0:1"), Err(Error::JaegerTraceIdZero));
        assert_eq!(ids(":1:0:1"), Err(Error::JaegerTraceId));
        assert_eq!(ids("4BF92F3577B34DA6:1:0:1"), Err(Error::JaegerTraceId));
        assert_eq!(ids("100000000000000000000000000000000:1:0:1"), Err(Error::JaegerTraceId));
        assert_eq!(ids("1:0:0:1"), Err(Error::JaegerSpanIdZero));
        assert_eq!(ids("1:10000000000000000:0:1"), Err(Error::JaegerSpanId));
        assert_eq!(ids("1:+1:0:1"), Err(Error::JaegerSpanId));
        // The deprecated parent field is ignored whatever it holds.
        assert_eq!(ids("1:1::1").map(|t| (t.1, t.2)), Ok((None, Sampling::Accept)));
        assert_eq!(ids("1:1:xyz:1").map(|t| (t.1, t.2)), Ok((None, Sampling::Accept)));
        assert_eq!(ids("1:1:ABC:0").map(|t| (t.1, t.2)), Ok((None, Sampling::Deny)));
        assert_eq!(ids("1:1:abc:1").map(|t| t.1), Ok(Some("0000000000000abc".into())));
        assert_eq!(ids("1:1:0000000000000000:1").map(|t| t.1), Ok(None));
        assert_eq!(ids("1:1:0:1\r"), Err(Error::NotAscii));
        assert_eq!(
            ids(" \t1:1:0:1 "),
            Ok(("00000000000000000000000000000001".into(), None, Sampling::Accept, IdWidth::Bits64, 0))
        );
        assert_eq!(ids("1 :1:0:1"), Err(Error::JaegerTraceId));
    }

    #[test]
    fn encode_edge_cases() {
        let t = TraceId::from_hex(b"4bf92f3577b34da60000000000000000").ok();
        let s = SpanId::from_hex(b"00f067aa0ba902b7").ok();
        let (Some(t), Some(s)) = (t, s) else { return };
        // 64-bit width requested, but the low half is zero: the full id, never a zero id.
        let ctx = TraceContext { id_width: IdWidth::Bits64, ..TraceContext::new(t, s) };
        assert_eq!(encode(&ctx).as_str(), "4bf92f3577b34da60000000000000000:00f067aa0ba902b7:0:0");
        // Defer cannot be said: 0. A stray sampled bit in jaeger_flags is not trusted; a carried
        // debug bit is written while the context is not sampled (it came that way), and not after.
        let ctx = TraceContext { jaeger_flags: 0x0b, ..TraceContext::new(t, s).with_sampling(Sampling::Defer) };
        assert_eq!(encode(&ctx).as_str(), "4bf92f3577b34da60000000000000000:00f067aa0ba902b7:0:a");
        let accepted = ctx.with_sampling(Sampling::Accept);
        assert_eq!(encode(&accepted).as_str(), "4bf92f3577b34da60000000000000000:00f067aa0ba902b7:0:9");
        // The longest value fills the buffer exactly.
        let ctx = TraceContext { parent_span_id: Some(s), jaeger_flags: 0xf0, ..ctx };
        assert_eq!(encode(&ctx).as_str().len(), Encoded::LEN);
    }

    #[test]
    fn extract_and_inject() {
        let h = [("Uber-Trace-Id", "1:2:0:1"), ("uber-trace-id", "1:2:0:1")];
        assert_eq!(extract(&h[..]), Err(Error::JaegerDuplicate));
        assert_eq!(extract(&h[..0]), Ok(None));
        let got = extract(&h[..1]);
        let mut out: std::vec::Vec<(String, String)> = std::vec::Vec::new();
        if let Ok(Some(Propagation::Context(c))) = got {
            inject(&c, &mut out);
        }
        assert_eq!(out, [("uber-trace-id".to_string(), "0000000000000001:0000000000000002:0:1".to_string())]);
    }

    fn arb_ctx() -> impl Strategy<Value = TraceContext<'static>> {
        (
            any::<[u8; 16]>(),
            any::<bool>(),
            any::<[u8; 8]>(),
            any::<Option<[u8; 8]>>(),
            prop_oneof![Just(Sampling::Deny), Just(Sampling::Accept), Just(Sampling::Debug)],
            any::<u8>(),
        )
            .prop_filter_map("ids must be non-zero", |(mut t, w64, s, p, sampling, flags)| {
                let id_width = if w64 {
                    t.iter_mut().take(8).for_each(|b| *b = 0);
                    IdWidth::Bits64
                } else {
                    IdWidth::Bits128
                };
                Some(TraceContext {
                    parent_span_id: p.and_then(SpanId::from_bytes),
                    id_width,
                    jaeger_flags: flags & !(FLAG_SAMPLED | FLAG_DEBUG),
                    ..TraceContext::new(TraceId::from_bytes(t)?, SpanId::from_bytes(s)?).with_sampling(sampling)
                })
            })
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ctx in arb_ctx()) {
            prop_assert_eq!(parse(encode(&ctx).as_str().as_bytes()), Ok(ctx));
        }

        /// What reads at the fixed places is what the general reading gives, on written values a
        /// byte away from valid (unchanged, they all read there) and on values of any field lengths.
        #[test]
        fn fixed_places_read_as_the_split_does(ctx in arb_ctx(), at in any::<usize>(), b in prop_oneof![Just(b':'), Just(b'0'), Just(b'%'), Just(b' '), Just(b'A'), any::<u8>()], change in any::<bool>()) {
            let mut v = encode(&ctx).as_str().as_bytes().to_vec();
            let at = at % v.len();
            if let (true, Some(slot)) = (change, v.get_mut(at)) {
                *slot = b;
            }
            let fixed = fixed_fields(&v).map(parse_ids);
            if let Some(Ok(ids)) = fixed {
                prop_assert_eq!(Ok(ids), parse_general(&v));
            } else {
                prop_assert!(change, "an unchanged written value reads at the fixed places");
            }
        }

        #[test]
        fn fixed_places_read_as_the_split_does_any_lengths(v in "[0-9a]{1,33}:[0-9a]{1,17}:(0|[0-9a]{15,17}):[0-9a]{0,3}") {
            if let Some(Ok(ids)) = fixed_fields(v.as_bytes()).map(parse_ids) {
                prop_assert_eq!(Ok(ids), parse_general(v.as_bytes()));
            }
        }

        /// `inject` writes the usual shape (128-bit trace id, no parent) at fixed places and every
        /// other one through `encode`: the same value either way.
        #[test]
        fn inject_writes_what_encode_writes(ctx in arb_ctx(), no_parent in any::<bool>(), defer in any::<bool>()) {
            let ctx = if defer { ctx.with_sampling(Sampling::Defer) } else { ctx };
            let ctx = TraceContext { parent_span_id: ctx.parent_span_id.filter(|_| !no_parent), ..ctx };
            let mut out: std::vec::Vec<(String, String)> = std::vec::Vec::new();
            inject(&ctx, &mut out);
            prop_assert_eq!(out, std::vec![(HEADER.to_string(), encode(&ctx).as_str().to_string())]);
        }

        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = parse(&v);
        }

        #[test]
        fn parse_never_panics_near_the_grammar(v in "[0-9a-fA-F:%3 ]{0,90}") {
            if let Ok(c) = parse(v.as_bytes()) {
                // Whatever parses is written back in a form that parses to the same context.
                let again = encode(&c);
                prop_assert_eq!(parse(again.as_str().as_bytes()).map(|d| encode(&d).as_str().to_string()), Ok(again.as_str().to_string()));
            }
        }
    }
}
