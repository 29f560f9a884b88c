//! The headers to write and remove, decided before the carrier is touched.
use core::fmt;

use crate::baggage;
use crate::carrier::{self, Extractor, Injector};
use crate::format::Format;
use crate::name_filter::NameFilter;
use crate::tracestate::{self, TraceStateBuf};
use crate::Error;
use arrayvec::{ArrayString, ArrayVec};

use super::*;

pub(super) const MAX_OPS: usize = 64;
const ARENA: usize = 4096;
/// Room for the values core formats as bytes ([`Injector::set_bytes`]): since every format writes its
/// values so, an inject of all ten formats with their longest values (X-Ray's up to
/// [`carrier::MAX_VALUE_LEN`]); five formats of a usual request write ≈ 320 bytes, and a value that
/// does not fit is checked and kept with the `str` values instead (the five-format request ran 200
/// instructions slower at 256 bytes). Not zeroed: room costs memory, not time.
const RAW_ARENA: usize = 2048;

/// Baggage headers: W3C's `baggage` at its limit, and Jaeger's and OT's at the same budget each, with
/// room for the names removed.
const BAGGAGE_ARENA: usize = 3 * baggage::MAX_BYTES + 2048;
/// A write per entry for Jaeger and OT, one for W3C, and the removals of two formats' entries.
const MAX_BAGGAGE_OPS: usize = 4 * baggage::MAX_MEMBERS + 8;

/// One baggage header to set (`value` = `Some`) or remove: name and value in the baggage arena.
#[derive(Clone, Copy)]
struct BaggageOp {
    name: (u16, u16),
    value: Option<(u16, u16)>,
}

/// The baggage headers a plan writes and removes, with dynamic names (`uberctx-{key}`), kept in their
/// own arena. Fixed-capacity vectors: nothing is zeroed when a plan is made, so a plan without baggage
/// never touches it.
#[derive(Clone)]
pub(super) struct BaggageOps {
    ops: ArrayVec<BaggageOp, MAX_BAGGAGE_OPS>,
    arena: ArrayVec<u8, BAGGAGE_ARENA>,
}

impl BaggageOps {
    #[inline]
    fn new() -> Self {
        BaggageOps { ops: ArrayVec::new(), arena: ArrayVec::new() }
    }

    /// Copy `bytes` into the arena: `(start, len)`, or `None` when it is full.
    fn store(&mut self, bytes: &mut dyn Iterator<Item = u8>, lowercase: bool) -> Option<(u16, u16)> {
        let start = self.arena.len();
        for b in bytes {
            if self.arena.try_push(if lowercase { b.to_ascii_lowercase() } else { b }).is_err() {
                self.arena.truncate(start);
                return None;
            }
        }
        Some((u16::try_from(start).ok()?, u16::try_from(self.arena.len() - start).ok()?))
    }

    fn push(&mut self, op: BaggageOp) -> bool {
        self.ops.try_push(op).is_ok()
    }

    fn text(&self, (start, len): (u16, u16)) -> &str {
        core::str::from_utf8(self.arena.get(span(start, len)).unwrap_or_default()).unwrap_or_default()
    }

    fn ops(&self) -> impl Iterator<Item = &BaggageOp> + '_ {
        self.ops.iter()
    }
}

#[derive(Clone, Copy)]
pub(super) enum Op {
    /// A value given as `str`, in `Plan::arena`.
    Set {
        name: &'static str,
        start: u16,
        len: u16,
    },
    /// A value core formatted as bytes ([`Injector::set_bytes`]), in `Plan::raw`, not checked as
    /// UTF-8 here: a carrier that takes bytes gets it as it is, any other checks it once.
    SetBytes {
        name: &'static str,
        start: u16,
        len: u16,
    },
    SetTracestate,
    Remove(&'static str),
}

/// The headers to write and remove: owned, in fixed buffers, borrowing nothing from the input, so the
/// carrier can be mutated after planning.
///
/// ```
/// use tracebridge::translate::{Config, FormatList};
/// use tracebridge::{Format, Translator};
///
/// let config = Config { inject: FormatList::new(&[Format::B3Single]).map_err(|_| "repeat")?, remove_other_formats: true, ..Config::default() };
/// let translator = Translator::new(config).map_err(|_| "config")?;
/// let headers = [("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1")];
/// let plan = translator.plan(&headers[..], || [0; 24]);
/// assert_eq!(plan.removals().collect::<Vec<_>>(), ["uber-trace-id"]);
/// assert_eq!(plan.writes().collect::<Vec<_>>(), [("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")]);
/// let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// plan.apply(&mut out);
/// assert_eq!(out.len(), 1);
/// # Ok::<(), &str>(())
/// ```
///
/// Its buffers are fixed-capacity vectors (`arrayvec`): making a plan writes a few lengths, not its
/// several KiB (measured: zeroing them was most of a whole request's instructions). A hot caller
/// still keeps one and refills it ([`Translator::plan_into`]) rather than move it around.
// `repr(C)`, the small fields first: what every request writes or reads (the report, the names
// present, `used`) lies in a few adjacent cache lines, not wherever the compiler puts it among the
// buffers of several KiB.
#[derive(Clone)]
#[repr(C)]
pub struct Plan {
    pub(super) report: Report,
    /// The names the carrier may hold (set by `Translator::plan_into`): a removal of a header it
    /// cannot hold is not planned.
    pub(super) present: NameFilter,
    /// The format whose `inject` is writing into the plan ([`Plan::inject`]): its header names are
    /// looked up first.
    writing: Option<Format>,
    /// Whether anything went into the buffers below since the last [`clear`](Self::clear): set by
    /// every write to them. Each buffer keeps its length at its own place, KiB apart: emptying them
    /// all, or asking them all whether they are empty, was a data-cache miss apiece on every request
    /// in the Envoy filter (`benches/envoy/code-lines.sh --data`: 7 for `clear`).
    used: bool,
    /// The format the direct route continued ([`direct_source`](Self::direct_source)).
    pub(super) direct: Option<Format>,
    /// `None`: a removal dropped because the header is not there.
    ops: ArrayVec<Option<Op>, MAX_OPS>,
    arena: ArrayString<ARENA>,
    /// The values of `Op::SetBytes`.
    raw: ArrayVec<u8, RAW_ARENA>,
    pub(super) tracestate: TraceStateBuf,
    /// Room to write the `dd=` member before ours (see `compose_tracestate`).
    scratch: Option<TraceStateBuf>,
    baggage: BaggageOps,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("report", &self.report)
            .field("removals", &Removals(self))
            .field("writes", &Writes(self))
            .finish()
    }
}

struct Removals<'p>(&'p Plan);
impl fmt::Debug for Removals<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.removals()).finish()
    }
}
struct Writes<'p>(&'p Plan);
impl fmt::Debug for Writes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.writes()).finish()
    }
}

impl Default for Plan {
    fn default() -> Self {
        Self::new()
    }
}

impl Plan {
    /// An empty plan (a no-op), to fill with [`Translator::plan_into`].
    #[inline]
    pub fn new() -> Self {
        Plan {
            report: Report::EMPTY,
            present: NameFilter::ALL,
            writing: None,
            used: false,
            direct: None,
            ops: ArrayVec::new(),
            arena: ArrayString::new(),
            raw: ArrayVec::new(),
            tracestate: TraceStateBuf::new(),
            scratch: None,
            baggage: BaggageOps::new(),
        }
    }

    /// `write` (a format's inject) into the plan as format `f`: the names it writes are `f`'s own
    /// constants, found among its few headers rather than every format's.
    pub(super) fn inject_as(&mut self, f: Format, write: impl FnOnce(&mut Plan)) {
        self.writing = Some(f);
        write(self);
        self.writing = None;
    }

    /// Empty again, with a report of what `ins` read.
    pub(super) fn reset(&mut self, ins: &Inspection<'_>) {
        self.clear(ins.source, ins.status, ins.tracestate_error, ins.warnings);
    }

    /// Empty again, with a report of what was read: the chosen format, every format's status, why
    /// the tracestate or part of a format was dropped; the rest of the report as for a pass-through.
    pub(super) fn clear(
        &mut self,
        read_source: Option<Format>,
        read_status: [Status; N],
        read_tracestate_error: Option<Error>,
        read_warnings: [Option<Error>; N],
    ) {
        // Field by field where the report lies: a report built and moved in was a copy on every
        // request. Destructured without `..`, so that a new field cannot be left out here.
        let Report {
            source,
            status,
            outcome,
            trace_id,
            span_id,
            sampling,
            injected,
            removed,
            tracestate_dropped,
            member_fields_lost,
            trace_id_truncated,
            tracestate_error,
            warnings,
            baggage_dropped,
            baggage_error,
        } = &mut self.report;
        (*source, *status, *tracestate_error, *warnings) =
            (read_source, read_status, read_tracestate_error, read_warnings);
        (*outcome, *trace_id, *span_id, *sampling) = (Outcome::PassThrough, None, None, None);
        (*injected, *removed, *trace_id_truncated) = ([false; N], [false; N], false);
        (*tracestate_dropped, *member_fields_lost, *baggage_dropped, *baggage_error) = (0, 0, 0, None);
        self.direct = None;
        if core::mem::take(&mut self.used) {
            self.ops.clear();
            self.arena.clear();
            self.raw.clear();
            self.baggage.ops.clear();
            self.baggage.arena.clear();
        }
    }

    /// Plan the removal of a baggage header seen in the request (`uberctx-{key}`, `ot-baggage-{key}`).
    pub(super) fn remove_baggage(&mut self, name: &[u8]) {
        self.used = true;
        let ops = &mut self.baggage;
        if let Some(name) = ops.store(&mut name.iter().copied(), true) {
            ops.push(BaggageOp { name, value: None });
        }
    }

    fn baggage_ops(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        let b = &self.baggage;
        b.ops().map(move |op| (b.text(op.name), op.value.map(|v| b.text(v))))
    }

    /// The tracestate buffer to write, and the scratch one (created on first use).
    pub(super) fn tracestate_buffers(&mut self) -> (&mut TraceStateBuf, &mut Option<TraceStateBuf>) {
        (&mut self.tracestate, &mut self.scratch)
    }

    /// The outcome, for counting and logging.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The format whose context [`Translator::translate_into`] continued by its direct route (a
    /// request whose only trace headers are one format's, other than W3C), `None` after any other
    /// translation or plan. The [`report`](Self::report) of a direct route says no more than: that
    /// format valid, with its [`warning`](Report::warning) if it has one; every other format not read
    /// or absent (as configured); the context continued (no conflict, no new root, no baggage); what
    /// was written and whether a tracestate part was dropped. A caller that counts reports can count
    /// that one without looking at every format (the Envoy filter, on nearly every request).
    ///
    /// ```
    /// use tracebridge::translate::Plan;
    /// use tracebridge::{Format, Translator};
    ///
    /// let translator = Translator::default();
    /// let mut plan = Plan::default();
    /// let mut headers = vec![("b3".to_string(), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_string())];
    /// translator.translate_into(&headers.clone(), &mut headers, || [1; 24], &mut plan);
    /// assert_eq!(plan.direct_source(), Some(Format::B3Single));
    /// translator.plan_into(&headers, || [1; 24], &mut plan);
    /// assert_eq!(plan.direct_source(), None);
    /// ```
    pub fn direct_source(&self) -> Option<Format> {
        self.direct
    }

    pub(super) fn push(&mut self, op: Op) {
        self.used = true;
        let _ = self.ops.try_push(Some(op));
    }

    fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        self.ops.iter().flatten().copied()
    }

    fn value(&self, start: u16, len: u16) -> &str {
        self.arena.get(span(start, len)).unwrap_or_default()
    }

    fn raw_value(&self, start: u16, len: u16) -> &[u8] {
        self.raw.get(span(start, len)).unwrap_or_default()
    }

    /// The final header values to set, `(lowercase name, value)`, after [`removals`](Self::removals).
    /// A name set twice appears once, with its last value. Baggage headers come last; their names
    /// (`uberctx-{key}`, `ot-baggage-{key}`) are kept in the plan, so they borrow from it.
    pub fn writes(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let formats = self.final_ops().filter_map(|op| self.write_of(op));
        formats.chain(self.baggage_ops().filter_map(|(n, v)| Some((n, v?))))
    }

    /// Header names to remove (every line of each).
    pub fn removals(&self) -> impl Iterator<Item = &str> + '_ {
        let formats = self.final_ops().filter_map(|op| match op {
            Op::Remove(name) => Some(name),
            _ => None,
        });
        formats.chain(self.baggage_ops().filter_map(|(n, v)| v.is_none().then_some(n)))
    }

    /// The ops that decide their header: the last op on a name (a name set twice is written once,
    /// with its last value).
    fn final_ops(&self) -> impl Iterator<Item = Op> + '_ {
        self.ops.iter().enumerate().filter_map(|(i, op)| op.filter(|op| self.is_final(i, op_name(op))))
    }

    /// True when no op after the `i`-th is on header `name`.
    fn is_final(&self, i: usize, name: &str) -> bool {
        !self.ops.iter().skip(i + 1).flatten().any(|later| op_name(later) == name)
    }

    /// The header and value `op` writes, if it writes one.
    fn write_of(&self, op: Op) -> Option<(&'static str, &str)> {
        match op {
            Op::Set { name, start, len } => Some((name, self.value(start, len))),
            // Core's own formatting: ASCII, so the check does not fail.
            Op::SetBytes { name, start, len } => Some((name, core::str::from_utf8(self.raw_value(start, len)).ok()?)),
            Op::SetTracestate => Some((tracestate::HEADER, self.tracestate.as_str())),
            Op::Remove(_) => None,
        }
    }

    /// True when no operation is planned (nothing at all, not even a removal that was dropped).
    pub(super) fn is_empty(&self) -> bool {
        // Nothing written since the last `clear` answers without reading the buffers' lengths.
        !self.used || (self.ops.is_empty() && self.baggage.ops.is_empty())
    }

    /// True when applying changes nothing.
    pub fn is_noop(&self) -> bool {
        self.ops().next().is_none() && self.baggage_ops().next().is_none()
    }

    /// Removing a header that is not there changes nothing but costs the carrier a call (a host call
    /// in the Envoy filter): such removals are dropped, unless the plan itself set that header earlier.
    /// A name the carrier's name filter ([`present`](Self::present)) rules out needs no lookup.
    pub(super) fn drop_absent_removals<E: Extractor + ?Sized>(&mut self, headers: &E) {
        let present = self.present;
        for i in 0..self.ops.len() {
            let Some(Some(Op::Remove(name))) = self.ops.get(i).copied() else { continue };
            let set_before =
                self.ops.iter().take(i).flatten().any(|op| !matches!(op, Op::Remove(_)) && op_name(op) == name);
            if !set_before && (!present.may_have(name) || crate::carrier::first(headers, name).is_none()) {
                if let Some(slot) = self.ops.get_mut(i) {
                    *slot = None;
                }
            }
        }
    }

    /// Apply to a carrier: removals, then writes, as [`removals`](Self::removals) and
    /// [`writes`](Self::writes) list them. Plain loops over the ops rather than those iterators:
    /// this runs on every request of the Envoy filter, where the iterator adapters cost more than
    /// the few ops they visit.
    pub fn apply<I: Injector + ?Sized>(&self, headers: &mut I) {
        for (i, op) in self.ops.iter().enumerate() {
            if let Some(Op::Remove(name)) = *op {
                if self.is_final(i, name) {
                    headers.remove(name);
                }
            }
        }
        let baggage = &self.baggage;
        for op in baggage.ops() {
            if op.value.is_none() {
                headers.remove(baggage.text(op.name));
            }
        }
        // Each kind of write matched here rather than through `write_of` (which would check
        // `SetBytes` values as UTF-8): routed through it, the five-format request measured 137
        // instructions more natively (callgrind).
        // A carrier that checks bytes for `set` ([`Injector::takes_bytes`]) gets every byte value
        // checked here in one pass (ASCII, so it never fails; if it did, each value would go to
        // `set_bytes` as for any other carrier).
        let raw = if headers.takes_bytes() { None } else { core::str::from_utf8(&self.raw).ok() };
        for (i, op) in self.ops.iter().enumerate() {
            match *op {
                Some(Op::Set { name, start, len }) if self.is_final(i, name) => {
                    headers.set(name, self.value(start, len));
                }
                Some(Op::SetBytes { name, start, len }) if self.is_final(i, name) => {
                    match raw.and_then(|raw| raw.get(span(start, len))) {
                        Some(value) => headers.set(name, value),
                        None => headers.set_bytes(name, self.raw_value(start, len)),
                    }
                }
                Some(Op::SetTracestate) if self.is_final(i, tracestate::HEADER) => {
                    headers.set(tracestate::HEADER, self.tracestate.as_str());
                }
                _ => {}
            }
        }
        for op in baggage.ops() {
            if let Some(value) = op.value {
                headers.set(baggage.text(op.name), baggage.text(value));
            }
        }
    }
}

/// The bytes a `start` and `len` point at, in any of a plan's arenas.
fn span(start: u16, len: u16) -> core::ops::Range<usize> {
    let start = usize::from(start);
    start..start + usize::from(len)
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Set { name, .. } | Op::SetBytes { name, .. } | Op::Remove(name) => name,
        Op::SetTracestate => tracestate::HEADER,
    }
}

/// The static name of a header some format writes: looked for among the few headers of the format
/// writing (`writing`; a format writes its own names, and a constant is not always one address, so
/// they are compared as text), and among every format's only otherwise.
fn static_name(name: &str, writing: Option<Format>) -> Option<&'static str> {
    let own = writing.map_or(&[][..], Format::headers);
    // The same constant first (the common case: no byte compared, which in wasm is a call), then
    // the same text.
    let same = |h: &&str| core::ptr::eq(h.as_ptr(), name.as_ptr()) && h.len() == name.len();
    own.iter().copied().find(same).or_else(|| own.iter().copied().find(|h| *h == name)).or_else(|| {
        Format::ALL.into_iter().flat_map(|f| f.headers().iter().copied()).find(|h| h.eq_ignore_ascii_case(name))
    })
}

/// Baggage writes go to the baggage arena, names and all.
impl baggage::Sink for Plan {
    fn set(&mut self, prefix: &str, key: &mut dyn Iterator<Item = u8>, value: &mut dyn Iterator<Item = u8>) -> bool {
        self.used = true;
        let ops = &mut self.baggage;
        let mark = ops.arena.len();
        let name = &mut carrier::next_only(prefix.bytes().chain(key));
        let stored = ops.store(name, true).and_then(|n| Some((n, ops.store(value, false)?)));
        match stored {
            Some((name, value)) if ops.push(BaggageOp { name, value: Some(value) }) => true,
            _ => {
                ops.arena.truncate(mark);
                false
            }
        }
    }
}

/// Captures a format's `inject` into the plan.
impl Injector for Plan {
    fn set(&mut self, name: &str, value: &str) {
        let Some(name) = static_name(name, self.writing) else { return };
        self.used = true;
        let start = self.arena.len();
        let (Ok(start16), Ok(len)) = (u16::try_from(start), u16::try_from(value.len())) else { return };
        if self.arena.try_push_str(value).is_ok() {
            self.push(Op::Set { name, start: start16, len });
        }
    }

    /// Kept as bytes, unchecked: `apply` checks them, all in one pass, for a carrier that needs a
    /// `str`, and not at all on the way to the Envoy host.
    fn set_bytes(&mut self, name: &str, value: &[u8]) {
        let Some(name) = static_name(name, self.writing) else { return };
        self.used = true;
        let start = self.raw.len();
        let (Ok(start16), Ok(len)) = (u16::try_from(start), u16::try_from(value.len())) else { return };
        if self.raw.try_extend_from_slice(value).is_ok() {
            self.push(Op::SetBytes { name, start: start16, len });
        } else if let Ok(value) = core::str::from_utf8(value) {
            // No room left for bytes: kept with the `str` values instead.
            self.set(name, value);
        }
    }

    fn remove(&mut self, name: &str) {
        if let Some(name) = static_name(name, self.writing) {
            self.push(Op::Remove(name));
        }
    }

    fn takes_bytes(&self) -> bool {
        true
    }
}
