//! The output area: fixed `i32` slots the JS reads through one `Int32Array`, including each string a
//! call hands back as one *piece* `[kind, a, b]`:
//!
//! | `kind` | the JS takes |
//! |---|---|
//! | `≥ 0` | `values[kind].substring(a, a + b)`: part of the string it wrote as entry `kind` (the string itself when it covers it) |
//! | [`LIT`] | literal `a` of its literal table, decoded once when core first wrote it |
//! | [`RAW`] | bytes `a .. a + b` of the byte area |
//! | [`NULL`] | `null` |
//!
//! Why: a new JS string from wasm bytes costs a native call (≈ 65 ns on the dev machine), while an id
//! or a value that arrived verbatim is a `substring` of the JS string it came in (≈ 10 ns, no copy),
//! and short values recur (`1`, `0`, `d`). Only bytes are compared (no format knowledge): a value
//! equal to a whole input value, or found inside an input value of at most [`SEARCH_MAX`] bytes, is a
//! source piece (where it was found last time is tried first); a value of at most [`LIT_MAX`] bytes
//! seen twice becomes a literal (so random ids never fill the table); anything else is raw. The raw
//! bytes of one call are contiguous up to [`RAW_END`], so the JS decodes them with one native call and
//! takes substrings. (Joining several pieces per string was measured and dropped: verifying and
//! joining them cost more than one decode.)
//!
//! Slots (`i32` indices):
//!
//! | at | what |
//! |---|---|
//! | [`RESULT`] | the call's result (per op; negative: an error code) |
//! | [`LIT_COUNT`] | literal updates this call: `[slot, byte offset, len]` each, from [`LITS`] |
//! | [`RAW_END`] | end of the raw bytes this call wrote (from the start of the byte area) |
//! | [`FIELDS`] .. | the op's fixed fields (see `ops`) |
//! | [`STRINGS`] + 3 × i | string `i` |
//! | [`NAMED`] + 3 × i | header `i` whose name is not one of `io::headers` (baggage: `uberctx-{key}`): `[at, name len, value len]`, its name then its value raw at byte `at` (value len −1: remove it) |
//!
//! Named headers are rare (a request with Jaeger or OT baggage) and come as raw bytes only: nothing is
//! tried to save a decode for them.

use crate::io::Input;

/// The call's result.
pub const RESULT: usize = 0;
/// How many literal updates follow at [`LITS`].
pub const LIT_COUNT: usize = 1;
/// End of this call's raw bytes.
pub const RAW_END: usize = 2;
/// First op field.
pub const FIELDS: usize = 4;
/// Op fields available.
pub const N_FIELDS: usize = 64;
/// String pieces.
pub const STRINGS: usize = FIELDS + N_FIELDS;
/// Strings available.
pub const N_STRINGS: usize = 32;
/// Literal updates.
pub const LITS: usize = STRINGS + 3 * N_STRINGS;
/// Literal updates per call at most (one per string).
pub const N_LIT_UPDATES: usize = N_STRINGS;
/// Named headers.
pub const NAMED: usize = LITS + 3 * N_LIT_UPDATES;
/// Named headers per call at most: more than a plan holds (core: 4 × 64 + 8 baggage writes and
/// removals).
pub const N_NAMED: usize = 512;
/// Size of the `i32` area.
pub const INTS: usize = NAMED + 3 * N_NAMED;
/// Size of the byte area (raw strings, literal updates, named headers): more than any call writes (a
/// plan's values fit 4 KiB, a tracestate 4 KiB, its baggage headers 26 KiB).
pub const BYTES: usize = 64 * 1024;
/// Piece kind: a literal.
pub const LIT: i32 = -1;
/// Piece kind: raw bytes.
pub const RAW: i32 = -2;
/// Piece kind: `null`.
pub const NULL: i32 = -3;
/// [`RESULT`] when the output area overflowed (cannot happen within core's limits; checked anyway).
pub const OVERFLOW: i32 = -1000;

/// Input values longer than this are sources only as a whole (an id is never searched for inside a
/// 4 KiB tracestate).
pub const SEARCH_MAX: usize = 256;
/// Longest literal kept in the table (the values that recur whole are short: `1`, `0`, `d`).
pub const LIT_MAX: usize = 16;
/// After a value was not found in the input, the search is skipped for this many calls of the same
/// output (an X-Ray trace id is never verbatim in its header: no use looking every time).
const MISSED_SKIP: u8 = 31;
/// Literal table: sets of two.
const LIT_SETS: usize = 128;
/// Literal slots.
pub const LIT_SLOTS: usize = 2 * LIT_SETS;
/// Where-found memory keys: op × 64 + output.
pub const KEYS: usize = 8 * 64;

/// Short values seen more than once, shared with the JS's copy (`[slot] → string`).
pub struct Literals {
    text: Vec<[u8; LIT_MAX]>,
    len: Vec<u8>,
    /// Per set: the hash of the last literal seen once and not kept.
    seen: Vec<u32>,
    /// Per set: the way used last (the other is replaced).
    last: Vec<u8>,
}

impl Default for Literals {
    fn default() -> Self {
        Literals {
            text: vec![[0; LIT_MAX]; LIT_SLOTS],
            len: vec![0; LIT_SLOTS],
            seen: vec![0; LIT_SETS],
            last: vec![0; LIT_SETS],
        }
    }
}

fn fnv(b: &[u8]) -> u32 {
    b.iter().fold(0x811c_9dc5u32, |h, &c| (h ^ u32::from(c)).wrapping_mul(0x0100_0193))
}

impl Literals {
    fn get(&self, slot: usize) -> Option<&[u8]> {
        let len = usize::from(*self.len.get(slot)?);
        self.text.get(slot)?.get(..len)
    }

    /// The slot holding `b`: `(slot, true)` when it was filled just now (the JS must learn it),
    /// `None` when `b` is seen for the first time (or `fill` is false: no room to tell the JS).
    fn intern(&mut self, b: &[u8], fill: bool) -> Option<(usize, bool)> {
        if b.is_empty() || b.len() > LIT_MAX {
            return None;
        }
        let h = fnv(b);
        let set = h as usize % LIT_SETS;
        for way in 0..2 {
            if self.get(2 * set + way).is_some_and(|l| same(l, b)) {
                *self.last.get_mut(set)? = way as u8;
                return Some((2 * set + way, false));
            }
        }
        let seen = self.seen.get_mut(set)?;
        if *seen != h || !fill {
            *seen = h;
            return None;
        }
        let way = 1 - usize::from(*self.last.get(set)? & 1);
        let slot = 2 * set + way;
        self.text.get_mut(slot)?.get_mut(..b.len())?.copy_from_slice(b);
        *self.len.get_mut(slot)? = b.len() as u8;
        *self.last.get_mut(set)? = way as u8;
        Some((slot, true))
    }
}

/// `a == b`, eight bytes at a time: wasm's `memcmp` goes byte by byte, and this runs for every
/// string handed back.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails = a8.remainder() == b8.remainder();
    let word = |c: &[u8]| c.try_into().map_or(0, u64::from_ne_bytes);
    tails && a8.zip(b8).all(|(x, y)| word(x) == word(y))
}

/// What an output was last time: where in the input, or not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Memo {
    Unknown,
    At(u16, u16),
    /// Not in the input; the search is skipped while this counts down.
    Missed(u8),
}

/// Where `value` is in the input, `(entry, offset)`: whole values, then inside values of at most
/// [`SEARCH_MAX`] bytes.
fn find(value: &[u8], src: &Input<'_>) -> Option<(usize, usize)> {
    let n = value.len();
    let first = *value.first()?;
    (0..src.len()).find_map(|e| {
        let s = src.source(e)?;
        if same(s, value) {
            return Some((e, 0));
        }
        if s.len() <= n || s.len() > SEARCH_MAX {
            return None;
        }
        let starts = s.get(..=s.len() - n)?.iter().enumerate().filter(|&(_, &b)| b == first);
        starts.map(|(off, _)| off).find(|&off| s.get(off..off + n).is_some_and(|w| same(w, value))).map(|off| (e, off))
    })
}

/// Everything the calls write into, and the tables that outlive calls.
pub struct Area {
    /// The `i32` slots.
    pub ints: Vec<i32>,
    /// Raw bytes and literal updates.
    pub bytes: Vec<u8>,
    lits: Literals,
    /// Per key: where the value was last time.
    memo: Vec<Memo>,
}

impl Default for Area {
    fn default() -> Self {
        Area { ints: vec![0; INTS], bytes: vec![0; BYTES], lits: Literals::default(), memo: vec![Memo::Unknown; KEYS] }
    }
}

impl Area {
    /// Start writing one call's output.
    pub fn begin(&mut self) -> Out<'_> {
        Out { area: self, bytes: 0, lit_updates: 0, overflow: false }
    }
}

/// One call's output.
pub struct Out<'a> {
    area: &'a mut Area,
    bytes: usize,
    lit_updates: usize,
    overflow: bool,
}

impl Out<'_> {
    fn put(&mut self, at: usize, v: i32) {
        match self.area.ints.get_mut(at) {
            Some(slot) => *slot = v,
            None => self.overflow = true,
        }
    }

    /// Op field `i`.
    pub fn field(&mut self, i: usize, v: i32) {
        if i >= N_FIELDS {
            self.overflow = true;
            return;
        }
        self.put(FIELDS + i, v);
    }

    /// Finish with `result` ([`OVERFLOW`] instead if anything did not fit).
    pub fn finish(mut self, result: i32) -> i32 {
        let result = if self.overflow { OVERFLOW } else { result };
        self.put(LIT_COUNT, self.lit_updates as i32);
        self.put(RAW_END, self.bytes as i32);
        self.put(RESULT, result);
        result
    }

    fn copy(&mut self, b: &[u8]) -> usize {
        let at = self.bytes;
        match self.area.bytes.get_mut(at..at + b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.bytes += b.len();
            }
            None => self.overflow = true,
        }
        at
    }

    /// Where `value` is in the input, remembering the answer for `key`.
    fn locate(&mut self, key: usize, value: &[u8], src: &Input<'_>) -> Option<(usize, usize)> {
        let memo = self.area.memo.get_mut(key)?;
        match *memo {
            Memo::At(e, off) => {
                let (e, off) = (usize::from(e), usize::from(off));
                if src.source(e).and_then(|s| s.get(off..off + value.len())).is_some_and(|s| same(s, value)) {
                    return Some((e, off));
                }
            }
            Memo::Missed(n) if n > 0 => {
                *memo = Memo::Missed(n - 1);
                return None;
            }
            Memo::Missed(_) | Memo::Unknown => {}
        }
        let found = find(value, src);
        *memo = match found.map(|(e, off)| (u16::try_from(e), u16::try_from(off))) {
            Some((Ok(e), Ok(off))) => Memo::At(e, off),
            _ => Memo::Missed(MISSED_SKIP),
        };
        found
    }

    fn piece(&mut self, slot: usize, kind: i32, a: usize, b: usize) {
        if slot >= N_STRINGS {
            self.overflow = true;
            return;
        }
        let at = STRINGS + 3 * slot;
        self.put(at, kind);
        self.put(at + 1, a as i32);
        self.put(at + 2, b as i32);
    }

    /// Named header `i`: `name` and `value` raw (`None`: remove it).
    pub fn named(&mut self, i: usize, name: &[u8], value: Option<&[u8]>) {
        if i >= N_NAMED {
            self.overflow = true;
            return;
        }
        let at = self.copy(name);
        let len = value.map_or(-1, |v| {
            self.copy(v);
            v.len() as i32
        });
        let slot = NAMED + 3 * i;
        self.put(slot, at as i32);
        self.put(slot + 1, name.len() as i32);
        self.put(slot + 2, len);
    }

    /// String `slot`: `None` is `null`. `key` names this output across calls (op × 64 + output), so
    /// that where it was last time is tried first; `src` is this call's input.
    pub fn string(&mut self, slot: usize, key: usize, value: Option<&[u8]>, src: &Input<'_>) {
        let Some(value) = value else { return self.piece(slot, NULL, 0, 0) };
        if let Some((e, off)) = self.locate(key, value, src) {
            return self.piece(slot, e as i32, off, value.len());
        }
        let room = self.lit_updates < N_LIT_UPDATES;
        match self.area.lits.intern(value, room) {
            Some((lit, new)) => {
                if new {
                    let at = self.copy(value);
                    let u = LITS + 3 * self.lit_updates;
                    self.put(u, lit as i32);
                    self.put(u + 1, at as i32);
                    self.put(u + 2, value.len() as i32);
                    self.lit_updates += 1;
                }
                self.piece(slot, LIT, lit, value.len());
            }
            None => {
                let at = self.copy(value);
                self.piece(slot, RAW, at, value.len());
            }
        }
    }
}

/// Read back what the JS would build (tests): string `slot` of the last call, with `lits` the JS's
/// literal table (updated here as the JS does), `values` the input strings.
#[cfg(test)]
pub fn read_string(area: &Area, lits: &mut Vec<Vec<u8>>, values: &[&[u8]], slot: usize) -> Option<Vec<u8>> {
    let int = |i: usize| area.ints.get(i).copied().unwrap_or_default();
    let bytes = |a: i32, b: i32| area.bytes.get(a as usize..(a + b) as usize).unwrap_or_default().to_vec();
    for u in 0..int(LIT_COUNT) as usize {
        let at = LITS + 3 * u;
        let slot = int(at) as usize;
        if lits.len() <= slot {
            lits.resize(slot + 1, Vec::new());
        }
        if let Some(l) = lits.get_mut(slot) {
            *l = bytes(int(at + 1), int(at + 2));
        }
    }
    let at = STRINGS + 3 * slot;
    let (kind, a, b) = (int(at), int(at + 1), int(at + 2));
    match kind {
        NULL => None,
        LIT => Some(lits.get(a as usize).cloned().unwrap_or_default()),
        RAW => Some(bytes(a, b)),
        k => {
            Some(values.get(k as usize).and_then(|v| v.get(a as usize..(a + b) as usize)).unwrap_or_default().to_vec())
        }
    }
}

/// Named header `i` of the last call as the JS reads it (tests): name, and value (`None`: remove).
#[cfg(test)]
pub fn read_named(area: &Area, i: usize) -> (Vec<u8>, Option<Vec<u8>>) {
    let int = |i: usize| area.ints.get(i).copied().unwrap_or_default();
    let bytes = |a: i32, b: i32| area.bytes.get(a as usize..(a + b) as usize).unwrap_or_default().to_vec();
    let (at, name, value) = (int(NAMED + 3 * i), int(NAMED + 3 * i + 1), int(NAMED + 3 * i + 2));
    (bytes(at, name), (value >= 0).then(|| bytes(at + name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{headers, Input, NOT_ASCII};

    /// Entries for `values`, back to back.
    fn input(values: &[&[u8]]) -> (Vec<u8>, Vec<[i32; 4]>) {
        let mut bytes = Vec::new();
        let mut entries = Vec::new();
        for v in values {
            entries.push([0, bytes.len() as i32, v.len() as i32, 0]);
            bytes.extend_from_slice(v);
        }
        (bytes, entries)
    }

    fn kind(area: &Area, slot: usize) -> i32 {
        area.ints.get(STRINGS + 3 * slot).copied().unwrap_or(i32::MIN)
    }

    /// One call writing `outputs` as strings 0.. with keys 0.., read back as the JS would.
    fn call(
        area: &mut Area,
        lits: &mut Vec<Vec<u8>>,
        values: &[&[u8]],
        outputs: &[Option<&[u8]>],
    ) -> Vec<Option<Vec<u8>>> {
        let names: Vec<_> = headers().collect();
        let (bytes, entries) = input(values);
        let src = Input::new(&bytes, &entries, &names);
        let mut out = area.begin();
        for (i, o) in outputs.iter().enumerate() {
            out.string(i, i, *o, &src);
        }
        assert_eq!(out.finish(1), 1);
        (0..outputs.len()).map(|i| read_string(area, lits, values, i)).collect()
    }

    #[test]
    fn values_that_arrived_verbatim_are_substrings() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let tp: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ts: &[u8] = b"a=1,b=2";
        let outs: [Option<&[u8]>; 4] =
            [Some(b"4bf92f3577b34da6a3ce929d0e0e4736"), Some(b"00f067aa0ba902b7"), None, Some(ts)];
        for _ in 0..2 {
            let got = call(&mut area, &mut lits, &[tp, ts], &outs);
            assert_eq!(got, outs.map(|o| o.map(<[u8]>::to_vec)));
            assert_eq!([kind(&area, 0), kind(&area, 1), kind(&area, 2), kind(&area, 3)], [0, 0, NULL, 1]);
        }
    }

    #[test]
    fn short_values_become_literals_on_the_second_call_random_ones_stay_raw() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        for round in 0..3 {
            let got = call(&mut area, &mut lits, &[b"x"], &[Some(b"1"), Some(b"00-11")]);
            assert_eq!(got, [Some(b"1".to_vec()), Some(b"00-11".to_vec())]);
            let updates = area.ints.get(LIT_COUNT).copied();
            match round {
                0 => assert_eq!((kind(&area, 0), kind(&area, 1), updates), (RAW, RAW, Some(0))),
                1 => assert_eq!((kind(&area, 0), kind(&area, 1), updates), (LIT, LIT, Some(2))),
                _ => assert_eq!((kind(&area, 0), kind(&area, 1), updates), (LIT, LIT, Some(0))),
            }
        }
        for r in [b"0123456789abcdef", b"fedcba9876543210"] {
            assert_eq!(call(&mut area, &mut lits, &[b"x"], &[Some(r)]), [Some(r.to_vec())]);
            assert_eq!(kind(&area, 0), RAW);
        }
        // Raw bytes of a call are contiguous, for one decode.
        call(&mut area, &mut lits, &[b"x"], &[Some(b"0123456789abcdef0"), Some(b"fedcba9876543210f")]);
        assert_eq!(area.ints.get(RAW_END).copied(), Some(34));
    }

    #[test]
    fn ids_are_not_searched_for_in_long_values() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let id: &[u8] = b"4bf92f3577b34da6a3ce929d0e0e4736";
        let long = [b"k=".as_slice(), id, &[b'v'; SEARCH_MAX]].concat();
        let got = call(&mut area, &mut lits, &[&long], &[Some(id), Some(&long)]);
        assert_eq!(got, [Some(id.to_vec()), Some(long.clone())]);
        assert_eq!(kind(&area, 0), RAW);
        assert_eq!(kind(&area, 1), 0, "whole values are still sources");
    }

    #[test]
    fn a_value_not_found_is_not_looked_for_again_for_a_while() {
        let names: Vec<_> = headers().collect();
        let mut area = Area::default();
        let id: &[u8] = b"4bf92f3577b34da6a3ce929d0e0e4736";
        let split: &[u8] = b"Root=1-4bf92f35-77b34da6a3ce929d0e0e4736";
        let (bytes, entries) = input(&[split]);
        let src = Input::new(&bytes, &entries, &names);
        assert_eq!(area.begin().locate(3, id, &src), None);
        assert_eq!(area.memo.get(3), Some(&Memo::Missed(MISSED_SKIP)));
        // Even when it is there now: skipped (raw is always right), then found once the count is out.
        let (bytes, entries) = input(&[id]);
        let src = Input::new(&bytes, &entries, &names);
        let found: Vec<_> = (0..=MISSED_SKIP).map(|_| area.begin().locate(3, id, &src)).collect();
        assert!(found.iter().take(MISSED_SKIP as usize).all(Option::is_none));
        assert_eq!(found.last(), Some(&Some((0, 0))));
        assert_eq!(area.memo.get(3), Some(&Memo::At(0, 0)));
    }

    #[test]
    fn not_ascii_entries_are_never_sources() {
        let names: Vec<_> = headers().collect();
        let mut area = Area::default();
        let bytes = b"\xc3\xa90123456789abcdef";
        let entries = [[0, 0, bytes.len() as i32, NOT_ASCII]];
        let src = Input::new(bytes, &entries, &names);
        let mut out = area.begin();
        out.string(0, 0, Some(b"0123456789abcdef"), &src);
        out.finish(1);
        assert_eq!(kind(&area, 0), RAW);
    }

    #[test]
    fn same_compares_every_byte() {
        let a = b"0123456789abcdefXYZ";
        for i in 0..a.len() {
            let mut b = *a;
            b[i] ^= 1;
            assert!(!same(a, &b), "{i}");
            assert!(same(&a[..i], &b[..i]));
        }
        assert!(!same(b"ab", b"abc"));
    }

    #[test]
    fn literal_table_survives_collisions() {
        let mut l = Literals::default();
        // Many distinct literals, each seen twice, then all looked up again: every one resolves to
        // its own bytes (a slot may have been reused; never a wrong match).
        let words: Vec<Vec<u8>> = (0..600).map(|i| format!("w{i}").into_bytes()).collect();
        for w in &words {
            assert_eq!(l.intern(w, true), None);
            let got = l.intern(w, true);
            assert!(matches!(got, Some((_, true))), "{got:?}");
        }
        for w in &words {
            if let Some((slot, false)) = l.intern(w, true) {
                assert_eq!(l.get(slot), Some(&w[..]));
            }
        }
        assert_eq!(l.intern(b"", true), None);
        assert_eq!(l.intern(&[b'x'; LIT_MAX + 1], true), None);
    }
}
