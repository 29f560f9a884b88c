//! A header map as the host serializes it (`proxy_get_header_map_pairs`), read in place: no copy, no
//! allocation, one host call for the whole map.
//!
//! ```text
//! map   = count:u32le ( name_len:u32le value_len:u32le ){count} ( name NUL value NUL ){count}
//! ```
//!
//! (proxy-wasm ABI 0.2.1, "Header maps"). A buffer that does not follow this layout reads as an empty
//! map rather than failing the request.

use crate::prelude::*;
use core::ops::ControlFlow;

use arrayvec::ArrayVec;
use tracebridge::carrier::{Lines, NameFilter};
use tracebridge::{Extractor, Translator};

/// How many lines the view keeps the place of: every trace header of the ten formats, with room
/// for baggage lines and names that hit the filter by chance (core's `Gathered` holds as many).
const KEPT: usize = 32;

/// What the view keeps: the lines a translator may read ([`Translator::WANTED`]).
const WANTED: &NameFilter = &Translator::WANTED;

/// The serialized pairs of one header map.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    sizes: &'a [u8],
    data: &'a [u8],
    /// Where each line a translator may read starts in `data` (`[at, name length, value length]`),
    /// in order: located once, up front, as core's `Extractor::gather` would copy them out. A
    /// request has a dozen or two headers and one or two of them are trace headers; a format's
    /// lookup scans these few, not every header (lookups were a scan of all of them: 367 V8
    /// instructions for the one `b3` of the benchmark's request). Offsets rather than slices keep the
    /// view small to set up on every request; a fixed-capacity vector: nothing to zero per request.
    /// Full (as many lines held as it has room for, or more: a request of many baggage headers),
    /// every lookup decodes the whole map. (A flag beside it made LLVM zero the whole array, 389
    /// bytes, on every request: V8 runs a `memory.fill` through a call out of the module.)
    kept: ArrayVec<[u32; 3], KEPT>,
    /// The names of the lines kept, as core's filter of the names present
    /// ([`Extractor::name_filter`]), built in the same pass: core would otherwise walk the names
    /// once more, calling back per name. It holds no name a translator does not read, as the filter
    /// of the lines `gather` keeps.
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
        Pairs { sizes: &[], data: &[], kept: ArrayVec::new_const(), names: NameFilter::EMPTY }
    }

    /// View `bytes` (in place); an empty map when they are not a well-formed serialized map.
    pub fn read(&mut self, bytes: &'a [u8]) {
        self.kept.clear();
        self.names = NameFilter::EMPTY;
        if self.fill(bytes).is_none() {
            *self = Pairs::empty();
        }
    }

    /// One pass: check the layout (so that lookups can trust it), keep the lines a translator may
    /// read and fill the name filter; `None` when `bytes` are not a serialized map.
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
            if self.names.insert_if_held(name, WANTED) {
                // Full: lookups decode the whole map (`overflow`).
                let _ = self.kept.try_push([at as u32, n as u32, v as u32]);
            }
            at = end.checked_add(v)?.checked_add(2)?;
        }
        (at <= data.len()).then_some(())
    }

    /// Visit the pairs named `want` (compared case-insensitively, lengths first) in order, until
    /// `each` breaks. `want` is a name a translator reads ([`Translator::WANTED`] holds it): core's
    /// reads are ([`Extractor`]'s methods here answer them alone, as a carrier's `gather`ed lines
    /// do), and [`first`](Self::first) asks only then. Among the lines kept, unless more were held
    /// than kept.
    #[inline]
    fn each_named(&self, want: &[u8], mut each: impl FnMut(&'a [u8], &'a [u8]) -> ControlFlow<()>) {
        debug_assert!(WANTED.holds(want), "{:?} is not a name a translator reads", core::str::from_utf8(want));
        if self.overflow() {
            self.each_decoded(want, each);
            return;
        }
        for &[at, n, v] in &self.kept {
            if n as usize != want.len() {
                continue;
            }
            let name = self.slice(at, n);
            if name.eq_ignore_ascii_case(want) && each(name, self.slice(at + n + 1, v)).is_break() {
                return;
            }
        }
    }

    /// [`each_named`](Self::each_named) over every pair of the map: more lines held than kept, or
    /// a name no translator reads (a caller's header, [`first`](Self::first)).
    #[inline(never)]
    fn each_decoded(&self, want: &[u8], mut each: impl FnMut(&'a [u8], &'a [u8]) -> ControlFlow<()>) {
        for (name, value) in self.iter() {
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

    /// True when `kept` may not hold every line held: lookups then decode the whole map.
    fn overflow(&self) -> bool {
        self.kept.is_full()
    }

    /// `len` bytes of `data` at `at` (checked in [`fill`](Self::fill)).
    fn slice(&self, at: u32, len: u32) -> &'a [u8] {
        self.data.get(at as usize..at as usize + len as usize).unwrap_or_default()
    }

    fn lengths(&self) -> impl Iterator<Item = (usize, usize)> + 'a {
        lengths(self.sizes)
    }

    /// The first value of header `name` (compared case-insensitively), as the filter reads a caller's
    /// name: the lookup core's formats make, without a host call.
    pub fn first(&self, name: &str) -> Option<&'a [u8]> {
        let mut found = None;
        let first = |_, v| {
            found = Some(v);
            ControlFlow::Break(())
        };
        if WANTED.holds(name.as_bytes()) {
            self.each_named(name.as_bytes(), first);
        } else {
            self.each_decoded(name.as_bytes(), first);
        }
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
    /// A plain loop over the lines kept ([`Pairs::named_lines`]), no callback per value: how every
    /// format reads its single-valued headers, on every request.
    fn lines<'s>(&'s self, name: &str) -> Lines<'s> {
        self.named_lines(name.as_bytes())
    }

    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        // Envoy hands over lowercase names (HTTP/2 requires them, HTTP/1 names are lowercased), but
        // the comparison stays case-insensitive; lengths are compared first.
        self.each_named(name.as_bytes(), |_, v| each(v));
    }

    /// Baggage headers with a prefix in their name (`uberctx-`, `ot-baggage-`): over the whole map
    /// (core asks only when the name filter holds the prefix).
    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        tracebridge::carrier::visit_each_prefixed(self.iter(), prefix, each);
    }

    /// Every name (core's default name filter would be built from it; this view has its own).
    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        self.iter().for_each(|(n, _)| each(n));
        true
    }

    /// The names of the lines kept ([`Pairs::read`]): those a translator reads.
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

/// `pairs` laid out as the host serializes a header map (the layout [`Pairs`] reads), for the tests
/// and the fuzz target that build maps of their own. The filter itself never writes one.
pub fn serialize<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (n, v) in pairs {
        out.extend_from_slice(&(n.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.as_ref().len() as u32).to_le_bytes());
    }
    for (n, v) in pairs {
        out.extend_from_slice(n.as_ref());
        out.push(0);
        out.extend_from_slice(v.as_ref());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracebridge::Format;

    #[test]
    fn reads_every_pair_in_place() {
        let bytes = serialize(&[(":path", "/"), ("b3", "1"), ("TraceState", "a=1"), ("tracestate", "b=2"), ("x", "")]);
        let p = Pairs::new(&bytes);
        assert_eq!(p.len(), 5);
        assert_eq!(values(&p, "tracestate"), [&b"a=1"[..], b"b=2"]);
        assert_eq!(p.first("x"), Some(&b""[..]));
        assert_eq!(values(&p, "traceparent").len(), 0);
        assert_eq!(p.iter().next(), Some((&b":path"[..], &b"/"[..])));
    }

    /// Many headers (more than the view keeps the place of, held or not): every line is still found.
    fn crowded(held: bool) -> Vec<(String, String)> {
        let name = |i: usize| if held { format!("uberctx-k{i}") } else { format!("x-{i}") };
        let mut pairs: Vec<(String, String)> = (0..KEPT + 5).map(|i| (name(i), format!("v{i}"))).collect();
        pairs.insert(0, ("tracestate".into(), "early=1".into()));
        pairs.push(("tracestate".into(), "late=1".into()));
        pairs
    }

    #[test]
    fn every_line_is_found_however_many_are_held() {
        for held in [false, true] {
            let pairs = crowded(held);
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let bytes = serialize(&refs);
            let p = Pairs::new(&bytes);
            assert_eq!(p.len(), KEPT + 7);
            assert_eq!(p.overflow(), held);
            assert_eq!(values(&p, "tracestate"), [&b"early=1"[..], b"late=1"]);
            let last = &pairs[KEPT + 5].0;
            assert_eq!(values(&p, last), [format!("v{}", KEPT + 4).as_bytes()], "{last}");
        }
    }

    /// `lines` (and through it `lines_of`) answers as core's slice carrier does for the same pairs (a
    /// second reader of the same lines) for every name a translator reads, in any case, for one line,
    /// two and none, and `first` for other names; with few lines held and with more than the view
    /// keeps.
    #[test]
    fn lines_of_answers_as_a_slice_of_the_same_pairs() {
        for held in [false, true] {
            let crowd = crowded(held);
            let mut pairs = vec![("B3", "1"), ("tracestate", "a=1"), ("TraceState", "b=2"), ("uber-trace-id", "u")];
            pairs.extend(crowd.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            pairs.extend([("uber-trace-id", "late"), ("traceparent", "past"), ("baggage", "")]);
            let bytes = serialize(&pairs);
            let p = Pairs::new(&bytes);
            // Core reads names a translator reads: every header of every format, and baggage's.
            let mut want: Vec<&str> = Format::ALL.iter().flat_map(|f| f.headers()).copied().collect();
            want.extend(["baggage", "uberctx-k34", "UBERCTX-K1", "B3"]);
            let (mut got, mut expected) = (vec![Lines::Absent; want.len()], vec![Lines::Absent; want.len()]);
            p.lines_of(&want, &mut got);
            pairs.as_slice().lines_of(&want, &mut expected);
            assert_eq!(got, expected);
            let at = |name: &str| want.iter().position(|w| *w == name).map(|i| got[i]);
            assert_eq!(at("b3"), Some(Lines::One(b"1")));
            assert_eq!(at("tracestate"), Some(Lines::Many(b"a=1")));
            assert_eq!(at("uber-trace-id"), Some(Lines::Many(b"u")));
            assert_eq!(at("traceparent"), Some(Lines::One(b"past")));
            assert_eq!(at("baggage"), Some(Lines::One(b"")));
            assert_eq!(at("x-b3-sampled"), Some(Lines::Absent));
            // Any other name, through `first` (a caller's header): the first line's value.
            for name in ["x-1", "X-1", "absent", "b", "uberctx"] {
                let mut first = [Lines::Absent];
                pairs.as_slice().lines_of(&[name], &mut first);
                let expected = match first[0] {
                    Lines::Absent => None,
                    Lines::One(v) | Lines::Many(v) => Some(v),
                };
                assert_eq!(p.first(name), expected, "{name}");
            }
        }
    }

    /// The view's name filter is the one core builds from the lines it gathers for a translator
    /// (`Extractor::gather` of a slice: another reader of the same pairs); any name listed.
    #[test]
    fn the_name_filter_is_the_one_core_gathers_for_a_translator() {
        let crowd = crowded(true);
        let mut pairs = vec![(":path", "/"), ("B3", "1"), ("Uberctx-User", "alice"), ("user-agent", "curl")];
        pairs.extend(crowd.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        for len in [3, 5, pairs.len()] {
            let bytes = serialize(&pairs[..len]);
            let p = Pairs::new(&bytes);
            let mut gathered = tracebridge::carrier::Gathered::new();
            let fits = pairs[..len].gather(&Translator::WANTED, &mut gathered);
            assert_eq!(fits, !p.overflow(), "{len} lines");
            if fits {
                assert_eq!(p.name_filter(), Some(gathered.names()), "{len} lines");
            }
            let mut listed = Vec::new();
            assert!(p.visit_names(&mut |n| listed.push(n.to_vec())));
            assert_eq!(listed.len(), len);
        }
        // A map that does not parse reads as empty, its filter too.
        let bytes = serialize(&pairs);
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
    fn prefixed_names_in_order_among_many() {
        let names: Vec<String> = (0..KEPT).map(|i| format!("x-{i}")).collect();
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
        let names: Vec<String> = (0..KEPT).map(|i| format!("x-{i}")).collect();
        pairs.extend(names.iter().map(|n| (n.as_str(), "v")));
        pairs.push(("x-late", "late"));
        let bytes = serialize(&pairs);
        let p = Pairs::new(&bytes);
        assert_eq!(p.first("x-client-name"), Some(&b"alpha"[..]));
        assert_eq!(p.first("X-CLIENT-NAME"), Some(&b"alpha"[..]));
        assert_eq!(p.first("x-late"), Some(&b"late"[..]), "past the lines a translator reads");
        assert_eq!(p.first("x-client"), None);
        assert_eq!(Pairs::new(&[]).first("x-client-name"), None);
    }
}
