//! The shared memory both sides of the boundary use: an input area the JS writes header values into,
//! an entry table saying which header (or role) each value is, and the output area of [`crate::out`].
//! Allocated once; grown only when a call brings more than fits ([`Io::reserve`]), so no call
//! allocates.
//!
//! Entries are four `i32`s: `[header, start, len, flags]`. `header` indexes [`headers`] (core's
//! registry, flattened, then W3C `baggage`) for a header value, is [`NAMED`] for a header whose name
//! comes with it (baggage: `uberctx-{key}`, `ot-baggage-{key}`, see [`PREFIXES`]), or is a [`Role`]
//! for the context fields `inject` takes. `start`/`len` are bytes in the input area. `flags` bit 0
//! ([`NOT_ASCII`]): the JS string was not all ASCII, so its byte offsets are not its character offsets
//! and it is never a source of a string handed back (see [`crate::out`]); its bytes are still exactly
//! what the string holds (UTF-8), so core rejects it as it would any non-ASCII value. `flags >>`
//! [`NAME_SHIFT`]: for a [`NAMED`] entry, the length of its name, whose bytes come right before
//! `start`. Entries that point outside the input area read as empty.
//!
//! Names are passed only for headers whose names are not known in advance, and only when the request
//! has such a header: a request without baggage writes the same entries as before.

use core::ops::ControlFlow;

use tracebridge::carrier::{has_prefix, NameFilter};
use tracebridge::{baggage, Extractor, Format};

/// Bytes of the input area at first; grown on demand.
pub const INPUT_BYTES: usize = 16 * 1024;
/// Entries at first; grown on demand.
pub const ENTRIES: usize = 64;
/// `flags` bit: the value was not ASCII (see the module docs).
pub const NOT_ASCII: i32 = 1;
/// `header` of an entry whose name is passed with it (see the module docs).
pub const NAMED: i32 = -1;
/// `flags >> NAME_SHIFT` is the length of a [`NAMED`] entry's name.
pub const NAME_SHIFT: u32 = 8;
/// The headers passed [`NAMED`]: those whose names start with one of these (baggage of Jaeger and OT).
pub const PREFIXES: [&str; 2] = [baggage::JAEGER_PREFIX, baggage::OT_PREFIX];

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

/// How many names [`HEADERS`] holds.
const HEADER_COUNT: usize = {
    let mut n = 1;
    let mut i = 0;
    while i < Format::COUNT {
        n += Format::ALL[i].headers().len();
        i += 1;
    }
    n
};

/// [`headers`], flattened once at compile time: the lookups of every call walk a plain table, not a
/// chain of iterators (`header_index` over the chain was a quarter of an `inject_span` call).
// Indexing in a const initializer: an index out of range fails the build, it cannot fail a call.
#[allow(clippy::indexing_slicing)]
static HEADERS: [&str; HEADER_COUNT] = {
    let mut table = [""; HEADER_COUNT];
    let (mut at, mut i) = (0, 0);
    while i < Format::COUNT {
        let names = Format::ALL[i].headers();
        let mut k = 0;
        while k < names.len() {
            table[at] = names[k];
            at += 1;
            k += 1;
        }
        i += 1;
    }
    table[at] = baggage::HEADER;
    table
};

/// Every header name of every format, in registry order ([`Format::ALL`], then each format's
/// [`Format::headers`]), then W3C's `baggage`; an entry's `header` is a position in this list.
pub fn headers() -> impl Iterator<Item = &'static str> {
    HEADERS.iter().copied()
}

/// The position of `name` (lowercase) in [`headers`], in one pass. Core names headers with the
/// constants its registry lists, so the address is compared first (one integer compare, and a match
/// where the build merged the constants), then the string (its length first).
pub fn header_index(name: &str) -> Option<usize> {
    HEADERS.iter().position(|h| core::ptr::eq(*h, name) || *h == name)
}

/// The input area and entry table (JS writes them); their header indices are positions in
/// [`headers`].
pub struct Io {
    /// Header values (or context fields), back to back.
    pub input: Vec<u8>,
    /// `[header, start, len, flags]` per value.
    pub entries: Vec<[i32; 4]>,
}

impl Default for Io {
    fn default() -> Self {
        Io { input: vec![0; INPUT_BYTES], entries: vec![[0; 4]; ENTRIES] }
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
        Input::new(&self.input, self.entries.get(..n).unwrap_or(&self.entries), &HEADERS)
    }
}

/// The values of one call: what core reads through [`Extractor`], and the sources of the strings
/// handed back.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    bytes: &'a [u8],
    entries: &'a [[i32; 4]],
    names: &'a [&'static str],
    /// Some entry is [`NAMED`] (else reading by prefix finds nothing, and by name needs no compare of
    /// passed names: a request without baggage pays nothing for them).
    named: bool,
}

impl<'a> Input<'a> {
    /// A carrier over `bytes` and `entries` (tests and the native callers).
    pub fn new(bytes: &'a [u8], entries: &'a [[i32; 4]], names: &'a [&'static str]) -> Self {
        let named = entries.iter().any(|&[h, ..]| h == NAMED);
        Input { bytes, entries, names, named }
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

    /// The header name of entry `i` (as given, for a [`NAMED`] one; empty when out of range).
    pub fn name(&self, i: usize) -> &'a [u8] {
        let Some(&[h, start, _, flags]) = self.entries.get(i) else { return &[] };
        if h != NAMED {
            let names: &'a [&'static str] = self.names;
            return usize::try_from(h).ok().and_then(|h| names.get(h)).map_or(&[], |n| n.as_bytes());
        }
        let (Ok(end), Ok(len)) = (usize::try_from(start), usize::try_from(flags >> NAME_SHIFT)) else { return &[] };
        end.checked_sub(len).and_then(|start| self.bytes.get(start..end)).unwrap_or_default()
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

/// Headers by index are found by index; a [`NAMED`] header by its name, in any case. Reading by prefix
/// visits the [`NAMED`] entries (the JS passes by name every header whose name starts with one of
/// [`PREFIXES`], which no indexed name does).
impl Extractor for Input<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        // Core asks with the very `&'static str`s the table holds: the address first, the bytes after
        // (node's callgrind count of a B3-multi extract call, median of 3: 4 449 → 4 224; the counts
        // wander by ± 200 between runs).
        let same = |n: &&str| core::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len() || *n == name;
        let indexed = |h: i32| usize::try_from(h).ok().and_then(|h| self.names.get(h)).is_some_and(same);
        for (i, &[h, ..]) in self.entries.iter().enumerate() {
            let this =
                if self.named && h == NAMED { self.name(i).eq_ignore_ascii_case(name.as_bytes()) } else { indexed(h) };
            if this && each(self.value(i)).is_break() {
                return;
            }
        }
    }

    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        if !self.named {
            return;
        }
        for (i, &[h, ..]) in self.entries.iter().enumerate() {
            let name = self.name(i);
            if h == NAMED && has_prefix(name, prefix) && each(name, self.value(i)).is_break() {
                return;
            }
        }
    }

    /// The entries' names: the translator then looks up only the formats whose headers were passed.
    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        (0..self.entries.len()).for_each(|i| each(self.name(i)));
        true
    }

    /// In one loop, without a call per name.
    fn name_filter(&self) -> Option<NameFilter> {
        let mut filter = NameFilter::EMPTY;
        (0..self.entries.len()).for_each(|i| filter.insert(self.name(i)));
        Some(filter)
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
    fn the_table_is_the_registry_flattened() {
        let registry: Vec<&str> =
            Format::ALL.into_iter().flat_map(|f| f.headers().iter().copied()).chain([baggage::HEADER]).collect();
        assert_eq!(headers().collect::<Vec<_>>(), registry);
        // Found by bytes too, not only by the address of core's constant.
        let copy = String::from("x-b3-sampled");
        assert_eq!(header_index(&copy), registry.iter().position(|h| *h == "x-b3-sampled"));
        assert_eq!(header_index("x-b3-sample"), None);
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
    fn named_entries_carry_their_names_before_their_values() {
        let names: Vec<_> = headers().collect();
        let named = |name_len: i32| name_len << NAME_SHIFT;
        // `Uberctx-User: alice`, `traceparent: x`, `OT-Baggage-k: v`, a name that runs off the front.
        let bytes = b"Uberctx-UseralicexOT-Baggage-kv";
        let tp = header_index("traceparent").unwrap_or(usize::MAX) as i32;
        let entries = [[NAMED, 12, 5, named(12)], [tp, 17, 1, 0], [NAMED, 30, 1, named(12)], [NAMED, 0, 1, named(3)]];
        let h = Input::new(bytes, &entries, &names);
        assert_eq!((h.name(0), h.value(0)), (&b"Uberctx-User"[..], &b"alice"[..]));
        assert_eq!(h.name(1), b"traceparent");
        assert_eq!(h.name(3), b"");
        let mut seen = Vec::new();
        for prefix in PREFIXES {
            h.visit_prefixed(prefix, &mut |n, v| {
                seen.push((n, v));
                ControlFlow::Continue(())
            });
        }
        assert_eq!(seen, [(&b"Uberctx-User"[..], &b"alice"[..]), (b"OT-Baggage-k", b"v")]);
        // A named entry is a header like any other: found by its name in any case.
        assert_eq!(values(&h, "uberctx-user"), [&b"alice"[..]]);
        assert_eq!(values(&h, "traceparent"), [&b"x"[..]]);
        // Core reads the baggage of a carrier with them.
        let got = baggage::collect(&h, &[baggage::Source::Jaeger, baggage::Source::Ot]);
        let keys: Vec<&str> = got.entries().map(|e| e.key).collect();
        assert_eq!(keys, ["User", "k"]);
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
