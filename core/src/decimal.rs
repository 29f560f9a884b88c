//! Strict unsigned decimal numbers: the 64-bit ids of Datadog (`x-datadog-trace-id`,
//! `x-datadog-parent-id`) and Google Cloud (`X-Cloud-Trace-Context`'s span id).
//!
//! ```text
//! u64-decimal = 1*DIGIT      ; value <= 18446744073709551615
//! ```
//!
//! No sign (`+1`, `-1`), no whitespace, no `_`, no radix prefix, no overflow: each is refused. This
//! is stricter than `u64::from_str_radix`, which accepts a leading `+`, and than dd-trace-go, which
//! reads `-1` as `u64::MAX` (two's complement).
//! Leading zeros are accepted (`007` is 7) and never written: Datadog's tracers parse ids with Go's
//! `strconv.ParseUint(s, 10, 64)` (dd-trace-go `ddtrace/tracer/util.go` `parseUint64`) and Java's
//! `Long.parseUnsignedLong`, both of which read them, so a peer that pads must not lose its trace with us.

use crate::ascii_buf::AsciiBuf;

/// Why a decimal id was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Empty, or a byte that is not `0`–`9` (a sign, a space, a letter).
    Digit,
    /// More than `u64::MAX`.
    Overflow,
}

/// Parse `1*DIGIT` as a `u64` (module docs).
///
/// ```
/// use tracebridge::decimal::{parse_u64, DecimalError};
///
/// assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
/// assert_eq!(parse_u64(b"007"), Ok(7));
/// assert_eq!(parse_u64(b"18446744073709551616"), Err(DecimalError::Overflow));
/// for bad in [&b""[..], b"+1", b"-1", b" 1", b"1 ", b"1_000", b"0x10"] {
///     assert_eq!(parse_u64(bad), Err(DecimalError::Digit));
/// }
/// ```
pub const fn parse_u64(src: &[u8]) -> Result<u64, DecimalError> {
    if src.is_empty() {
        return Err(DecimalError::Digit);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    let mut rest = src;
    while let [d, tail @ ..] = rest {
        if !d.is_ascii_digit() {
            return Err(DecimalError::Digit);
        }
        // Every byte is checked for a digit even after an overflow, so `1x` past 20 digits is a
        // digit error, not an overflow.
        match value.checked_mul(10) {
            Some(v) => match v.checked_add((*d - b'0') as u64) {
                Some(v) => value = v,
                None => overflow = true,
            },
            None => overflow = true,
        }
        rest = tail;
    }
    if overflow {
        Err(DecimalError::Overflow)
    } else {
        Ok(value)
    }
}

/// A `u64` written in decimal, without leading zeros, in a fixed buffer.
///
/// ```
/// use tracebridge::decimal::Decimal;
///
/// assert_eq!(Decimal::new(0).as_str(), "0");
/// assert_eq!(Decimal::new(u64::MAX).as_str(), "18446744073709551615");
/// ```
#[derive(Clone, Copy)]
pub struct Decimal {
    buf: [u8; Decimal::LEN],
    start: usize,
}

/// `00`, `01`, …, `99`: the two digits of every number below 100.
// Indices below 200, in a const initializer (a panic there is a compile error).
#[allow(clippy::indexing_slicing)]
static PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

impl Decimal {
    /// The longest value: `u64::MAX` has 20 digits.
    pub const LEN: usize = 20;

    /// `n` in decimal.
    ///
    /// Two digits a step from a table of `00`..`99`, as `itoa` does: half the divisions of a digit
    /// at a time (a Datadog inject writes two ids of up to 20 digits and the priority: 4 116 → 3 841
    /// instructions for the whole inject, `benches/instructions.py`'s case).
    pub fn new(mut n: u64) -> Self {
        let mut buf = [b'0'; Self::LEN];
        let mut start = Self::LEN;
        let mut put = |start: usize, pair: usize| {
            if let (Some(dst), Some(src)) = (buf.get_mut(start..start + 2), PAIRS.get(2 * pair..2 * pair + 2)) {
                dst.copy_from_slice(src);
            }
        };
        while n >= 100 {
            start -= 2;
            put(start, (n % 100) as usize);
            n /= 100;
        }
        if n >= 10 {
            start -= 2;
            put(start, n as usize);
        } else {
            start -= 1;
            if let Some(slot) = buf.get_mut(start) {
                *slot = b'0' + n as u8;
            }
        }
        Decimal { buf, start }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        crate::id::ascii_str(self.as_bytes())
    }

    /// The digits as bytes (ASCII), for [`Injector::set_bytes`](crate::Injector::set_bytes).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

impl core::fmt::Debug for Decimal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signed decimal (Datadog's sampling priority): `["-"] 1*DIGIT`, no `+`, no spaces, within `i32`.
pub(crate) fn parse_i32(src: &[u8]) -> Option<i32> {
    let (negative, digits) = match src {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, src),
    };
    let magnitude = parse_u64(digits).ok()?;
    let magnitude = i64::try_from(magnitude).ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// A signed decimal in a fixed buffer (at most 11 characters: `-2147483648`).
#[derive(Clone, Copy)]
pub(crate) struct Signed(AsciiBuf<11>);

impl Signed {
    pub(crate) fn new(n: i32) -> Self {
        let digits = Decimal::new(u64::from(n.unsigned_abs()));
        let mut out = AsciiBuf::new();
        if n < 0 {
            out.push(b'-');
        }
        // Byte by byte: a copy of a length known only here would be a `memcpy` call.
        digits.as_str().bytes().for_each(|b| out.push(b));
        Signed(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    #[test]
    fn strict() {
        assert_eq!(parse_u64(b"0"), Ok(0));
        assert_eq!(parse_u64(b"00000000000000000000000000001"), Ok(1));
        assert_eq!(parse_u64(b"99999999999999999999"), Err(DecimalError::Overflow));
        assert_eq!(parse_u64(b"99999999999999999999x"), Err(DecimalError::Digit));
        assert_eq!(parse_u64("１".as_bytes()), Err(DecimalError::Digit));
        assert_eq!(parse_i32(b"-1"), Some(-1));
        assert_eq!(parse_i32(b"2"), Some(2));
        assert_eq!(parse_i32(b"+2"), None);
        assert_eq!(parse_i32(b"-"), None);
        assert_eq!(parse_i32(b"--1"), None);
        assert_eq!(parse_i32(b"2147483648"), None);
        assert_eq!(parse_i32(b"-2147483648"), Some(i32::MIN));
        assert_eq!(Signed::new(i32::MIN).as_str(), "-2147483648");
        assert_eq!(Signed::new(0).as_str(), "0");
    }

    proptest! {
        #[test]
        fn format_is_std_for_small_numbers(n in 0u64..100_000) {
            let d = Decimal::new(n);
            prop_assert_eq!(d.as_str(), n.to_string());
        }

        #[test]
        fn format_then_parse_is_identity(n in any::<u64>()) {
            let d = Decimal::new(n);
            prop_assert_eq!(d.as_str(), n.to_string());
            prop_assert_eq!(parse_u64(d.as_str().as_bytes()), Ok(n));
        }

        #[test]
        fn signed_round_trip(n in any::<i32>()) {
            prop_assert_eq!(parse_i32(Signed::new(n).as_str().as_bytes()), Some(n));
        }

        #[test]
        fn agrees_with_std_on_digits(s in "[0-9]{1,25}") {
            prop_assert_eq!(parse_u64(s.as_bytes()).ok(), s.parse::<u64>().ok());
        }

        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_u64(&v);
            let _ = parse_i32(&v);
        }
    }
}
