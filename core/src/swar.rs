//! Eight bytes at a time in a `u64` ("SIMD within a register"): the byte searches and class checks of
//! the parsers, on headers of a few dozen bytes.
//!
//! Why not `memchr`: measured on this crate's inputs (a tracestate member or an X-Ray field is 10–40
//! bytes), each `memchr` call spent about a hundred instructions choosing and entering its vector
//! routine (x86_64, callgrind) — more than scanning the bytes. Its SIMD pays off on long haystacks;
//! a header field is not one.

/// `0x01` in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
pub(crate) const HIGH: u64 = ONES * 0x80;

/// The `0x80` bit of the lowest byte of `x` that is zero, and possibly of higher bytes (only the
/// lowest set bit is exact: a borrow can mark a `0x01` byte above a zero one). `0` when no byte is.
const fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// True when some byte of `x` is zero.
pub(crate) const fn has_zero_byte(x: u64) -> bool {
    zero_bytes(x) != 0
}

/// The first position of `needle` in `hay`.
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let pattern = ONES * needle as u64;
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let found = zero_bytes(w.try_into().map_or(0, u64::from_le_bytes) ^ pattern);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words.remainder().iter().position(|&b| b == needle).map(|i| at + i)
}

/// The pieces of `hay` between the `sep` bytes (as `<[u8]>::split`, with [`find_byte`]).
pub(crate) fn split_byte(hay: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(hay);
    core::iter::from_fn(move || {
        let r = rest?;
        match find_byte(r, sep) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => rest.take(),
        }
    })
}

/// `str::split` on an ASCII byte (so every piece is a `str`), with [`find_byte`]: `str::split` on a
/// `char` searches with `memchr`, whose set-up is most of the work on the short lists of Datadog's
/// tags (its extract spent ≈ 1 000 instructions there).
pub(crate) fn split_str(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let r = rest?;
        match find_byte(r.as_bytes(), sep) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => rest.take(),
        }
    })
}

/// `s` split at the first `sep` (an ASCII byte, so both sides are `str`s).
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_byte(s.as_bytes(), sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    /// Agrees with `position` for every needle at every place in haystacks up to three words long,
    /// including a `needle + 1` byte just above it (the borrow case) and the needle repeated.
    #[test]
    fn find_byte_is_position() {
        for len in 0..=24 {
            for at in 0..=len {
                for needle in [0u8, 1, b',', b';', b'=', 0x7f, 0x80, 0xff] {
                    let mut hay = vec![needle.wrapping_add(1); len];
                    if let Some(b) = hay.get_mut(at) {
                        *b = needle;
                    }
                    if let Some(b) = hay.get_mut(at + 3) {
                        *b = needle;
                    }
                    let want = hay.iter().position(|&b| b == needle);
                    assert_eq!(find_byte(&hay, needle), want, "needle {needle:#04x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn split_str_is_split() {
        for s in ["", ",", "a", "a,b", ",,a,,", "_dd.p.dm=-1,_dd.p.tid=4bf92f3577b34da6", "é,ü,"] {
            let want: std::vec::Vec<&str> = s.split(',').collect();
            assert_eq!(split_str(s, b',').collect::<std::vec::Vec<_>>(), want, "{s:?}");
        }
    }

    #[test]
    fn split_byte_is_split() {
        for s in
            [&b""[..], b"-", b"a-b", b"--a--", b"463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-1-0020000000000001"]
        {
            let want: std::vec::Vec<&[u8]> = s.split(|&b| b == b'-').collect();
            assert_eq!(split_byte(s, b'-').collect::<std::vec::Vec<_>>(), want, "{s:?}");
        }
    }

    #[test]
    fn split_once_byte_splits_at_the_first() {
        assert_eq!(split_once_byte("a=b=c", b'='), Some(("a", "b=c")));
        assert_eq!(split_once_byte("abc", b'='), None);
        assert_eq!(split_once_byte("=", b'='), Some(("", "")));
    }
}
