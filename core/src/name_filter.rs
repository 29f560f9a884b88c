//! Which header names a request may carry: one pass over its names instead of a lookup per name.
//!
//! The translator reads up to ten formats, 23 header names and three baggage sources. Looked up one
//! by one, each name is a scan of every header, and on a typical request (one format present,
//! a dozen ordinary headers) nearly all of those scans find nothing: with every format read they
//! were most of a plan's instructions (callgrind: ~7 000 of 10 700 per request). A carrier that can
//! list its names ([`Extractor::visit_names`]) is read once into a 256-bit filter (a one-hash Bloom
//! filter over the names and, for baggage, over their first two bytes); a format none of whose
//! names hits the filter is absent without a lookup. 256 bits, not 64: a dozen ordinary headers
//! fill a sixth of 64 bits, and a five-name format (Datadog, B3 multi) then hit more often than not. A hit is only a "maybe": the format is then
//! looked up as before, so a collision costs time, never an answer.

use crate::carrier::Extractor;

/// 256 bits, as four words.
pub(crate) type Bits = [u64; 4];

/// The header names a request carries, as a filter: a name it does not hold is certainly absent,
/// a name it holds may be present (see the module documentation). Bits of the names, and of the
/// first two bytes of those names (for prefixes).
///
/// A carrier that walks its headers anyway builds one in that pass ([`insert`](Self::insert)) and
/// hands it over with [`Extractor::name_filter`]; any other carrier that lists its names gets one
/// built from [`Extractor::visit_names`].
///
/// ```
/// use tracebridge::carrier::NameFilter;
///
/// let mut names = NameFilter::EMPTY;
/// names.insert(b":path"); // pseudo-headers are never a format's: not kept
/// assert_eq!(names, NameFilter::EMPTY);
/// names.insert(b"B3");
/// assert_ne!(names, NameFilter::EMPTY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NameFilter {
    names: Bits,
    /// 64 bits are enough here: two prefixes are asked about.
    prefixes: u64,
    /// The first bytes of the names and prefixes, case-folded to 64 bits: a name whose first byte
    /// no name or prefix of `wanted` has is not held ([`insert_if_held`](Self::insert_if_held))
    /// without hashing it. The names a translator reads start with six letters (`b3`, `baggage`;
    /// `grpc-trace-bin`; `ot-*`; `traceparent`, `tracestate`; `uber-trace-id`, `uberctx-*`; `x-*`):
    /// `accept*`, `content-*`, `cookie`, `host`, `referer` and the pseudo-headers do not.
    firsts: u64,
}

impl Default for NameFilter {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl NameFilter {
    /// No names: what a carrier starts from before [`insert`](Self::insert)ing its own.
    pub const EMPTY: Self = Self { names: [0; 4], prefixes: 0, firsts: 0 };

    /// Everything may be present: for a carrier that cannot list its names.
    pub(crate) const ALL: Self = Self { names: [u64::MAX; 4], prefixes: u64::MAX, firsts: u64::MAX };

    /// Add header `name` (in any case).
    #[inline]
    pub fn insert(&mut self, name: &[u8]) {
        // HTTP/2 pseudo-headers (`:path`, `:authority`, …: a third of a small request's names) are
        // never a format's header nor a baggage prefix: not hashed.
        if name.first() == Some(&b':') {
            return;
        }
        let key = name_key(name);
        // Natively, branch-free into all four words, not one word picked by index: the words stay
        // in registers over a carrier's loop. Indexed, each name was a read-modify-write of the
        // filter in memory, waiting on the one before (`perf`: half of a slice's `name_filter`;
        // the five-format request 445 → 428 ns). In wasm the indexed write is the cheaper: V8
        // keeps the filter in linear memory either way, and four reads and writes of it per name
        // made the Envoy filter's module 3 % slower (`module-host.mjs`, 678 → 696 ns a request).
        if cfg!(target_arch = "wasm32") {
            let i = hash(key);
            if let Some(word) = self.names.get_mut((i >> 6) as usize & 3) {
                *word |= 1 << (i & 63);
            }
        } else {
            set(&mut self.names, key);
        }
        self.prefixes |= prefix_bit(name);
        self.firsts |= first_bit(name);
    }

    /// Add `name` (in any case) when `wanted` may hold it, i.e. unless it can be none of the names
    /// `wanted` holds nor start with one of its prefixes; true when it was added. A pseudo-header is
    /// never added. What a carrier [`gather`](Extractor::gather)s a translator's lines with
    /// ([`Gathered::offer`](crate::carrier::Gathered::offer)): one hash of each name, and the
    /// filter of the lines kept built on the way.
    #[inline]
    pub fn insert_if_held(&mut self, name: &[u8], wanted: &NameFilter) -> bool {
        let Some(Hit { word, bit, prefix, first }) = wanted.hit(name) else { return false };
        // Indexed: only the few names held come here.
        if let Some(w) = self.names.get_mut(word) {
            *w |= bit;
        }
        self.prefixes |= prefix;
        self.firsts |= first;
        true
    }

    /// True when [`insert_if_held`](Self::insert_if_held) would keep `name` (in any case): its bit
    /// or its first two bytes' bit is here. Every line of the same name (ignoring ASCII case) gets
    /// the same answer, so a carrier that kept the lines held can tell, for any name asked, whether
    /// those lines are all of its lines (the Envoy filter's header view).
    #[inline]
    pub fn holds(&self, name: &[u8]) -> bool {
        self.hit(name).is_some()
    }

    /// `name`'s bits when this filter holds it (one test for [`holds`](Self::holds) and
    /// [`insert_if_held`](Self::insert_if_held), which adds the bits): never a pseudo-header, nor a
    /// name whose first byte none here has (not hashed).
    #[inline(always)]
    fn hit(&self, name: &[u8]) -> Option<Hit> {
        let first = first_bit(name);
        if name.first() == Some(&b':') || self.firsts & first == 0 {
            return None;
        }
        let i = hash(name_key(name));
        let prefix = prefix_bit(name);
        let (word, bit) = ((i >> 6) as usize & 3, 1 << (i & 63));
        let held = (self.names.get(word).copied().unwrap_or(0) & bit != 0) | (self.prefixes & prefix != 0);
        held.then_some(Hit { word, bit, prefix, first })
    }

    /// The filter of the names `headers` holds, or [`ALL`](Self::ALL) when it cannot list them.
    pub(crate) fn of<E: Extractor + ?Sized>(headers: &E) -> Self {
        headers.name_filter().unwrap_or(Self::ALL)
    }

    /// A probe of names and prefixes (two bytes or more, lowercase), for
    /// [`intersects`](Self::intersects): one test for several.
    pub(crate) const fn probe(names: &[&str], prefixes: &[&str]) -> Self {
        let mut probe = Self { names: mask(names), prefixes: 0, firsts: 0 };
        let mut rest = prefixes;
        while let [first, tail @ ..] = rest {
            probe.prefixes |= prefix_bit(first.as_bytes());
            probe.firsts |= first_bit(first.as_bytes());
            rest = tail;
        }
        let mut rest = names;
        while let [first, tail @ ..] = rest {
            probe.firsts |= first_bit(first.as_bytes());
            rest = tail;
        }
        probe
    }

    /// What either filter holds.
    pub(crate) const fn union(self, other: Self) -> Self {
        let ([a, b, c, d], [w, x, y, z]) = (self.names, other.names);
        Self {
            names: [a | w, b | x, c | y, d | z],
            prefixes: self.prefixes | other.prefixes,
            firsts: self.firsts | other.firsts,
        }
    }

    /// False only when none of `probe`'s names nor any name with one of its prefixes can be here.
    #[inline]
    pub(crate) fn intersects(self, probe: Self) -> bool {
        self.may_have_any(probe.names) | (self.prefixes & probe.prefixes != 0)
    }

    #[inline]
    pub(crate) fn may_have_any(self, mask: Bits) -> bool {
        // Branch-free: asked about every format on every request.
        let ([a, b, c, d], [w, x, y, z]) = (self.names, mask);
        (a & w) | (b & x) | (c & y) | (d & z) != 0
    }

    /// False only when `name` cannot be present (its mask computed here: for names known only at run
    /// time, such as a plan's removals).
    pub(crate) fn may_have(self, name: &str) -> bool {
        self.may_have_any(mask(&[name]))
    }

    /// False only when no name starting with `prefix` (two bytes or more, lowercase) can be present.
    #[cfg(test)]
    pub(crate) fn may_have_prefix(self, prefix: &str) -> bool {
        self.prefixes & prefix_bit(prefix.as_bytes()) != 0
    }
}

/// Which of several sets of names (a translator's formats) owns each bit of the filter, so that the
/// one set a request's names may belong to is found from the bits the request sets rather than by
/// asking about every set (ten formats: ≈ 175 instructions natively; this: a few dozen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Owners {
    /// Per bit, the set that added it last: its owner when the bit is one set's alone.
    of: [u8; 256],
    /// Per set (by id), the bits it alone has; none for a set that is not findable.
    own: [Bits; Self::SETS],
    /// Every set's bits.
    any: Bits,
}

impl Owners {
    /// Ids run below this.
    pub(crate) const SETS: usize = 16;

    /// All zeros: nothing for the `.wasm` to keep but its size.
    pub(crate) const EMPTY: Self = Owners { of: [0; 256], own: [[0; 4]; Self::SETS], any: [0; 4] };

    /// Add set `id` (below [`SETS`](Self::SETS)), whose names have the bits `mask`. Unless
    /// `findable`, the set is never [`sole`](Self::sole), and no request that may hold its names
    /// has a sole set.
    pub(crate) fn add(&mut self, id: u8, mask: Bits, findable: bool) {
        for (word, (&m, any)) in mask.iter().zip(&mut self.any).enumerate() {
            let mut bits = m;
            while bits != 0 {
                let bit = bits & bits.wrapping_neg();
                let Some(slot) = self.of.get_mut(word * 64 + bits.trailing_zeros() as usize) else { break };
                // A bit another set has is no longer that set's own, nor this one's.
                let (shared, before) = (*any & bit != 0, core::mem::replace(slot, id));
                let owner = if shared { before } else { id };
                if let Some(w) = self.own.get_mut(usize::from(owner)).and_then(|o| o.get_mut(word)) {
                    *w = if shared || !findable { *w & !bit } else { *w | bit };
                }
                bits &= bits - 1;
            }
            *any |= m;
        }
    }

    /// The set whose names `present` may hold, when it is the only one that may and is findable.
    /// Every other set is then certainly absent: each bit `present` shares with the sets is that
    /// set's alone.
    #[inline]
    pub(crate) fn sole(&self, present: NameFilter) -> Option<u8> {
        let ([a, b, c, d], [w, x, y, z]) = (present.names, self.any);
        let hits = [a & w, b & x, c & y, d & z];
        // The set of the first bit hit is the only candidate.
        let (word, &bits) = hits.iter().enumerate().find(|(_, &h)| h != 0)?;
        let id = self.of.get(word * 64 + bits.trailing_zeros() as usize).copied()?;
        let ([a, b, c, d], [o, p, q, r]) = (hits, *self.own.get(usize::from(id))?);
        ((a & !o) | (b & !p) | (c & !q) | (d & !r) == 0).then_some(id)
    }
}

/// A name's bits in a filter ([`NameFilter::hit`]): its word and bit among the names, its prefix bit
/// and its first byte's bit.
struct Hit {
    word: usize,
    bit: u64,
    prefix: u64,
    first: u64,
}

/// The filter bits of `names` (lowercase), for [`NameFilter::may_have_any`].
pub(crate) const fn mask(names: &[&str]) -> Bits {
    let mut m = [0; 4];
    let mut rest = names;
    while let [first, tail @ ..] = rest {
        set(&mut m, name_key(first.as_bytes()));
        rest = tail;
    }
    m
}

/// Fibonacci hashing to 0..=255: the top 8 bits of the product.
const fn hash(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56
}

/// Set the bit `key` hashes to.
const fn set(bits: &mut Bits, key: u64) {
    let i = hash(key);
    // Branch-free: the bit goes into the one word numbered `i >> 6`.
    let (bit, word) = (1u64 << (i & 63), i >> 6);
    let [a, b, c, d] = bits;
    *a |= bit & all_if(word == 0);
    *b |= bit & all_if(word == 1);
    *c |= bit & all_if(word == 2);
    *d |= bit & all_if(word == 3);
}

/// All ones when `yes`, else zero.
const fn all_if(yes: bool) -> u64 {
    0u64.wrapping_sub(yes as u64)
}

/// ASCII case folded the same way on both sides: names equal ignoring ASCII case stay equal (it
/// merges some non-letters too, which only adds collisions).
const fn fold(b: u8) -> u64 {
    (b | 0x20) as u64
}

/// A name's key, from its length and its first, middle and last bytes: what tells the header names
/// of the formats apart from each other and from common headers, at a few instructions a name
/// (without the middle byte, a third more formats were looked up on a common request).
#[inline(always)]
const fn name_key(name: &[u8]) -> u64 {
    let middle = match name.split_at_checked(name.len() / 2) {
        Some((_, [m, ..])) => fold(*m),
        _ => 0,
    };
    match name {
        [first, .., last] => (name.len() as u64) << 24 | fold(*first) << 16 | middle << 8 | fold(*last),
        [only] => 1 << 24 | fold(*only) << 16,
        [] => 0,
    }
}

/// A name's bit among 64 from its first byte, case-folded (`:` shares `z`'s bit; no trace header
/// starts with either).
const fn first_bit(name: &[u8]) -> u64 {
    let b = match name {
        [b, ..] => *b,
        [] => 0,
    };
    1 << (fold(b) & 63)
}

/// A name's bit among 64 from its first two bytes: a prefix of two bytes or more has the bit of
/// every name that starts with it.
const fn prefix_bit(name: &[u8]) -> u64 {
    let key = match name {
        [a, b, ..] => fold(*a) << 8 | fold(*b),
        [a] => fold(*a),
        [] => 0,
    };
    1 << (hash(key) >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn a_listed_name_always_hits_whatever_its_case() {
        for f in Format::ALL {
            for name in f.headers() {
                let upper = name.to_ascii_uppercase();
                let headers = [(upper.as_str(), "v"), ("accept", "*/*")];
                let filter = NameFilter::of(&headers[..]);
                assert!(filter.may_have_any(mask(f.headers())), "{name}");
                assert!(filter.may_have_any(mask(&[name])), "{name}");
                assert!(filter.may_have(name) && filter.may_have(&upper), "{name}");
            }
        }
        let headers = [("Uberctx-User", "alice")];
        assert!(NameFilter::of(&headers[..]).may_have_prefix("uberctx-"));
    }

    #[test]
    fn absent_names_miss_on_a_common_request() {
        let headers = [
            (":authority", "shop.example.com"),
            (":path", "/"),
            (":method", "GET"),
            (":scheme", "https"),
            ("user-agent", "curl"),
            ("accept", "*/*"),
            ("accept-encoding", "gzip"),
            ("x-request-id", "1"),
            ("b3", "1"),
        ];
        let filter = NameFilter::of(&headers[..]);
        // Pseudo-headers are not in the filter at all.
        assert_eq!(filter, NameFilter::of(&headers[4..]));
        let missed = Format::ALL.iter().filter(|f| !filter.may_have_any(mask(f.headers()))).count();
        // b3-single is present; of the other nine, collisions may keep a few.
        assert!(!filter.may_have_any(mask(Format::W3c.headers())));
        assert!(!filter.may_have("tracestate") && filter.may_have("b3"));
        assert!(missed >= 7, "{missed}");
        assert!(!filter.may_have_prefix("uberctx-") && !filter.may_have_prefix("ot-baggage-"));
    }

    #[test]
    fn a_carrier_that_cannot_list_gets_everything() {
        struct Opaque;
        impl Extractor for Opaque {
            fn visit_values<'s>(&'s self, _: &str, _: &mut dyn FnMut(&'s [u8]) -> core::ops::ControlFlow<()>) {}
        }
        assert_eq!(NameFilter::of(&Opaque), NameFilter::ALL);
        assert!(NameFilter::ALL.may_have_any(mask(&["b3"])) && NameFilter::ALL.may_have_prefix("uberctx-"));
    }

    /// `Owners::sole` finds a set exactly when asking every set (as the translator's inspection does)
    /// finds that one alone, and it is findable: for every request of up to two format header names
    /// and a common one, with W3C not findable, and with sets that share bits.
    #[test]
    fn the_sole_owner_is_the_one_set_that_may_be_present() {
        extern crate std;
        use std::vec::Vec;
        let sets: [(&[&str], bool); 12] = [
            (Format::W3c.headers(), false),
            (Format::B3Single.headers(), true),
            (Format::B3Multi.headers(), true),
            (Format::Jaeger.headers(), true),
            (Format::XRay.headers(), true),
            (Format::GrpcTraceBin.headers(), true),
            (Format::Datadog.headers(), true),
            (Format::Ot.headers(), true),
            (Format::Instana.headers(), true),
            (Format::Gcp.headers(), true),
            // Two sets sharing a name: neither is ever sole while it is there.
            (&["x-shared", "x-only-a"], true),
            (&["x-shared"], true),
        ];
        let mut owners = Owners::EMPTY;
        for (id, (names, findable)) in sets.iter().enumerate() {
            owners.add(id as u8, mask(names), *findable);
        }
        let mut names: Vec<&str> = sets.iter().flat_map(|(n, _)| n.iter().copied()).collect();
        names.extend(["accept", "user-agent", "x-request-id", "b3x", "x-b3-other"]);
        let mut found = 0;
        for a in &names {
            for b in &names {
                let headers = [(*a, "v"), (*b, "v"), ("accept", "*/*")];
                let present = NameFilter::of(&headers[..]);
                let may: Vec<usize> = (0..sets.len())
                    .filter(|&i| sets.get(i).is_some_and(|(n, _)| present.may_have_any(mask(n))))
                    .collect();
                let expected = match may.as_slice() {
                    [only] if sets.get(*only).is_some_and(|(_, findable)| *findable) => Some(*only as u8),
                    _ => None,
                };
                assert_eq!(owners.sole(present), expected, "{a}, {b}");
                found += usize::from(expected.is_some());
            }
        }
        // Not only `None`s: most requests of one format's names find it.
        assert!(found > names.len() * 2, "{found}");
        assert_eq!(owners.sole(NameFilter::EMPTY), None);
    }

    /// A name whose first byte no wanted name has is not held, even when its hash hits a wanted
    /// name's bit; with that first byte it would be.
    #[test]
    fn a_name_of_another_first_byte_is_not_held_even_when_its_bit_is() {
        let wanted = NameFilter::probe(&["b3"], &["uberctx-"]);
        let bit = hash(name_key(b"b3"));
        // Two-byte names hash like `b3` when their first byte and last byte do (middle = last).
        let twin = (b'a'..=b'z')
            .flat_map(|a| (b'0'..=b'z').map(move |b| [a, b]))
            .find(|n| n[0] != b'b' && hash(name_key(n)) == bit);
        assert!(twin.is_some(), "some two-byte name shares b3's bit");
        let Some(twin) = twin else { return };
        let mut kept = NameFilter::EMPTY;
        assert!(!kept.insert_if_held(&twin, &wanted), "{:?}", core::str::from_utf8(&twin));
        assert!(!wanted.holds(&twin));
        assert_eq!(kept, NameFilter::EMPTY);
        // The same bit under a wanted first byte: held.
        let mut with_b = wanted;
        with_b.firsts |= first_bit(&twin);
        assert!(with_b.holds(&twin) && kept.insert_if_held(&twin, &with_b));
        // Names and prefixes alike, in any case.
        for name in ["b3", "B3", "uberctx-user", "UBERCTX-X"] {
            assert!(wanted.holds(name.as_bytes()), "{name}");
        }
        for name in ["accept", "content-type", ":path", "", "z"] {
            assert!(!wanted.holds(name.as_bytes()), "{name}");
        }
    }
}
