//! Zipkin B3 propagation: the single `b3` header ([`single`]) and the multiple `X-B3-*` headers
//! ([`multi`]) ([openzipkin/b3-propagation](https://github.com/openzipkin/b3-propagation#http-encodings)).
//!
//! Both encodings carry the same fields, so their field codecs live here:
//!
//! | field         | text                                       | spec                                                                          |
//! |---------------|--------------------------------------------|-------------------------------------------------------------------------------|
//! | TraceId       | 16 or 32 lowercase hex digits, not all `0` | [TraceId](https://github.com/openzipkin/b3-propagation#traceid-1)            |
//! | SpanId        | 16 lowercase hex digits, not all `0`       | [SpanId](https://github.com/openzipkin/b3-propagation#spanid-1)              |
//! | ParentSpanId  | 16 lowercase hex digits, not all `0`       | [ParentSpanId](https://github.com/openzipkin/b3-propagation#parentspanid-1)  |
//! | SamplingState | `0` deny, `1` accept, `d` debug, absent defer (single header) | [Sampling State](https://github.com/openzipkin/b3-propagation#sampling-state-2) |
//!
//! A 16-digit TraceId is a 64-bit id: it is held in the low 8 bytes of [`TraceId`] with
//! [`IdWidth::Bits64`](crate::IdWidth::Bits64), and written back as 16 digits.

pub mod multi;
pub mod single;

use crate::context::Sampling;
use crate::id::{HexError, SpanId, TraceId};
use crate::Error;

/// A TraceId of 16 (64-bit, low 8 bytes) or 32 lowercase hex digits; `bad`/`zero` are the header's
/// error variants for a malformed or all-zero id.
///
/// The id alone, its width from [`IdWidth::of_digits`](crate::IdWidth::of_digits): as a `Result<(TraceId, IdWidth), Error>` the
/// error shared the id's first byte (the width was the enum's niche), so LLVM moved every id as 1 +
/// 15 bytes, and a later 16-byte load of it waited for those stores (`perf`, B3 extracts).
#[inline]
pub(crate) fn parse_trace_id(src: &[u8], bad: Error, zero: Error) -> Result<TraceId, Error> {
    let map = |e: HexError| if e == HexError::Zero { zero } else { bad };
    match src.len() {
        // `from_hex_padded` left-pads 16 digits with zeros: the id lands in the low 8 bytes.
        16 => TraceId::from_hex_padded(src).map_err(map),
        32 => TraceId::from_hex(src).map_err(map),
        _ => Err(bad),
    }
}

/// A SpanId (or ParentSpanId) of exactly 16 lowercase hex digits.
#[inline]
pub(crate) fn parse_span_id(src: &[u8], bad: Error, zero: Error) -> Result<SpanId, Error> {
    SpanId::from_hex(src).map_err(|e| if e == HexError::Zero { zero } else { bad })
}

/// The single header's SamplingState: `0`, `1` or `d`
/// ([Sampling State](https://github.com/openzipkin/b3-propagation#sampling-state-2)).
pub(crate) fn parse_sampling_state(src: &[u8]) -> Option<Sampling> {
    match src {
        b"0" => Some(Sampling::Deny),
        b"1" => Some(Sampling::Accept),
        b"d" => Some(Sampling::Debug),
        _ => None,
    }
}

/// The single header's SamplingState character; `None` for defer, which is the field's absence.
pub(crate) const fn sampling_state(sampling: Sampling) -> Option<&'static str> {
    match sampling {
        Sampling::Deny => Some("0"),
        Sampling::Accept => Some("1"),
        Sampling::Debug => Some("d"),
        Sampling::Defer => None,
    }
}

/// Header maps for the unit tests of both encodings, independent of crate features.
#[cfg(test)]
pub(crate) mod test_support {
    extern crate std;
    use crate::carrier::{Extractor, Injector};
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// Ordered header lines; `set` replaces every line of the name in place of the first.
    #[derive(Debug, Default, Clone)]
    pub(crate) struct Headers(pub Vec<(String, String)>);

    impl Headers {
        pub(crate) fn get(&self, name: &str) -> Option<&str> {
            self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    impl Extractor for Headers {
        fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> core::ops::ControlFlow<()>) {
            self.0.as_slice().visit_values(name, each);
        }
    }

    impl Injector for Headers {
        fn set(&mut self, name: &str, value: &str) {
            self.remove(name);
            self.0.push((name.to_string(), value.to_string()));
        }

        fn remove(&mut self, name: &str) {
            self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdWidth, TraceContext};

    #[test]
    fn trace_id_widths() {
        let (b, z) = (Error::B3TraceId, Error::B3TraceIdZero);
        let (s, l) = (&b"a3ce929d0e0e4736"[..], &b"0000000000000000a3ce929d0e0e4736"[..]);
        let (short, long) = (parse_trace_id(s, b, z), parse_trace_id(l, b, z));
        assert_eq!((short.map(|t| t.fits_64()), IdWidth::of_digits(s.len())), (Ok(true), IdWidth::Bits64));
        assert_eq!(IdWidth::of_digits(l.len()), IdWidth::Bits128);
        assert_eq!(short, long);
        assert_eq!(parse_trace_id(b"0000000000000000", b, z), Err(z));
        assert_eq!(parse_trace_id(b"a3ce929d0e0e473", b, z), Err(b));
        assert_eq!(parse_trace_id(b"A3CE929D0E0E4736", b, z), Err(b));
        assert_eq!(parse_trace_id(b"", b, z), Err(b));
    }

    #[test]
    fn sampling_state_round_trip() {
        for s in [Sampling::Deny, Sampling::Accept, Sampling::Debug] {
            assert_eq!(sampling_state(s).and_then(|c| parse_sampling_state(c.as_bytes())), Some(s));
        }
        assert_eq!(sampling_state(Sampling::Defer), None);
        assert_eq!(parse_sampling_state(b"D"), None);
        assert_eq!(parse_sampling_state(b"true"), None);
    }

    #[test]
    fn bits64_with_zero_low_half_writes_128() {
        let t = TraceId::from_bytes([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let s = SpanId::from_bytes([1; 8]);
        let ctx = t.zip(s).map(|(t, s)| TraceContext { id_width: IdWidth::Bits64, ..TraceContext::new(t, s) });
        assert_eq!(ctx.map(|c| c.trace_id_hex().as_str() == "01000000000000000000000000000000"), Some(true));
    }
}
