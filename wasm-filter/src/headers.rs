//! A header map as the host serializes it (`proxy_get_header_map_pairs`), read in place: no copy, no
//! allocation, one host call for the whole map.
//!
//! ```text
//! map   = count:u32le ( name_len:u32le value_len:u32le ){count} ( name NUL value NUL ){count}
//! ```
//!
//! (proxy-wasm ABI 0.2.1, "Header maps"). A buffer that does not follow this layout reads as an empty
//! map rather than failing the request.

use core::ops::ControlFlow;

use arrayvec::ArrayVec;
use tracebridge::carrier::{Lines, NameFilter};
use tracebridge::Extractor;

/// Pairs located once, up front: a request has a dozen or two headers, and every format looks up its
/// names in this table rather than decoding the buffer again (most of a plan's time, measured).
const INDEXED: usize = 32;

/// The serialized pairs of one header map.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    sizes: &'a [u8],
    data: &'a [u8],
    /// Where each of the first [`INDEXED`] pairs starts in `data`, and its name's length (compared
    /// before any byte); the value's length is in `sizes`. Offsets rather than slices keep the index
    /// small to set up on every request (slices were copied in and out, 512 bytes in wasm32). Pairs
    /// past the index (rare) are decoded when looked up. A fixed-capacity vector: nothing to zero
    /// per request.
    starts: ArrayVec<[u32; 2], INDEXED>,
    /// Every name, as core's filter of the names present, built in the same pass as the index
    /// ([`Extractor::name_filter`]): core would otherwise walk the names once more, calling back per name.
    names: NameFilter,
}

impl<'a> Pairs<'a> {
    /// A view of `bytes`; an empty map when they are not a well-formed serialized map.
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut pairs = Pairs::empty();
        pairs.read(bytes);
        pairs
    }

    /// An empty map, to [`read`](Self::read) into where it is kept: the view is a few hundred
    /// bytes, and built and then moved it was copied on every request (V8 calls out of the module
    /// for a copy that size).
    pub const fn empty() -> Self {
        Pairs { sizes: &[], data: &[], starts: ArrayVec::new_const(), names: NameFilter::EMPTY }
    }

    /// View `bytes` (in place); an empty map when they are not a well-formed serialized map.
    pub fn read(&mut self, bytes: &'a [u8]) {
        self.starts.clear();
        self.names = NameFilter::EMPTY;
        if self.fill(bytes).is_none() {
            *self = Pairs::empty();
        }
    }

    /// One pass: check the layout (so that lookups can trust it), fill the index and the name filter;
    /// `None` when `bytes` are not a serialized map.
    fn fill(&mut self, bytes: &'a [u8]) -> Option<()> {
        let (count, rest) = bytes.split_first_chunk::<4>()?;
        let count = usize::try_from(u32::from_le_bytes(*count)).ok()?;
        let (sizes, data) = rest.split_at_checked(count.checked_mul(8)?)?;
        (self.sizes, self.data) = (sizes, data);
        // Past here every offset fits in u32: `data` came from a 32-bit host, and is checked below.
        u32::try_from(data.len()).ok()?;
        let mut at = 0usize;
        for (n, v) in self.lengths() {
            let end = at.checked_add(n)?;
            let name = data.get(at..end)?;
            // Full past INDEXED pairs: the rest are decoded when looked up.
            let _ = self.starts.try_push([at as u32, n as u32]);
            self.names.insert(name);
            at = end.checked_add(v)?.checked_add(2)?;
        }
        (at <= data.len()).then_some(())
    }

    /// Visit the pairs named `want` (compared case-insensitively, lengths first) in order, until
    /// `each` breaks. A plain loop over the index: this runs for every format whose names may be
    /// present, on every request.
    #[inline]
    fn each_named(&self, want: &[u8], mut each: impl FnMut(&'a [u8], &'a [u8]) -> ControlFlow<()>) {
        for (i, &entry) in self.index().iter().enumerate() {
            if entry[1] as usize != want.len() {
                continue;
            }
            let name = self.name_at(entry);
            if name.eq_ignore_ascii_case(want) && each(name, self.value_at(i, entry)).is_break() {
                return;
            }
        }
        if self.sizes.len() <= INDEXED * 8 {
            // Every pair is indexed (nearly every request): nothing past it to decode.
            return;
        }
        for (name, value) in self.past_index() {
            if name.len() == want.len() && name.eq_ignore_ascii_case(want) && each(name, value).is_break() {
                return;
            }
        }
    }

    /// How many lines carry `want` (compared case-insensitively, lengths first), with the first's
    /// value ([`Lines::and`]); stops at the second. [`each_named`](Self::each_named) with the count
    /// inlined: no callback through a pointer.
    fn named_lines(&self, want: &[u8]) -> Lines<'a> {
        let mut lines = Lines::Absent;
        self.each_named(want, |_, value| {
            lines = lines.and(value);
            if matches!(lines, Lines::Many(_)) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        lines
    }

    /// The filled part of the index.
    fn index(&self) -> &[[u32; 2]] {
        &self.starts
    }

    /// The name of the indexed pair at `[at, name length]`.
    fn name_at(&self, [at, n]: [u32; 2]) -> &'a [u8] {
        self.data.get(at as usize..at as usize + n as usize).unwrap_or_default()
    }

    /// The value of indexed pair `i`, at `[at, name length]`.
    fn value_at(&self, i: usize, [at, n]: [u32; 2]) -> &'a [u8] {
        let value_at = at as usize + n as usize + 1;
        self.data.get(value_at..value_at + self.value_len(i)).unwrap_or_default()
    }

    /// The pairs past the index (more than [`INDEXED`] headers: rare), decoded from where the last
    /// indexed pair ends; nothing to decode on a request of [`INDEXED`] headers or fewer.
    fn past_index(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let sizes = self.sizes.get(INDEXED * 8..).unwrap_or_default();
        let at = match self.starts.last() {
            Some(&[at, n]) if !sizes.is_empty() => at as usize + n as usize + self.value_len(INDEXED - 1) + 2,
            _ => 0,
        };
        decode(sizes, self.data, at)
    }

    fn lengths(&self) -> impl Iterator<Item = (usize, usize)> + 'a {
        lengths(self.sizes)
    }

    /// The value length of pair `i`, from `sizes`.
    fn value_len(&self, i: usize) -> usize {
        let at = i * 8 + 4;
        self.sizes.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes) as usize
    }

    /// The first value of header `name` (compared case-insensitively), as the filter reads a caller's
    /// name: the lookup core's formats make, without a host call.
    pub fn first(&self, name: &str) -> Option<&'a [u8]> {
        let mut found = None;
        self.each_named(name.as_bytes(), |_, v| {
            found = Some(v);
            ControlFlow::Break(())
        });
        found
    }

    /// Every `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        decode(self.sizes, self.data, 0)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.sizes.len() / 8
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }
}

/// The `(name length, value length)` entries of `sizes`.
fn lengths(sizes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    // As arrays of 8: no slice-to-array conversion that can fail per entry.
    sizes.chunks_exact(8).filter_map(<[u8]>::first_chunk::<8>).map(|&[n0, n1, n2, n3, v0, v1, v2, v3]| {
        (u32::from_le_bytes([n0, n1, n2, n3]) as usize, u32::from_le_bytes([v0, v1, v2, v3]) as usize)
    })
}

/// The pairs whose lengths are `sizes`, the first starting at `at` in `data`.
fn decode<'a>(sizes: &'a [u8], data: &'a [u8], mut at: usize) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
    lengths(sizes).map(move |(n, v)| {
        let name = data.get(at..at + n).unwrap_or_default();
        let value = data.get(at + n + 1..at + n + 1 + v).unwrap_or_default();
        at += n + v + 2;
        (name, value)
    })
}

impl Extractor for Pairs<'_> {
    /// A plain loop over the index ([`Pairs::named_lines`]), no callback per value: how every format
    /// reads its single-valued headers, on every request.
    fn lines<'s>(&'s self, name: &str) -> Lines<'s> {
        self.named_lines(name.as_bytes())
    }

    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        // Envoy hands over lowercase names (HTTP/2 requires them, HTTP/1 names are lowercased), but
        // the comparison stays case-insensitive; lengths are compared first.
        self.each_named(name.as_bytes(), |_, v| each(v));
    }

    /// Baggage headers with a prefix in their name (`uberctx-`, `ot-baggage-`).
    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        let index = self.index().iter().enumerate().map(|(i, &entry)| (self.name_at(entry), self.value_at(i, entry)));
        tracebridge::carrier::visit_each_prefixed(index.chain(self.past_index()), prefix, each);
    }

    /// Every name, so that the translator looks up only the formats that may be present.
    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        // A plain loop over the index (every request fills the name filter from it).
        for &entry in self.index() {
            each(self.name_at(entry));
        }
        self.past_index().for_each(|(n, _)| each(n));
        true
    }

    /// Built with the index, in [`Pairs::new`].
    fn name_filter(&self) -> Option<NameFilter> {
        Some(self.names)
    }
}

#[cfg(test)]
fn values<'s>(p: &'s Pairs<'_>, name: &str) -> Vec<&'s [u8]> {
    let mut out = Vec::new();
    p.visit_values(name, &mut |v| {
        out.push(v);
        core::ops::ControlFlow::Continue(())
    });
    out
}

#[cfg(test)]
pub(crate) fn serialize(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (n, v) in pairs {
        out.extend_from_slice(&(n.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (n, v) in pairs {
        out.extend_from_slice(n.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_pair_in_place() {
        let bytes = serialize(&[(":path", "/"), ("b3", "1"), ("TraceState", "a=1"), ("tracestate", "b=2"), ("x", "")]);
        let p = Pairs::new(&bytes);
        assert_eq!(p.len(), 5);
        assert_eq!(values(&p, "tracestate"), [&b"a=1"[..], b"b=2"]);
        assert_eq!(values(&p, "x"), [&b""[..]]);
        assert_eq!(values(&p, "traceparent").len(), 0);
        assert_eq!(p.iter().next(), Some((&b":path"[..], &b"/"[..])));
    }

    #[test]
    fn pairs_past_the_index_are_found_too() {
        let names: Vec<String> = (0..INDEXED + 5).map(|i| format!("x-{i}")).collect();
        let mut pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        pairs.push(("tracestate", "late=1"));
        pairs.insert(0, ("tracestate", "early=1"));
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        assert_eq!(p.len(), INDEXED + 7);
        assert_eq!(values(&p, "tracestate"), [&b"early=1"[..], b"late=1"]);
        assert_eq!(values(&p, &format!("x-{}", INDEXED + 4)).len(), 1);
    }

    /// `lines` (and through it `lines_of`) answers as core's slice carrier does for the same pairs (a second reader of the
    /// same lines), inside the index and past it, in any case, for one line, two and none.
    #[test]
    fn lines_of_answers_as_a_slice_of_the_same_pairs() {
        let names: Vec<String> = (0..INDEXED + 3).map(|i| format!("x-{i}")).collect();
        let mut pairs = vec![("B3", "1"), ("tracestate", "a=1"), ("TraceState", "b=2"), ("uber-trace-id", "u")];
        pairs.extend(names.iter().map(|n| (n.as_str(), "v")));
        pairs.extend([("uber-trace-id", "late"), ("traceparent", "past"), ("baggage", "")]);
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        let want = ["b3", "tracestate", "uber-trace-id", "traceparent", "baggage", "x-1", "x-34", "absent", "b"];
        let (mut got, mut expected) = ([Lines::Absent; 9], [Lines::Absent; 9]);
        p.lines_of(&want, &mut got);
        pairs.as_slice().lines_of(&want, &mut expected);
        assert_eq!(got, expected);
        assert_eq!(
            got[..5],
            [Lines::One(b"1"), Lines::Many(b"a=1"), Lines::Many(b"u"), Lines::One(b"past"), Lines::One(b"")]
        );
        assert_eq!(got[7..], [Lines::Absent, Lines::Absent]);
    }

    #[test]
    fn the_name_filter_is_the_one_core_builds_from_the_names() {
        let names: Vec<String> = (0..INDEXED + 3).map(|i| format!("x-{i}")).collect();
        let mut pairs = vec![(":path", "/"), ("B3", "1"), ("Uberctx-User", "alice")];
        pairs.extend(names.iter().map(|n| (n.as_str(), "v")));
        pairs.push(("traceparent", "past the index"));
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        let mut listed = NameFilter::EMPTY;
        assert!(p.visit_names(&mut |n| listed.insert(n)));
        assert_eq!(p.name_filter(), Some(listed));
        assert_eq!(p.name_filter(), pairs.as_slice().name_filter());
        // A map that does not parse reads as empty, its filter too.
        assert_eq!(Pairs::new(&bytes[..bytes.len() - 3]).name_filter(), Some(NameFilter::EMPTY));
    }

    #[test]
    fn malformed_is_empty_never_a_panic() {
        let good = serialize(&[("b3", "1"), ("traceparent", "x")]);
        for cut in 0..good.len() {
            let p = Pairs::new(&good[..cut]);
            assert!(p.is_empty(), "cut at {cut}");
            assert_eq!(values(&p, "b3").len(), 0);
        }
        assert_eq!(Pairs::new(&good).len(), 2);
        // A count that overflows, sizes that point past the end.
        assert!(Pairs::new(&[0xff, 0xff, 0xff, 0xff]).is_empty());
        let mut lie = serialize(&[("b3", "1")]);
        lie[8] = 200;
        assert!(Pairs::new(&lie).is_empty());
    }

    #[test]
    fn prefixed_names_in_order_past_the_index_too() {
        let names: Vec<String> = (0..INDEXED).map(|i| format!("x-{i}")).collect();
        let mut pairs = vec![("uberctx-user", "alice"), ("uberctx", "no"), ("UberCtx-Tenant", "t1")];
        pairs.extend(names.iter().map(|n| (n.as_str(), "v")));
        pairs.push(("uberctx-late", "l"));
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        let mut seen = Vec::new();
        p.visit_prefixed("uberctx-", &mut |n, v| {
            seen.push((n, v));
            core::ops::ControlFlow::Continue(())
        });
        let want: [(&[u8], &[u8]); 3] =
            [(b"uberctx-user", b"alice"), (b"UberCtx-Tenant", b"t1"), (b"uberctx-late", b"l")];
        assert_eq!(seen, want);
        let mut first = 0;
        p.visit_prefixed("uberctx-", &mut |_, _| {
            first += 1;
            core::ops::ControlFlow::Break(())
        });
        assert_eq!(first, 1, "a break stops the visit");
    }

    #[test]
    fn first_value_of_a_header() {
        let mut pairs = vec![("x-client-name", "alpha"), ("X-Client-Name", "beta")];
        let names: Vec<String> = (0..INDEXED).map(|i| format!("x-{i}")).collect();
        pairs.extend(names.iter().map(|n| (n.as_str(), "v")));
        pairs.push(("x-late", "late"));
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        assert_eq!(p.first("x-client-name"), Some(&b"alpha"[..]));
        assert_eq!(p.first("X-CLIENT-NAME"), Some(&b"alpha"[..]));
        assert_eq!(p.first("x-late"), Some(&b"late"[..]), "past the index");
        assert_eq!(p.first("x-client"), None);
        assert_eq!(Pairs::new(&[]).first("x-client-name"), None);
    }
}
