//! Per-caller counting: who sent a request, reduced to a name that is safe inside a stat name, and a
//! bounded table of the callers seen, each with its own counts.
//!
//! A caller's counters are the filter's counters with the caller in Istio's tag syntax in front:
//!
//! ```text
//! caller=.=<name>;.;tracebridge.<counter>     e.g. wasmcustom.caller=.=alpha;.;tracebridge.missing
//! ```
//!
//! A tag regex `(caller=\.=(.*?);\.;)` (Envoy `stats_config.stats_tags`; Istio generates exactly this
//! one for `extraStatTags: [caller]`) removes that part and makes it the tag `caller`, so the stat
//! is `wasmcustom.tracebridge.missing` with `caller="alpha"`, which `/stats/prometheus` prints as
//! `tracebridge_missing{caller="alpha"}`: the same family as the listener-wide counter.
//!
//! Names are bounded ([`MAX_NAME`] bytes of `[A-Za-z0-9_-]`, anything else becomes `_`), so a stat
//! name is never built from raw request bytes; the number of named callers is bounded by the
//! configuration's `max_callers` (at most [`MAX_CALLERS_CAP`]); callers past it are counted as
//! [`OTHER`], requests without a caller as [`UNKNOWN`].

use crate::prelude::*;
use crate::stats::Pending;

/// Longest caller name kept; longer ones are cut (two callers sharing the first 64 bytes are one).
pub const MAX_NAME: usize = 64;
/// `max_callers` when the configuration does not say.
pub const DEFAULT_MAX_CALLERS: usize = 50;
/// The largest `max_callers` accepted: each caller is 17 counters in Envoy.
pub const MAX_CALLERS_CAP: usize = 1000;
/// Requests whose caller could not be read (no header, no property, or an empty value).
pub const UNKNOWN: &str = "unknown";
/// Requests of callers beyond `max_callers`.
pub const OTHER: &str = "other";

/// A caller's name as counted: 1 to [`MAX_NAME`] bytes of `[A-Za-z0-9_-]`.
#[derive(Clone, Copy)]
pub struct Name {
    bytes: [u8; MAX_NAME],
    len: usize,
}

impl Name {
    /// `raw` made safe for a stat name: surrounding whitespace trimmed, every byte outside
    /// `[A-Za-z0-9_-]` (a `.`, `/`, `:`, `=`, `;`, a space, each byte of a non-ASCII character)
    /// replaced by `_`, cut at [`MAX_NAME`] bytes. `None` when nothing is left.
    pub fn new(raw: &[u8]) -> Option<Name> {
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            return None;
        }
        let mut name = Name { bytes: [b'_'; MAX_NAME], len: raw.len().min(MAX_NAME) };
        for (out, &b) in name.bytes.iter_mut().zip(raw) {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                *out = b;
            }
        }
        Some(name)
    }

    /// A peer certificate's URI SAN: a SPIFFE id `spiffe://<trust domain>/<path>` is named by its path
    /// (`spiffe://cluster.local/ns/shop/sa/cart` → `ns_shop_sa_cart`), anything else as [`Name::new`].
    pub fn from_principal(raw: &[u8]) -> Option<Name> {
        let raw = raw.trim_ascii();
        let path = raw
            .strip_prefix(b"spiffe://")
            .and_then(|rest| rest.iter().position(|&b| b == b'/').and_then(|at| rest.get(at + 1..)))
            .filter(|path| !path.is_empty());
        Name::new(path.unwrap_or(raw))
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The name (always ASCII).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// One caller's counts, and Envoy's ids of its counters once defined.
pub struct Slot {
    /// The caller's name in stat names.
    pub name: Box<str>,
    /// Counts not yet handed to Envoy, by [`crate::stats::index`].
    pub pending: Pending,
    /// Envoy's counter ids, by [`crate::stats::index`]; defined on the first tick with counts.
    pub ids: Option<Box<[Option<u32>]>>,
}

impl Slot {
    fn new(name: &str) -> Slot {
        Slot { name: name.into(), pending: Pending::default(), ids: None }
    }
}

/// The callers one VM (one Envoy worker) has seen: [`UNKNOWN`], [`OTHER`], then every named caller
/// admitted, found by a binary search over their names (no hashing, no allocation per request).
pub struct Callers {
    /// `(name, slot)` of the named callers, sorted by name.
    sorted: Vec<(Box<[u8]>, usize)>,
    slots: Vec<Slot>,
}

impl Default for Callers {
    fn default() -> Self {
        Callers { sorted: Vec::new(), slots: vec![Slot::new(UNKNOWN), Slot::new(OTHER)] }
    }
}

impl Callers {
    /// The slot of requests without a caller.
    pub const UNKNOWN: usize = 0;
    /// The slot of callers past the limit.
    pub const OTHER: usize = 1;

    /// The slot that counts `name` (`None`: [`UNKNOWN`]); a caller not seen before is admitted while
    /// fewer than `max` are named, else it is [`OTHER`]. The names `unknown` and `other` are those
    /// slots.
    pub fn slot(&mut self, name: Option<&Name>, max: usize) -> usize {
        let Some(name) = name else { return Callers::UNKNOWN };
        let bytes = name.as_bytes();
        match bytes {
            b"unknown" => return Callers::UNKNOWN,
            b"other" => return Callers::OTHER,
            _ => {}
        }
        match self.sorted.binary_search_by(|(n, _)| n.as_ref().cmp(bytes)) {
            Ok(i) => self.sorted.get(i).map_or(Callers::OTHER, |(_, slot)| *slot),
            Err(_) if self.sorted.len() >= max => Callers::OTHER,
            Err(i) => {
                let slot = self.slots.len();
                self.slots.push(Slot::new(name.as_str()));
                self.sorted.insert(i, (bytes.into(), slot));
                slot
            }
        }
    }

    /// Number of named callers admitted.
    pub fn named(&self) -> usize {
        self.sorted.len()
    }

    /// The caller counted in slot `i`.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.slots.get_mut(i)
    }

    /// The name of slot `i` (`unknown` for a slot that does not exist).
    pub fn name(&self, i: usize) -> &str {
        self.slots.get(i).map_or(UNKNOWN, |s| &s.name)
    }

    /// Every slot, for the tick.
    pub fn slots_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.slots.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> String {
        Name::new(raw.as_bytes()).map(|n| n.as_str().to_string()).unwrap_or_default()
    }

    #[test]
    fn names_are_safe_for_stat_names() {
        assert_eq!(name("alpha"), "alpha");
        assert_eq!(name("  Checkout-API_2 "), "Checkout-API_2");
        assert_eq!(name("a.b/c:d=e;f g"), "a_b_c_d_e_f_g");
        assert_eq!(name("caller=.=x;.;y"), "caller___x___y");
        assert_eq!(name("é"), "__");
        assert_eq!(name(&"x".repeat(500)).len(), MAX_NAME);
        assert!(Name::new(b"").is_none() && Name::new(b" \t ").is_none());
        // Every byte value: never a panic, only safe bytes out.
        let all: Vec<u8> = (0..=255u8).collect();
        for chunk in all.chunks(40) {
            let n = Name::new(chunk).map(|n| n.as_bytes().to_vec()).unwrap_or_default();
            assert!(n.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'), "{n:?}");
        }
    }

    #[test]
    fn principals_are_named_by_their_spiffe_path() {
        let p = |raw: &str| Name::from_principal(raw.as_bytes()).map(|n| n.as_str().to_string());
        assert_eq!(p("spiffe://cluster.local/ns/shop/sa/cart").as_deref(), Some("ns_shop_sa_cart"));
        assert_eq!(p("spiffe://td").as_deref(), Some("spiffe___td"));
        assert_eq!(p("spiffe://td/").as_deref(), Some("spiffe___td_"));
        assert_eq!(p("https://example.com/x").as_deref(), Some("https___example_com_x"));
        assert_eq!(p(""), None);
    }

    #[test]
    fn callers_past_the_limit_are_other() {
        let mut t = Callers::default();
        let n = |s: &str| Name::new(s.as_bytes());
        let beta = t.slot(n("beta").as_ref(), 2);
        let alpha = t.slot(n("alpha").as_ref(), 2);
        assert!(beta > Callers::OTHER && alpha > Callers::OTHER && alpha != beta);
        assert_eq!(t.slot(n("gamma").as_ref(), 2), Callers::OTHER);
        assert_eq!(t.slot(n("beta").as_ref(), 2), beta, "known callers keep their slot");
        assert_eq!(t.slot(n("alpha").as_ref(), 2), alpha);
        assert_eq!(t.slot(None, 2), Callers::UNKNOWN);
        assert_eq!(t.slot(n("other").as_ref(), 5), Callers::OTHER);
        assert_eq!(t.slot(n("unknown").as_ref(), 5), Callers::UNKNOWN);
        assert_eq!(t.named(), 2);
        assert_eq!(
            (t.name(alpha), t.name(beta), t.name(Callers::OTHER), t.name(99)),
            ("alpha", "beta", OTHER, UNKNOWN)
        );
        // A larger limit (another configuration in the same VM) admits more.
        let gamma = t.slot(n("gamma").as_ref(), 3);
        assert!(gamma > beta);
        assert_eq!(t.slots_mut().count(), 5);
    }

    #[test]
    fn the_table_stays_sorted_for_many_callers() {
        let mut t = Callers::default();
        let mut slots = Vec::new();
        for i in (0..MAX_CALLERS_CAP).rev() {
            let s = format!("caller-{i}");
            slots.push((s.clone(), t.slot(Name::new(s.as_bytes()).as_ref(), MAX_CALLERS_CAP)));
        }
        assert_eq!(t.named(), MAX_CALLERS_CAP);
        for (s, slot) in slots {
            assert_eq!(t.slot(Name::new(s.as_bytes()).as_ref(), MAX_CALLERS_CAP), slot, "{s}");
            assert_eq!(t.name(slot), s);
        }
        assert_eq!(t.slot(Name::new(b"one-more").as_ref(), MAX_CALLERS_CAP), Callers::OTHER);
    }
}
