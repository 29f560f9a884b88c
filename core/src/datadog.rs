//! Datadog: `x-datadog-trace-id`, `x-datadog-parent-id`, `x-datadog-sampling-priority`,
//! `x-datadog-origin`, `x-datadog-tags`.
//!
//! Headers as Datadog's tracers write and read them
//! ([Datadog: trace context propagation](https://docs.datadoghq.com/tracing/trace_collection/trace_context_propagation/);
//! dd-trace-go `ddtrace/tracer/textmap.go`, `propagator.injectTextMap`/`extractTextMap`):
//!
//! | header | grammar | model |
//! |--------|---------|-------|
//! | `x-datadog-trace-id` | decimal u64, not 0 ([`crate::decimal`]) | low 64 bits of [`TraceContext::trace_id`] |
//! | `x-datadog-parent-id` | decimal u64, not 0 | [`TraceContext::span_id`] |
//! | `x-datadog-sampling-priority` | `["-"] 1*DIGIT` | `<= 0` deny, `>= 1` accept, absent defer; the exact value in [`DatadogFields::priority`](crate::context::DatadogFields::priority) |
//! | `x-datadog-origin` | text (e.g. `synthetics`) | [`DatadogFields::origin`](crate::context::DatadogFields::origin) |
//! | `x-datadog-tags` | `key=value *("," key=value)`, at most 512 characters | [`DatadogFields::tags`](crate::context::DatadogFields::tags); `_dd.p.tid` = the high 64 bits as 16 lowercase hex |
//!
//! Priorities: `-1` user reject, `0` auto reject, `1` auto keep, `2` user keep
//! ([Datadog: ingestion mechanisms](https://docs.datadoghq.com/tracing/trace_pipeline/ingestion_mechanisms/)).
//! Any integer is accepted, as dd-trace-go does (`strconv.Atoi`); `2` is *accept*, not *debug*: it is
//! also what a user's sampling rule gives, so B3 hops do not get a debug flag for every such trace.
//!
//! 128-bit trace ids: the low 64 bits go in `x-datadog-trace-id`, the high 64 bits in the
//! `_dd.p.tid` tag (dd-trace-go `injectTextMap`: `keyTraceID128`; `validateTID`: exactly 16 lowercase
//! hex digits). Without `_dd.p.tid` the id is 64-bit ([`IdWidth::Bits64`]).
//!
//! Strict by default, with Datadog's own leniency where it protects the context:
//! - ids are [`crate::decimal`]: no sign (dd-trace-go reads `-1` as two's complement; we do not), no
//!   spaces, no overflow; leading zeros are read (Go's `ParseUint` does) and not written;
//! - a bad sampling priority invalidates the context (dd-trace-go: `ErrSpanContextCorrupted`);
//! - a malformed or over-long `x-datadog-tags`, or a malformed `_dd.p.tid`, drops the tags (or the
//!   tag) and keeps the context, as dd-trace-go does (`unmarshalPropagatingTags`: `decoding_error`,
//!   `extract_max_size`; `validateTID`) — reported as the format's warning, never silent.
//!
//! Next to W3C, Datadog's tracers keep the priority, origin and tags in a `dd=` tracestate member;
//! the [`Translator`](crate::Translator) reads and writes it (see [`crate::context::DatadogFields`]).

use crate::ascii_buf::AsciiBuf;
use crate::carrier::{self, Extractor, Injector};
use crate::context::{DatadogTags, DatadogText, Propagation, Read, Sampling, Slot, TraceContext};
use crate::datadog_fields::{priority_of, sampling_of, tid_of, PROPAGATED};
use crate::decimal::{parse_u64, Decimal, DecimalError, Signed};
use crate::id::{decode_hex_exact, IdWidth, SpanId, TraceId};
use crate::{swar, Error};

/// The trace id header (low 64 bits, decimal).
pub const TRACE_ID: &str = "x-datadog-trace-id";
/// The parent (span) id header (decimal).
pub const PARENT_ID: &str = "x-datadog-parent-id";
/// The sampling priority header.
pub const SAMPLING_PRIORITY: &str = "x-datadog-sampling-priority";
/// The origin header.
pub const ORIGIN: &str = "x-datadog-origin";
/// The trace tags header.
pub const TAGS: &str = "x-datadog-tags";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[TRACE_ID, PARENT_ID, SAMPLING_PRIORITY, ORIGIN, TAGS];
/// Longest `x-datadog-tags` read or written (dd-trace-go `DefaultMaxTagsHeaderLen`, the upper bound
/// of `DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH`).
pub const MAX_TAGS_LEN: usize = 512;

/// The `x-datadog-*` header values of one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<'a> {
    /// `x-datadog-trace-id`.
    pub trace_id: &'a [u8],
    /// `x-datadog-parent-id`.
    pub parent_id: &'a [u8],
    /// `x-datadog-sampling-priority`.
    pub priority: Option<&'a [u8]>,
    /// `x-datadog-origin`.
    pub origin: Option<&'a [u8]>,
    /// `x-datadog-tags`.
    pub tags: Option<&'a [u8]>,
}

/// Parse the values into a context, and a warning when the tags (or `_dd.p.tid`) were dropped.
///
/// ```
/// use tracebridge::datadog::{self, Values};
/// use tracebridge::{IdWidth, Sampling};
///
/// let v = Values {
///     trace_id: b"1234567890",
///     parent_id: b"987654321",
///     priority: Some(b"2"),
///     tags: Some(b"_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000"),
///     ..Values::default()
/// };
/// let (ctx, warning) = datadog::parse(&v)?;
/// assert_eq!(ctx.trace_id.to_string(), "640cfd8d0000000000000000499602d2");
/// assert_eq!(ctx.span_id.to_string(), "000000003ade68b1");
/// assert_eq!((ctx.sampling, ctx.datadog.priority, ctx.id_width, warning), (Sampling::Accept, Some(2), IdWidth::Bits128, None));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse<'a>(v: &Values<'a>) -> Result<(TraceContext<'a>, Option<Error>), Error> {
    let mut warning = None;
    let ctx = *parse_into(v, &mut warning, &mut None)?;
    Ok((ctx, warning))
}

/// [`parse`], the context built in `out` ([`Read`]) and a dropped `x-datadog-tags`' error in
/// `warning`.
fn parse_into<'a, 'o>(
    v: &Values<'a>,
    warning: &mut Option<Error>,
    out: &'o mut impl Slot<'a>,
) -> Result<&'o mut TraceContext<'a>, Error> {
    let low = decimal(v.trace_id, Error::DatadogTraceId, Error::DatadogTraceIdZero)?;
    let span = decimal(v.parent_id, Error::DatadogParentId, Error::DatadogParentIdZero)?;
    let priority = match v.priority {
        None => None,
        Some(p) => Some(crate::decimal::parse_i32(p).ok_or(Error::DatadogSamplingPriority)?),
    };
    let origin = match v.origin {
        None => None,
        Some(o) => {
            let o = carrier::visible_ascii(carrier::trim_ows(o))?;
            (!o.is_empty()).then_some(DatadogText::Raw(o))
        }
    };
    *warning = None;
    let tags = match v.tags {
        None => DatadogTags::None,
        Some(t) => match tags(carrier::trim_ows(t)) {
            Ok(t) => t,
            Err(e) => {
                *warning = Some(e);
                DatadogTags::None
            }
        },
    };
    let mut high = 0u64;
    if let Some((_, tid)) = tags.pairs().find(|(k, _)| k.is_tid()) {
        let mut b = [0u8; 8];
        let (DatadogText::Raw(hex) | DatadogText::Member(hex)) = tid;
        match decode_hex_exact(hex.as_bytes(), &mut b) {
            Ok(()) => high = u64::from_be_bytes(b),
            Err(_) => *warning = warning.or(Some(Error::DatadogTid)),
        }
    }
    let mut bytes = [0u8; 16];
    let (h, l) = bytes.split_at_mut(8);
    h.copy_from_slice(&high.to_be_bytes());
    l.copy_from_slice(&low.to_be_bytes());
    let (Some(trace_id), Some(span_id)) = (TraceId::from_bytes(bytes), SpanId::from_bytes(span.to_be_bytes())) else {
        return Err(Error::DatadogTraceIdZero);
    };
    let sampling = priority.map_or(Sampling::Defer, sampling_of);
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(sampling);
    ctx.id_width = if high == 0 { IdWidth::Bits64 } else { IdWidth::Bits128 };
    ctx.datadog.priority = priority;
    ctx.datadog.origin = origin;
    ctx.datadog.tags = tags;
    Ok(ctx)
}

fn decimal(v: &[u8], bad: Error, zero: Error) -> Result<u64, Error> {
    match parse_u64(v) {
        Ok(0) => Err(zero),
        Ok(n) => Ok(n),
        Err(DecimalError::Digit | DecimalError::Overflow) => Err(bad),
    }
}

/// `x-datadog-tags` by dd-trace-go's grammar (`parsePropagatableTraceTags`, `isValidPropagatableTag`):
/// `key=value` pairs separated by `,`; a key is `%x21-7E` but `=` and `,`; a value `%x20-7E` but
/// `,` (a value may hold `=`); neither is empty. Stricter than dd-trace-go on one point: a value may
/// not start or end with a space. Written back as the last pair, such a value would end the header
/// with whitespace, which HTTP strips (RFC 9110 §5.5), so the next hop would read another value.
fn tags(t: &[u8]) -> Result<DatadogTags<'_>, Error> {
    if t.len() > MAX_TAGS_LEN {
        return Err(Error::DatadogTagsTooLong);
    }
    if t.is_empty() {
        return Ok(DatadogTags::None);
    }
    let s = carrier::visible_ascii(t).map_err(|_| Error::DatadogTags)?;
    for pair in swar::split_str(s, b',') {
        let (k, v) = swar::split_once_byte(pair, b'=').ok_or(Error::DatadogTags)?;
        if !valid_pair(k.bytes(), v.bytes()) {
            return Err(Error::DatadogTags);
        }
    }
    Ok(DatadogTags::Header(s))
}

/// One `key=value` pair as [`tags`] reads it: a key of `%x21-7E` but `=` and `,`, a value of
/// `%x20-7E` but `,` that neither starts nor ends with a space, neither empty. Writing checks the
/// same ([`encode_tags`]), so a tag that came another way (our tracestate member allows a space in a
/// key) is never written where the next hop would refuse the whole header.
fn valid_pair(key: impl Iterator<Item = u8>, value: impl Iterator<Item = u8>) -> bool {
    let mut key_len = 0usize;
    for b in key {
        if !(0x21..=0x7e).contains(&b) || b == b'=' || b == b',' {
            return false;
        }
        key_len += 1;
    }
    let (mut first, mut last, mut len) = (b' ', b' ', 0usize);
    for b in value {
        if !(0x20..=0x7e).contains(&b) || b == b',' {
            return false;
        }
        if len == 0 {
            first = b;
        }
        (last, len) = (b, len + 1);
    }
    key_len > 0 && len > 0 && first != b' ' && last != b' '
}

/// The Datadog context of `headers`: `Ok(None)` when `x-datadog-trace-id` and `x-datadog-parent-id`
/// are both absent; the second value is why tags were dropped.
///
/// ```
/// use tracebridge::{datadog, Error};
///
/// let only_parent = [("x-datadog-parent-id", "1")];
/// assert_eq!(datadog::extract(&only_parent[..]).err(), Some(Error::DatadogMissingTraceId));
/// let signed = [("x-datadog-trace-id", "+1"), ("x-datadog-parent-id", "1")];
/// assert_eq!(datadog::extract(&signed[..]).err(), Some(Error::DatadogTraceId));
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<(Propagation<'a>, Option<Error>)>, Error> {
    Read::extract_warned(|warning, out| read_into(headers, warning, out))
}

/// [`extract`], the context written into `out` ([`Read`]) and a dropped `x-datadog-tags`' error
/// into `warning`.
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(
    headers: &'a E,
    warning: &mut Option<Error>,
    out: &mut impl Slot<'a>,
) -> Result<Read, Error> {
    // Every header is read (and its limits checked) before the ids decide whether the format is there.
    let [trace_id, parent_id, priority, origin, tags] =
        carrier::singles(headers, &[TRACE_ID, PARENT_ID, SAMPLING_PRIORITY, ORIGIN, TAGS], Error::DatadogDuplicate)?;
    let (trace_id, parent_id) = match (trace_id, parent_id) {
        (None, None) => return Ok(Read::Absent),
        (None, Some(_)) => return Err(Error::DatadogMissingTraceId),
        (Some(_), None) => return Err(Error::DatadogMissingParentId),
        (Some(t), Some(p)) => (t, p),
    };
    let v = Values { trace_id, parent_id, priority, origin, tags };
    parse_into(&v, warning, out).map(|_| Read::Context)
}

/// The `x-datadog-tags` value for `ctx`: its tags (all of them when they came from `x-datadog-tags`,
/// the `_dd.p.*` ones from a `dd=` member) with `_dd.p.tid` taken from the trace id (written when the
/// id is 128-bit, where it was or else last). Past [`MAX_TAGS_LEN`] only `_dd.p.tid` is written, as
/// dd-trace-go drops the tags (`inject_max_size`).
pub fn encode_tags(ctx: &TraceContext<'_>) -> Tags {
    let tid = if ctx.id_width == IdWidth::Bits64 { None } else { tid_of(&ctx.trace_id) };
    let mut out = Tags(AsciiBuf::new());
    let mut wrote_tid = false;
    let mut overflow = false;
    for (k, v) in ctx.datadog.tags.pairs() {
        if k.is_tid() {
            if let (Some(t), false) = (tid, wrote_tid) {
                wrote_tid = true;
                overflow |= !out.pair(&mut carrier::next_only(k.bytes()), &mut t.into_iter());
            }
        } else if valid_pair(k.bytes(), v.bytes()) {
            // What `tags` would refuse on read (from our tracestate member: a space in a key, a value
            // with a space at an edge, where HTTP would strip it) is left out, never written.
            overflow |= !out.pair(&mut carrier::next_only(k.bytes()), &mut v.bytes());
        }
    }
    if overflow {
        out.0.truncate(0);
        wrote_tid = false;
    }
    if let (Some(t), false) = (tid, wrote_tid) {
        out.pair(&mut carrier::next_only(PROPAGATED.bytes().chain(*b"tid")), &mut t.into_iter());
    }
    out
}

/// An `x-datadog-tags` value in a fixed buffer.
#[derive(Clone, Copy)]
pub struct Tags(AsciiBuf<MAX_TAGS_LEN>);

impl Tags {
    /// The value (empty: write no header).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Append `k=v` if it fits whole.
    fn pair(&mut self, k: &mut dyn Iterator<Item = u8>, v: &mut dyn Iterator<Item = u8>) -> bool {
        let buf = &mut self.0;
        let start = buf.len();
        let mut ok = start == 0 || buf.try_push(b',');
        for b in k {
            ok = ok && buf.try_push(b);
        }
        ok = ok && buf.try_push(b'=');
        for b in v {
            ok = ok && buf.try_push(b);
        }
        if !ok {
            buf.truncate(start);
        }
        ok
    }
}

/// Write the `x-datadog-*` headers for `ctx`. The trace id header holds the low 64 bits; an id whose
/// low 64 bits are zero cannot be written (Datadog reads 0 as no trace), so then the headers are
/// removed rather than written wrong. Priority, origin and tags are written when known, removed
/// otherwise (a *defer* decision writes no priority: Datadog decides).
///
/// ```
/// use tracebridge::{datadog, Sampling, SpanId, TraceContext, TraceId};
///
/// let ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Accept);
/// let mut out: Vec<(String, String)> = Vec::new();
/// datadog::inject(&ctx, &mut out);
/// assert_eq!(out, [
///     ("x-datadog-trace-id".to_string(), "11803532876627986230".to_string()),
///     ("x-datadog-parent-id".to_string(), "67667974448284343".to_string()),
///     ("x-datadog-sampling-priority".to_string(), "1".to_string()),
///     ("x-datadog-tags".to_string(), "_dd.p.tid=4bf92f3577b34da6".to_string()),
/// ]);
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    let [_, _, _, _, _, _, _, _, l0, l1, l2, l3, l4, l5, l6, l7] = ctx.trace_id.to_bytes();
    let low = u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]);
    if low == 0 {
        HEADERS.iter().for_each(|h| headers.remove(h));
        return;
    }
    // Digits core wrote: bytes, not checked as UTF-8 again (`Injector::set_bytes`).
    headers.set_bytes(TRACE_ID, Decimal::new(low).as_bytes());
    headers.set_bytes(PARENT_ID, Decimal::new(u64::from_be_bytes(ctx.span_id.to_bytes())).as_bytes());
    match priority_of(ctx) {
        Some(p) => headers.set_bytes(SAMPLING_PRIORITY, Signed::new(p).as_bytes()),
        None => headers.remove(SAMPLING_PRIORITY),
    }
    match ctx.datadog.origin {
        Some(DatadogText::Raw(o)) => headers.set(ORIGIN, o),
        Some(o @ DatadogText::Member(_)) => {
            let mut buf = [0u8; crate::ext::MAX_VALUE];
            let n = buf.iter_mut().zip(o.bytes()).map(|(slot, b)| *slot = b).count();
            headers.set(ORIGIN, crate::id::ascii_str(buf.get(..n).unwrap_or_default()));
        }
        None => headers.remove(ORIGIN),
    }
    let tags = encode_tags(ctx);
    if tags.as_str().is_empty() {
        headers.remove(TAGS);
    } else {
        headers.set(TAGS, tags.as_str());
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn round(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, Error> {
        let h = headers(pairs);
        let Some((Propagation::Context(ctx), _)) = extract(&h)? else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        inject(&ctx, &mut out);
        Ok(out)
    }

    #[test]
    fn ids_are_strict_decimal() {
        let e = |t: &str, p: &str| extract(&headers(&[(TRACE_ID, t), (PARENT_ID, p)])).err();
        assert_eq!(e("0", "1"), Some(Error::DatadogTraceIdZero));
        assert_eq!(e("1", "0"), Some(Error::DatadogParentIdZero));
        assert_eq!(e("-1", "1"), Some(Error::DatadogTraceId));
        assert_eq!(e(" 1", "1"), Some(Error::DatadogTraceId));
        assert_eq!(e("1", "1 "), Some(Error::DatadogParentId));
        assert_eq!(e("18446744073709551616", "1"), Some(Error::DatadogTraceId));
        assert_eq!(e("18446744073709551615", "18446744073709551615"), None);
        assert_eq!(e("0x1", "1"), Some(Error::DatadogTraceId));
        // Leading zeros are read and not written back.
        let got = round(&[(TRACE_ID, "007"), (PARENT_ID, "08")]);
        assert_eq!(got, Ok(headers(&[(TRACE_ID, "7"), (PARENT_ID, "8")])));
    }

    #[test]
    fn priority_origin_tags_round_trip() {
        let full = [
            (TRACE_ID, "1234567890"),
            (PARENT_ID, "987654321"),
            (SAMPLING_PRIORITY, "-1"),
            (ORIGIN, "synthetics"),
            (TAGS, "_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000,_dd.p.usr.id=a=b"),
        ];
        assert_eq!(round(&full), Ok(headers(&full)));
        let e = |p: &str| extract(&headers(&[(TRACE_ID, "1"), (PARENT_ID, "1"), (SAMPLING_PRIORITY, p)])).err();
        assert_eq!(e("+1"), Some(Error::DatadogSamplingPriority));
        assert_eq!(e("1.0"), Some(Error::DatadogSamplingPriority));
        assert_eq!(e(""), Some(Error::DatadogSamplingPriority));
        assert_eq!(e("5"), None);
    }

    #[test]
    fn bad_tags_are_dropped_with_a_warning() {
        let w = |t: &str| match extract(&headers(&[(TRACE_ID, "1"), (PARENT_ID, "2"), (TAGS, t)])) {
            Ok(Some((Propagation::Context(c), w))) => Some((c.datadog.tags.is_empty(), c.id_width, w)),
            _ => None,
        };
        assert_eq!(w("nokey"), Some((true, IdWidth::Bits64, Some(Error::DatadogTags))));
        assert_eq!(w("=v"), Some((true, IdWidth::Bits64, Some(Error::DatadogTags))));
        assert_eq!(w("a=1,"), Some((true, IdWidth::Bits64, Some(Error::DatadogTags))));
        // Found by the fuzzer: a value ending in a space came back last, ending the header with it.
        assert_eq!(w("_dd.p.x=ab ,_dd.p.y=1"), Some((true, IdWidth::Bits64, Some(Error::DatadogTags))));
        assert_eq!(w("_dd.p.x= ab"), Some((true, IdWidth::Bits64, Some(Error::DatadogTags))));
        assert_eq!(w("_dd.p.x=a b"), Some((false, IdWidth::Bits64, None)));
        let long = std::format!("_dd.p.a={}", "x".repeat(600));
        assert_eq!(w(&long), Some((true, IdWidth::Bits64, Some(Error::DatadogTagsTooLong))));
        assert_eq!(w("_dd.p.tid=640CFD8D00000000"), Some((false, IdWidth::Bits64, Some(Error::DatadogTid))));
        assert_eq!(w("_dd.p.tid=0000000000000000"), Some((false, IdWidth::Bits64, None)));
        assert_eq!(w("_dd.p.tid=640cfd8d00000000"), Some((false, IdWidth::Bits128, None)));
        // The bad tid is not written back; a 64-bit id writes none.
        assert_eq!(
            round(&[(TRACE_ID, "1"), (PARENT_ID, "2"), (TAGS, "_dd.p.tid=xyz,_dd.p.dm=-1")]),
            Ok(headers(&[(TRACE_ID, "1"), (PARENT_ID, "2"), (TAGS, "_dd.p.dm=-1")]))
        );
    }

    /// Found by the translator fuzz target: a `dd=` member's tag whose key holds a space was written
    /// to `x-datadog-tags`, which then read back with a warning (the whole header refused).
    #[test]
    fn member_tags_the_header_would_refuse_are_not_written() {
        let mut ctx = crate::context::test_context(b"4bf92f3577b34da6a3ce929d0e0e4736", b"00f067aa0ba902b7");
        ctx.id_width = IdWidth::Bits64;
        ctx.datadog.tags = DatadogTags::Member("s:2;t.d 0:-4;t.dm:-4;t.e:;t.v: x;t.usr.id:a~b");
        assert_eq!(encode_tags(&ctx).as_str(), "_dd.p.dm=-4,_dd.p.usr.id=a=b");
        let mut out = headers(&[]);
        inject(&ctx, &mut out);
        assert!(matches!(extract(&out), Ok(Some((_, None)))), "{out:?}");
    }

    #[test]
    fn absent_and_missing() {
        assert_eq!(extract(&headers(&[(SAMPLING_PRIORITY, "1")])), Ok(None));
        assert_eq!(extract(&headers(&[(TRACE_ID, "1")])).err(), Some(Error::DatadogMissingParentId));
        assert_eq!(
            extract(&headers(&[(TRACE_ID, "1"), (PARENT_ID, "1"), (TRACE_ID, "1")])).err(),
            Some(Error::DatadogDuplicate)
        );
    }

    #[test]
    fn zero_low_half_is_not_written() {
        let ctx = crate::context::test_context(b"4bf92f3577b34da60000000000000000", b"00f067aa0ba902b7");
        let mut out = headers(&[(TRACE_ID, "5")]);
        inject(&ctx, &mut out);
        assert!(out.is_empty());
    }

    fn arb_ctx() -> impl Strategy<Value = TraceContext<'static>> {
        (any::<u64>(), 1..u64::MAX, 1..u64::MAX, proptest::option::of(-3i32..5), any::<bool>()).prop_map(
            |(high, low, span, priority, origin)| {
                let mut b = [0u8; 16];
                let (h, l) = b.split_at_mut(8);
                h.copy_from_slice(&high.to_be_bytes());
                l.copy_from_slice(&low.to_be_bytes());
                let (Some(t), Some(s)) = (TraceId::from_bytes(b), SpanId::from_bytes(span.to_be_bytes())) else {
                    unreachable!()
                };
                let mut ctx = TraceContext::new(t, s).with_sampling(priority.map_or(Sampling::Defer, sampling_of));
                ctx.id_width = if high == 0 { IdWidth::Bits64 } else { IdWidth::Bits128 };
                ctx.datadog.priority = priority;
                ctx.datadog.origin = origin.then_some(DatadogText::Raw("rum"));
                ctx
            },
        )
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ctx in arb_ctx()) {
            let mut out: Vec<(String, String)> = Vec::new();
            inject(&ctx, &mut out);
            let back = extract(&out);
            let Ok(Some((Propagation::Context(back), None))) = back else { return Err(TestCaseError::fail(std::format!("{back:?}"))) };
            prop_assert_eq!((back.trace_id, back.span_id, back.sampling, back.id_width), (ctx.trace_id, ctx.span_id, ctx.sampling, ctx.id_width));
            prop_assert_eq!((back.datadog.priority, back.datadog.origin), (ctx.datadog.priority, ctx.datadog.origin));
            // Written again, the headers are the same.
            let mut again: Vec<(String, String)> = Vec::new();
            inject(&back, &mut again);
            prop_assert_eq!(again, out);
        }

        #[test]
        fn parse_never_panics(t in proptest::collection::vec(any::<u8>(), 0..30), p in proptest::collection::vec(any::<u8>(), 0..30),
                              s in proptest::collection::vec(any::<u8>(), 0..6), o in proptest::collection::vec(any::<u8>(), 0..20),
                              tags in "[ -~]{0,80}") {
            let v = Values { trace_id: &t, parent_id: &p, priority: Some(&s), origin: Some(&o), tags: Some(tags.as_bytes()) };
            if let Ok((ctx, _)) = parse(&v) {
                let mut out: Vec<(String, String)> = Vec::new();
                inject(&ctx, &mut out);
                prop_assert!(extract(&out).is_ok());
            }
        }
    }
}
