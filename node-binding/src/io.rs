//! The shared memory both sides of the boundary use: an input area the JS writes header values into,
//! an entry table saying which header (or role) each value is, and the output area of [`crate::out`].
//! Allocated once; grown only when a call brings more than fits ([`Io::reserve`]), so no call
//! allocates.
//!
//! Entries are four `i32`s: `[header, start, len, flags]`. `header` indexes [`headers`] (core's
//! registry, flattened) for a header value, or is a [`Role`] for the context fields `inject` takes.
//! `start`/`len` are bytes in the input area. `flags` bit 0 ([`NOT_ASCII`]): the JS string was not all
//! ASCII, so its byte offsets are not its character offsets and it is never a source of a string
//! handed back (see [`crate::out`]); its bytes are still exactly what the string holds (UTF-8), so core
//! rejects it as it would any non-ASCII value. Entries that point outside the input area read as
//! empty.

use core::ops::ControlFlow;

use tracebridge::{Extractor, Format};

/// Bytes of the input area at first; grown on demand.
pub const INPUT_BYTES: usize = 16 * 1024;
/// Entries at first; grown on demand.
pub const ENTRIES: usize = 64;
/// `flags` bit: the value was not ASCII (see the module docs).
pub const NOT_ASCII: i32 = 1;

/// What an entry holds when it is not a header value: the fields of a context to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Role {
    /// 32 (or 16) lowercase hex digits.
    TraceId = 0,
    /// 16 lowercase hex digits.
    SpanId = 1,
    /// 16 lowercase hex digits.
    ParentSpanId = 2,
    /// A W3C tracestate.
    TraceState = 3,
}

/// Every header name of every format, in registry order ([`Format::ALL`], then each format's
/// [`Format::headers`]); an entry's `header` is a position in this list.
pub fn headers() -> impl Iterator<Item = &'static str> {
    Format::ALL.into_iter().flat_map(|f| f.headers().iter().copied())
}

/// The position of `name` (lowercase) in [`headers`]. Core names headers with the constants its
/// registry lists, so the same address is tried first (one integer compare per header), then the
/// bytes.
pub fn header_index(name: &str) -> Option<usize> {
    headers().position(|h| core::ptr::eq(h, name)).or_else(|| headers().position(|h| h == name))
}

/// The input area and entry table (JS writes them) with the header names they refer to.
pub struct Io {
    /// Header values (or context fields), back to back.
    pub input: Vec<u8>,
    /// `[header, start, len, flags]` per value.
    pub entries: Vec<[i32; 4]>,
    /// [`headers`], collected once.
    names: Vec<&'static str>,
}

impl Default for Io {
    fn default() -> Self {
        Io { input: vec![0; INPUT_BYTES], entries: vec![[0; 4]; ENTRIES], names: headers().collect() }
    }
}

impl Io {
    /// Room for at least `bytes` bytes and `entries` entries (contents are not kept: the JS writes
    /// after reserving).
    pub fn reserve(&mut self, bytes: usize, entries: usize) {
        if bytes > self.input.len() {
            self.input = vec![0; bytes.next_power_of_two()];
        }
        if entries > self.entries.len() {
            self.entries = vec![[0; 4]; entries.next_power_of_two()];
        }
    }

    /// The first `n` entries as a carrier.
    pub fn input(&self, n: usize) -> Input<'_> {
        Input { bytes: &self.input, entries: self.entries.get(..n).unwrap_or(&self.entries), names: &self.names }
    }
}

/// The values of one call: what core reads through [`Extractor`], and the sources of the strings
/// handed back.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    bytes: &'a [u8],
    entries: &'a [[i32; 4]],
    names: &'a [&'static str],
}

impl<'a> Input<'a> {
    /// A carrier over `bytes` and `entries` (tests and the native callers).
    pub fn new(bytes: &'a [u8], entries: &'a [[i32; 4]], names: &'a [&'static str]) -> Self {
        Input { bytes, entries, names }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes of entry `i` (empty when out of range).
    pub fn value(&self, i: usize) -> &'a [u8] {
        let Some(&[_, start, len, _]) = self.entries.get(i) else { return &[] };
        let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else { return &[] };
        self.bytes.get(start..start.saturating_add(len)).unwrap_or_default()
    }

    /// Entry `i`'s bytes when they can be a source of a string handed back (its JS string was ASCII).
    pub fn source(&self, i: usize) -> Option<&'a [u8]> {
        let &[_, _, _, flags] = self.entries.get(i)?;
        (flags & NOT_ASCII == 0).then(|| self.value(i))
    }

    /// The value of the first entry with `role`.
    pub fn role(&self, role: Role) -> Option<&'a [u8]> {
        let i = self.entries.iter().position(|&[r, ..]| r == role as i32)?;
        Some(self.value(i))
    }
}

impl Extractor for Input<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        for (i, &[h, ..]) in self.entries.iter().enumerate() {
            let named = usize::try_from(h).ok().and_then(|h| self.names.get(h)).is_some_and(|n| *n == name);
            if named && each(self.value(i)).is_break() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'s>(h: &'s Input<'_>, name: &str) -> Vec<&'s [u8]> {
        let mut out = Vec::new();
        h.visit_values(name, &mut |v| {
            out.push(v);
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn entries_name_headers_by_registry_index() {
        let names: Vec<_> = headers().collect();
        let ts = header_index("tracestate").unwrap_or(usize::MAX) as i32;
        let b3 = header_index("b3").unwrap_or(usize::MAX) as i32;
        let bytes = b"a=1b=2xyz";
        let entries = [[ts, 0, 3, 0], [b3, 6, 3, 0], [ts, 3, 3, 0], [ts, 100, 3, 0], [99, 0, 1, 0]];
        let h = Input::new(bytes, &entries, &names);
        assert_eq!(values(&h, "tracestate"), [&b"a=1"[..], b"b=2", b""]);
        assert_eq!(values(&h, "b3"), [&b"xyz"[..]]);
        assert!(values(&h, "traceparent").is_empty());
    }

    #[test]
    fn every_header_once() {
        let names: Vec<_> = headers().collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(header_index(n), Some(i), "{n} repeats");
        }
        assert_eq!(header_index("host"), None);
    }

    #[test]
    fn not_ascii_values_are_read_but_never_sources() {
        let names: Vec<_> = headers().collect();
        let entries = [[0, 0, 2, NOT_ASCII], [0, 2, 1, 0]];
        let h = Input::new(b"\xc3\xa9x", &entries, &names);
        assert_eq!(h.value(0), b"\xc3\xa9");
        assert_eq!(h.source(0), None);
        assert_eq!(h.source(1), Some(&b"x"[..]));
    }

    #[test]
    fn reserve_grows_only() {
        let mut io = Io::default();
        io.reserve(10, 1);
        assert_eq!((io.input.len(), io.entries.len()), (INPUT_BYTES, ENTRIES));
        io.reserve(INPUT_BYTES + 1, ENTRIES + 1);
        assert_eq!((io.input.len(), io.entries.len()), (2 * INPUT_BYTES, 2 * ENTRIES));
    }
}
