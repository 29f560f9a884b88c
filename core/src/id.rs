//! Trace and span identifiers, and the lowercase-hex codec every text format shares.
//!
//! All formats agree that an identifier of all zero bytes is invalid:
//! W3C [§3.2.2.3](https://www.w3.org/TR/trace-context/#trace-id) and
//! [§3.2.2.4](https://www.w3.org/TR/trace-context/#parent-id), B3
//! ([TraceId](https://github.com/openzipkin/b3-propagation#traceid)), Jaeger, X-Ray and OpenCensus.
//! So [`TraceId`] and [`SpanId`] cannot hold zero: the only ways to build one check it.

use core::fmt;

use crate::lanes::VECTORS;

/// Why a hex identifier could not be decoded. Each format maps this onto its own
/// [`Error`](crate::Error) variant, which names the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// Wrong number of digits for the field.
    Length,
    /// A character that is not `0-9` or `a-f` (uppercase is rejected where the spec says lowercase).
    Digit,
    /// All digits are zero.
    Zero,
}

/// How many bits a trace id had on the wire. B3 and Jaeger allow 64-bit trace ids; they are held
/// in the low 8 bytes of [`TraceId`] and this remembers to write them back as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdWidth {
    /// 16 hex digits (the high 8 bytes of the [`TraceId`] are zero).
    Bits64,
    /// 32 hex digits.
    #[default]
    Bits128,
}

impl IdWidth {
    /// The width of a trace id received as `digits` hex digits: 16 or fewer is 64-bit (Jaeger and
    /// OpenTracing clients strip leading zeros; B3 sends 16 or 32).
    pub(crate) const fn of_digits(digits: usize) -> Self {
        if digits <= 16 {
            IdWidth::Bits64
        } else {
            IdWidth::Bits128
        }
    }
}

/// A 16-byte trace id that is never all zeros.
///
/// ```
/// use tracebridge::{IdWidth, TraceId};
///
/// let id = TraceId::from_hex(b"0000000000000000463ac35c9f6413ad")?;
/// assert!(id.fits_64());
/// assert_eq!(id.to_hex_width(IdWidth::Bits64).as_str(), "463ac35c9f6413ad");
/// // Jaeger strips leading zeros; B3 may send 16 digits.
/// assert_eq!(TraceId::from_hex_padded(b"463ac35c9f6413ad")?, id);
/// // Uppercase, the wrong length and all zeros are refused.
/// assert!(TraceId::from_hex(b"0000000000000000463AC35C9F6413AD").is_err());
/// assert_eq!(TraceId::from_bytes([0; 16]), None);
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
// Aligned: in a `Result` or next to a byte-sized field an id of align 1 sat at an odd offset, and
// was moved as pieces a later 16-byte load could not be forwarded from (extract Jaeger 52 → 46 ns,
// B3 single 39 → 35 ns in a loop, against `from_hex`'s fix alone).
#[repr(align(8))]
pub struct TraceId([u8; 16]);

/// An 8-byte span id that is never all zeros.
///
/// ```
/// use tracebridge::SpanId;
/// use tracebridge::id::HexError;
///
/// let id = SpanId::from_hex(b"00f067aa0ba902b7")?;
/// assert_eq!(&id.to_hex(), b"00f067aa0ba902b7");
/// assert_eq!(id.to_bytes(), [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
/// assert_eq!(SpanId::from_hex(b"0000000000000000"), Err(HexError::Zero));
/// # Ok::<(), HexError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
// Aligned, as `TraceId`: an `Option<SpanId>` (a context's parent) kept its id at an odd offset, moved
// in pieces a later 8-byte load could not be forwarded from (extract Jaeger 33 → 25 ns in a loop).
#[repr(align(8))]
pub struct SpanId([u8; 8]);

macro_rules! id_type {
    ($ty:ident, $n:literal) => {
        impl $ty {
            /// Length in bytes.
            pub const LEN: usize = $n;
            /// Length in lowercase hex digits.
            pub const HEX_LEN: usize = $n * 2;

            /// The id from raw bytes; `None` when all bytes are zero (invalid in every format).
            pub const fn from_bytes(bytes: [u8; $n]) -> Option<Self> {
                let mut rest: &[u8] = &bytes;
                while let [first, tail @ ..] = rest {
                    if *first != 0 {
                        return Some(Self(bytes));
                    }
                    rest = tail;
                }
                None
            }

            /// The id from random bytes. An all-zero draw (2^-64 or less from a working generator)
            /// becomes `…01`, so even a broken generator cannot produce an invalid header.
            pub const fn from_random(mut bytes: [u8; $n]) -> Self {
                match Self::from_bytes(bytes) {
                    Some(id) => id,
                    None => {
                        bytes[$n - 1] = 1;
                        Self(bytes)
                    }
                }
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }

            /// The raw bytes, by value.
            pub const fn to_bytes(self) -> [u8; $n] {
                self.0
            }

            /// Parse exactly `HEX_LEN` lowercase hex digits.
            pub fn from_hex(src: &[u8]) -> Result<Self, HexError> {
                let mut bytes = [0u8; $n];
                decode_hex_array(src, &mut bytes)?;
                // Not `from_bytes(..).ok_or(..)`, which wrote a trace id into the result as five
                // stores of 8, 4, 2, 1 and 1 bytes: every caller that read it back with one 16-byte
                // load waited for them to reach the cache (a load is not forwarded from several
                // stores). `perf` showed the stall; extract X-Ray 64.6 → 47.8 ns, B3 single 39.8 →
                // 35.0 ns, Jaeger 52 → 46 ns (with `TraceId` 8-byte aligned).
                if bytes == [0; $n] {
                    return Err(HexError::Zero);
                }
                Ok(Self(bytes))
            }

            /// Parse 1..=`HEX_LEN` lowercase hex digits, left-padding with zeros.
            /// Jaeger clients strip leading zeros; B3 allows 16 digits for a 128-bit trace id.
            pub fn from_hex_padded(src: &[u8]) -> Result<Self, HexError> {
                if src.len() == Self::HEX_LEN {
                    return Self::from_hex(src);
                }
                let mut bytes = [0u8; $n];
                decode_hex_padded(src, &mut bytes)?;
                Self::from_bytes(bytes).ok_or(HexError::Zero)
            }

            /// Lowercase hex, as every text format writes it.
            pub fn to_hex(&self) -> [u8; $n * 2] {
                let mut out = [0u8; $n * 2];
                encode_hex(&self.0, &mut out);
                out
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($ty), self)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let hex = self.to_hex();
                f.write_str(ascii_str(&hex))
            }
        }
    };
}

id_type!(TraceId, 16);
id_type!(SpanId, 8);

impl TraceId {
    /// True when the high 8 bytes are zero, i.e. the id fits a 64-bit B3/Jaeger trace id.
    pub fn fits_64(&self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0, 0, 0, ..])
    }

    /// The low 64 bits as a trace id, which is what a 64-bit B3/Jaeger header carries.
    /// `None` when they are all zero (the id cannot be shortened).
    pub fn low_64(&self) -> Option<Self> {
        let mut b = [0u8; 16];
        let (_, low) = self.0.split_at(8);
        let (_, dst) = b.split_at_mut(8);
        dst.copy_from_slice(low);
        Self::from_bytes(b)
    }

    /// Lowercase hex in the given width: 16 digits (the low 64 bits) or 32.
    pub fn to_hex_width(&self, width: IdWidth) -> HexId {
        let full = self.to_hex();
        match width {
            IdWidth::Bits128 => HexId { buf: full, len: 32 },
            IdWidth::Bits64 => {
                let mut buf = [0u8; 32];
                let (_, low) = full.split_at(16);
                let (dst, _) = buf.split_at_mut(16);
                dst.copy_from_slice(low);
                HexId { buf, len: 16 }
            }
        }
    }
}

/// A trace id rendered as 16 or 32 lowercase hex digits.
#[derive(Clone, Copy)]
pub struct HexId {
    buf: [u8; 32],
    len: usize,
}

impl HexId {
    /// The digits.
    pub fn as_str(&self) -> &str {
        ascii_str(self.as_bytes())
    }

    /// The digits as bytes (no UTF-8 check, for a writer that copies them into its own buffer).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Decode lowercase hex into the right end of `out`, zero-filling the left.
/// Rejects empty input, more digits than fit, odd-length handling aside (a leading nibble is allowed),
/// and anything but `0-9a-f`.
pub(crate) fn decode_hex_padded(src: &[u8], out: &mut [u8]) -> Result<(), HexError> {
    if src.is_empty() || src.len() > out.len() * 2 {
        return Err(HexError::Length);
    }
    out.fill(0);
    let odd = src.len() % 2;
    let start = out.len() - src.len().div_ceil(2);
    let (lead, pairs) = src.split_at(odd);
    let dst = out.get_mut(start..).ok_or(HexError::Length)?;
    let (dst_lead, dst_pairs) = dst.split_at_mut(odd);
    // Every nibble is looked up; an invalid digit sets the high bit, checked once at the end.
    let mut bad = 0u8;
    if let (Some(&d), Some(slot)) = (lead.first(), dst_lead.first_mut()) {
        let n = nibble(d);
        bad |= n;
        *slot = n & 0x0f;
    }
    for (pair, slot) in pairs.chunks_exact(2).zip(dst_pairs.iter_mut()) {
        if let [h, l] = *pair {
            let (h, l) = (nibble(h), nibble(l));
            bad |= h | l;
            *slot = (h << 4) | (l & 0x0f);
        }
    }
    if bad & INVALID != 0 {
        return Err(HexError::Digit);
    }
    Ok(())
}

/// Decode exactly `out.len() * 2` lowercase hex digits.
pub(crate) fn decode_hex_exact(src: &[u8], out: &mut [u8]) -> Result<(), HexError> {
    if src.len() != out.len() * 2 {
        return Err(HexError::Length);
    }
    if src.len() % 8 != 0 {
        return decode_hex_padded(src, out);
    }
    decode_words(src, out)
}

/// [`decode_hex_exact`] into an id's bytes, compiled once per id size. The ids' sizes are the
/// common case of every format, and with the size a constant the words are decoded without a loop
/// or a length to dispatch on; whether the general function got inlined at a call site had been
/// deciding that (parse+format of a `traceparent` moved from 547 to 618 instructions when it
/// stopped being inlined after unrelated changes).
pub(crate) fn decode_hex_array<const N: usize>(src: &[u8], out: &mut [u8; N]) -> Result<(), HexError> {
    if src.len() != N * 2 {
        return Err(HexError::Length);
    }
    if N % 4 != 0 {
        return decode_hex_padded(src, out);
    }
    if decode_id(src, out) {
        Ok(())
    } else {
        Err(HexError::Digit)
    }
}

/// An id's `2 * N` digits into `out` (`src.len() == 2 * N`, checked by the caller), false when one is
/// not a lowercase hex digit.
///
/// With [`VECTORS`], 16 lanes of two digits at once: a trace id 147 → 70 instructions on x86_64
/// (four rounds of [`decode8`] before), a B3 single extract 812 → 635. A span id is padded to 16
/// lanes with `'0'`s: at 8 lanes LLVM mixed vector and scalar code and took twice the words' time.
#[inline(always)]
fn decode_id<const N: usize>(src: &[u8], out: &mut [u8; N]) -> bool {
    const LANES: usize = 16;
    if !VECTORS || N > LANES {
        return decode_words(src, out).is_ok();
    }
    if N == LANES {
        if let (Ok(digits), Ok(out)) = (<&[u8; 2 * LANES]>::try_from(src), <&mut [u8; LANES]>::try_from(&mut out[..])) {
            return decode_lanes(digits, out);
        }
    }
    let mut padded = [b'0'; 2 * LANES];
    let mut wide = [0u8; LANES];
    padded.iter_mut().zip(src).for_each(|(lane, digit)| *lane = *digit);
    let ok = decode_lanes(&padded, &mut wide);
    out.iter_mut().zip(wide).for_each(|(byte, value)| *byte = value);
    ok
}

/// 32 digits → 16 bytes, and whether every digit was valid: [`decode8`]'s arithmetic on 16-bit lanes
/// of two digits each (read little-endian, so the first digit is the low byte). The lanes are built
/// with `from_fn` over the array: LLVM sees two 16-byte loads (`chunks_exact(2)` or a loop of
/// `split_first_chunk` were not vectorized, 1 025 and 2 028 instructions for a B3 extract).
#[inline(always)]
fn decode_lanes(digits: &[u8; 32], out: &mut [u8; 16]) -> bool {
    const ONES: u16 = 0x0101;
    const HIGH: u16 = 0x8080;
    let mut bad = 0u16;
    let digit = |i: usize| digits.get(i).copied().unwrap_or(0x80);
    let lanes: [u16; 16] = core::array::from_fn(|i| u16::from_le_bytes([digit(2 * i), digit(2 * i + 1)]));
    for (&x, o) in lanes.iter().zip(out.iter_mut()) {
        let ge_0 = x.wrapping_add(ONES * (0x80 - b'0' as u16));
        let gt_9 = x.wrapping_add(ONES * (0x7f - b'9' as u16));
        let ge_a = x.wrapping_add(ONES * (0x80 - b'a' as u16));
        let gt_f = x.wrapping_add(ONES * (0x7f - b'f' as u16));
        let ok = ((ge_0 & !gt_9) | (ge_a & !gt_f)) & HIGH;
        bad |= (ok ^ HIGH) | (x & HIGH);
        let nibbles = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
        // The first digit is the low byte: it is the high nibble.
        *o = (((nibbles << 4) & 0xf0) | ((nibbles >> 8) & 0x0f)) as u8;
    }
    bad == 0
}

/// Eight digits at a time into four bytes (every trace and span id is a multiple of eight digits);
/// `src` is `2 * out.len()` digits, a multiple of eight.
#[inline(always)]
fn decode_words(src: &[u8], out: &mut [u8]) -> Result<(), HexError> {
    let mut bad = false;
    for (chars, bytes) in src.chunks_exact(8).zip(out.chunks_exact_mut(4)) {
        let word = chars.try_into().map_or(u64::MAX, u64::from_le_bytes);
        let (value, ok) = decode8(word);
        bad |= !ok;
        bytes.copy_from_slice(&value);
    }
    if bad {
        return Err(HexError::Digit);
    }
    Ok(())
}

/// Eight lowercase hex digits (read little-endian into `x`) → four bytes, and whether every digit
/// was valid: SWAR, a few word operations instead of eight table lookups.
///
/// Validity per byte `c` (its top bit clear, checked apart): adding `0x80 - lo` sets the top bit
/// iff `c >= lo`, adding `0x7f - hi` iff `c > hi`, and no byte carries into the next (`c < 0x80`,
/// constants `<= 0x80`). So `c` is a digit iff `'0' <= c <= '9'` or `'a' <= c <= 'f'`.
/// Value: `c & 0x0f`, plus 9 for letters (bit 6 is set in `a`..`f`, clear in `0`..`9`).
const fn decode8(x: u64) -> ([u8; 4], bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let ascii = x & HIGH == 0;
    let ge_0 = x.wrapping_add(ONES * (0x80 - b'0' as u64));
    let gt_9 = x.wrapping_add(ONES * (0x7f - b'9' as u64));
    let ge_a = x.wrapping_add(ONES * (0x80 - b'a' as u64));
    let gt_f = x.wrapping_add(ONES * (0x7f - b'f' as u64));
    let ok = ((ge_0 & !gt_9) | (ge_a & !gt_f)) & HIGH == HIGH;
    let nibbles = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
    // Digit pairs (low byte first) → one byte in the low half of each 16-bit lane.
    let pairs = ((nibbles << 4) & 0x00f0_00f0_00f0_00f0) | ((nibbles >> 8) & 0x000f_000f_000f_000f);
    let [b0, _, b1, _, b2, _, b3, _] = pairs.to_le_bytes();
    ([b0, b1, b2, b3], ascii && ok)
}

/// Every byte as two lowercase hex digits.
// Indexing in a const initializer: an out-of-range index fails the build, it cannot fail a request.
#[allow(clippy::indexing_slicing)]
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    t
};

/// Encode `src` as lowercase hex into `out` (`out.len()` must be `2 * src.len()`; shorter output is
/// left as is, which cannot happen with the fixed-size callers in this crate). Ids (8 and 16 bytes)
/// take [`encode_lanes`] with [`VECTORS`] (W3C inject 784 → 726 instructions on x86_64), and
/// [`encode_words`] without (the Envoy filter's wasm); a flags byte takes the pair table.
#[inline(always)]
pub(crate) fn encode_hex(src: &[u8], out: &mut [u8]) {
    if !VECTORS && src.len() % 4 == 0 {
        return encode_words(src, out);
    }
    if !VECTORS || src.len() > 16 || src.len() < 8 {
        return encode_hex_table(src, out);
    }
    let mut bytes = [0u8; 16];
    bytes.iter_mut().zip(src).for_each(|(b, s)| *b = *s);
    let mut digits = [0u8; 32];
    encode_lanes(&bytes, &mut digits);
    out.iter_mut().zip(digits).for_each(|(o, d)| *o = d);
}

/// 16 bytes → 32 lowercase digits, a byte per 16-bit lane: its nibbles are spread to the lane's
/// two bytes (high nibble first, as the low byte), `n + 0x76` sets a byte's top bit iff `n > 9` (no
/// carry: `0x0f + 0x76 < 0x100`), and letters get the 39 between `'9' + 1` and `'a'`.
#[inline(always)]
fn encode_lanes(bytes: &[u8; 16], out: &mut [u8; 32]) {
    let mut lanes = [0u16; 16];
    for (lane, &b) in lanes.iter_mut().zip(bytes) {
        let b = u16::from(b);
        let w = (b >> 4) | ((b & 0x0f) << 8);
        let letters = ((w + 0x7676) & 0x8080) >> 7;
        *lane = w + 0x3030 + letters * 39;
    }
    for (i, lane) in lanes.iter().enumerate() {
        if let Some(pair) = out.get_mut(2 * i..2 * i + 2) {
            pair.copy_from_slice(&lane.to_le_bytes());
        }
    }
}

/// Four bytes at a time into eight digits: [`encode_lanes`]'s arithmetic on the four 16-bit lanes
/// of a word. Without vectors the ids took the pair table, 512 bytes of it: a request's 24 random id
/// bytes touched most of its eight cache lines, and in the Envoy filter each was a data-cache miss
/// on every request (Envoy's own work evicts them in between).
#[inline(always)]
fn encode_words(src: &[u8], out: &mut [u8]) {
    for (bytes, digits) in src.chunks_exact(4).zip(out.chunks_exact_mut(8)) {
        let x = u64::from(bytes.try_into().map_or(0, u32::from_le_bytes));
        // Byte i into lane i (bits 16i..16i+8), then its high nibble to the lane's low byte (the
        // first digit: little-endian) and its low nibble to the high byte.
        let spread = (x & 0xff) | (x & 0xff00) << 8 | (x & 0xff_0000) << 16 | (x & 0xff00_0000) << 24;
        const NIBBLES: u64 = 0x000f_000f_000f_000f;
        let w = (spread >> 4) & NIBBLES | (spread & NIBBLES) << 8;
        // Per byte (no carries: every byte stays below 0x86): 1 where the nibble is 10 or more.
        let letters = ((w + 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080) >> 7;
        digits.copy_from_slice(&(w + 0x3030_3030_3030_3030 + letters * 39).to_le_bytes());
    }
}

// Inlined: its callers pass a constant length (a flags byte, the X-Ray epoch's four bytes), so the
// loop is as many lookups; as a call it kept a `traceparent` being written in memory, to be copied
// twice afterwards (parse+format 19.5 → 11 ns, with `Traceparent::encode` inlined already).
#[inline(always)]
fn encode_hex_table(src: &[u8], out: &mut [u8]) {
    for (&b, pair) in src.iter().zip(out.chunks_exact_mut(2)) {
        if let Some(digits) = HEX_PAIRS.get(usize::from(b)) {
            pair.copy_from_slice(digits);
        }
    }
}

/// Marks an invalid digit in [`HEX_DIGITS`].
const INVALID: u8 = 0x80;

/// Lowercase hex digit → value; everything else (uppercase included: the specs say lowercase) →
/// [`INVALID`]. Hand-written rather than `hex::decode_to_slice` because decoding ids is the hot path:
/// the `hex` crate needs a separate pass for the lowercase rule, and the traceparent parse+format
/// bench (`benches/benches/propagation.rs`, `parse-format/w3c`: `hex-table` vs `tracebridge`)
/// measured the single table pass 2–3× faster (see BENCHMARKS.md).
// Indexing in a const initializer: an out-of-range index fails the build, it cannot fail a request.
#[allow(clippy::indexing_slicing)]
static HEX_DIGITS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

fn nibble(d: u8) -> u8 {
    HEX_DIGITS.get(usize::from(d)).copied().unwrap_or(INVALID)
}

/// The value of one lowercase hex digit, as [`decode_hex_padded`] reads it.
pub(crate) fn hex_digit(d: u8) -> Option<u8> {
    let n = nibble(d);
    (n & INVALID == 0).then_some(n)
}

/// View bytes this crate wrote (always ASCII) as `str`.
pub(crate) fn ascii_str(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn zero_ids_are_unrepresentable() {
        assert!(TraceId::from_bytes([0; 16]).is_none());
        assert!(SpanId::from_bytes([0; 8]).is_none());
        assert_eq!(SpanId::from_hex(b"0000000000000000"), Err(HexError::Zero));
    }

    #[test]
    fn hex_is_strict_lowercase() {
        assert_eq!(SpanId::from_hex(b"00f067aa0ba902b7").map(|s| s.to_string()).as_deref(), Ok("00f067aa0ba902b7"));
        assert_eq!(SpanId::from_hex(b"00F067AA0BA902B7"), Err(HexError::Digit));
        assert_eq!(SpanId::from_hex(b"+0f067aa0ba902b7"), Err(HexError::Digit));
        assert_eq!(SpanId::from_hex(b"00f067aa0ba902b"), Err(HexError::Length));
    }

    #[test]
    fn padded_accepts_stripped_leading_zeros() {
        let t = TraceId::from_hex_padded(b"abc").map(|t| t.to_string());
        assert_eq!(t.as_deref(), Ok("00000000000000000000000000000abc"));
        assert_eq!(TraceId::from_hex_padded(b""), Err(HexError::Length));
        assert_eq!(TraceId::from_hex_padded(&[b'1'; 33]), Err(HexError::Length));
    }

    #[test]
    fn swar_decoding_agrees_with_the_table_for_every_byte() {
        // Every byte value in every position of an 8-digit group, against the one-digit table.
        for pos in 0..8 {
            for c in 0..=255u8 {
                let mut digits = *b"0123abcd";
                if let Some(slot) = digits.get_mut(pos) {
                    *slot = c;
                }
                let mut fast = [0u8; 4];
                let mut slow = [0u8; 4];
                let got = decode_hex_exact(&digits, &mut fast);
                let want = decode_hex_padded(&digits, &mut slow);
                assert_eq!(got, want, "byte {c:#04x} at {pos}");
                if want.is_ok() {
                    assert_eq!(fast, slow);
                }
                // The same group inside an id, at each of its four (trace) or two (span) places,
                // through the per-size decoder the ids use.
                for group in 0..4 {
                    let mut id = *b"0af7651916cd43dd8448eb211c80319c";
                    let mut want_id = [0u8; 16];
                    let _ = decode_hex_padded(&id, &mut want_id);
                    if let Some(at) = id.get_mut(group * 8..group * 8 + 8) {
                        at.copy_from_slice(&digits);
                    }
                    if let Some(at) = want_id.get_mut(group * 4..group * 4 + 4) {
                        at.copy_from_slice(&slow);
                    }
                    let mut got_id = [0u8; 16];
                    assert_eq!(decode_hex_array(&id, &mut got_id), want, "byte {c:#04x} at {pos} of group {group}");
                    let mut span = [0u8; 8];
                    assert_eq!(
                        decode_hex_array(id.get(..16).unwrap_or_default(), &mut span).is_ok(),
                        group > 1 || want.is_ok()
                    );
                    if want.is_ok() {
                        assert_eq!(got_id, want_id);
                    }
                }
            }
        }
        let mut out = [0u8; 8];
        assert_eq!(decode_hex_array(b"00f067aa0ba902b", &mut out), Err(HexError::Length));
        assert_eq!(decode_hex_array(b"00f067aa0ba902b7", &mut out), Ok(()));
        assert_eq!(out, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        assert_eq!(decode_hex_exact(b"00f067aa0ba902b7", &mut out), Ok(()));
        assert_eq!(out, [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        let mut hex = [0u8; 16];
        encode_hex(&out, &mut hex);
        assert_eq!(&hex, b"00f067aa0ba902b7");
    }

    #[test]
    fn lanes_and_words_encode_as_the_table_for_every_byte() {
        for pos in 0..16 {
            for b in 0..=255u8 {
                let mut bytes: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(37));
                if let Some(slot) = bytes.get_mut(pos) {
                    *slot = b;
                }
                let (mut lanes, mut words, mut table) = ([0u8; 32], [0u8; 32], [0u8; 32]);
                encode_lanes(&bytes, &mut lanes);
                encode_words(&bytes, &mut words);
                encode_hex_table(&bytes, &mut table);
                assert_eq!(lanes, table, "byte {b:#04x} at {pos}");
                assert_eq!(words, table, "byte {b:#04x} at {pos}");
                // Through `encode_hex` at the ids' sizes, whichever way the target takes.
                let mut span = [0u8; 16];
                encode_hex(bytes.get(..8).unwrap_or_default(), &mut span);
                assert_eq!(span.as_slice(), table.get(..16).unwrap_or_default());
            }
        }
    }

    #[test]
    fn width_64() {
        let t = TraceId::from_hex(b"0000000000000000a3ce929d0e0e4736").ok();
        assert_eq!(t.map(|t| t.fits_64()), Some(true));
        assert_eq!(t.map(|t| t.to_hex_width(IdWidth::Bits64).as_str() == "a3ce929d0e0e4736"), Some(true));
        let big = TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736").ok();
        assert_eq!(big.map(|t| t.fits_64()), Some(false));
        assert_eq!(big.and_then(|t| t.low_64()).map(|t| t.fits_64()), Some(true));
    }
}
