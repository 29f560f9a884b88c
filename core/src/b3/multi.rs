//! B3 multiple headers: `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled`,
//! `X-B3-Flags` ([b3-propagation: Multiple Headers](https://github.com/openzipkin/b3-propagation#multiple-headers)).
//!
//! | header              | value                                      | spec                                                                         |
//! |---------------------|--------------------------------------------|------------------------------------------------------------------------------|
//! | `X-B3-TraceId`      | 16 or 32 lowercase hex digits, not all `0` | [TraceId](https://github.com/openzipkin/b3-propagation#traceid-1)           |
//! | `X-B3-SpanId`       | 16 lowercase hex digits, not all `0`       | [SpanId](https://github.com/openzipkin/b3-propagation#spanid-1)             |
//! | `X-B3-ParentSpanId` | 16 lowercase hex digits, not all `0`; absent on a root span | [ParentSpanId](https://github.com/openzipkin/b3-propagation#parentspanid-1) |
//! | `X-B3-Sampled`      | `1` accept, `0` deny (also `true`/`false`, any case); absent = defer | [Sampling State](https://github.com/openzipkin/b3-propagation#sampling-state-1) |
//! | `X-B3-Flags`        | `1` debug (implies accept); any other value is ignored | [Debug Flag](https://github.com/openzipkin/b3-propagation#debug-flag)       |
//!
//! The format is present when any of these headers is. TraceId and SpanId come together; `X-B3-Sampled`
//! and/or `X-B3-Flags` without ids carry a decision only ([`Propagation::SamplingOnly`], spec FAQ
//! "valid to propagate only a reject sampling decision (`X-B3-Sampled: 0`)").
//!
//! Strict where the spec is loose: "when extracting state headers, the first value wins"
//! (#multiple-headers), but a proxy that cannot tell which line is authentic should not pick one, so a
//! repeated header is [`Error::XB3Duplicate`], as for every other trace header in this crate.

use crate::b3::{parse_span_id, parse_trace_id};
use crate::carrier::{self, Extractor, Injector, Lines};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::Error;

/// `X-B3-TraceId`, lowercase.
pub const TRACE_ID: &str = "x-b3-traceid";
/// `X-B3-SpanId`, lowercase.
pub const SPAN_ID: &str = "x-b3-spanid";
/// `X-B3-ParentSpanId`, lowercase.
pub const PARENT_SPAN_ID: &str = "x-b3-parentspanid";
/// `X-B3-Sampled`, lowercase.
pub const SAMPLED: &str = "x-b3-sampled";
/// `X-B3-Flags`, lowercase.
pub const FLAGS: &str = "x-b3-flags";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[TRACE_ID, SPAN_ID, PARENT_SPAN_ID, SAMPLED, FLAGS];

/// The five values, in the order of [`HEADERS`], read with one [`Extractor::lines_of`], each
/// single (a repeated header is [`Error::XB3Duplicate`]). When `careful`, optional whitespace is
/// trimmed and each value checked as visible ASCII, the errors in the order of the headers, each
/// header's before the next one's. Otherwise the values come as received but for `X-B3-Flags`,
/// always trimmed: a value other than `1` is ignored there, not refused, so an untrimmed ` 1` would
/// be lost, where whitespace around an id or `X-B3-Sampled` fails its parse and sends
/// [`read_into`] to the careful reading.
fn read_all<E: Extractor + ?Sized>(headers: &E, careful: bool) -> Result<[Option<&[u8]>; 5], Error> {
    const FLAGS_AT: usize = 4;
    let mut lines = [Lines::Absent; 5];
    headers.lines_of(&[TRACE_ID, SPAN_ID, PARENT_SPAN_ID, SAMPLED, FLAGS], &mut lines);
    let mut out = [None; 5];
    for (i, (o, l)) in out.iter_mut().zip(lines).enumerate() {
        let Some(v) = l.single(Error::XB3Duplicate)? else { continue };
        let v = if careful || i == FLAGS_AT { carrier::trim_ows(v) } else { v };
        if careful {
            carrier::check_visible_ascii(v)?;
        }
        *o = Some(v);
    }
    Ok(out)
}

/// The sampling decision of `X-B3-Sampled` and `X-B3-Flags` values.
fn sampling(sampled: Option<&[u8]>, flags: Option<&[u8]>) -> Result<Sampling, Error> {
    let sampled = match sampled {
        None => Sampling::Defer,
        Some(b"1") => Sampling::Accept,
        Some(b"0") => Sampling::Deny,
        // interop: pre-spec tracers sent `true`/`false` in any case; "a lenient implementation may
        // accept them" (#sampling-state-1), as zipkin-go, Brave and the OpenTelemetry B3
        // propagators do.
        Some(v) if v.eq_ignore_ascii_case(b"true") => Sampling::Accept,
        Some(v) if v.eq_ignore_ascii_case(b"false") => Sampling::Deny,
        Some(_) => return Err(Error::XB3Sampled),
    };
    match flags {
        // "Debug implies an accept decision" (#debug-flag): it wins over any X-B3-Sampled.
        Some(b"1") => Ok(Sampling::Debug),
        // #debug-flag defines `1` only; any other value (`0`, or what an old tracer wrote) says
        // nothing about debug and is ignored, as Brave and the OpenTelemetry B3 propagators do: it
        // must not invalidate the ids next to it.
        _ => Ok(sampled),
    }
}

/// The B3 multi-header context of `headers`: `Ok(None)` when no `X-B3-*` header is present.
///
/// ```
/// use tracebridge::{b3, Sampling};
///
/// let headers = [("X-B3-TraceId", "463ac35c9f6413ad"), ("X-B3-SpanId", "a2fb4a1d1a96d312"), ("X-B3-Flags", "1")];
/// let p = b3::multi::extract(&headers[..])?;
/// assert_eq!(p.map(|p| p.sampling()), Some(Sampling::Debug));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    // Values that parse are visible ASCII (hex digits, `0`, `1`, `true`, `false`) without
    // whitespace around them, so the first reading neither trims nor checks them (`read_all`), and
    // the careful one runs only when something failed, the whole reading again in order: its error
    // is the one the checked reading gives (a value's `NotAscii` before a later header's duplicate),
    // and a value with whitespace around it parses there. `out` is written only on success. Extract
    // of B3 multi 1 323 → 1 202 instructions without the check, 895 → 811 without the trim.
    match read_all(headers, false).and_then(|values| decide(values, out)) {
        Ok(read) => Ok(read),
        Err(_) => read_all(headers, true).and_then(|values| decide(values, out)),
    }
}

/// The context or decision of the five values (`out` written only for [`Read::Context`]).
fn decide<'a>(
    [trace, span, parent, sampled, flags]: [Option<&'a [u8]>; 5],
    out: &mut impl Slot<'a>,
) -> Result<Read, Error> {
    match (trace, span) {
        (Some(trace), Some(span)) => context(trace, span, parent, sampled, flags, out),
        _ if parent.is_none() && sampled.is_none() && flags.is_none() && trace.is_none() && span.is_none() => {
            Ok(Read::Absent)
        }
        _ => no_context(trace, span, parent, sampled, flags),
    }
}

/// Both ids: the context, each value checked in the order of the headers. The ids are parsed where
/// they are used, not into `Option`s first: an id moved through an `Option<TraceId>` went as 1 + 15
/// bytes, and the context's later 16-byte load of it waited for those stores (`perf`).
fn context<'a>(
    trace: &[u8],
    span: &[u8],
    parent: Option<&[u8]>,
    sampled: Option<&[u8]>,
    flags: Option<&[u8]>,
    out: &mut impl Slot<'a>,
) -> Result<Read, Error> {
    let trace_id = parse_trace_id(trace, Error::XB3TraceId, Error::XB3TraceIdZero)?;
    let span_id = parse_span_id(span, Error::XB3SpanId, Error::XB3SpanIdZero)?;
    let parent_span_id =
        parent.map(|p| parse_span_id(p, Error::XB3ParentSpanId, Error::XB3ParentSpanId)).transpose()?;
    let sampling = sampling(sampled, flags)?;
    let ctx = out.put(trace_id, span_id);
    (ctx.parent_span_id, ctx.id_width) = (parent_span_id, crate::IdWidth::of_digits(trace.len()));
    ctx.set_sampling(sampling);
    Ok(Read::Context)
}

/// Not both ids: a decision alone, or the error, the values checked in the same order as
/// [`context`] does before the missing id is named.
#[cold]
fn no_context(
    trace: Option<&[u8]>,
    span: Option<&[u8]>,
    parent: Option<&[u8]>,
    sampled: Option<&[u8]>,
    flags: Option<&[u8]>,
) -> Result<Read, Error> {
    trace.map(|t| parse_trace_id(t, Error::XB3TraceId, Error::XB3TraceIdZero)).transpose()?;
    span.map(|s| parse_span_id(s, Error::XB3SpanId, Error::XB3SpanIdZero)).transpose()?;
    parent.map(|p| parse_span_id(p, Error::XB3ParentSpanId, Error::XB3ParentSpanId)).transpose()?;
    let sampling = sampling(sampled, flags)?;
    match (trace, span, parent) {
        // "The X-B3-TraceId header is required" (#traceid-1); so is X-B3-SpanId (#spanid-1).
        (Some(_), _, _) => Err(Error::XB3MissingSpanId),
        (None, Some(_), _) | (None, None, Some(_)) => Err(Error::XB3MissingTraceId),
        (None, None, None) => Ok(Read::SamplingOnly(sampling)),
    }
}

/// Write `X-B3-Sampled`/`X-B3-Flags` for a decision: accept `Sampled: 1`, deny `Sampled: 0`, debug
/// `Flags: 1` without `Sampled` (#debug-flag), defer neither (#sampling-state-1).
fn inject_sampling<I: Injector + ?Sized>(sampling: Sampling, headers: &mut I) {
    match sampling {
        Sampling::Accept => headers.set(SAMPLED, "1"),
        Sampling::Deny => headers.set(SAMPLED, "0"),
        Sampling::Defer | Sampling::Debug => headers.remove(SAMPLED),
    }
    match sampling {
        Sampling::Debug => headers.set(FLAGS, "1"),
        _ => headers.remove(FLAGS),
    }
}

/// Write the `X-B3-*` headers for `ctx`, replacing existing lines and removing the ones `ctx` has no
/// value for (a stale `X-B3-ParentSpanId` or `X-B3-Sampled` must not survive). TraceId is written in
/// `ctx.id_width` digits.
///
/// ```
/// use tracebridge::{b3, Sampling, SpanId, TraceContext, TraceId};
///
/// let ctx = TraceContext::new(TraceId::from_hex(b"80f198ee56343ba864fe8b2a57d3eff7")?, SpanId::from_hex(b"e457b5a2e4d86bd1")?)
///     .with_sampling(Sampling::Deny);
/// let mut headers: Vec<(String, String)> = Vec::new();
/// b3::multi::inject(&ctx, &mut headers);
/// assert!(headers.contains(&("x-b3-sampled".to_string(), "0".to_string())));
/// assert!(headers.contains(&("x-b3-spanid".to_string(), "e457b5a2e4d86bd1".to_string())));
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    ctx.set_trace_id_hex(TRACE_ID, headers);
    headers.set_bytes(SPAN_ID, &ctx.span_id.to_hex());
    match ctx.parent_span_id {
        Some(p) => headers.set_bytes(PARENT_SPAN_ID, &p.to_hex()),
        None => headers.remove(PARENT_SPAN_ID),
    }
    inject_sampling(ctx.sampling, headers);
}

/// Write a decision without ids (`X-B3-Sampled: 0` is the spec's example), removing any id headers so
/// that the decision is not read together with stale ids. Defer writes no `X-B3-*` header at all.
pub fn inject_sampling_only<I: Injector + ?Sized>(sampling: Sampling, headers: &mut I) {
    headers.remove(TRACE_ID);
    headers.remove(SPAN_ID);
    headers.remove(PARENT_SPAN_ID);
    inject_sampling(sampling, headers);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::b3::test_support::Headers;
    use crate::id::{IdWidth, SpanId, TraceId};
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec;
    use std::vec::Vec;

    const T128: &str = "463ac35c9f6413ad48485a3953bb6124";
    const T64: &str = "48485a3953bb6124";
    const SPAN: &str = "a2fb4a1d1a96d312";
    const PARENT: &str = "0020000000000001";

    fn h(lines: &[(&str, &str)]) -> Headers {
        Headers(lines.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
    }

    fn ctx(headers: &Headers) -> Option<TraceContext<'_>> {
        match extract(headers) {
            Ok(Some(Propagation::Context(c))) => Some(c),
            _ => None,
        }
    }

    fn outcome(lines: &[(&str, &str)]) -> Result<Option<Sampling>, Error> {
        extract(&h(lines)).map(|p| p.map(|p| p.sampling()))
    }

    /// Optional whitespace around any value is trimmed, through a slice (one pass over the lines)
    /// and through a carrier that looks each name up: the first reading takes values as received,
    /// so a padded id or decision goes through the careful one, and a padded `X-B3-Flags: 1`
    /// (ignored, not refused, when it is not `1`) must still be read as debug.
    #[test]
    fn whitespace_around_values_is_trimmed() {
        let (trace, span) = ((TRACE_ID, T128), (SPAN_ID, SPAN));
        let plain = [trace, span, (PARENT_SPAN_ID, PARENT), (SAMPLED, "0")];
        let padded = [
            (TRACE_ID, " 463ac35c9f6413ad48485a3953bb6124"),
            (SPAN_ID, "a2fb4a1d1a96d312\t"),
            (PARENT_SPAN_ID, "\t0020000000000001 "),
            (SAMPLED, " 0"),
        ];
        let slice = |lines: &[(&str, &str)]| extract(lines).map(|p| p.map(|p| std::format!("{p:?}")));
        assert_eq!(slice(&padded), slice(&plain));
        assert_eq!(extract(&h(&padded)).map(|p| p.map(|p| std::format!("{p:?}"))), slice(&plain));
        assert!(matches!(slice(&plain), Ok(Some(_))));
        for flags in [" 1", "1\t", " 1 "] {
            assert_eq!(outcome(&[trace, span, (FLAGS, flags)]), Ok(Some(Sampling::Debug)), "{flags:?}");
            assert_eq!(outcome(&[(FLAGS, flags)]), Ok(Some(Sampling::Debug)), "{flags:?}");
        }
        assert_eq!(outcome(&[trace, span, (SAMPLED, "true ")]), Ok(Some(Sampling::Accept)));
        assert_eq!(outcome(&[(SAMPLED, " 1")]), Ok(Some(Sampling::Accept)));
        assert_eq!(outcome(&[(TRACE_ID, " 463ac35c9f6413ad"), (SAMPLED, "1")]), Err(Error::XB3MissingSpanId));
    }

    #[test]
    fn spec_example() {
        let lines =
            h(&[("X-B3-TraceId", T128), ("X-B3-ParentSpanId", PARENT), ("X-B3-SpanId", SPAN), ("X-B3-Sampled", "1")]);
        let c = ctx(&lines);
        assert_eq!(c.map(|c| c.trace_id), TraceId::from_hex(T128.as_bytes()).ok());
        assert_eq!(c.map(|c| c.span_id), SpanId::from_hex(SPAN.as_bytes()).ok());
        assert_eq!(c.and_then(|c| c.parent_span_id), SpanId::from_hex(PARENT.as_bytes()).ok());
        assert_eq!(c.map(|c| (c.sampling, c.id_width)), Some((Sampling::Accept, IdWidth::Bits128)));
    }

    #[test]
    fn sampling_table() {
        let ids = [("x-b3-traceid", T64), ("x-b3-spanid", SPAN)];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut l: Vec<(&str, &str)> = ids.to_vec();
            l.extend_from_slice(extra);
            outcome(&l)
        };
        assert_eq!(with(&[]), Ok(Some(Sampling::Defer)));
        assert_eq!(with(&[("x-b3-sampled", "1")]), Ok(Some(Sampling::Accept)));
        assert_eq!(with(&[("x-b3-sampled", "0")]), Ok(Some(Sampling::Deny)));
        assert_eq!(with(&[("x-b3-sampled", "true")]), Ok(Some(Sampling::Accept)));
        assert_eq!(with(&[("x-b3-sampled", "false")]), Ok(Some(Sampling::Deny)));
        assert_eq!(with(&[("x-b3-sampled", "TRUE")]), Ok(Some(Sampling::Accept)));
        assert_eq!(with(&[("x-b3-sampled", "False")]), Ok(Some(Sampling::Deny)));
        assert_eq!(with(&[("x-b3-sampled", "yes")]), Err(Error::XB3Sampled));
        assert_eq!(with(&[("x-b3-sampled", "d")]), Err(Error::XB3Sampled));
        assert_eq!(with(&[("x-b3-flags", "1")]), Ok(Some(Sampling::Debug)));
        assert_eq!(with(&[("x-b3-flags", "1"), ("x-b3-sampled", "0")]), Ok(Some(Sampling::Debug)));
        assert_eq!(with(&[("x-b3-flags", "0"), ("x-b3-sampled", "1")]), Ok(Some(Sampling::Accept)));
        // Only `1` means debug; anything else is ignored, the context stays valid.
        assert_eq!(with(&[("x-b3-flags", "2")]), Ok(Some(Sampling::Defer)));
        assert_eq!(with(&[("x-b3-flags", "true"), ("x-b3-sampled", "1")]), Ok(Some(Sampling::Accept)));
        assert_eq!(with(&[("x-b3-flags", ""), ("x-b3-sampled", "0")]), Ok(Some(Sampling::Deny)));
    }

    #[test]
    fn presence_rules() {
        let none: [(&str, &str); 1] = [("b3", "0")];
        assert_eq!(outcome(&none), Ok(None));
        assert_eq!(outcome(&[("X-B3-Sampled", "0")]), Ok(Some(Sampling::Deny)));
        assert!(matches!(extract(&h(&[("X-B3-Flags", "1")])), Ok(Some(Propagation::SamplingOnly(Sampling::Debug)))));
        assert!(matches!(extract(&h(&[("X-B3-Flags", "0")])), Ok(Some(Propagation::SamplingOnly(Sampling::Defer)))));
        assert_eq!(outcome(&[("X-B3-TraceId", T128)]), Err(Error::XB3MissingSpanId));
        assert_eq!(outcome(&[("X-B3-TraceId", T128), ("X-B3-ParentSpanId", PARENT)]), Err(Error::XB3MissingSpanId));
        assert_eq!(outcome(&[("X-B3-SpanId", SPAN), ("X-B3-Sampled", "1")]), Err(Error::XB3MissingTraceId));
        assert_eq!(outcome(&[("X-B3-ParentSpanId", PARENT)]), Err(Error::XB3MissingTraceId));
        assert_eq!(outcome(&[("X-B3-Sampled", "1"), ("x-b3-sampled", "1")]), Err(Error::XB3Duplicate));
        assert_eq!(outcome(&[("X-B3-Sampled", "1\r")]), Err(Error::NotAscii));
    }

    /// Which error a request with several faults gets: the reading header by header in `HEADERS`
    /// order, each value checked for visible ASCII as it is read, then the values parsed. (The reading
    /// that skips the checks when every value parses must give the same errors.)
    #[test]
    fn error_precedence() {
        let bad = "e457b5a2e4d86bd\u{e9}";
        // A value that is not visible ASCII comes before every parse error, whichever header has it.
        assert_eq!(
            outcome(&[("X-B3-TraceId", "zz"), ("X-B3-SpanId", SPAN), ("X-B3-Sampled", "1\u{1}")]),
            Err(Error::NotAscii)
        );
        assert_eq!(outcome(&[("X-B3-TraceId", T128), ("X-B3-SpanId", bad)]), Err(Error::NotAscii));
        assert_eq!(outcome(&[("X-B3-SpanId", SPAN), ("X-B3-Flags", "\u{7f}")]), Err(Error::NotAscii));
        // An earlier header's `NotAscii` comes before a later header's duplicate, and an earlier
        // duplicate before a later `NotAscii`.
        let later_dup = [("X-B3-TraceId", "\u{1}"), ("X-B3-SpanId", SPAN), ("x-b3-spanid", SPAN)];
        assert_eq!(outcome(&later_dup), Err(Error::NotAscii));
        let earlier_dup = [("X-B3-TraceId", T128), ("x-b3-traceid", T128), ("X-B3-SpanId", bad)];
        assert_eq!(outcome(&earlier_dup), Err(Error::XB3Duplicate));
        // All visible ASCII: the parse errors, the trace id's first.
        assert_eq!(outcome(&[("X-B3-TraceId", "zz"), ("X-B3-SpanId", "yy")]), Err(Error::XB3TraceId));
        assert_eq!(
            outcome(&[("X-B3-TraceId", T128), ("X-B3-SpanId", SPAN), ("X-B3-Sampled", "2")]),
            Err(Error::XB3Sampled)
        );
    }

    #[test]
    fn inject_writes_and_clears() {
        let mut out = h(&[("x-b3-parentspanid", PARENT), ("x-b3-sampled", "1")]);
        let lines = h(&[("x-b3-traceid", T64), ("x-b3-spanid", SPAN), ("x-b3-flags", "1")]);
        if let Some(c) = ctx(&lines) {
            inject(&c, &mut out);
        }
        let mut got = out.0.clone();
        got.sort();
        let want: Vec<(String, String)> = vec![
            ("x-b3-flags".into(), "1".into()),
            ("x-b3-spanid".into(), SPAN.into()),
            ("x-b3-traceid".into(), T64.into()),
        ];
        assert_eq!(got, want);

        inject_sampling_only(Sampling::Deny, &mut out);
        assert_eq!(out.0, vec![("x-b3-sampled".to_string(), "0".to_string())]);
        inject_sampling_only(Sampling::Defer, &mut out);
        assert!(out.0.is_empty());
    }

    fn any_sampling() -> impl Strategy<Value = Sampling> {
        prop_oneof![Just(Sampling::Deny), Just(Sampling::Defer), Just(Sampling::Accept), Just(Sampling::Debug)]
    }

    fn context() -> impl Strategy<Value = TraceContext<'static>> {
        (any::<[u8; 16]>(), any::<bool>(), any::<[u8; 8]>(), any::<Option<[u8; 8]>>(), any_sampling()).prop_filter_map(
            "ids must be non-zero",
            |(mut t, wide, s, p, sampling)| {
                if let (false, Some(high)) = (wide, t.get_mut(..8)) {
                    high.fill(0);
                }
                let parent = match p {
                    Some(p) => Some(SpanId::from_bytes(p)?),
                    None => None,
                };
                let ctx = TraceContext {
                    parent_span_id: parent,
                    id_width: if wide { IdWidth::Bits128 } else { IdWidth::Bits64 },
                    ..TraceContext::new(TraceId::from_bytes(t)?, SpanId::from_bytes(s)?)
                };
                Some(ctx.with_sampling(sampling))
            },
        )
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(HEADERS.to_vec()).prop_map(String::from),
            prop::sample::select(vec![
                "X-B3-TraceId",
                "X-B3-SpanId",
                "X-B3-ParentSpanId",
                "X-B3-Sampled",
                "X-B3-Flags"
            ])
            .prop_map(String::from),
            "[a-zA-Z0-9-]{0,20}",
        ]
    }

    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "[0-9a-fA-F tdrue-]{0,34}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #[test]
        fn format_parse_identity(ctx in context()) {
            let mut out = Headers::default();
            inject(&ctx, &mut out);
            prop_assert_eq!(extract(&out), Ok(Some(Propagation::Context(ctx))));
        }

        #[test]
        fn sampling_only_identity(s in any_sampling()) {
            let mut out = Headers::default();
            inject_sampling_only(s, &mut out);
            let want = if s == Sampling::Defer { None } else { Some(Propagation::SamplingOnly(s)) };
            prop_assert_eq!(extract(&out), Ok(want));
        }

        #[test]
        fn parse_never_panics(map in proptest::collection::vec((header_name(), header_value()), 0..8)) {
            let lines: Vec<(Vec<u8>, Vec<u8>)> = map.into_iter().map(|(n, v)| (n.into_bytes(), v)).collect();
            if let Ok(Some(Propagation::Context(c))) = extract(&lines[..]) {
                // Anything accepted is written back and read again unchanged.
                let mut out = Headers::default();
                inject(&c, &mut out);
                prop_assert_eq!(extract(&out), Ok(Some(Propagation::Context(c))));
            }
        }
    }
}
