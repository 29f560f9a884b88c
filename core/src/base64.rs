//! Base64, RFC 4648 §4 (the standard alphabet), for `grpc-trace-bin`: decoding takes padding or
//! none, encoding writes none (gRPC PROTOCOL-HTTP2 "Binary header").
//!
//! Why not the `base64` crate, which this was until it was replaced: its general engine was 4.8 KB
//! of the Envoy filter's `.wasm`, for a header of 29 bytes, with a size budget (issue 15) the
//! filter was over. These forty lines accept exactly what that engine accepted in the configuration
//! used here (`DecodePaddingMode::Indifferent`, no trailing bits). The tests check that against the
//! crate, a dev-dependency now.

/// The standard alphabet (RFC 4648 Table 1).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Not a character of the alphabet.
const INVALID: u8 = 0xff;

/// Each byte's six bits, or [`INVALID`].
// Indexing in a const initializer: an out-of-range index fails the build, it cannot fail a request.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Why a value could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// Not base64: a character outside the alphabet, padding where none can be, a length no
    /// encoding has, or bits left over in the last character (RFC 4648 §3.5: a canonical encoding
    /// leaves them zero).
    Invalid,
    /// More bytes than `out` holds.
    TooLong,
}

/// Decode `text` into `out`; the number of bytes written.
///
/// Padding is optional, but never more `=` than the canonical encoding has, and only at the end.
pub(crate) fn decode(text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    let data_len = text.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    let (data, pad) = text.split_at(data_len);
    let tail = data.len() % 4;
    // Characters in the last group: 2 or 3 make 1 or 2 bytes; 1 makes none (no encoding ends so).
    // Padding fills the last group to 4 at most.
    if tail == 1 || pad.len() > (4 - tail) % 4 {
        return Err(Base64Error::Invalid);
    }
    let len = data.len() / 4 * 3 + tail.saturating_sub(1);
    let out = out.get_mut(..len).ok_or(Base64Error::TooLong)?;
    let mut bad = 0u8;
    let mut sextet = |c: u8| {
        let v = DECODE.get(usize::from(c)).copied().unwrap_or(INVALID);
        bad |= v;
        u32::from(v & 0x3f)
    };
    let (groups, rest) = data.split_at(data.len() - tail);
    for (chars, bytes) in groups.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let n = chars.iter().fold(0u32, |n, &c| n << 6 | sextet(c));
        bytes.copy_from_slice(n.to_be_bytes().get(1..).unwrap_or_default());
    }
    if tail > 0 {
        // The last group, as if padded with `A` (zero bits): those bits must be zero.
        let n = rest.iter().fold(0u32, |n, &c| n << 6 | sextet(c)) << (6 * (4 - tail));
        let [_, b0, b1, b2] = n.to_be_bytes();
        let (kept, left_over) = if tail == 2 { ([b0, 0], b1 | b2) } else { ([b0, b1], b2) };
        if left_over != 0 {
            return Err(Base64Error::Invalid);
        }
        let at = groups.len() / 4 * 3;
        if let (Some(dst), Some(src)) = (out.get_mut(at..), kept.get(..tail - 1)) {
            dst.copy_from_slice(src);
        }
    }
    if bad & 0x80 != 0 {
        return Err(Base64Error::Invalid);
    }
    Ok(len)
}

/// Encode `bytes` into `out`, unpadded; the number of characters written (`None` when `out` is
/// too short).
pub(crate) fn encode(bytes: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = bytes.len() / 3 * 4 + (bytes.len() % 3 * 4).div_ceil(3);
    let out = out.get_mut(..len)?;
    let char_of = |n: u32, shift: u32| ALPHABET.get((n >> shift & 0x3f) as usize).copied().unwrap_or(b'A');
    for (group, chars) in bytes.chunks(3).zip(out.chunks_mut(4)) {
        let mut word = [0u8; 4];
        if let Some(w) = word.get_mut(1..1 + group.len()) {
            w.copy_from_slice(group);
        }
        let n = u32::from_be_bytes(word);
        for (c, shift) in chars.iter_mut().zip([18, 12, 6, 0]) {
            *c = char_of(n, shift);
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use ::base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use ::base64::{alphabet, DecodeSliceError, Engine};
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The `base64` crate as this module replaced it.
    const CRATE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    fn ours(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
        let mut buf = [0u8; 96];
        decode(text, &mut buf).map(|n| buf.get(..n).unwrap_or_default().to_vec())
    }

    fn theirs(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
        let mut buf = [0u8; 96];
        match CRATE.decode_slice(text, &mut buf) {
            Ok(n) => Ok(buf.get(..n).unwrap_or_default().to_vec()),
            Err(DecodeSliceError::OutputSliceTooSmall) => Err(Base64Error::TooLong),
            Err(DecodeSliceError::DecodeError(_)) => Err(Base64Error::Invalid),
        }
    }

    #[test]
    fn rfc_4648_vectors() {
        // RFC 4648 §10, padded and not.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = [0u8; 8];
            let n = encode(plain.as_bytes(), &mut out);
            assert_eq!(n.and_then(|n| out.get(..n)), Some(coded.as_bytes()));
            assert_eq!(ours(coded.as_bytes()), Ok(plain.as_bytes().to_vec()));
            let padded = std::format!("{coded}{}", "=".repeat((4 - coded.len() % 4) % 4));
            assert_eq!(ours(padded.as_bytes()), Ok(plain.as_bytes().to_vec()));
        }
    }

    #[test]
    fn refused() {
        for bad in ["Z", "Zg===", "Zm9v=", "=", "Zg=g", "Z=g=", "Zh", "Zm9", "Zm-v", "Zm9v Yg", "===="] {
            assert_eq!(ours(bad.as_bytes()), Err(Base64Error::Invalid), "{bad}");
        }
        assert_eq!(ours(&[b'A'; 132]), Err(Base64Error::TooLong));
        let mut short = [0u8; 2];
        assert_eq!(encode(b"foo", &mut short), None);
    }

    proptest! {
        /// Any text over the alphabet, `=` and a few others decodes as the crate decodes it, up to
        /// the 128 characters `grpc-trace-bin` takes (past them, which of too long and invalid is
        /// reported first differs, and the caller refuses such a value before decoding).
        #[test]
        fn decodes_as_the_crate(text in proptest::collection::vec(
            prop_oneof![8 => proptest::sample::select(ALPHABET.to_vec()), 2 => Just(b'='), 1 => any::<u8>()], 0..129)
        ) {
            prop_assert_eq!(ours(&text), theirs(&text));
        }

        /// Padding after valid data, in every amount.
        #[test]
        fn padding_as_the_crate(bytes in proptest::collection::vec(any::<u8>(), 0..40), pad in 0usize..4) {
            let mut text = [0u8; 64];
            let n = encode(&bytes, &mut text).unwrap_or(0);
            let mut text = text.get(..n).unwrap_or_default().to_vec();
            text.extend(core::iter::repeat_n(b'=', pad));
            prop_assert_eq!(ours(&text), theirs(&text));
        }

        #[test]
        fn encodes_as_the_crate(bytes in proptest::collection::vec(any::<u8>(), 0..72)) {
            let (mut a, mut b) = ([0u8; 96], [0u8; 96]);
            let n = encode(&bytes, &mut a);
            let m = CRATE.encode_slice(&bytes, &mut b).ok();
            prop_assert_eq!(n.and_then(|n| a.get(..n)), m.and_then(|m| b.get(..m)));
            prop_assert_eq!(ours(a.get(..n.unwrap_or(0)).unwrap_or_default()), Ok(bytes));
        }
    }
}
