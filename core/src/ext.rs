//! tracebridge's own tracestate member: what a later legacy hop needs to rebuild its original header
//! exactly, carried through W3C hops. STUB: encoding to be written with the Translator.

/// Percent-decoding iterator over bytes (`%XX` → byte) when `escaped`, plain bytes otherwise.
pub(crate) struct Unescape<'a> {
    src: &'a [u8],
    escaped: bool,
}

impl<'a> Unescape<'a> {
    pub(crate) fn new(src: &'a [u8], escaped: bool) -> Self {
        Unescape { src, escaped }
    }
}

impl Iterator for Unescape<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.src.split_first()?;
        if self.escaped && first == b'%' {
            if let [h, l, tail @ ..] = rest {
                let mut b = [0u8; 1];
                if crate::id::decode_hex_exact(&[h.to_ascii_lowercase(), l.to_ascii_lowercase()], &mut b).is_ok() {
                    self.src = tail;
                    return Some(b[0]);
                }
            }
        }
        self.src = rest;
        Some(first)
    }
}
