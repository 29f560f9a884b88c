//! A fixed buffer of bytes that core writes itself, viewed as `str`: the encoded header values of
//! several formats (Jaeger, GCP, Instana, Datadog, decimals). One type rather than one per format:
//! each had its own buffer, cursor, push and `str` view, alike to the line.
//!
//! No heap (core's hot path allocates nothing), no `unsafe` (the view is checked as UTF-8 once, when
//! it is taken; everything written is ASCII, so the check never fails). What does not fit is not
//! written: each writer sizes its buffer for the longest value it makes.

/// Up to `N` bytes, written at a cursor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsciiBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> AsciiBuf<N> {
    /// Empty.
    pub(crate) const fn new() -> Self {
        AsciiBuf { buf: [0; N], len: 0 }
    }

    /// The bytes written.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The bytes written, as `str` (ASCII: see the module documentation).
    pub(crate) fn as_str(&self) -> &str {
        crate::id::ascii_str(self.as_bytes())
    }

    /// How many bytes are written.
    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    /// Whether `n` more bytes fit.
    pub(crate) const fn fits(&self, n: usize) -> bool {
        self.len + n <= N
    }

    /// Drop what was written past `len`.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Append `b`; false, and nothing written, when the buffer is full.
    pub(crate) fn try_push(&mut self, b: u8) -> bool {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Append `b` if there is room.
    pub(crate) fn push(&mut self, b: u8) {
        let _ = self.try_push(b);
    }

    /// The last byte written.
    pub(crate) fn last_mut(&mut self) -> Option<&mut u8> {
        self.len.checked_sub(1).and_then(|i| self.buf.get_mut(i))
    }

    /// Append `bytes` whole, or nothing when they do not fit.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Append a trace id's digits ([`HexId`](crate::id::HexId): 16 or 32) with a copy of a constant
    /// size: through [`extend`](Self::extend) its variable length made it a `memcpy` call, whose wide
    /// loads of digits just written waited for the stores (`perf`: a fifth of a Jaeger inject).
    pub(crate) fn put_hex_id(&mut self, id: &crate::id::HexId) {
        // 32 digits as two halves: as one 32-byte copy LLVM still called `memcpy`.
        let digits = id.as_bytes();
        match (digits.first_chunk::<16>(), digits.get(16..).and_then(|r| <&[u8; 16]>::try_from(r).ok())) {
            // Whole or not at all, as `extend`.
            (Some(high), Some(low)) if self.fits(32) => {
                self.put(high);
                self.put(low);
            }
            (Some(only), None) if digits.len() == 16 => self.put(only),
            _ => self.extend(digits),
        }
    }

    /// Append `M` bytes whole, or nothing when they do not fit: a copy of a constant size, a few
    /// moves rather than a `memcpy` call (in wasm a call out of the module).
    pub(crate) fn put<const M: usize>(&mut self, bytes: &[u8; M]) {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + M) {
            dst.copy_from_slice(bytes);
            self.len += M;
        }
    }
}

/// The first `N` bytes of an iterator (the rest is not read).
impl<const N: usize> FromIterator<u8> for AsciiBuf<N> {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        let mut out = AsciiBuf::new();
        iter.into_iter().take(N).for_each(|b| out.push(b));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_as_extend_writes_them() {
        use crate::id::{IdWidth, TraceId};
        let Ok(id) = TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736") else { return };
        for width in [IdWidth::Bits64, IdWidth::Bits128] {
            let hex = id.to_hex_width(width);
            let (mut put, mut extended) = (AsciiBuf::<40>::new(), AsciiBuf::<40>::new());
            put.put(b"x:");
            extended.put(b"x:");
            put.put_hex_id(&hex);
            extended.extend(hex.as_bytes());
            assert_eq!(put.as_str(), extended.as_str());
        }
        assert_eq!(id.to_hex_width(IdWidth::Bits64).as_str(), "a3ce929d0e0e4736");
        // What does not fit is not written, not even half of it, as with `extend`.
        let mut small = AsciiBuf::<20>::new();
        small.put_hex_id(&id.to_hex_width(IdWidth::Bits128));
        assert_eq!(small.as_str(), "");
    }

    #[test]
    fn writes_what_fits_and_nothing_past_it() {
        let mut b = AsciiBuf::<5>::new();
        b.put(b"ab");
        b.extend(b"c");
        b.push(b'd');
        assert_eq!((b.as_str(), b.fits(1), b.fits(2)), ("abcd", true, false));
        // Too long to fit whole: nothing of it is written.
        b.extend(b"xy");
        b.put(b"xy");
        assert_eq!(b.as_str(), "abcd");
        assert!(b.try_push(b'e'));
        assert!(!b.try_push(b'f'));
        b.push(b'f');
        if let Some(last) = b.last_mut() {
            *last = b'E';
        }
        assert_eq!((b.as_bytes(), b.len()), (&b"abcdE"[..], 5));
        b.truncate(2);
        assert_eq!(b.as_str(), "ab");
        b.truncate(9);
        assert_eq!(b.as_str(), "ab");
        let c: AsciiBuf<3> = b"abcdef".iter().copied().collect();
        assert_eq!(c.as_str(), "abc");
    }
}
