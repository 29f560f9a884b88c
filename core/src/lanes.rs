//! Sixteen bytes at a time, written for LLVM's vectorizer: fixed-size loops over `[u8; 16]` that it
//! turns into a few 128-bit vector operations where the target has them ([`VECTORS`]). Core has no
//! `unsafe`, so no intrinsics; the instruction counts (`benches/instructions.py`) say whether the
//! vectorizer took a loop.
//!
//! Why fixed blocks: a loop over a slice of unknown length is vectorized too, but with a scalar
//! remainder, and LLVM unrolls the vector body four times, so a header value of 39 or 55 bytes ran
//! almost all in the scalar remainder (≈ 5 instructions a byte).

/// Whether the target has 128-bit vectors: SSE2 is part of x86_64, NEON of aarch64, and the npm
/// build turns SIMD128 on (`.cargo/config.toml`). Without them (the Envoy filter's wasm is built
/// without SIMD128) a 16-lane loop runs a lane at a time, and the callers keep their word-at-a-time
/// or byte-at-a-time code.
pub(crate) const VECTORS: bool =
    cfg!(any(target_feature = "sse2", target_feature = "neon", target_feature = "simd128"));

/// The block size.
const BLOCK: usize = 16;

/// Whether `ok` holds for every byte of `v`, without a branch per byte.
///
/// With [`VECTORS`], a value of 16 bytes or more is checked in whole blocks, the last one overlapping
/// the one before it (a byte checked twice is still checked once for the answer): a 55-byte
/// `traceparent` is four block checks and no remainder.
#[inline(always)]
pub(crate) fn all_bytes(v: &[u8], ok: impl Fn(u8) -> bool + Copy) -> bool {
    let fold = |bytes: &[u8]| bytes.iter().fold(true, |all, &b| all & ok(b));
    if !VECTORS || v.len() < BLOCK {
        return fold(v);
    }
    let block = |b: &[u8; BLOCK]| fold(b);
    let mut blocks = v.chunks_exact(BLOCK);
    for b in &mut blocks {
        // A branch per block, not a fold over the blocks: LLVM vectorized such a fold *across*
        // blocks (byte `i` of sixteen blocks gathered into one vector), 13 KB of code that made a
        // 184-byte tracestate line cost 580 instructions.
        if !<&[u8; BLOCK]>::try_from(b).is_ok_and(block) {
            return false;
        }
    }
    blocks.remainder().is_empty() || v.last_chunk::<BLOCK>().is_some_and(block)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn every_byte_of_every_length_is_checked() {
        let visible = |b: u8| b.wrapping_sub(0x20) < 0x5f;
        for len in 0..=50 {
            assert!(all_bytes(&std::vec![b'x'; len], visible));
            for at in 0..len {
                for bad in [0x00, 0x1f, 0x7f, 0x80, 0xff] {
                    let mut v = std::vec![b'x'; len];
                    if let Some(slot) = v.get_mut(at) {
                        *slot = bad;
                    }
                    assert!(!all_bytes(&v, visible), "{bad:#04x} at {at} of {len}");
                }
            }
        }
    }
}
