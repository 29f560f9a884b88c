//! The output area: fixed `i32` slots the JS reads through one `Int32Array`, and the strings a call
//! hands back, each as a short list of *pieces* the JS joins:
//!
//! | piece `[kind, a, b]` | the JS takes |
//! |---|---|
//! | `kind ≥ 0` | `values[kind].substring(a, a + b)`: part of the string it wrote as entry `kind` (the whole string when it covers it) |
//! | `kind = -1` ([`LIT`]) | literal `a` of its literal table, decoded once when core first wrote it |
//! | `kind = -2` ([`RAW`]) | bytes `a .. a + b` of the byte area, decoded (`latin1Slice`) |
//!
//! Why: a new JS string from wasm bytes costs a decode (≈ 70 ns each on the dev machine), while an id
//! that arrived verbatim in a header is a `substring` of the JS string it came in (≈ 10 ns, no copy),
//! and the constant parts core writes around ids (`00-`, `;Parent=`, `-1`) recur on every call. The
//! pieces are found by comparing bytes only (no format knowledge): runs of at least [`MIN_RUN`] bytes
//! that equal part of an input value become source pieces; what is between them becomes a literal
//! once it has been seen twice (so random ids never fill the table), or raw bytes. The last two
//! *shapes* per output are remembered and checked against the next value first (one pass over its
//! bytes), so the search runs only when a layout is new.
//!
//! Slots (`i32` indices):
//!
//! | at | what |
//! |---|---|
//! | [`RESULT`] | the call's result (per op; negative: an error code) |
//! | [`LIT_COUNT`] | literal updates this call: `[slot, byte offset, len]` each, from [`LITS`] |
//! | [`FIELDS`] .. | the op's fixed fields (see `ops`) |
//! | [`STRINGS`] + 2 × i | string `i`: `[first piece, piece count]`, count −1 for `null` |
//! | [`PIECES`] + 3 × p | piece `p` |

use crate::io::Input;

/// The call's result.
pub const RESULT: usize = 0;
/// How many literal updates follow at [`LITS`].
pub const LIT_COUNT: usize = 1;
/// First op field.
pub const FIELDS: usize = 2;
/// Op fields available.
pub const N_FIELDS: usize = 62;
/// String descriptors.
pub const STRINGS: usize = FIELDS + N_FIELDS;
/// String descriptors available.
pub const N_STRINGS: usize = 32;
/// Literal updates.
pub const LITS: usize = STRINGS + 2 * N_STRINGS;
/// Literal updates per call at most (more literals in one call are handed back raw).
pub const N_LIT_UPDATES: usize = 64;
/// Pieces.
pub const PIECES: usize = LITS + 3 * N_LIT_UPDATES;
/// Pieces per call at most.
pub const N_PIECES: usize = N_STRINGS * MAX_PIECES;
/// Size of the `i32` area.
pub const INTS: usize = PIECES + 3 * N_PIECES;
/// Size of the byte area (raw pieces and literal updates): more than any call writes (a plan's values
/// fit 2 KiB, a tracestate 4 KiB).
pub const BYTES: usize = 32 * 1024;
/// Piece kind: a literal.
pub const LIT: i32 = -1;
/// Piece kind: raw bytes.
pub const RAW: i32 = -2;
/// [`RESULT`] when the output area overflowed (cannot happen within core's limits; checked anyway).
pub const OVERFLOW: i32 = -1000;

/// Most pieces per string; a value that would need more is handed back whole.
pub const MAX_PIECES: usize = 8;
/// Shortest run taken from an input value.
pub const MIN_RUN: usize = 8;
/// Longest literal kept in the table.
pub const LIT_MAX: usize = 32;
/// Literal table: sets of two.
const LIT_SETS: usize = 128;
/// Literal slots.
pub const LIT_SLOTS: usize = 2 * LIT_SETS;
/// Shape cache keys: op × 64 + output.
pub const KEYS: usize = 8 * 64;

/// The constant parts core writes, shared with the JS's copy (`[slot] → string`).
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
            if self.get(2 * set + way) == Some(b) {
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
        let dst = self.text.get_mut(slot)?;
        dst.get_mut(..b.len())?.copy_from_slice(b);
        *self.len.get_mut(slot)? = b.len() as u8;
        *self.last.get_mut(set)? = way as u8;
        Some((slot, true))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Bytes `off .. off + len` of input entry `entry`.
    Src { entry: u16, off: u16, len: u16 },
    /// A literal slot.
    Lit { slot: u8, len: u8 },
    /// `len` bytes of the value, copied (only in shapes that are not cached).
    Raw { len: u16 },
}

impl Piece {
    fn len(&self) -> usize {
        match *self {
            Piece::Src { len, .. } | Piece::Raw { len } => usize::from(len),
            Piece::Lit { len, .. } => usize::from(len),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    pieces: [Piece; MAX_PIECES],
    n: usize,
}

impl Shape {
    const EMPTY: Shape = Shape { pieces: [Piece::Raw { len: 0 }; MAX_PIECES], n: 0 };

    fn pieces(&self) -> &[Piece] {
        self.pieces.get(..self.n).unwrap_or_default()
    }

    fn push(&mut self, p: Piece) -> bool {
        let Some(slot) = self.pieces.get_mut(self.n) else { return false };
        *slot = p;
        self.n += 1;
        true
    }

    fn cacheable(&self) -> bool {
        self.n > 0 && !self.pieces().iter().any(|p| matches!(p, Piece::Raw { .. }))
    }

    /// True when `value` is exactly these pieces over this call's input.
    fn matches(&self, value: &[u8], src: &Input<'_>, lits: &Literals) -> bool {
        let mut rest = value;
        for p in self.pieces() {
            let Some((here, after)) = rest.split_at_checked(p.len()) else { return false };
            let expected = match *p {
                Piece::Src { entry, off, len } => {
                    let (off, len) = (usize::from(off), usize::from(len));
                    src.source(usize::from(entry)).and_then(|s| s.get(off..off + len))
                }
                Piece::Lit { slot, .. } => lits.get(usize::from(slot)),
                Piece::Raw { .. } => None,
            };
            if !expected.is_some_and(|e| same(e, here)) {
                return false;
            }
            rest = after;
        }
        rest.is_empty()
    }
}

/// `a == b`, eight bytes at a time: wasm's `memcmp` goes byte by byte, and this runs for every piece
/// of every string handed back.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails = a8.remainder() == b8.remainder();
    let word = |c: &[u8]| c.try_into().map_or(0, u64::from_ne_bytes);
    tails && a8.zip(b8).all(|(x, y)| word(x) == word(y))
}

/// The longest run at the start of `rest` that equals part of an input value: `(entry, offset, len)`.
fn longest(rest: &[u8], src: &Input<'_>) -> (usize, usize, usize) {
    let Some(&first) = rest.first() else { return (0, 0, 0) };
    let mut best = (0, 0, 0);
    for e in 0..src.len() {
        let Some(s) = src.source(e) else { continue };
        for (j, _) in s.iter().enumerate().filter(|&(_, &b)| b == first) {
            let run = s.get(j..).unwrap_or_default().iter().zip(rest).take_while(|(a, b)| a == b).count();
            if run > best.2 {
                best = (e, j, run);
                if run == rest.len() {
                    return best;
                }
            }
        }
    }
    best
}

/// Per output (`key`), the two shapes seen last, most recent first.
pub struct Shapes {
    by_key: Vec<[Shape; 2]>,
}

impl Default for Shapes {
    fn default() -> Self {
        Shapes { by_key: vec![[Shape::EMPTY; 2]; KEYS] }
    }
}

/// Everything one call writes into, and the tables that outlive calls.
pub struct Area {
    /// The `i32` slots.
    pub ints: Vec<i32>,
    /// Raw bytes and literal updates.
    pub bytes: Vec<u8>,
    lits: Literals,
    shapes: Shapes,
}

impl Default for Area {
    fn default() -> Self {
        Area { ints: vec![0; INTS], bytes: vec![0; BYTES], lits: Literals::default(), shapes: Shapes::default() }
    }
}

impl Area {
    /// Start writing one call's output.
    pub fn begin(&mut self) -> Out<'_> {
        if let Some(n) = self.ints.get_mut(LIT_COUNT) {
            *n = 0;
        }
        Out { area: self, pieces: 0, bytes: 0, lit_updates: 0, overflow: false }
    }
}

/// One call's output.
pub struct Out<'a> {
    area: &'a mut Area,
    pieces: usize,
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

    fn piece(&mut self, kind: i32, a: usize, b: usize) {
        if self.pieces >= N_PIECES {
            self.overflow = true;
            return;
        }
        let at = PIECES + 3 * self.pieces;
        self.put(at, kind);
        self.put(at + 1, a as i32);
        self.put(at + 2, b as i32);
        self.pieces += 1;
    }

    /// String `slot`: `None` is `null`. `key` names this output across calls (op × 64 + output), so
    /// that its layout is remembered; `src` is this call's input.
    pub fn string(&mut self, slot: usize, key: usize, value: Option<&[u8]>, src: &Input<'_>) {
        if slot >= N_STRINGS {
            self.overflow = true;
            return;
        }
        let Some(value) = value else {
            self.put(STRINGS + 2 * slot, 0);
            self.put(STRINGS + 2 * slot + 1, -1);
            return;
        };
        let first = self.pieces;
        let shape = self.shape(key, value, src);
        let mut pos = 0;
        for p in shape.pieces() {
            match *p {
                Piece::Src { entry, off, len } => self.piece(i32::from(entry), usize::from(off), usize::from(len)),
                Piece::Lit { slot, .. } => self.piece(LIT, usize::from(slot), p.len()),
                Piece::Raw { len } => {
                    let bytes = value.get(pos..pos + usize::from(len)).unwrap_or_default();
                    let at = self.copy(bytes);
                    self.piece(RAW, at, bytes.len());
                }
            }
            pos += p.len();
        }
        self.put(STRINGS + 2 * slot, first as i32);
        self.put(STRINGS + 2 * slot + 1, (self.pieces - first) as i32);
    }

    /// The pieces of `value`: a remembered shape when one fits, else a new one (remembered when it
    /// holds no raw bytes).
    fn shape(&mut self, key: usize, value: &[u8], src: &Input<'_>) -> Shape {
        let Some(cached) = self.area.shapes.by_key.get(key).copied() else { return self.search(value, src) };
        for (i, shape) in cached.iter().enumerate() {
            if shape.n > 0 && shape.matches(value, src, &self.area.lits) {
                if let (1, Some(pair)) = (i, self.area.shapes.by_key.get_mut(key)) {
                    pair.swap(0, 1);
                }
                return *shape;
            }
        }
        let shape = self.search(value, src);
        if shape.cacheable() {
            if let Some(pair) = self.area.shapes.by_key.get_mut(key) {
                *pair = [shape, pair[0]];
            }
        }
        shape
    }

    /// Split `value` into input runs and literals (module docs).
    fn search(&mut self, value: &[u8], src: &Input<'_>) -> Shape {
        let mut shape = Shape::EMPTY;
        let (mut pos, mut lit) = (0, 0);
        let mut fits = true;
        while pos < value.len() {
            let (entry, off, run) = longest(value.get(pos..).unwrap_or_default(), src);
            if run >= MIN_RUN {
                fits &= self.literal(&mut shape, value.get(lit..pos).unwrap_or_default());
                let (Ok(entry), Ok(off), Ok(len)) = (u16::try_from(entry), u16::try_from(off), u16::try_from(run))
                else {
                    fits = false;
                    break;
                };
                fits &= shape.push(Piece::Src { entry, off, len });
                pos += run;
                lit = pos;
            } else {
                pos += 1;
            }
        }
        fits &= self.literal(&mut shape, value.get(lit..).unwrap_or_default());
        if fits {
            return shape;
        }
        // Too many pieces: the value whole.
        let mut whole = Shape::EMPTY;
        if !self.literal(&mut whole, value) {
            whole = Shape::EMPTY;
            whole.push(Piece::Raw { len: u16::try_from(value.len()).unwrap_or(u16::MAX) });
        }
        whole
    }

    /// Append literal `b` (nothing when empty): a table slot or raw bytes.
    fn literal(&mut self, shape: &mut Shape, b: &[u8]) -> bool {
        if b.is_empty() {
            return true;
        }
        let room = self.lit_updates < N_LIT_UPDATES;
        match self.area.lits.intern(b, room) {
            Some((slot, new)) => {
                if new {
                    let at = self.copy(b);
                    let u = LITS + 3 * self.lit_updates;
                    self.put(u, slot as i32);
                    self.put(u + 1, at as i32);
                    self.put(u + 2, b.len() as i32);
                    self.lit_updates += 1;
                    self.put(LIT_COUNT, self.lit_updates as i32);
                }
                shape.push(Piece::Lit { slot: slot as u8, len: b.len() as u8 })
            }
            None => match u16::try_from(b.len()) {
                Ok(len) => shape.push(Piece::Raw { len }),
                Err(_) => false,
            },
        }
    }
}

/// Read back what the JS would build (tests and native callers): string `slot` of the last call,
/// with `lits` the JS's literal table (updated here as the JS does), `values` the input strings.
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
    let (first, n) = (int(STRINGS + 2 * slot), int(STRINGS + 2 * slot + 1));
    if n < 0 {
        return None;
    }
    let mut s = Vec::new();
    for p in first..first + n {
        let at = PIECES + 3 * p as usize;
        let (kind, a, b) = (int(at), int(at + 1), int(at + 2));
        match kind {
            LIT => s.extend(lits.get(a as usize).cloned().unwrap_or_default()),
            RAW => s.extend(bytes(a, b)),
            k => s.extend(values.get(k as usize).and_then(|v| v.get(a as usize..(a + b) as usize)).unwrap_or_default()),
        }
    }
    Some(s)
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

    fn pieces(area: &Area, slot: usize) -> Vec<i32> {
        let first = area.ints.get(STRINGS + 2 * slot).copied().unwrap_or_default() as usize;
        let n = area.ints.get(STRINGS + 2 * slot + 1).copied().unwrap_or_default().max(0) as usize;
        (first..first + n).filter_map(|p| area.ints.get(PIECES + 3 * p).copied()).collect()
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
        let read: Vec<_> = (0..outputs.len()).map(|i| read_string(area, lits, values, i)).collect();
        read
    }

    #[test]
    fn ids_that_arrived_verbatim_are_substrings() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let tp: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let outs: [Option<&[u8]>; 3] = [Some(b"4bf92f3577b34da6a3ce929d0e0e4736"), Some(b"00f067aa0ba902b7"), None];
        let got = call(&mut area, &mut lits, &[tp], &outs);
        assert_eq!(got, outs.map(|o| o.map(<[u8]>::to_vec)));
        assert_eq!(pieces(&area, 0), [0]);
        assert_eq!(pieces(&area, 1), [0]);
        assert_eq!(area.ints.get(STRINGS + 5).copied(), Some(-1));
    }

    #[test]
    fn constant_parts_become_literals_on_the_second_call() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let b3: &[u8] = b"80f198ee56343ba8-e457b5a2e4d86bd1-1";
        let padded: &[u8] = b"000000000000000080f198ee56343ba8";
        let tp: &[u8] = b"00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01";
        for round in 0..3 {
            let got = call(&mut area, &mut lits, &[b3], &[Some(padded), Some(tp)]);
            assert_eq!(got, [Some(padded.to_vec()), Some(tp.to_vec())], "round {round}");
            let kinds = (pieces(&area, 0), pieces(&area, 1));
            match round {
                // Seen once: raw.
                0 => assert_eq!(kinds, (vec![RAW, 0], vec![RAW, 0, RAW])),
                // Seen twice: literals, sent to the JS once.
                1 => {
                    assert_eq!(kinds, (vec![LIT, 0], vec![LIT, 0, LIT]));
                    assert_eq!(area.ints.get(LIT_COUNT).copied(), Some(3));
                }
                _ => assert_eq!(area.ints.get(LIT_COUNT).copied(), Some(0)),
            }
        }
    }

    #[test]
    fn a_split_id_is_two_substrings_and_random_text_stays_raw() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let xray: &[u8] = b"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let id: &[u8] = b"5759e988bd862e3fe1be46a994272793";
        for _ in 0..2 {
            assert_eq!(call(&mut area, &mut lits, &[xray], &[Some(id)]), [Some(id.to_vec())]);
            assert_eq!(pieces(&area, 0), [0, 0]);
        }
        // Never the same twice: never a literal, never cached.
        for r in [b"0123456789abcdef", b"fedcba9876543210"] {
            assert_eq!(call(&mut area, &mut lits, &[xray], &[Some(r)]), [Some(r.to_vec())]);
            assert_eq!(pieces(&area, 0), [RAW]);
        }
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
        assert_eq!(pieces(&area, 0), [RAW]);
    }

    #[test]
    fn too_many_pieces_is_the_value_whole() {
        let mut area = Area::default();
        let mut lits = Vec::new();
        let a: &[u8] = b"aaaaaaaa";
        let b: &[u8] = b"bbbbbbbb";
        let mut value = Vec::new();
        for _ in 0..5 {
            value.extend_from_slice(a);
            value.push(b'-');
            value.extend_from_slice(b);
        }
        let got = call(&mut area, &mut lits, &[a, b], &[Some(&value)]);
        assert_eq!(got, [Some(value.clone())]);
        assert_eq!(pieces(&area, 0), [RAW]);
        assert_eq!(call(&mut area, &mut lits, &[a, b], &[Some(b""), None]), [Some(Vec::new()), None]);
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
