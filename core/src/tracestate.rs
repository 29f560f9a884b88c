//! W3C `tracestate`: an ordered list of vendor `key=value` members, parsed without allocating.
//!
//! Header: `tracestate` ([W3C Trace Context §3.3](https://www.w3.org/TR/trace-context/#tracestate-header)).
//! Grammar of the current Recommendation
//! ([§3.3.1](https://www.w3.org/TR/trace-context/#tracestate-header-field-values)):
//!
//! ```text
//! list        = list-member 0*31( OWS "," OWS list-member )
//! list-member = (key "=" value) / OWS
//! key         = ( lcalpha / DIGIT ) 0*255 ( keychar )
//! keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//! value       = 0*255(chr) nblk-chr
//! nblk-chr    = %x21-2B / %x2D-3C / %x3E-7E
//! chr         = %x20 / nblk-chr
//! ```
//!
//! The key rule is the one of the current editor's draft and of Level 2
//! ([§3.3.1.3.1](https://w3c.github.io/trace-context/#key)): the Level 1 `tenant-id "@" system-id`
//! split (at most 241 + 14 characters, one `@`) was replaced by one flat rule, so `foo@`, `foo@@bar`,
//! `t@vvvvvvvvvvvvvvv` and a 256-character key are all valid; a key that starts with `@` is not. The
//! official test suite (`test/test.py`, `test_tracestate_key_illegal_vendor_format`) checks this.
//!
//! Several header lines are one list, joined with `,`
//! ([§3.3.1.1](https://www.w3.org/TR/trace-context/#tracestate-header-field-values), RFC 9110 §5.3).
//! Empty members are allowed and not counted. More than 32 list-members makes the whole header
//! invalid. A key that appears twice (in one line or across lines) keeps its *first* occurrence and
//! the later ones are dropped: the sender must not create duplicates, and the receiver may either keep
//! them or drop all but one ([w3c/trace-context#477](https://github.com/w3c/trace-context/pull/477);
//! `test_tracestate_duplicated_keys` requires one of the values to survive). The first is the one the
//! left-most, most recent vendor wrote ([§3.3.1.3](https://www.w3.org/TR/trace-context/#mutating-the-tracestate-field)).
//! The drop is reported ([`TraceState::duplicates`]), never silent.
//! An invalid tracestate never invalidates a valid `traceparent`
//! ([§3.3.1.1](https://www.w3.org/TR/trace-context/#tracestate-header-field-values)).

use core::fmt;

use arrayvec::{ArrayString, ArrayVec};

use crate::carrier::{self, Extractor};
use crate::Error;
use crate::{lanes, swar};

/// Header name.
pub const HEADER: &str = "tracestate";
/// At most this many list-members ([§3.3.1.1](https://www.w3.org/TR/trace-context/#tracestate-header-field-values)).
pub const MAX_MEMBERS: usize = 32;
/// Members longer than this are the first dropped when a tracestate must be shortened
/// ([§3.3.1.5](https://www.w3.org/TR/trace-context/#tracestate-limits)).
pub const TRUNCATE_FIRST_OVER: usize = 128;
/// The most bytes of combined tracestate lines that are parsed: 32 members of the longest key and
/// value plus separators, with a little room for optional whitespace. Anything longer is invalid
/// ([`Error::TooLong`]) before it is scanned.
pub const MAX_INPUT_LEN: usize = MAX_MEMBERS * (256 + 1 + 256 + 3);
/// The most header lines consulted. W3C allows a list split over several lines; real senders use one
/// or two. Past this the header is invalid ([`Error::TooLong`]).
pub const MAX_LINES: usize = 8;
/// Capacity of a written tracestate ([`TraceStateBuf`]); the configured limit may be lower.
pub const MAX_OUTPUT_LEN: usize = 4096;

/// One `key=value` list-member, borrowed.
pub type Member<'a> = (&'a str, &'a str);

/// A parsed tracestate: up to 32 members, in the order received, borrowed from the header lines.
///
/// It keeps the validated lines themselves (not a table of members), so a context that carries it
/// stays small and cheap to move; members are found again by walking the lines. A later duplicate of
/// a key is skipped by every reader ([`members`](Self::members), [`get`](Self::get), `Display`,
/// [`write`](Self::write)): only the first occurrence is kept.
///
/// ```
/// use tracebridge::TraceState;
///
/// let ts = TraceState::parse("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")?;
/// assert_eq!(ts.len(), 2);
/// assert_eq!(ts.get("rojo"), Some("00f067aa0ba902b7"));
/// assert_eq!(ts.to_string(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
/// // Lines received separately are one list (W3C §3.3.1.1).
/// let two = TraceState::parse_lines([&b"a=1"[..], &b"b=2"[..]])?;
/// assert!(two.members().eq([("a", "1"), ("b", "2")]));
/// // A key given twice keeps its first value; the drop is counted.
/// let dup = TraceState::parse("foo=1,bar=2,foo=3")?;
/// assert_eq!((dup.to_string().as_str(), dup.duplicates()), ("foo=1,bar=2", 1));
/// # Ok::<(), tracebridge::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct TraceState<'a> {
    /// The lines received, `Some` below `n_lines`. `Option`s so that an empty tracestate is all zero
    /// bytes: every context a reader builds starts with one, and a zeroed one is a few vector stores
    /// where `[""; MAX_LINES]` was a `memcpy` call of 144 bytes from a constant (extract Jaeger
    /// 444 → 417 instructions, X-Ray 488 → 465, B3 multi 752 → 728).
    lines: [Option<&'a str>; MAX_LINES],
    n_lines: u8,
    /// Members kept (duplicates not counted).
    len: u8,
    /// Bit `i` set: the `i`-th non-empty list-member repeats an earlier key and is skipped.
    skipped: u32,
    /// One line, already in canonical form ([`TraceState::as_canonical_str`]). False when empty
    /// (all zero, above); only read with `n_lines == 1`.
    canonical: bool,
    /// Bit `fingerprint(key) % 64` set for every key kept: a key whose bit is clear is not in the
    /// list, and [`get`](Self::get) answers without reading the lines (its usual case: the two
    /// lookups of every W3C read are for members that are mostly absent).
    keys: u64,
}

impl Default for TraceState<'_> {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Equal when the members are (however they were split over lines or spaced).
impl PartialEq for TraceState<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.members().eq(other.members())
    }
}

impl Eq for TraceState<'_> {}

impl core::hash::Hash for TraceState<'_> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        for m in self.members() {
            m.hash(state);
        }
    }
}

/// A member key to look up or write, with its [`fingerprint`] taken once: the keys looked up on
/// every W3C read (ours, Datadog's) are hashed when configured or at compile time, not per lookup.
#[derive(Clone, Copy)]
pub(crate) struct Key<'k> {
    pub(crate) text: &'k str,
    pub(crate) fp: u32,
}

impl<'k> Key<'k> {
    pub(crate) const fn new(text: &'k str) -> Self {
        Key { text, fp: fingerprint(text.as_bytes()) }
    }
}

/// FNV-1a: a cheap fingerprint so the duplicate-key check compares strings only on a match.
const fn fingerprint(key: &[u8]) -> u32 {
    let mut h = FNV_OFFSET;
    let mut rest = key;
    while let [b, tail @ ..] = rest {
        h = fnv_step(h, *b);
        rest = tail;
    }
    h
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

const fn fnv_step(h: u32, b: u8) -> u32 {
    (h ^ b as u32).wrapping_mul(0x0100_0193)
}

/// Byte classes of the grammar (module docs), one table lookup per byte.
// Indexing in a const initializer: an out-of-range index fails the build, it cannot fail a request.
const KEYCHAR: u8 = 1;
const KEY_FIRST: u8 = 2;
const NBLK: u8 = 4;
const SPACE: u8 = 8;
#[allow(clippy::indexing_slicing)]
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut k = 0u8;
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            k |= KEYCHAR | KEY_FIRST;
        }
        if matches!(b, b'_' | b'-' | b'*' | b'/' | b'@') {
            k |= KEYCHAR;
        }
        if matches!(b, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e) {
            k |= NBLK;
        }
        if b == b' ' {
            k |= SPACE;
        }
        t[c] = k;
        c += 1;
    }
    t
};

fn class(b: u8) -> u8 {
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

/// Every byte of `value` is a value character (`chr` = `%x20` / `nblk-chr`: 0x20–0x7E but `,` and `=`,
/// [§3.3.1.3.2](https://www.w3.org/TR/trace-context/#value)), checked eight at a time: a value is most of
/// a member's bytes. Per byte `c` of a word (its top bit clear, checked apart), adding `0x60` sets the top
/// bit iff `c >= 0x20` and adding `0x01` iff `c > 0x7e`, with no carry between bytes; an `=` is a zero
/// byte of `x ^ "========"`. (A `,` cannot be here: members are split at commas.) Values of 16 bytes
/// or more are checked in 16-byte blocks where the target has vectors ([`lanes::all_bytes`]).
fn all_chr(value: &[u8]) -> bool {
    use swar::{has_zero_byte, HIGH, ONES};
    const fn word_ok(x: u64) -> bool {
        let ge_space = x.wrapping_add(ONES * (0x80 - 0x20));
        let gt_tilde = x.wrapping_add(ONES); // 0x7f - 0x7e per byte
        let eq = x ^ (ONES * b'=' as u64);
        let has_eq = has_zero_byte(eq);
        // `&`, not `&&`: no branch per word.
        (x & HIGH == 0) & (ge_space & !gt_tilde & HIGH == HIGH) & !has_eq
    }
    if lanes::VECTORS && value.len() >= 16 {
        return lanes::all_bytes(value, |c| (c.wrapping_sub(0x20) < 0x5f) & (c != b'='));
    }
    let mut ok = true;
    let mut rest = value;
    while let Some((w, tail)) = rest.split_first_chunk::<8>() {
        ok &= word_ok(u64::from_le_bytes(*w));
        rest = tail;
    }
    // The last few bytes, padded with a valid character.
    if rest.is_empty() {
        return ok;
    }
    // Shifted in byte by byte above `a` padding: a copy into a padded array is a `memcpy` call, and in
    // wasm V8 makes every `memory.copy` a call out of the module.
    let last = rest.iter().rev().fold(u64::from_le_bytes([b'a'; 8]), |w, &b| w << 8 | u64::from(b));
    ok & word_ok(last)
}

/// A list-member found by [`next_member`]: where its key and value are, or why it is invalid.
struct Found {
    key: Span,
    value: Span,
    no_eq: bool,
    /// The key's [`fingerprint`], taken in the pass that checks it.
    fp: u32,
}

/// A checked range of a line: `None` when that part breaks the grammar.
#[derive(Clone, Copy)]
struct Span(Option<(usize, usize)>);

impl Span {
    fn get(self, line: &[u8]) -> Option<&[u8]> {
        let (a, b) = self.0?;
        line.get(a..b)
    }
}

impl Found {
    /// A member without an `=`.
    const NO_EQ: Found = Found { key: Span(None), value: Span(None), no_eq: true, fp: 0 };

    /// The error for an invalid member, in the order the grammar is read: `=`, key, value.
    fn error(&self) -> Error {
        if self.no_eq {
            Error::TracestateMember
        } else if self.key.0.is_none() {
            Error::TracestateKey
        } else {
            Error::TracestateValue
        }
    }
}

/// The next non-empty list-member of `line` from `*at` (which it moves past the member and its
/// comma), checked; `canonical` is cleared on optional whitespace or an empty member. `None` at the
/// end of the line. A few tight passes over each member (find the `=`, fold the key's byte classes,
/// find the comma past the `=`, check the value) rather than one branchy pass: the folds have no
/// early exit, so they compile to wide compares. The error of an invalid member is the one the
/// grammar meets first (see [`Found::error`]).
#[inline(always)]
fn next_member(line: &[u8], at: &mut usize, canonical: &mut bool) -> Option<Found> {
    // Leading OWS and empty members.
    let rest = line.get(*at..)?;
    let Some(skip) = rest.iter().position(|&c| c != b',' && c != b' ' && c != b'\t') else {
        // Only commas and OWS left (`a=1,, `): empty members, so not the canonical form.
        if !rest.is_empty() {
            *canonical = false;
        }
        return None;
    };
    if skip > 0 {
        *canonical = false;
    }
    let start = *at + skip;
    let tail = line.get(start..)?;
    // The `=` first, then the `,` after it: the comma search starts past the key. A member without
    // an `=` either has none left in the line or puts a `,` in what is read here as its key.
    let Some(eq) = swar::find_byte(tail, b'=') else {
        return Some(Found::NO_EQ);
    };
    let key = tail.get(..eq)?;
    // One pass checks the key's bytes and takes its fingerprint (the duplicate check's).
    let (keychars, fp) =
        key.iter().fold((true, FNV_OFFSET), |(ok, h), &c| (ok & (class(c) & KEYCHAR != 0), fnv_step(h, c)));
    let key_ok = matches!(key.first(), Some(&c) if class(c) & KEY_FIRST != 0) && key.len() <= 256 && keychars;
    if !key_ok && key.contains(&b',') {
        return Some(Found::NO_EQ);
    }
    let after = tail.get(eq + 1..)?;
    let len = swar::find_byte(after, b',').unwrap_or(after.len());
    let raw = after.get(..len)?;
    // Past the comma, if any; a comma that ends the line leaves an empty member.
    let value_at = start + eq + 1;
    *at = value_at + len + usize::from(len < after.len());
    if len < after.len() && *at == line.len() {
        *canonical = false;
    }
    // Trailing OWS (not part of the value); most members have none.
    let trimmed = match raw.last() {
        Some(b' ' | b'\t') => {
            *canonical = false;
            raw.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(0, |i| i + 1)
        }
        _ => raw.len(),
    };
    let value = raw.get(..trimmed)?;
    let value_ok = matches!(value.last(), Some(&c) if class(c) & NBLK != 0) && value.len() <= 256 && all_chr(value);
    Some(Found {
        key: Span(key_ok.then_some((start, start + eq))),
        value: Span(value_ok.then_some((value_at, value_at + trimmed))),
        no_eq: false,
        fp,
    })
}

/// The list so far, while its lines are parsed: what [`TraceState`] keeps of it, and the keys
/// seen for the duplicate check.
struct Scan<'a> {
    /// Bytes of the lines so far, with a separator each.
    total: usize,
    /// Non-empty list-members so far (duplicates included: the 32 limit is on the list received).
    raw: usize,
    /// Keys kept so far: fingerprints, and the keys to confirm a fingerprint match (not zeroed up
    /// front: most lists have a member or two).
    seen: ArrayVec<(u32, &'a [u8]), MAX_MEMBERS>,
    /// A 256-bit filter of the keys kept: a key not in it was not seen (no search), so a list of
    /// distinct keys (the usual case) is not a quadratic scan.
    filter: [u64; 4],
    /// As [`TraceState`]'s fields of the same names.
    canonical: bool,
    len: u8,
    skipped: u32,
}

impl<'a> Scan<'a> {
    fn new() -> Self {
        Scan { total: 0, raw: 0, seen: ArrayVec::new(), filter: [0; 4], canonical: true, len: 0, skipped: 0 }
    }

    /// Check the members of the `index`-th line and add them to the list.
    #[inline(always)]
    fn line(&mut self, line: &'a [u8], index: usize) -> Result<(), Error> {
        self.total = self.total.saturating_add(line.len()).saturating_add(1);
        if self.total > MAX_INPUT_LEN {
            return Err(Error::TooLong);
        }
        // Every byte of a line whose members parse is visible ASCII or a tab (each one was a key,
        // value, whitespace or separator byte of its class), so the line's own check of that runs
        // only to name an error: `NotAscii` before any other, as when it ran first.
        let name = |e: Error| if carrier::is_visible_ascii_or_tab(line) { e } else { Error::NotAscii };
        if index >= MAX_LINES {
            return Err(name(Error::TooLong));
        }
        self.canonical &= index == 0;
        let mut at = 0usize;
        while let Some(m) = next_member(line, &mut at, &mut self.canonical) {
            let (key, value, fp) = (m.key.get(line), m.value.get(line), m.fp);
            let (Some(key), Some(_)) = (key, value) else { return Err(name(m.error())) };
            if self.raw >= MAX_MEMBERS {
                return Err(name(Error::TracestateTooManyMembers));
            }
            let (word, bit) = (usize::from((fp >> 6) as u8 & 3), 1u64 << (fp & 63));
            let maybe_seen = self.filter.get(word).is_some_and(|w| w & bit != 0);
            if maybe_seen && self.seen.iter().any(|&(f, k)| f == fp && k == key) {
                // Keep the first occurrence (module docs, w3c/trace-context#477).
                self.skipped |= 1 << self.raw;
                self.canonical = false;
            } else if self.seen.try_push((fp, key)).is_ok() {
                if let Some(w) = self.filter.get_mut(word) {
                    *w |= bit;
                }
                self.len += 1;
            }
            self.raw += 1;
        }
        Ok(())
    }

    /// The list of `n_lines` lines (not yet in the result).
    #[inline(always)]
    fn finish(&self, n_lines: u8) -> TraceState<'static> {
        TraceState {
            len: self.len,
            skipped: self.skipped,
            canonical: self.canonical && n_lines == 1,
            keys: self.filter.iter().fold(0, |keys, w| keys | w),
            ..TraceState::EMPTY
        }
    }
}

impl<'a> TraceState<'a> {
    /// No members.
    pub const EMPTY: TraceState<'static> =
        TraceState { lines: [None; MAX_LINES], n_lines: 0, len: 0, skipped: 0, canonical: false, keys: 0 };

    /// Parse one header value.
    pub fn parse(value: &'a str) -> Result<Self, Error> {
        // Built as the value returned, not parsed into a `TraceState` of its own and moved out:
        // that was 144 bytes zeroed, then copied, the copy's wide loads waiting on the parse's
        // small stores (one member: 390 → 373 instructions, 20.4 → 18.2 ns in a loop).
        let mut scan = Scan::new();
        scan.line(value.as_bytes(), 0)?;
        let mut lines = [None; MAX_LINES];
        if let Some(first) = lines.first_mut() {
            *first = Some(value);
        }
        Ok(TraceState { lines, n_lines: 1, ..scan.finish(1) })
    }

    /// Parse every `tracestate` line of `headers` as one list. `Ok(None)` when there is none.
    pub fn extract<E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Self>, Error> {
        let mut out = TraceState::EMPTY;
        Ok(out.extract_into(headers)?.then_some(out))
    }

    /// [`extract`](Self::extract) into `self`, where a context keeps it: the value (~150 bytes) is
    /// not returned and moved again. `Ok(false)` when there is no line; empty then and on an error.
    pub(crate) fn extract_into<E: Extractor + ?Sized>(&mut self, headers: &'a E) -> Result<bool, Error> {
        let (lines, n, more) = carrier::collect::<MAX_LINES, E>(headers, HEADER);
        if more {
            self.clear();
            return Err(Error::TooLong);
        }
        if n == 0 {
            self.clear();
            return Ok(false);
        }
        self.parse_into(lines.get(..n).unwrap_or_default().iter().copied()).map(|()| true)
    }

    /// Parse several header lines as one comma-joined list.
    pub fn parse_lines<I: IntoIterator<Item = &'a [u8]>>(lines: I) -> Result<Self, Error> {
        let mut out = TraceState::EMPTY;
        out.parse_into(lines)?;
        Ok(out)
    }

    /// [`parse_lines`](Self::parse_lines) into `self`; empty on an error.
    fn parse_into<L: Line<'a>, I: IntoIterator<Item = L>>(&mut self, lines: I) -> Result<(), Error> {
        self.clear();
        let parsed = self.fill(lines);
        if parsed.is_err() {
            self.clear();
        }
        parsed
    }

    /// Empty `self`: every reader stops at `n_lines`, so the lines past it need not be cleared (a
    /// whole [`EMPTY`](Self::EMPTY) written over it is 144 bytes of stores).
    fn clear(&mut self) {
        (self.n_lines, self.len, self.skipped, self.canonical, self.keys) = (0, 0, 0, false, 0);
    }

    /// The body of [`parse_into`](Self::parse_into), on an empty `self`.
    fn fill<L: Line<'a>, I: IntoIterator<Item = L>>(&mut self, lines: I) -> Result<(), Error> {
        let mut scan = Scan::new();
        for given in lines {
            let index = usize::from(self.n_lines);
            scan.line(given.bytes(), index)?;
            let slot = self.lines.get_mut(index).ok_or(Error::TooLong)?;
            *slot = Some(given.text()?);
            self.n_lines += 1;
        }
        let Self { len, skipped, canonical, keys, .. } = scan.finish(self.n_lines);
        (self.len, self.skipped, self.canonical, self.keys) = (len, skipped, canonical, keys);
        Ok(())
    }

    /// The canonical form ([`Display`](fmt::Display)) without writing it, when the one line
    /// received is already canonical: no optional whitespace, no empty member, no repeated key. What
    /// most senders send, so a writer can pass it on as it came.
    ///
    /// ```
    /// use tracebridge::TraceState;
    ///
    /// assert_eq!(TraceState::parse("a=1,b=2").map(|t| t.as_canonical_str()), Ok(Some("a=1,b=2")));
    /// assert_eq!(TraceState::parse("a=1, b=2").map(|t| t.as_canonical_str()), Ok(None));
    /// ```
    pub fn as_canonical_str(&self) -> Option<&'a str> {
        match self.lines {
            [line, ..] if self.canonical && self.n_lines == 1 => line,
            _ => None,
        }
    }

    /// The members in order (the first occurrence of each key).
    pub fn members(&self) -> impl Iterator<Item = Member<'a>> + '_ {
        Members {
            lines: self.lines.get(..usize::from(self.n_lines)).unwrap_or_default(),
            at: 0,
            index: 0,
            skipped: self.skipped,
        }
    }

    /// How many list-members were skipped because their key had appeared before.
    pub fn duplicates(&self) -> usize {
        self.skipped.count_ones() as usize
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`.
    ///
    /// Found by its `=` rather than by walking the members: in a validated line every `=` separates
    /// one member's key from its value (a value cannot hold `=`, §3.3.1.3.2), so a member with this
    /// key is a `key=` preceded by the line's start, a comma or optional whitespace. The first such
    /// member in the lines is the one kept (a later duplicate is the one skipped). Two lookups per
    /// W3C read (our member and Datadog's), most often for a key that is not there: such a key is
    /// mostly ruled out by its fingerprint before any line is read.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        // No member at all (the usual tracestate of a context an SDK started): not even a hash.
        if self.keys == 0 {
            return None;
        }
        self.get_key(Key::new(key))
    }

    /// [`get`](Self::get) with the key's fingerprint already taken, for the keys every W3C read
    /// looks up (ours, Datadog's): hashing `tracebridge` cost more than ruling it out.
    pub(crate) fn get_key(&self, key: Key<'_>) -> Option<&'a str> {
        let k = key.text.as_bytes();
        if self.keys & (1u64 << (key.fp & 63)) == 0 {
            return None;
        }
        for &line in self.lines.get(..usize::from(self.n_lines)).unwrap_or_default().iter().flatten() {
            let bytes = line.as_bytes();
            let mut from = 0usize;
            while let Some(eq) = bytes.get(from..).and_then(|rest| swar::find_byte(rest, b'=')).map(|i| from + i) {
                from = eq + 1;
                let Some(start) = eq.checked_sub(k.len()) else { continue };
                let at_member_start =
                    start.checked_sub(1).is_none_or(|b| matches!(bytes.get(b), Some(b',' | b' ' | b'\t')));
                if !at_member_start || bytes.get(start..eq) != Some(k) {
                    continue;
                }
                let rest = line.get(eq + 1..).unwrap_or_default();
                let end = swar::find_byte(rest.as_bytes(), b',').unwrap_or(rest.len());
                // Trailing optional whitespace is not part of the value; leading spaces are (`chr`).
                return Some(rest.get(..end).unwrap_or_default().trim_end_matches([' ', '\t']));
            }
        }
        None
    }

    /// Write this list with our member `key` refreshed at the front (`Some(value)`) or removed
    /// (`None`), keeping at most
    /// [`MAX_MEMBERS`] members and at most `max_len` bytes (capped at [`MAX_OUTPUT_LEN`]).
    ///
    /// When members must go, they go by the spec's rules
    /// ([§3.3.1.5](https://www.w3.org/TR/trace-context/#tracestate-limits)): first members longer than
    /// 128 characters, then from the end. Our member is never dropped (the caller checks it is valid).
    /// The number of dropped members is reported in [`TraceStateBuf::dropped`].
    ///
    /// The result is a 4 KiB buffer returned by value; on a hot path keep one and use
    /// [`write_into`](Self::write_into) (the translator does): moving it costs more than writing it
    /// (measured: ~1.7 µs per move on a 2-vCPU EPYC VM, where glibc copies it with `rep movsb`).
    ///
    /// ```
    /// use tracebridge::TraceState;
    ///
    /// let ts = TraceState::parse("a=1,mine=old,b=2")?;
    /// let out = ts.write("mine", Some("new"), 512);
    /// assert_eq!(out.as_str(), "mine=new,a=1,b=2");
    /// assert_eq!(ts.write("mine", None, 512).as_str(), "a=1,b=2");
    /// assert_eq!(out.dropped(), 0);
    /// # Ok::<(), tracebridge::Error>(())
    /// ```
    pub fn write(&self, key: &str, value: Option<&str>, max_len: usize) -> TraceStateBuf {
        let mut out = TraceStateBuf::new();
        self.write_into(key, value, max_len, &mut out);
        out
    }

    /// [`write`](Self::write) into an existing buffer (replacing its contents), so a caller that
    /// keeps one does not copy 4 KiB per write.
    pub fn write_into(&self, key: &str, value: Option<&str>, max_len: usize, out: &mut TraceStateBuf) {
        self.write_into_key(Key::new(key), value, max_len, out);
    }

    /// [`write_into`](Self::write_into) with the key's fingerprint taken.
    pub(crate) fn write_into_key(&self, key: Key<'_>, value: Option<&str>, max_len: usize, out: &mut TraceStateBuf) {
        let max_len = max_len.min(MAX_OUTPUT_LEN);
        let front = value.map(|v| (key.text, v));
        if self.write_as_received(key, front, max_len, out) {
            return;
        }
        // The members, found once; per member its length, or 0 when it is ours (replaced by
        // `front`) or dropped.
        let mut members: [Member<'a>; MAX_MEMBERS] = [("", ""); MAX_MEMBERS];
        let mut lens = [0u16; MAX_MEMBERS];
        let mut count = usize::from(front.is_some());
        let mut bytes = front.map_or(0, |(k, v)| k.len() + 1 + v.len());
        for ((k, v), (slot, member)) in self.members().zip(lens.iter_mut().zip(members.iter_mut())) {
            *member = (k, v);
            if k == key.text {
                continue;
            }
            let len = k.len() + 1 + v.len();
            *slot = u16::try_from(len).unwrap_or(u16::MAX);
            count += 1;
            bytes += usize::from(bytes > 0) + len;
        }
        let mut dropped = 0u8;
        let mut drop_where =
            |lens: &mut [u16; MAX_MEMBERS], limit_ok: &dyn Fn(usize, usize) -> bool, long_only: bool| {
                for slot in lens.iter_mut().rev() {
                    if limit_ok(count, bytes) {
                        break;
                    }
                    let len = usize::from(*slot);
                    if len == 0 || (long_only && len <= TRUNCATE_FIRST_OVER) {
                        continue;
                    }
                    *slot = 0;
                    count -= 1;
                    bytes = bytes.saturating_sub(len + 1);
                    dropped += 1;
                }
            };
        // Over the member limit (only possible when `front` is new): drop from the end.
        drop_where(&mut lens, &|count, _| count <= MAX_MEMBERS, false);
        // Over the length limit: long members first, then from the end.
        drop_where(&mut lens, &|_, bytes| bytes <= max_len, true);
        drop_where(&mut lens, &|_, bytes| bytes <= max_len, false);
        out.buf.clear();
        out.dropped = dropped;
        if let Some((k, v)) = front {
            out.push(k, v);
        }
        for ((k, v), len) in members.into_iter().zip(lens) {
            if len != 0 {
                out.push(k, v);
            }
        }
    }
}

impl TraceState<'_> {
    /// [`write_into`](Self::write_into) when nothing but `front` changes: one line received in
    /// canonical form, without a member `key`, and within both limits with `front` added. Then the
    /// result is `front` and the line as it came, copied whole instead of member by member: what a
    /// W3C hop usually receives. False (and `out` untouched) otherwise.
    fn write_as_received(
        &self,
        key: Key<'_>,
        front: Option<Member<'_>>,
        max_len: usize,
        out: &mut TraceStateBuf,
    ) -> bool {
        let line = if self.len == 0 { Some("") } else { self.as_canonical_str() };
        let Some(line) = line else { return false };
        let front_len = front.map_or(0, |(k, v)| k.len() + 1 + v.len());
        let bytes = front_len + usize::from(front_len > 0 && !line.is_empty()) + line.len();
        let count = usize::from(self.len) + usize::from(front.is_some());
        if bytes > max_len || count > MAX_MEMBERS || self.get_key(key).is_some() {
            return false;
        }
        out.buf.clear();
        out.dropped = 0;
        if let Some((k, v)) = front {
            out.push(k, v);
        }
        out.push_list(line);
        true
    }
}

/// The members of validated lines, walked with plain byte searches (the lines were checked when
/// parsed, so every non-empty member has a `=`).
struct Members<'l, 'a> {
    lines: &'l [Option<&'a str>],
    /// Position in `lines[0]`.
    at: usize,
    /// Non-empty members seen, for [`TraceState::skipped`].
    index: usize,
    skipped: u32,
}

impl<'a> Iterator for Members<'_, 'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        loop {
            let (&line, rest) = self.lines.split_first()?;
            let Some(tail) = line.and_then(|l| l.get(self.at..)).filter(|t| !t.is_empty()) else {
                self.lines = rest;
                self.at = 0;
                continue;
            };
            let len = tail.bytes().position(|c| c == b',').unwrap_or(tail.len());
            self.at += len + 1;
            let member = trim_ows(tail.get(..len).unwrap_or_default());
            if member.is_empty() {
                continue;
            }
            let i = self.index;
            self.index += 1;
            if self.skipped & (1u32 << (i % 32)) != 0 {
                continue;
            }
            let eq = member.bytes().position(|c| c == b'=').unwrap_or(member.len());
            return Some((member.get(..eq).unwrap_or_default(), member.get(eq + 1..).unwrap_or_default()));
        }
    }
}

/// Optional whitespace around a list-member (space or tab).
fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// The canonical form: members in the order received, joined by `,`, no optional whitespace.
impl fmt::Display for TraceState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.members().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TraceState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.members()).finish()
    }
}

/// A written tracestate value, in a fixed buffer (no heap). The buffer is not zeroed when made and
/// its text is read without a UTF-8 scan (`arrayvec::ArrayString`): 4 KiB zeroed per written
/// tracestate was a quarter of a whole request's instructions (callgrind).
#[derive(Clone)]
pub struct TraceStateBuf {
    buf: ArrayString<MAX_OUTPUT_LEN>,
    dropped: u8,
}

impl Default for TraceStateBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl TraceStateBuf {
    /// An empty buffer.
    #[inline]
    pub fn new() -> Self {
        // `new`, not `new_const`: the const constructor zeroes the buffer.
        TraceStateBuf { buf: ArrayString::new(), dropped: 0 }
    }

    /// Empty it (nothing dropped), to reuse it.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.dropped = 0;
    }

    /// Append `,k=v` (or `k=v` first), whole or not at all.
    fn push(&mut self, k: &str, v: &str) {
        let sep = !self.buf.is_empty();
        if self.buf.remaining_capacity() < usize::from(sep) + k.len() + 1 + v.len() {
            return;
        }
        // Room was checked: none of these can fail.
        if sep {
            let _ = self.buf.try_push(',');
        }
        let _ = self.buf.try_push_str(k);
        let _ = self.buf.try_push('=');
        let _ = self.buf.try_push_str(v);
    }

    /// Append the list `list` (`,list` after what is there), whole or not at all.
    fn push_list(&mut self, list: &str) {
        if list.is_empty() {
            return;
        }
        let sep = !self.buf.is_empty();
        if self.buf.remaining_capacity() < usize::from(sep) + list.len() {
            return;
        }
        if sep {
            let _ = self.buf.try_push(',');
        }
        let _ = self.buf.try_push_str(list);
    }

    /// The header value; empty means "write no tracestate header" (an empty one is never sent).
    pub fn as_str(&self) -> &str {
        self.buf.as_str()
    }

    /// How many received members were dropped to fit the limits.
    pub fn dropped(&self) -> usize {
        usize::from(self.dropped)
    }
}

impl fmt::Debug for TraceStateBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceStateBuf").field("value", &self.as_str()).field("dropped", &self.dropped).finish()
    }
}

const fn key_char(c: u8) -> bool {
    matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@')
}

/// True when `key` matches `( lcalpha / DIGIT ) 0*255 ( keychar )` (module docs).
pub fn is_valid_key(key: &str) -> bool {
    matches!(key.as_bytes(), [b'a'..=b'z' | b'0'..=b'9', rest @ ..] if rest.len() <= 255 && rest.iter().all(|&c| key_char(c)))
}

/// True when `value` matches `0*255(chr) nblk-chr`.
pub fn is_valid_value(value: &str) -> bool {
    let nblk = |c: u8| matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    match value.as_bytes() {
        [init @ .., last] => init.len() <= 255 && nblk(*last) && init.iter().all(|&c| c == b' ' || nblk(c)),
        [] => false,
    }
}

/// A `tracestate` line as the parser takes it: bytes from a carrier, or a `str` a caller has already
/// (then nothing is checked again: its UTF-8 was, and a second check of it was 14 % of parsing a
/// one-member list).
pub(crate) trait Line<'a>: Copy {
    /// The line's bytes.
    fn bytes(self) -> &'a [u8];
    /// The line as text, once its members parsed (so every byte is visible ASCII or a tab).
    fn text(self) -> Result<&'a str, Error>;
}

impl<'a> Line<'a> for &'a [u8] {
    fn bytes(self) -> &'a [u8] {
        self
    }

    fn text(self) -> Result<&'a str, Error> {
        core::str::from_utf8(self).map_err(|_| Error::NotAscii)
    }
}

impl<'a> Line<'a> for &'a str {
    fn bytes(self) -> &'a [u8] {
        self.as_bytes()
    }

    fn text(self) -> Result<&'a str, Error> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::{String, ToString};

    /// A `str` (no second UTF-8 check) and the same bytes from a carrier parse alike: the same
    /// members, canonical form and error, for every byte class at every place of a member.
    #[test]
    fn str_and_bytes_parse_alike() {
        let mut inputs = std::vec::Vec::new();
        for c in ['\t', ' ', '\u{1}', '\u{1f}', '\u{7f}', 'é', '\u{80}', '中', '=', ',', 'a'] {
            for text in [format!("{c}a=1"), format!("a{c}=1"), format!("a={c}1"), format!("a=1{c}"), format!("a=1,{c}")]
            {
                inputs.push(text);
            }
        }
        inputs.push("a=".repeat(300));
        inputs.push(format!("a={}", "v".repeat(600)));
        for text in &inputs {
            let (s, b) = (TraceState::parse(text), TraceState::parse_lines([text.as_bytes()]));
            let show =
                |t: Result<TraceState<'_>, Error>| t.map(|t| (t.to_string(), t.as_canonical_str().map(String::from)));
            assert_eq!(show(s), show(b), "{text:?}");
        }
        assert_eq!(TraceState::parse("a=\u{e9}").map(|t| t.len()), Err(Error::NotAscii));
        assert_eq!(TraceState::parse("a=1,\tb=2").map(|t| t.len()), Ok(2));
    }

    /// A byte that is neither visible ASCII nor a tab makes any list `NotAscii`, wherever it is and
    /// whatever else is wrong with the list (the line's check runs only when its members fail, and
    /// names the error then); without one, the other errors stand.
    #[test]
    fn a_byte_not_visible_is_named_before_any_other_error() {
        let many = (0..33).map(|i| format!("k{i}=v")).collect::<std::vec::Vec<_>>().join(",");
        let lines = |last: &[u8]| {
            let mut all = std::vec![b"a=1".to_vec(); MAX_LINES];
            all.push(last.to_vec());
            all
        };
        for b in (0..=255u8).filter(|&b| !(0x20..0x7f).contains(&b) && b != b'\t') {
            let c = char::from(b);
            for text in [
                format!("{c}a=1"),
                format!("a{c}=1"),
                format!("a={c}1"),
                format!("a=1{c}"),
                format!("a=1,{c}"),
                format!("a=1,b{c}"),
                format!("A{c}=1"),
                format!("{many},x={c}"),
                format!("{many}{c}"),
            ] {
                let mut bytes = text.into_bytes();
                // The byte itself, not its UTF-8 form (bytes past 0x7f come from carriers as they are).
                bytes.retain(|&x| x < 0x80 || x == 0xc2 || x == 0xc3);
                bytes = bytes.iter().map(|&x| if x == 0xc2 || x == 0xc3 { b } else { x }).collect();
                let got = TraceState::parse_lines([&bytes[..]]).map(|t| t.len());
                assert_eq!(got, Err(Error::NotAscii), "{b:#04x} {bytes:?}");
            }
            let all = lines(&[b'a', b'=', b]);
            assert_eq!(TraceState::parse_lines(all.iter().map(|l| &l[..])).map(|t| t.len()), Err(Error::NotAscii));
        }
        assert_eq!(TraceState::parse(&many).map(|t| t.len()), Err(Error::TracestateTooManyMembers));
        let all = lines(b"a=2");
        assert_eq!(TraceState::parse_lines(all.iter().map(|l| &l[..])).map(|t| t.len()), Err(Error::TooLong));
        assert!(TraceState::parse("a=1,b").is_err_and(|e| e != Error::NotAscii));
    }

    /// The word-at-a-time check agrees with the grammar's byte classes for every byte, at every
    /// position of a word and of the padded tail.
    #[test]
    fn all_chr_is_the_value_grammar() {
        // Words and their tail, and (past 16 bytes) whole blocks and an overlapping last one.
        for len in 1..=34 {
            for at in 0..len {
                // `,` ends a member before its value is checked.
                for b in (0..=255u8).filter(|&b| b != b',') {
                    let mut value = std::vec![b'x'; len];
                    if let Some(slot) = value.get_mut(at) {
                        *slot = b;
                    }
                    let want = class(b) & (NBLK | SPACE) != 0;
                    assert_eq!(all_chr(&value), want, "byte {b:#04x} at {at} of {len}");
                }
            }
        }
        assert!(all_chr(b""));
    }

    #[test]
    fn parses_and_canonicalises() {
        let ts = TraceState::parse(" rojo=00f067aa0ba902b7 ,, congo=t61rcWkgMzE\t");
        assert_eq!(ts.map(|t| t.to_string()).as_deref(), Ok("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
    }

    #[test]
    fn lines_are_combined() {
        let lines: [&[u8]; 2] = [b"a=1,b=2", b"c=3"];
        let ts = TraceState::parse_lines(lines);
        assert_eq!(ts.map(|t| t.len()), Ok(3));
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("a"));
        assert!(is_valid_key("tenant@system"));
        assert!(is_valid_key("0tenant@s"));
        assert!(is_valid_key("0simple"));
        // The flat key rule (module docs): `@` anywhere after the first character, any number of times.
        assert!(is_valid_key("foo@"));
        assert!(is_valid_key("foo@@bar"));
        assert!(is_valid_key("foo@bar@baz"));
        assert!(is_valid_key("t@0sys"));
        assert!(is_valid_key(&format!("t@{}", "v".repeat(15))));
        assert!(is_valid_key(&format!("{}@v", "t".repeat(242))));
        assert!(!is_valid_key("@foo"));
        assert!(!is_valid_key("Upper"));
        assert!(!is_valid_key("foo.bar"));
        assert!(!is_valid_key("foo "));
        assert!(!is_valid_key(""));
        assert!(is_valid_key(&"a".repeat(256)));
        assert!(!is_valid_key(&"a".repeat(257)));
    }

    #[test]
    fn values() {
        assert!(is_valid_value("a b"));
        assert!(!is_valid_value("a "));
        assert!(!is_valid_value(""));
        assert!(!is_valid_value("a=b"));
        assert!(!is_valid_value("a,b"));
        assert!(is_valid_value(&"v".repeat(256)));
        assert!(!is_valid_value(&"v".repeat(257)));
    }

    #[test]
    fn limits() {
        let many: std::vec::Vec<_> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(TraceState::parse(&many.join(",")).err(), Some(Error::TracestateTooManyMembers));
        assert_eq!(TraceState::parse(&many.get(..32).unwrap_or_default().join(",")).map(|t| t.len()), Ok(32));
        // 32 list-members are counted as received, duplicates included.
        let dup: std::vec::Vec<_> = (0..32).map(|i| format!("k{i}=v")).chain(["k0=w".to_string()]).collect();
        assert_eq!(TraceState::parse(&dup.join(",")).err(), Some(Error::TracestateTooManyMembers));
        assert_eq!(TraceState::parse("a").err(), Some(Error::TracestateMember));
        assert_eq!(TraceState::parse("a=1\r\n").err(), Some(Error::NotAscii));
    }

    /// A parse into a tracestate that held members leaves none of them behind, when it fails and
    /// when there is no line.
    #[test]
    fn a_parse_into_a_used_tracestate_leaves_nothing_behind() {
        let mut ts = TraceState::parse("a=1").unwrap_or_default();
        let two: [&[u8]; 2] = [b"b=2", b"c=3"];
        ts = TraceState::parse_lines(two).unwrap_or(ts);
        assert_eq!(ts.extract_into(&[("tracestate", "d=4,E=5")]), Err(Error::TracestateKey));
        assert_eq!(
            (ts.len(), ts.members().count(), ts.to_string(), ts.as_canonical_str()),
            (0, 0, String::new(), None)
        );
        ts = TraceState::parse_lines(two).unwrap_or(ts);
        assert_eq!(ts.extract_into(&[("other", "x")]), Ok(false));
        assert_eq!((ts.members().count(), ts.get("b")), (0, None));
        // And a good one after it is only itself.
        assert_eq!(ts.extract_into(&[("tracestate", "f=6")]), Ok(true));
        assert!(ts.members().eq([("f", "6")]));
        assert_eq!(ts.as_canonical_str(), Some("f=6"));
    }

    /// An invalid member's error is the first the grammar meets (`=`, key, value), also when the
    /// parser meets an `=` of a later member first.
    #[test]
    fn errors_in_grammar_order() {
        let err = |v: &str| TraceState::parse(v).err();
        for (v, want) in [
            ("ab,c=1", Error::TracestateMember),
            ("a b ,c=1", Error::TracestateMember),
            ("x=1,ab,c=1", Error::TracestateMember),
            ("A=1", Error::TracestateKey),
            ("a b=1", Error::TracestateKey),
            ("=1,b=2", Error::TracestateKey),
            ("a= ,b=2", Error::TracestateValue),
            ("a=1=2,b=2", Error::TracestateValue),
        ] {
            assert_eq!(err(v), Some(want), "{v:?}");
        }
    }

    #[test]
    fn canonical_single_lines_are_passed_on_as_they_came() {
        let c = |v: &str| TraceState::parse(v).ok().and_then(|t| t.as_canonical_str().map(String::from));
        assert_eq!(c("a=1,b=2"), Some("a=1,b=2".into()));
        assert_eq!(c("a=1"), Some("a=1".into()));
        for not in ["a=1, b=2", " a=1", "a=1 ", "a=1,", ",a=1", "a=1,,b=2", "a=1,a=2", "a=1\t"] {
            assert_eq!(c(not), None, "{not:?}");
            // Whatever the spelling, Display is the canonical form.
            let ts = TraceState::parse(not).unwrap_or_default();
            assert!(TraceState::parse(&ts.to_string()).is_ok_and(|t| t.as_canonical_str().is_some() || t.is_empty()));
        }
        let two: [&[u8]; 2] = [b"a=1", b"b=2"];
        assert!(TraceState::parse_lines(two).is_ok_and(|t| t.as_canonical_str().is_none()));
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let one = TraceState::parse("foo=1,foo=2").map(|t| (t.to_string(), t.len(), t.duplicates()));
        assert_eq!(one, Ok(("foo=1".into(), 1, 1)));
        let lines: [&[u8]; 3] = [b"foo=1,bar=2", b"bar=3", b"baz=4,foo=5"];
        let ts = TraceState::parse_lines(lines).unwrap_or_default();
        assert!(ts.members().eq([("foo", "1"), ("bar", "2"), ("baz", "4")]));
        assert_eq!((ts.len(), ts.duplicates(), ts.get("bar")), (3, 2, Some("2")));
        assert_eq!(ts.write("tb", Some("x"), 512).as_str(), "tb=x,foo=1,bar=2,baz=4");
        assert_eq!(ts, TraceState::parse("foo=1,bar=2,baz=4").unwrap_or_default());
    }

    #[test]
    fn get_matches_whole_keys_only() {
        let ts = TraceState::parse("xdd=1, dd= two \t,ddx=3").unwrap_or_default();
        // Not a key ending in the one asked for, nor one starting with it; a value keeps its
        // leading space (`chr`) and loses the optional whitespace after it.
        assert_eq!(
            (ts.get("dd"), ts.get("d"), ts.get("xdd"), ts.get("ddx")),
            (Some(" two"), None, Some("1"), Some("3"))
        );
        assert_eq!((ts.get(""), ts.get("x")), (None, None));
        assert_eq!(TraceState::parse_lines([&b"a=1"[..], b"dd=2"]).map(|t| t.get("dd")), Ok(Some("2")));
    }

    #[test]
    fn trailing_separators_are_not_canonical() {
        // Found by the tracestate_write fuzz target: a line ending in empty members and OWS was
        // taken as canonical, and written as it came.
        for text in ["oo=f1,r=~,, ", "a=1, ", "a=1,\t,", "a=1,,"] {
            let ts = TraceState::parse(text).unwrap_or_default();
            assert_eq!(ts.as_canonical_str(), None, "{text:?}");
            assert_eq!(ts.write("tb", None, 512).as_str(), ts.to_string(), "{text:?}");
        }
        assert_eq!(TraceState::parse("a=1,b=2").map(|t| t.as_canonical_str()), Ok(Some("a=1,b=2")));
    }

    #[test]
    fn a_canonical_line_is_written_whole() {
        let ts = TraceState::parse("a=1,b=2").unwrap_or_default();
        assert_eq!(ts.write("tb", Some("x"), 512).as_str(), "tb=x,a=1,b=2");
        assert_eq!(ts.write("tb", None, 512).as_str(), "a=1,b=2");
        // Our member already there, or over the limit: member by member.
        assert_eq!(ts.write("b", Some("x"), 512).as_str(), "b=x,a=1");
        assert_eq!(ts.write("a", None, 512).as_str(), "b=2");
        let cut = ts.write("tb", Some("x"), 8);
        assert_eq!((cut.as_str(), cut.dropped()), ("tb=x,a=1", 1));
        assert_eq!(TraceState::EMPTY.write("tb", Some("x"), 512).as_str(), "tb=x");
    }

    #[test]
    fn line_and_length_limits_bound_the_work() {
        // MAX_LINES lines are read, one more is refused, and the lines are not read any further
        // (an endless iterator terminates).
        let empty: &[u8] = b"";
        assert_eq!(TraceState::parse_lines(core::iter::repeat_n(empty, MAX_LINES)).map(|t| t.len()), Ok(0));
        assert_eq!(TraceState::parse_lines(core::iter::repeat_n(empty, MAX_LINES + 1)).err(), Some(Error::TooLong));
        assert_eq!(TraceState::parse_lines(core::iter::repeat(empty)).err(), Some(Error::TooLong));
        // MAX_INPUT_LEN counts each line plus one joining byte, and is checked before the bytes are:
        // an over-long line of NULs is too long, not NotAscii.
        let long = std::vec![b' '; MAX_INPUT_LEN - 1];
        assert_eq!(TraceState::parse_lines([&long[..]]).map(|t| t.len()), Ok(0));
        let long = std::vec![0u8; MAX_INPUT_LEN];
        assert_eq!(TraceState::parse_lines([&long[..]]).err(), Some(Error::TooLong));
        let half = std::vec![b' '; MAX_INPUT_LEN / 2];
        assert_eq!(TraceState::parse_lines([&half[..], &half[..]]).err(), Some(Error::TooLong));
        // MAX_MEMBERS counts across lines.
        let lines: std::vec::Vec<std::string::String> =
            (0..2).map(|l| (0..17).map(|i| format!("k{l}x{i}=v")).collect::<std::vec::Vec<_>>().join(",")).collect();
        let lines = lines.iter().map(|l| l.as_bytes());
        assert_eq!(TraceState::parse_lines(lines).err(), Some(Error::TracestateTooManyMembers));
    }

    #[test]
    fn write_front_and_truncate() {
        let ts = TraceState::parse("a=1,tb=old,b=2").unwrap_or_default();
        assert_eq!(ts.write("tb", Some("new"), 512).as_str(), "tb=new,a=1,b=2");
        assert_eq!(ts.write("zz", None, 512).as_str(), "a=1,tb=old,b=2");
        assert_eq!(ts.write("tb", None, 512).as_str(), "a=1,b=2");
        let long = format!("x={},y=1,z=2", "v".repeat(200));
        let ts = TraceState::parse(&long).unwrap_or_default();
        let out = ts.write("tb", Some("1"), 20);
        assert_eq!((out.as_str(), out.dropped()), ("tb=1,y=1,z=2", 1));
        let out = ts.write("tb", Some("1"), 8);
        assert_eq!((out.as_str(), out.dropped()), ("tb=1,y=1", 2));
        let full: std::vec::Vec<_> = (0..32).map(|i| format!("k{i}=v")).collect();
        let joined = full.join(",");
        let ts = TraceState::parse(&joined).unwrap_or_default();
        let out = ts.write("tb", Some("1"), 4096);
        assert_eq!(out.dropped(), 1);
        assert!(out.as_str().starts_with("tb=1,k0=v") && out.as_str().ends_with("k30=v"));
    }

    mod props {
        extern crate std;
        use super::super::*;
        use proptest::prelude::*;
        use std::string::{String, ToString};
        use std::vec::Vec;

        /// simple-key or multi-tenant-key, mostly short, sometimes at the length limits.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "[a-z][a-z0-9_*/-]{0,12}",
                2 => "[a-z0-9][a-z0-9_*/-]{0,12}@[a-z][a-z0-9_*/-]{0,13}",
                1 => "[a-z][a-z0-9_*/-]{200,255}",
                1 => "[a-z0-9][a-z0-9_*/-]{230,240}@[a-z][a-z0-9_*/-]{13}",
            ]
        }

        /// `0*255(chr) nblk-chr`.
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "[ \\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,20}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
                1 => "[ \\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{100,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
            ]
        }

        /// Up to 32 members with distinct keys.
        fn members() -> impl Strategy<Value = Vec<(String, String)>> {
            proptest::collection::vec((key(), value()), 0..=MAX_MEMBERS).prop_map(|mut v| {
                let mut seen = std::collections::BTreeSet::new();
                v.retain(|(k, _)| seen.insert(k.clone()));
                v
            })
        }

        fn join(m: &[(String, String)]) -> String {
            m.iter().map(|(k, v)| std::format!("{k}={v}")).collect::<Vec<_>>().join(",")
        }

        fn owned(ts: &TraceState<'_>) -> Vec<(String, String)> {
            ts.members().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        }

        /// The members kept, the duplicates dropped, and whether the list came in canonical form.
        type Outcome = Result<(Vec<(String, String)>, usize, bool), Error>;

        /// What the parser must make of `lines`, read the plain way from the grammar (module docs)
        /// with none of its shortcuts: split at commas, trim OWS, check key and value with
        /// [`is_valid_key`] and [`is_valid_value`]. The members kept, the duplicates dropped, and
        /// whether the list came in canonical form; or the error, found in the same order.
        fn reference(lines: &[&[u8]]) -> Outcome {
            let (mut members, mut dups, mut raw, mut total) = (Vec::new(), 0, 0, 0);
            let mut canonical = lines.len() == 1;
            for (i, line) in lines.iter().enumerate() {
                total += line.len() + 1;
                if total > MAX_INPUT_LEN {
                    return Err(Error::TooLong);
                }
                if !line.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\t') {
                    return Err(Error::NotAscii);
                }
                if i >= MAX_LINES {
                    return Err(Error::TooLong);
                }
                let text = std::str::from_utf8(line).map_err(|_| Error::NotAscii)?;
                if text.is_empty() {
                    continue;
                }
                for part in text.split(',') {
                    let member = part.trim_matches([' ', '\t']);
                    // An empty member, or OWS around one: allowed, not canonical.
                    canonical &= !member.is_empty() && member.len() == part.len();
                    if member.is_empty() {
                        continue;
                    }
                    let (k, v) = member.split_once('=').ok_or(Error::TracestateMember)?;
                    if !is_valid_key(k) {
                        return Err(Error::TracestateKey);
                    }
                    if !is_valid_value(v) {
                        return Err(Error::TracestateValue);
                    }
                    if raw >= MAX_MEMBERS {
                        return Err(Error::TracestateTooManyMembers);
                    }
                    raw += 1;
                    if members.iter().any(|(mk, _)| mk == k) {
                        dups += 1;
                        canonical = false;
                    } else {
                        members.push((k.to_string(), v.to_string()));
                    }
                }
            }
            Ok((members, dups, canonical))
        }

        /// The parser's answer in the reference's terms.
        fn parsed(lines: &[&[u8]]) -> Outcome {
            TraceState::parse_lines(lines.iter().copied())
                .map(|t| (owned(&t), t.duplicates(), t.as_canonical_str().is_some()))
        }

        proptest! {
            #[test]
            fn generated_lists_are_valid(k in key(), v in value()) {
                prop_assert!(is_valid_key(&k), "{}", k);
                prop_assert!(is_valid_value(&v), "{:?}", v);
            }

            #[test]
            fn parse_write_parse_is_identity(m in members()) {
                let text = join(&m);
                let parsed = TraceState::parse(&text);
                prop_assert_eq!(parsed.as_ref().map(owned), Ok(m.clone()));
                let Ok(parsed) = parsed else { return Ok(()) };
                let out = parsed.write("tracebridge-none", None, MAX_OUTPUT_LEN);
                if text.len() <= MAX_OUTPUT_LEN {
                    prop_assert_eq!(out.as_str(), text.as_str());
                    prop_assert_eq!(out.dropped(), 0);
                    let back = TraceState::parse(out.as_str()).map(|t| owned(&t));
                    prop_assert_eq!(back, Ok(m));
                } else {
                    prop_assert!(out.as_str().len() <= MAX_OUTPUT_LEN && out.dropped() > 0);
                }
            }

            #[test]
            fn write_with_front_respects_limits(
                m in members(), fk in key(), fv in value(), reuse in any::<Option<prop::sample::Index>>(),
                max_len in 0usize..5000,
            ) {
                // The front member is new, or replaces one of ours.
                let fk = match reuse {
                    Some(i) if !m.is_empty() => m.get(i.index(m.len())).map(|(k, _)| k.clone()).unwrap_or(fk),
                    _ => fk,
                };
                let text = join(&m);
                let Ok(ts) = TraceState::parse(&text) else { return Err(TestCaseError::fail("generated list invalid")) };
                let out = ts.write(&fk, Some(&fv), max_len);
                let s = out.as_str();
                let front_len = fk.len() + 1 + fv.len();
                // Never empty, front first; within the limit unless the front member alone exceeds it.
                prop_assert!(!s.is_empty());
                let front = std::format!("{fk}={fv}");
                prop_assert!(s.starts_with(&front));
                prop_assert!(s.len() <= max_len.min(MAX_OUTPUT_LEN).max(front_len), "{} > {}", s.len(), max_len);
                // A valid, canonical list (no empty members, no OWS) of at most 32 members.
                let back = TraceState::parse(s);
                prop_assert!(back.is_ok(), "{:?}", back);
                let Ok(back) = back else { return Ok(()) };
                prop_assert!(back.len() <= MAX_MEMBERS);
                prop_assert_eq!(back.to_string(), s);
                prop_assert_eq!(back.get(&fk), Some(fv.as_str()));
                // Every member we kept is one of ours, in our order; the count adds up.
                let ours: Vec<_> = m.iter().filter(|(k, _)| *k != fk).cloned().collect();
                let kept: Vec<_> = owned(&back).into_iter().skip(1).collect();
                let mut it = ours.iter();
                prop_assert!(kept.iter().all(|x| it.any(|y| y == x)));
                prop_assert_eq!(kept.len() + out.dropped(), ours.len());
            }

            #[test]
            fn get_finds_the_first_member_with_the_key(
                m in members(), dup in any::<Option<prop::sample::Index>>(), split in any::<prop::sample::Index>(),
                ows in any::<bool>(), other in key(),
            ) {
                // A repeated key, optional whitespace, empty members and two lines: what `get` skips
                // over by its `=`, checked against the member walk.
                let mut m = m;
                if let (Some(i), true) = (dup, (1..MAX_MEMBERS).contains(&m.len())) {
                    if let Some((k, _)) = m.get(i.index(m.len())).cloned() {
                        m.push((k, "later".into()));
                    }
                }
                let sep = if ows { " ,\t, " } else { "," };
                let parts: Vec<String> = m.iter().map(|(k, v)| std::format!("{k}={v}")).collect();
                let at = split.index(parts.len() + 1);
                let (head, tail) = parts.split_at(at);
                let (a, b) = (head.join(sep), tail.join(sep));
                let Ok(ts) = TraceState::parse_lines([a.as_bytes(), b.as_bytes()]) else {
                    return Err(TestCaseError::fail("generated list invalid"));
                };
                for k in m.iter().map(|(k, _)| k.as_str()).chain([other.as_str(), "dd"]) {
                    let walked = ts.members().find(|(mk, _)| *mk == k).map(|(_, v)| v);
                    prop_assert_eq!(ts.get(k), walked, "{}", k);
                }
            }

            #[test]
            fn a_list_passed_on_as_received_is_the_list_written_member_by_member(
                m in members(), fk in key(), fv in proptest::option::of(value()),
                reuse in any::<Option<prop::sample::Index>>(), max_len in 0usize..5000,
            ) {
                // `text` is canonical (written whole when it fits); `text` with an empty member
                // at the end is the same list, not canonical (written member by member).
                let fk = match reuse {
                    Some(i) if !m.is_empty() => m.get(i.index(m.len())).map_or(fk, |(k, _)| k.clone()),
                    _ => fk,
                };
                let text = join(&m);
                let (Ok(whole), Ok(walked)) = (TraceState::parse(&text), TraceState::parse_lines([text.as_bytes(), b","])) else {
                    return Err(TestCaseError::fail("generated list invalid"));
                };
                prop_assert!(whole.as_canonical_str().is_some());
                prop_assert!(walked.as_canonical_str().is_none());
                let (mut a, mut b) = (TraceStateBuf::new(), TraceStateBuf::new());
                whole.write_into(&fk, fv.as_deref(), max_len, &mut a);
                walked.write_into(&fk, fv.as_deref(), max_len, &mut b);
                prop_assert_eq!((a.as_str(), a.dropped()), (b.as_str(), b.dropped()));
            }

            /// Lines of the bytes that decide the grammar (separators, OWS, `=`, key and value
            /// characters, characters valid in a value only, controls, non-ASCII), several lines.
            #[test]
            fn parse_is_the_grammar(lines in proptest::collection::vec("[ab0-9@=, \\t_*/A~\\x7f\\x1fé-]{0,40}", 0..4)) {
                let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
                prop_assert_eq!(parsed(&lines), reference(&lines), "{:?}", lines);
            }

            /// Valid lists, one byte replaced, split over one or two lines, with OWS or without: the
            /// cases next to valid ones, and long keys and values (the length limits).
            #[test]
            fn parse_is_the_grammar_near_valid_lists(
                m in members(), at in any::<prop::sample::Index>(), byte in prop::sample::select(&b", \t=@_A~\x7f\x00aZ9"[..]),
                mutate in any::<bool>(), split in any::<prop::sample::Index>(), ows in any::<bool>(),
                ends in prop::sample::select(&["", " ", "\t", ",", " ,", ", "][..]),
            ) {
                let sep = if ows { " ,\t" } else { "," };
                let joined = m.iter().map(|(k, v)| std::format!("{k}={v}")).collect::<Vec<_>>().join(sep);
                // OWS or an empty member at either end (allowed, not canonical).
                let mut text = std::format!("{ends}{joined}{ends}").into_bytes();
                if mutate && !text.is_empty() {
                    let i = at.index(text.len());
                    if let Some(b) = text.get_mut(i) {
                        *b = byte;
                    }
                }
                let cut = split.index(text.len() + 1);
                let (a, b) = text.split_at(cut);
                for lines in [&[&text[..]][..], &[a, b][..]] {
                    prop_assert_eq!(parsed(lines), reference(lines), "{:?}", lines);
                }
            }

            #[test]
            fn parse_never_panics(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..6)) {
                let _ = TraceState::parse_lines(lines.iter().map(|l| &l[..]));
            }

            #[test]
            fn parse_list_like_never_panics(lines in proptest::collection::vec("[a-z0-9@=, \\t_*/-]{0,40}", 0..4)) {
                if let Ok(ts) = TraceState::parse_lines(lines.iter().map(|l| l.as_bytes())) {
                    let out = ts.write("tb", Some("1"), 64);
                    prop_assert!(TraceState::parse(out.as_str()).is_ok());
                }
            }
        }
    }
}
