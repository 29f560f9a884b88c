//! W3C Trace Context: `traceparent` (and `tracestate`, parsed by [`crate::tracestate`]).
//!
//! Headers: `traceparent`, `tracestate`
//! ([W3C Trace Context §3](https://www.w3.org/TR/trace-context/#trace-context-http-headers-format)).
//!
//! ```text
//! traceparent  = version "-" version-format          ; §3.2.2
//! version      = 2HEXDIGLC                           ; "ff" is forbidden
//! version-format (00) = trace-id "-" parent-id "-" trace-flags
//! trace-id     = 32HEXDIGLC                          ; not all zeros
//! parent-id    = 16HEXDIGLC                          ; not all zeros
//! trace-flags  = 2HEXDIGLC
//! ```
//!
//! Forward compatibility ([§3.2.4](https://www.w3.org/TR/trace-context/#versioning-of-traceparent)):
//! a version higher than `00` is parsed by the version-00 rules for its first 55 characters; it must
//! be at least 55 characters long and, if longer, continue with `-`. We always write version `00`.

use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext, TraceFlags};
use crate::id::{encode_hex, hex_digit, HexError, SpanId, TraceId};
use crate::tracestate;
use crate::Error;

/// Header name of the parent.
pub const TRACEPARENT: &str = "traceparent";
/// Header name of the vendor state.
pub const TRACESTATE: &str = tracestate::HEADER;
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[TRACEPARENT, TRACESTATE];

/// A parsed `traceparent`.
///
/// ```
/// use tracebridge::w3c::Traceparent;
///
/// let tp = Traceparent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
/// assert!(tp.flags.is_sampled());
/// assert_eq!(&tp.encode()[..], b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// // Version 00 is exactly 55 characters; an all-zero id is invalid.
/// assert!(Traceparent::parse(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_err());
/// # Ok::<(), tracebridge::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Traceparent {
    /// The version byte as received (we write `00`).
    pub version: u8,
    /// trace-id.
    pub trace_id: TraceId,
    /// parent-id: the caller's span.
    pub parent_id: SpanId,
    /// trace-flags, all bits.
    pub flags: TraceFlags,
}

impl Traceparent {
    /// Length of a version-00 value.
    pub const LEN: usize = 55;

    /// Parse a `traceparent` value.
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        // Leading/trailing OWS is not part of the grammar, but HTTP strips it from field values
        // (RFC 9110 §5.5); a proxy seeing it raw trims it as the spec's test suite expects.
        let value = carrier::trim_ows(value);
        let Some((head, rest)) = value.split_first_chunk::<{ Self::LEN }>() else {
            return Err(Error::TraceparentLength);
        };
        // Split by reference at the fixed offsets: no copy of the 55 bytes, no per-byte binding.
        let length = || Error::TraceparentLength;
        let (&[v0, v1, d0], tail) = head.split_first_chunk::<3>().ok_or_else(length)?;
        let (trace, tail) = tail.split_first_chunk::<32>().ok_or_else(length)?;
        let (&[d1], tail) = tail.split_first_chunk::<1>().ok_or_else(length)?;
        let (parent, tail) = tail.split_first_chunk::<16>().ok_or_else(length)?;
        let &[d2, f0, f1] = tail else { return Err(Error::TraceparentLength) };
        let version = hex_pair(v0, v1).ok_or(Error::TraceparentVersion)?;
        if version == 0xff {
            return Err(Error::TraceparentVersionForbidden);
        }
        match (version, rest) {
            (0, []) => {}
            (0, _) => return Err(Error::TraceparentLength),
            // §3.2.4: a higher version may append fields after a '-'.
            (_, [] | [b'-', ..]) => {}
            (_, _) => return Err(Error::TraceparentDelimiter),
        }
        if d0 != b'-' || d1 != b'-' || d2 != b'-' {
            return Err(Error::TraceparentDelimiter);
        }
        let trace_id = TraceId::from_hex(trace).map_err(|e| match e {
            HexError::Zero => Error::TraceparentTraceIdZero,
            _ => Error::TraceparentTraceId,
        })?;
        let parent_id = SpanId::from_hex(parent).map_err(|e| match e {
            HexError::Zero => Error::TraceparentParentIdZero,
            _ => Error::TraceparentParentId,
        })?;
        let flags = hex_pair(f0, f1).ok_or(Error::TraceparentFlags)?;
        Ok(Traceparent { version, trace_id, parent_id, flags: TraceFlags(flags) })
    }

    /// The version-00 value, written into a fixed buffer.
    // Inlined: as a call, its 55 bytes were written by eight stores of 1 to 16 bytes at odd
    // offsets and copied at once into the caller's result, loads the processor cannot forward from
    // several stores (`perf`: two thirds of a parse+format was that copy). Inlined, the digits are
    // written in place (parse+format 22 → 11 ns, with `encode_hex_table` inlined).
    #[inline(always)]
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [b'-'; Self::LEN];
        if let Some((head, rest)) = out.split_first_chunk_mut::<2>() {
            *head = *b"00";
            if let Some((_, rest)) = rest.split_first_mut() {
                let (t, rest) = rest.split_at_mut(32);
                encode_hex(self.trace_id.as_bytes(), t);
                if let Some((_, rest)) = rest.split_first_mut() {
                    let (p, rest) = rest.split_at_mut(16);
                    encode_hex(self.parent_id.as_bytes(), p);
                    if let Some((_, f)) = rest.split_first_mut() {
                        encode_hex(&[self.flags.0], f);
                    }
                }
            }
        }
        out
    }

    /// The traceparent for a context: version 00, flags with every bit kept and `sampled` taken from
    /// the sampling decision (*defer* writes 0, see [`Sampling`]).
    pub fn from_context(ctx: &TraceContext<'_>) -> Self {
        Traceparent {
            version: 0,
            trace_id: ctx.trace_id,
            parent_id: ctx.span_id,
            flags: ctx.trace_flags.with_sampled(ctx.sampling.is_sampled()),
        }
    }
}

/// The W3C context of `headers`: `Ok(None)` when there is no `traceparent`.
///
/// The second value is the reason a present `tracestate` was dropped, in whole or (a key given
/// twice, [`Error::TracestateDuplicateKey`]) in part: an invalid tracestate does not invalidate the
/// traceparent ([§3.3.1.1](https://www.w3.org/TR/trace-context/#tracestate-header-field-values)).
/// Without a valid traceparent, tracestate is not parsed at all
/// ([§3.3](https://www.w3.org/TR/trace-context/#tracestate-header)).
///
/// ```
/// use tracebridge::w3c;
///
/// let headers = [
///     ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
///     ("tracestate", "rojo=00f067aa0ba902b7"),
/// ];
/// let Some((propagation, dropped)) = w3c::extract(&headers[..])? else { unreachable!() };
/// let ctx = propagation.context().copied();
/// assert_eq!(ctx.map(|c| c.tracestate.get("rojo")), Some(Some("00f067aa0ba902b7")));
/// assert_eq!(dropped, None);
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<(Propagation<'a>, Option<Error>)>, Error> {
    Read::extract_warned(|warning, out| read_into(headers, warning, out))
}

/// [`extract`], the context written into `out` ([`Read`]) and the dropped tracestate's error into
/// `warning`.
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(
    headers: &'a E,
    warning: &mut Option<Error>,
    out: &mut impl Slot<'a>,
) -> Result<Read, Error> {
    let Some(value) = carrier::single(headers, TRACEPARENT, Error::TraceparentDuplicate)? else {
        return Ok(Read::Absent);
    };
    let tp = Traceparent::parse(value)?;
    let ctx = out.put(tp.trace_id, tp.parent_id);
    ctx.sampling = if tp.flags.is_sampled() { Sampling::Accept } else { Sampling::Deny };
    ctx.trace_flags = tp.flags;
    // Parsed where the context keeps it (empty when there is none, or on an error).
    match ctx.tracestate.extract_into(headers) {
        // Later duplicates of a key were skipped (the first is kept): reported, not silent.
        Ok(_) if ctx.tracestate.duplicates() > 0 => *warning = Some(Error::TracestateDuplicateKey),
        Ok(_) => {}
        Err(e) => *warning = Some(e),
    }
    Ok(Read::Context)
}

/// Write `traceparent` for `ctx`, and `tracestate` (canonical form) when the context has one; a
/// stale `tracestate` is removed otherwise, so it never travels with a traceparent it did not come
/// with ([§3.3](https://www.w3.org/TR/trace-context/#tracestate-header)). The
/// [`Translator`](crate::Translator) writes tracestate by its own policy (our member, length limits)
/// and uses [`inject_traceparent`].
///
/// ```
/// use tracebridge::{w3c, Sampling, SpanId, TraceContext, TraceId, TraceState};
///
/// let mut ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Defer);
/// ctx.tracestate = TraceState::parse("rojo=00f067aa0ba902b7").map_err(|_| tracebridge::id::HexError::Zero)?;
/// let mut headers: Vec<(String, String)> = Vec::new();
/// w3c::inject(&ctx, &mut headers);
/// // W3C has no "defer": it writes sampled=0.
/// assert_eq!(headers, [
///     ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".to_string()),
///     ("tracestate".to_string(), "rojo=00f067aa0ba902b7".to_string()),
/// ]);
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    inject_traceparent(ctx, headers);
    if ctx.tracestate.is_empty() {
        headers.remove(TRACESTATE);
    } else if let Some(line) = ctx.tracestate.as_canonical_str() {
        // Already canonical (the common case): passed on without a copy.
        headers.set(TRACESTATE, line);
    } else {
        let out = ctx.tracestate.write("", None, tracestate::MAX_OUTPUT_LEN);
        headers.set(TRACESTATE, out.as_str());
    }
}

/// Write `traceparent` only.
pub fn inject_traceparent<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    // As bytes: in the Envoy filter they go to the host as they are, with no UTF-8 check of 55
    // bytes (in wasm, without SIMD) on every request.
    headers.set_bytes(TRACEPARENT, &traceparent_of(ctx));
}

/// `ctx`'s traceparent. Once for every carrier: inlined into each `inject_traceparent`, the digits'
/// code was in the Envoy filter twice (a plan's, the host's).
#[inline(never)]
fn traceparent_of(ctx: &TraceContext<'_>) -> [u8; Traceparent::LEN] {
    Traceparent::from_context(ctx).encode()
}

/// Two lowercase hex digits (the `version` and `trace-flags` fields, §3.2.2.2: `HEXDIGLC`).
fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_digit(hi)? << 4 | hex_digit(lo)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trip() {
        let tp = Traceparent::parse(VALID);
        assert_eq!(tp.map(|t| t.encode()), Ok(*b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    }

    #[test]
    fn strict_version_00() {
        let e = |v: &[u8]| Traceparent::parse(v).err();
        assert_eq!(e(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"), Some(Error::TraceparentLength));
        assert_eq!(e(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"), Some(Error::TraceparentLength));
        assert_eq!(e(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), Some(Error::TraceparentTraceId));
        assert_eq!(e(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01"), Some(Error::TraceparentTraceIdZero));
        assert_eq!(e(b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), Some(Error::TraceparentParentIdZero));
        assert_eq!(e(b"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Some(Error::TraceparentDelimiter));
        assert_eq!(
            e(b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some(Error::TraceparentVersionForbidden)
        );
        assert_eq!(e(b"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Some(Error::TraceparentVersion));
        assert_eq!(e(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"), Some(Error::TraceparentFlags));
    }

    #[test]
    fn future_versions_parse_the_known_prefix() {
        let ok = Traceparent::parse(b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds");
        assert_eq!(ok.map(|t| (t.version, t.flags.0)), Ok((0xcc, 0x09)));
        assert_eq!(
            Traceparent::parse(b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09.").err(),
            Some(Error::TraceparentDelimiter)
        );
        // Written back as version 00 with every flag bit kept.
        assert_eq!(ok.map(|t| t.encode()[..3] == *b"00-" && t.encode()[53..] == *b"09"), Ok(true));
    }

    #[test]
    fn invalid_tracestate_keeps_traceparent() {
        let h = [("traceparent", VALID), ("tracestate", b"a=1,B=2")];
        let got = extract(&h[..]);
        assert!(
            matches!(got, Ok(Some((Propagation::Context(c), Some(Error::TracestateKey)))) if c.tracestate.is_empty())
        );
    }

    #[test]
    fn too_many_tracestate_lines_keep_traceparent() {
        let lines: std::vec::Vec<std::string::String> =
            (0..=tracestate::MAX_LINES).map(|i| std::format!("k{i}=1")).collect();
        let mut h = std::vec![("traceparent", VALID)];
        h.extend(lines.iter().map(|l| ("tracestate", l.as_bytes())));
        let got = extract(&h[..]);
        assert!(matches!(got, Ok(Some((Propagation::Context(c), Some(Error::TooLong)))) if c.tracestate.is_empty()));
        h.pop();
        let got = extract(&h[..]);
        let kept = tracestate::MAX_LINES;
        assert!(matches!(got, Ok(Some((Propagation::Context(c), None))) if c.tracestate.len() == kept));
    }

    #[test]
    fn duplicate_tracestate_key_keeps_the_first_and_warns() {
        let h = [("traceparent", VALID), ("tracestate", b"a=1,a=2")];
        let got = extract(&h[..]);
        assert!(
            matches!(got, Ok(Some((Propagation::Context(c), Some(Error::TracestateDuplicateKey)))) if c.tracestate.get("a") == Some("1"))
        );
    }

    mod props {
        extern crate std;
        use super::super::*;
        use super::VALID;
        use proptest::prelude::*;
        use std::vec::Vec;

        proptest! {
            #[test]
            fn format_then_parse_is_identity(t in any::<[u8; 16]>(), p in any::<[u8; 8]>(), flags in any::<u8>()) {
                if let (Some(trace_id), Some(parent_id)) = (TraceId::from_bytes(t), SpanId::from_bytes(p)) {
                    let tp = Traceparent { version: 0, trace_id, parent_id, flags: TraceFlags(flags) };
                    prop_assert_eq!(Traceparent::parse(&tp.encode()), Ok(tp));
                }
            }

            #[test]
            fn context_round_trip_keeps_every_flag_bit(t in any::<[u8; 16]>(), p in any::<[u8; 8]>(), flags in any::<u8>()) {
                if let (Some(trace_id), Some(parent_id)) = (TraceId::from_bytes(t), SpanId::from_bytes(p)) {
                    let tp = Traceparent { version: 0, trace_id, parent_id, flags: TraceFlags(flags) };
                    let enc = tp.encode();
                    let h = [(TRACEPARENT, &enc[..])];
                    let ctx = match extract(&h[..]) {
                        Ok(Some((Propagation::Context(c), None))) => Some(c),
                        _ => None,
                    };
                    prop_assert_eq!(ctx.map(|c| Traceparent::from_context(&c)), Some(tp));
                }
            }

            #[test]
            fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..128)) {
                let _ = Traceparent::parse(&v);
            }

            #[test]
            fn parse_near_valid_never_panics(i in 0usize..64, b in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
                let mut v = VALID.to_vec();
                if let Some(slot) = v.get_mut(i) {
                    *slot = b;
                }
                v.extend_from_slice(&tail);
                let _ = Traceparent::parse(&v);
                if let Some(first) = v.first_mut() {
                    *first = b'c';
                }
                let _ = Traceparent::parse(&v);
            }

            #[test]
            fn extract_never_panics(
                tp in proptest::collection::vec(any::<u8>(), 0..80),
                ts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
            ) {
                let mut h: Vec<(&str, &[u8])> = std::vec![(TRACEPARENT, &tp[..])];
                h.extend(ts.iter().map(|l| (TRACESTATE, &l[..])));
                let _ = extract(&h[..]);
            }
        }
    }
}
