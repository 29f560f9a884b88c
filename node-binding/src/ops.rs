//! What each exported call does: read the input entries through core, write core's answer into the
//! output area. One core call per op; no format logic here, only numbering (formats, statuses,
//! outcomes by their position in core's lists, see [`crate::tables`]) and strings handed back.
//!
//! Op fields ([`Out::field`]) and strings ([`Out::string`]) per op:
//!
//! | op | result | fields | strings |
//! |---|---|---|---|
//! | [`remote`] | 1: a context, 0: none | 0 trace flags, 1 [`member_reads_ids`] | 0 trace id, 1 span id, 2 tracestate |
//! | [`extract`] | 1: a context, 0: none | 0 trace flags, 1 sampled (−1 null, 0, 1), 2 debug, 3 source, 4 id width, 5 [`member_reads_ids`] | 0 trace id, 1 span id, 2 parent span id, 3 tracestate |
//! | [`translate`] | 1 | [`REPORT`] fields, each format's status, then removals and writes (header indices); headers of other names as named outputs (see [`crate::out`]) | 0 trace id, 1 span id, 2 + i write i |
//! | [`inject_span`], [`inject`] | writes (≥ 0) or an [`InjectError`] code | 0 removals, 1 writes, then their header indices | i: write i |

use core::fmt::Write as _;
use core::ops::ControlFlow;

use tracebridge::propagate::SpanContext;
use tracebridge::tracestate::{self, TraceStateBuf};
use tracebridge::translate::{Outcome, Plan, RootReason, Status};
use tracebridge::{
    Error, Extractor, Format, IdWidth, Injector, Sampling, SpanId, TraceContext, TraceFlags, TraceId, TraceState,
    Translator,
};

use crate::io::{header_index, Input, Role};
use crate::out::Out;

/// Shape-cache key space per op (see [`Out::string`]).
#[derive(Clone, Copy)]
#[repr(usize)]
enum Op {
    Remote = 0,
    Extract = 1,
    Translate = 2,
    InjectSpan = 3,
    Inject = 4,
}

/// Key of output `i` of `op`; header writes use `16 + header index`.
fn key(op: Op, i: usize) -> usize {
    op as usize * 64 + i
}

/// Strings handed back per op before the header writes.
const WRITES_KEY: usize = 16;

/// Every outcome, for numbering (the names are core's [`Outcome::name`]).
pub const OUTCOMES: [Outcome; 5] = [
    Outcome::Continued,
    Outcome::NewRoot(RootReason::Missing),
    Outcome::SamplingOnly,
    Outcome::Ignored,
    Outcome::PassThrough,
];

/// Root reasons and their names (core has no `RootReason::name` yet).
pub const ROOT_REASONS: [(RootReason, &str); 3] =
    [(RootReason::Missing, "missing"), (RootReason::Conflict, "conflict"), (RootReason::Untrusted, "untrusted")];

/// Every sampling decision, for numbering (the names are core's `Serialize`).
pub const SAMPLINGS: [Sampling; 4] = [Sampling::Deny, Sampling::Defer, Sampling::Accept, Sampling::Debug];

/// Statuses without an error, numbered 0..; `Invalid(e)` is `STATUSES.len()` + position of `e` in
/// [`Error::ALL`].
pub const STATUSES: [Status; 4] = [Status::NotRead, Status::Absent, Status::Valid, Status::Conflict];

/// A status as a number (see [`STATUSES`]).
pub fn status_code(s: Status) -> i32 {
    match s {
        Status::Invalid(e) => STATUSES.len() as i32 + error_code(e),
        s => STATUSES.iter().position(|x| *x == s).map_or(-1, |i| i as i32),
    }
}

/// An error as its position in [`Error::ALL`].
pub fn error_code(e: Error) -> i32 {
    Error::ALL.iter().position(|x| *x == e).map_or(-1, |i| i as i32)
}

fn outcome_code(o: Outcome) -> i32 {
    OUTCOMES.iter().position(|x| x.name() == o.name()).map_or(-1, |i| i as i32)
}

fn sampling_code(s: Option<Sampling>) -> i32 {
    s.and_then(|s| SAMPLINGS.iter().position(|x| *x == s)).map_or(-1, |i| i as i32)
}

fn format_code(f: Option<Format>) -> i32 {
    f.map_or(-1, |f| f.index() as i32)
}

fn mask(flags: &[bool]) -> i32 {
    flags.iter().enumerate().fold(0, |m, (i, on)| if *on { m | 1 << i } else { m })
}

/// `remote`: the remote parent an SDK continues ([`Translator::remote`]: trust, conflicts,
/// `drop_forced_sampling`, our tracestate member).
/// `tracestate` is reused from call to call (a 4 KiB buffer moved per call cost more than the rest).
pub fn remote(t: &Translator, src: &Input<'_>, tracestate: &mut TraceStateBuf, mut out: Out<'_>) -> i32 {
    let Some(ctx) = t.remote_into(src, tracestate) else { return out.finish(0) };
    let (trace, span) = (ctx.trace_id.to_hex(), ctx.span_id.to_hex());
    out.field(0, i32::from(ctx.trace_flags.0));
    out.field(1, i32::from(member_reads_ids(t, &ctx)));
    out.string(0, key(Op::Remote, 0), Some(&trace), src);
    out.string(1, key(Op::Remote, 1), Some(&span), src);
    let ts = tracestate.as_str().as_bytes();
    out.string(2, key(Op::Remote, 2), (!ts.is_empty()).then_some(ts), src);
    out.finish(1)
}

/// Whether the tracestate read with `ctx` has a member whose reading compares an id's value with
/// another: ours (its per-hop fields apply only when its `s` is the span id, `ext::apply`) or
/// Datadog's `dd` (its `p`). Then the answer for another request of the same shape may differ by
/// more than the ids, so the JS side keeps no extract template of it (`template.js`).
fn member_reads_ids(t: &Translator, ctx: &TraceContext<'_>) -> bool {
    let ts = &ctx.tracestate;
    ts.get(t.config().tracestate.key.as_str()).is_some() || ts.get("dd").is_some()
}

/// [`member_reads_ids`] for `translate`, whose plan keeps no context: whether a `tracestate` line
/// has our member's key or `dd` before a `=` anywhere in it (a superset of the members, which only
/// costs a template).
fn tracestate_may_read_ids(t: &Translator, src: &Input<'_>) -> bool {
    let key = t.config().tracestate.key.as_str().as_bytes();
    let names = |w: &[u8], key: &[u8]| w.split_last().is_some_and(|(last, head)| *last == b'=' && head == key);
    let mut found = false;
    src.visit_values(tracestate::HEADER, &mut |line| {
        found = line.windows(key.len() + 1).any(|w| names(w, key)) || line.windows(3).any(|w| names(w, b"dd"));
        if found {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// `extract`: the chosen context as read ([`Translator::inspect`]); `scratch` holds its canonical
/// tracestate.
pub fn extract(t: &Translator, src: &Input<'_>, scratch: &mut String, mut out: Out<'_>) -> i32 {
    let ins = t.inspect(src);
    let Some(ctx) = ins.context else { return out.finish(0) };
    let (trace, span) = (ctx.trace_id.to_hex(), ctx.span_id.to_hex());
    let parent = ctx.parent_span_id.map(|p| p.to_hex());
    // W3C trace-flags with `sampled` in step with the decision; carries Level 2's `random` bit.
    out.field(0, i32::from(ctx.trace_flags.with_sampled(ctx.sampling.is_sampled()).0));
    out.field(1, ctx.sampling.decision().map_or(-1, i32::from));
    out.field(2, i32::from(ctx.sampling == Sampling::Debug));
    out.field(3, format_code(ins.source));
    out.field(4, if ctx.id_width == IdWidth::Bits64 { 64 } else { 128 });
    out.field(5, i32::from(member_reads_ids(t, &ctx)));
    out.string(0, key(Op::Extract, 0), Some(&trace), src);
    out.string(1, key(Op::Extract, 1), Some(&span), src);
    out.string(2, key(Op::Extract, 2), parent.as_ref().map(|p| &p[..]), src);
    scratch.clear();
    let _ = write!(scratch, "{}", ctx.tracestate);
    out.string(3, key(Op::Extract, 3), (!scratch.is_empty()).then_some(scratch.as_bytes()), src);
    out.finish(1)
}

/// The report fields of [`translate`], in order, before the status of each format, the removals and
/// the writes. Three count the removals and the writes by header index, and the named ones (removals
/// first, then writes); the last is [`tracestate_may_read_ids`].
pub const REPORT: [&str; 16] = [
    "outcome",
    "rootReason",
    "source",
    "sampling",
    "injected",
    "removed",
    "tracestateDropped",
    "memberFieldsLost",
    "traceIdTruncated",
    "tracestateError",
    "baggageDropped",
    "baggageError",
    "removals",
    "writes",
    "named",
    "memberReadsIds",
];

/// `translate`: plan into the reused `plan` ([`Translator::plan_into`]); the report, the headers to
/// remove and those to set. `random` is called only for a new root.
pub fn translate(
    t: &Translator,
    src: &Input<'_>,
    plan: &mut Plan,
    random: impl FnOnce() -> [u8; 24],
    mut out: Out<'_>,
) -> i32 {
    t.plan_into(src, random, plan);
    let r = plan.report();
    let fields = [
        outcome_code(r.outcome),
        match r.outcome {
            Outcome::NewRoot(why) => ROOT_REASONS.iter().position(|(x, _)| *x == why).map_or(-1, |i| i as i32),
            _ => -1,
        },
        format_code(r.source),
        sampling_code(r.sampling),
        mask(&r.injected),
        mask(&r.removed),
        i32::try_from(r.tracestate_dropped).unwrap_or(i32::MAX),
        i32::try_from(r.member_fields_lost).unwrap_or(i32::MAX),
        i32::from(r.trace_id_truncated),
        r.tracestate_error.map_or(-1, error_code),
        i32::try_from(r.baggage_dropped).unwrap_or(i32::MAX),
        r.baggage_error.map_or(-1, error_code),
    ];
    for (i, v) in fields.into_iter().enumerate() {
        out.field(i, v);
    }
    let mut at = REPORT.len();
    for s in r.status {
        out.field(at, status_code(s));
        at += 1;
    }
    let (trace, span) = (r.trace_id.map(|id| id.to_hex()), r.span_id.map(|id| id.to_hex()));
    out.string(0, key(Op::Translate, 0), trace.as_ref().map(|h| &h[..]), src);
    out.string(1, key(Op::Translate, 1), span.as_ref().map(|h| &h[..]), src);
    // Headers by index; the others (baggage: `uberctx-{key}`) by name. In each group, the plan's order.
    let (mut removals, mut writes, mut named) = (0i32, 0usize, 0usize);
    for name in plan.removals() {
        match header_index(name) {
            Some(h) => {
                out.field(at, h as i32);
                at += 1;
                removals += 1;
            }
            None => {
                out.named(named, name.as_bytes(), None);
                named += 1;
            }
        }
    }
    for (name, v) in plan.writes() {
        match header_index(name) {
            Some(h) => {
                out.field(at, h as i32);
                at += 1;
                out.string(2 + writes, key(Op::Translate, WRITES_KEY + h), Some(v.as_bytes()), src);
                writes += 1;
            }
            None => {
                out.named(named, name.as_bytes(), Some(v.as_bytes()));
                named += 1;
            }
        }
    }
    out.field(fields.len(), removals);
    out.field(fields.len() + 1, writes as i32);
    out.field(fields.len() + 2, named as i32);
    out.field(fields.len() + 3, i32::from(tracestate_may_read_ids(t, src)));
    out.finish(1)
}

/// The headers an inject wrote and removed, in order, in a reused buffer.
pub struct Writes {
    /// `(header index, start, len, removed)`.
    ops: Vec<(usize, usize, usize, bool)>,
    arena: Vec<u8>,
}

impl Default for Writes {
    fn default() -> Self {
        Writes { ops: Vec::with_capacity(16), arena: Vec::with_capacity(8192) }
    }
}

impl Writes {
    fn clear(&mut self) {
        self.ops.clear();
        self.arena.clear();
    }

    fn slot(&mut self, name: &str) -> Option<&mut (usize, usize, usize, bool)> {
        let h = header_index(name)?;
        if let Some(i) = self.ops.iter().position(|op| op.0 == h) {
            return self.ops.get_mut(i);
        }
        self.ops.push((h, 0, 0, true));
        self.ops.last_mut()
    }

    /// Fields and strings of an inject op (module docs).
    fn write(&self, op: Op, src: &Input<'_>, mut out: Out<'_>) -> i32 {
        let removed = self.ops.iter().filter(|o| o.3).count();
        out.field(0, removed as i32);
        out.field(1, (self.ops.len() - removed) as i32);
        let (removed, set) = (self.ops.iter().filter(|o| o.3), self.ops.iter().filter(|o| !o.3));
        let mut at = 2;
        for o in removed {
            out.field(at, o.0 as i32);
            at += 1;
        }
        let mut n = 0;
        for &(h, start, len, _) in set {
            out.field(at, h as i32);
            at += 1;
            out.string(n, key(op, WRITES_KEY + h), self.arena.get(start..start + len), src);
            n += 1;
        }
        out.finish(n as i32)
    }
}

/// `set` replaces an earlier value of the same header; `remove` drops it.
impl Injector for Writes {
    fn set(&mut self, name: &str, value: &str) {
        self.set_bytes(name, value.as_bytes());
    }

    /// The arena is bytes, handed to JS as they are: core's own values need no UTF-8 check.
    fn set_bytes(&mut self, name: &str, value: &[u8]) {
        let start = self.arena.len();
        self.arena.extend_from_slice(value);
        if let Some(op) = self.slot(name) {
            *op = (op.0, start, value.len(), false);
        }
    }

    fn takes_bytes(&self) -> bool {
        true
    }

    fn remove(&mut self, name: &str) {
        if let Some(op) = self.slot(name) {
            op.3 = true;
        }
    }
}

/// Why `inject` wrote nothing (its result, negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectError {
    /// The trace id is not 32 (or 16) lowercase hex digits, or all zero.
    TraceId = -1,
    /// The span id is not 16 lowercase hex digits, or all zero.
    SpanId = -2,
    /// The parent span id, likewise.
    ParentSpanId = -3,
    /// The tracestate is invalid: the code is `TRACESTATE - error_code(e)`.
    TraceState = -16,
}

/// `inject_span`: the span context of an SDK ([`Translator::inject_span`]: every `inject` format,
/// `id_width`, our member's defer/debug/64-bit width restored). An invalid id writes nothing; an
/// invalid tracestate is left out (as the Rust OpenTelemetry adapter does).
pub fn inject_span(t: &Translator, src: &Input<'_>, trace_flags: u8, w: &mut Writes, out: Out<'_>) -> i32 {
    w.clear();
    let trace_id = src.role(Role::TraceId).and_then(|h| TraceId::from_hex(h).ok());
    let span_id = src.role(Role::SpanId).and_then(|h| SpanId::from_hex(h).ok());
    let (Some(trace_id), Some(span_id)) = (trace_id, span_id) else {
        return out.finish(if trace_id.is_none() { InjectError::TraceId } else { InjectError::SpanId } as i32);
    };
    let tracestate = src
        .role(Role::TraceState)
        .and_then(|b| core::str::from_utf8(b).ok())
        .and_then(|s| TraceState::parse(s).ok())
        .unwrap_or(TraceState::EMPTY);
    let span = SpanContext { trace_id, span_id, trace_flags: TraceFlags(trace_flags), tracestate };
    t.inject_span(&span, w);
    w.write(Op::InjectSpan, src, out)
}

/// How many formats a packed list holds: 4 bits each in two `u32` words.
pub const PACKED_FORMATS: usize = 16;

// `1 + index` of every format fits in 4 bits (0 ends a list).
const _: () = assert!(Format::COUNT < 16);

/// The formats of a packed list: `1 + index` per 4 bits, low bits of `lo` first, then those of `hi`;
/// 0 ends it.
pub fn unpack_formats(lo: u32, hi: u32) -> impl Iterator<Item = Format> {
    let packed = u64::from(hi) << 32 | u64::from(lo);
    (0..PACKED_FORMATS)
        .map(move |i| (packed >> (4 * i)) & 0xf)
        .take_while(|&n| n != 0)
        .filter_map(|n| Format::ALL.get(n as usize - 1).copied())
}

/// `inject` (no translator): `ctx` written in each format of `formats` (packed in two words, see
/// [`unpack_formats`]). A 16-digit trace id is 64-bit (B3/Jaeger write it so). `sampled`: −1 defer, 0,
/// 1; `debug` wins.
pub fn inject(
    formats: (u32, u32),
    sampled: i32,
    debug: bool,
    trace_flags: u8,
    src: &Input<'_>,
    w: &mut Writes,
    out: Out<'_>,
) -> i32 {
    w.clear();
    match context(sampled, debug, trace_flags, src) {
        Ok(ctx) => {
            for f in unpack_formats(formats.0, formats.1) {
                f.inject(&ctx, w);
            }
            w.write(Op::Inject, src, out)
        }
        Err(code) => out.finish(code),
    }
}

fn context<'a>(sampled: i32, debug: bool, trace_flags: u8, src: &Input<'a>) -> Result<TraceContext<'a>, i32> {
    let trace_hex = src.role(Role::TraceId).unwrap_or_default();
    let (trace_id, id_width) = match trace_hex.len() {
        16 => (TraceId::from_hex_padded(trace_hex), IdWidth::Bits64),
        _ => (TraceId::from_hex(trace_hex), IdWidth::Bits128),
    };
    let trace_id = trace_id.map_err(|_| InjectError::TraceId as i32)?;
    let span_id =
        SpanId::from_hex(src.role(Role::SpanId).unwrap_or_default()).map_err(|_| InjectError::SpanId as i32)?;
    let parent = match src.role(Role::ParentSpanId) {
        None => None,
        Some(p) => Some(SpanId::from_hex(p).map_err(|_| InjectError::ParentSpanId as i32)?),
    };
    let sampling = match (debug, sampled) {
        (true, _) => Sampling::Debug,
        (false, 1) => Sampling::Accept,
        (false, 0) => Sampling::Deny,
        (false, _) => Sampling::Defer,
    };
    let tracestate = match src.role(Role::TraceState) {
        None => TraceState::EMPTY,
        // Not UTF-8 cannot happen (the JS wrote a string); it reads as not ASCII, as core would say.
        Some(b) => core::str::from_utf8(b)
            .map_err(|_| Error::NotAscii)
            .and_then(TraceState::parse)
            .map_err(|e| InjectError::TraceState as i32 - error_code(e))?,
    };
    let mut ctx = TraceContext::new(trace_id, span_id);
    ctx.trace_flags = TraceFlags(trace_flags);
    let mut ctx = ctx.with_sampling(sampling);
    ctx.parent_span_id = parent;
    ctx.id_width = id_width;
    ctx.tracestate = tracestate;
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{headers, NAMED, NAME_SHIFT};
    use crate::out::{read_named, read_string, Area, FIELDS};

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// Header entries (by name) or role entries, back to back, and their values.
    struct Call {
        bytes: Vec<u8>,
        entries: Vec<[i32; 4]>,
        values: Vec<Vec<u8>>,
    }

    impl Call {
        /// Headers by index; those not in the list by name, as the JS passes them (`io::NAMED`).
        fn headers(pairs: &[(&str, &str)]) -> Self {
            let mut c = Call { bytes: Vec::new(), entries: Vec::new(), values: Vec::new() };
            for (n, v) in pairs {
                let (h, name_len) = match header_index(n) {
                    Some(i) => (i as i32, 0),
                    None => {
                        c.bytes.extend_from_slice(n.as_bytes());
                        (NAMED, (n.len() as i32) << NAME_SHIFT)
                    }
                };
                c.entries.push([h, c.bytes.len() as i32, v.len() as i32, name_len]);
                c.bytes.extend_from_slice(v.as_bytes());
                c.values.push(v.as_bytes().to_vec());
            }
            c
        }

        fn roles(pairs: &[(Role, &str)]) -> Self {
            Self::new(pairs.iter().map(|(r, v)| (*r as i32, *v)))
        }

        fn new<'v>(pairs: impl Iterator<Item = (i32, &'v str)>) -> Self {
            let mut c = Call { bytes: Vec::new(), entries: Vec::new(), values: Vec::new() };
            for (h, v) in pairs {
                c.entries.push([h, c.bytes.len() as i32, v.len() as i32, 0]);
                c.bytes.extend_from_slice(v.as_bytes());
                c.values.push(v.as_bytes().to_vec());
            }
            c
        }
    }

    struct Js {
        area: Area,
        lits: Vec<Vec<u8>>,
        names: Vec<&'static str>,
    }

    impl Js {
        fn new() -> Self {
            Js { area: Area::default(), lits: Vec::new(), names: headers().collect() }
        }

        fn run(&mut self, c: &Call, op: impl FnOnce(&Input<'_>, Out<'_>) -> i32) -> i32 {
            let src = Input::new(&c.bytes, &c.entries, &self.names);
            op(&src, self.area.begin())
        }

        fn string(&mut self, c: &Call, slot: usize) -> Option<String> {
            let values: Vec<&[u8]> = c.values.iter().map(Vec::as_slice).collect();
            read_string(&self.area, &mut self.lits, &values, slot).map(|b| String::from_utf8_lossy(&b).into_owned())
        }

        fn field(&self, i: usize) -> i32 {
            self.area.ints.get(FIELDS + i).copied().unwrap_or(i32::MIN)
        }
    }

    fn translator(json: &str) -> Translator {
        crate::translator(json).unwrap_or_default()
    }

    #[test]
    fn remote_applies_the_policy_and_carries_the_member() {
        let mut js = Js::new();
        let t = translator("{}");
        // One buffer for every call, as the binding keeps it: nothing of a call stays for the next.
        let mut ts = TraceStateBuf::new();
        let c = Call::headers(&[("b3", "80f198ee56343ba8-e457b5a2e4d86bd1-d")]);
        assert_eq!(js.run(&c, |s, o| remote(&t, s, &mut ts, o)), 1);
        assert_eq!(js.field(0), 1);
        assert_eq!(js.string(&c, 0).as_deref(), Some("000000000000000080f198ee56343ba8"));
        assert_eq!(js.string(&c, 1).as_deref(), Some("e457b5a2e4d86bd1"));
        assert_eq!(js.string(&c, 2).as_deref(), Some("tracebridge=s:e457b5a2e4d86bd1;w:64;m:x"));
        let restart = translator(r#"{"trust": "restart"}"#);
        assert_eq!(js.run(&c, |s, o| remote(&restart, s, &mut ts, o)), 0);
        let c = Call::headers(&[("traceparent", TP), ("tracestate", "a=1,b=2")]);
        assert_eq!(js.run(&c, |s, o| remote(&t, s, &mut ts, o)), 1);
        assert_eq!(js.string(&c, 2).as_deref(), Some("a=1,b=2"));
        assert_eq!(js.field(1), 0, "no member that reads the ids");
        for (state, reads) in [("a=1,tracebridge=s:00f067aa0ba902b7", 1), ("dd=p:00f067aa0ba902b7", 1), ("tb=s:1", 0)] {
            let c = Call::headers(&[("traceparent", TP), ("tracestate", state)]);
            assert_eq!(js.run(&c, |s, o| remote(&t, s, &mut ts, o)), 1);
            assert_eq!(js.field(1), reads, "{state}");
            assert_eq!(js.run(&c, |s, o| extract(&t, s, &mut String::new(), o)), 1);
            assert_eq!(js.field(5), reads, "{state}");
        }
        let tb = translator(r#"{"tracestate": {"key": "tb"}}"#);
        let c = Call::headers(&[("traceparent", TP), ("tracestate", "tb=s:1")]);
        assert_eq!(js.run(&c, |s, o| remote(&tb, s, &mut ts, o)), 1);
        assert_eq!(js.field(1), 1, "the configured key");
        let c = Call::headers(&[("traceparent", TP)]);
        assert_eq!(js.run(&c, |s, o| remote(&t, s, &mut ts, o)), 1);
        assert_eq!(js.string(&c, 2), None);
    }

    #[test]
    fn extract_gives_the_chosen_context() {
        let mut js = Js::new();
        let t = translator("{}");
        let c = Call::headers(&[("tracestate", "a=1"), ("traceparent", TP), ("tracestate", "b=2")]);
        assert_eq!(js.run(&c, |s, o| extract(&t, s, &mut String::new(), o)), 1);
        assert_eq!((js.field(0), js.field(1), js.field(2), js.field(3), js.field(4)), (1, 1, 0, 0, 128));
        assert_eq!(js.string(&c, 0).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(js.string(&c, 2), None);
        assert_eq!(js.string(&c, 3).as_deref(), Some("a=1,b=2"));
        let c = Call::headers(&[("b3", "0")]);
        assert_eq!(js.run(&c, |s, o| extract(&t, s, &mut String::new(), o)), 0);
    }

    #[test]
    fn translate_reports_and_plans() {
        let mut js = Js::new();
        let t = translator(r#"{"inject": ["w3c", "b3-single"], "remove_other_formats": true}"#);
        let c = Call::headers(&[
            ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
            ("x-b3-spanid", "e457b5a2e4d86bd1"),
            ("x-b3-sampled", "1"),
        ]);
        let mut plan = Plan::new();
        assert_eq!(js.run(&c, |s, o| translate(&t, s, &mut plan, || [1; 24], o)), 1);
        let outcome = OUTCOMES.get(js.field(0) as usize).map(Outcome::name);
        assert_eq!(outcome, Some("continued"));
        assert_eq!(js.field(2), Format::B3Multi.index() as i32);
        assert_eq!(js.field(3), 2, "accept");
        assert_eq!(js.field(4), 0b11, "injected w3c, b3-single");
        assert_eq!(js.field(5), 1 << Format::B3Multi.index());
        let statuses: Vec<i32> = (0..Format::COUNT).map(|i| js.field(REPORT.len() + i)).collect();
        let absent_but_b3_multi =
            Format::ALL.map(|f| status_code(if f == Format::B3Multi { Status::Valid } else { Status::Absent }));
        assert_eq!(statuses, absent_but_b3_multi);
        let (removals, writes) = (js.field(12) as usize, js.field(13) as usize);
        assert_eq!(js.field(14), 0, "no named headers");
        let at = REPORT.len() + Format::COUNT;
        let removed: Vec<_> = (0..removals).map(|i| js.names.get(js.field(at + i) as usize).copied()).collect();
        assert_eq!(removed, [Some("x-b3-traceid"), Some("x-b3-spanid"), Some("x-b3-sampled")]);
        let written: Vec<_> = (0..writes)
            .map(|i| (js.names.get(js.field(at + removals + i) as usize).copied(), js.string(&c, 2 + i)))
            .collect();
        assert_eq!(
            written,
            [
                (Some("traceparent"), Some("00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01".into())),
                (Some("b3"), Some("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".into())),
            ]
        );
        assert_eq!(js.string(&c, 0).as_deref(), Some("80f198ee56343ba864fe8b2a57d3eff7"));
        assert_eq!(js.field(REPORT.len() - 1), 0, "no tracestate");
        let reads = REPORT.len() - 1;
        for (state, want) in [("a=1", 0), ("a=1,tracebridge=s:1", 1), ("dd=s:1", 1), ("tracebridgex=1,xdd:=1", 0)] {
            let c = Call::headers(&[("traceparent", TP), ("tracestate", "b=2"), ("tracestate", state)]);
            assert_eq!(js.run(&c, |s, o| translate(&t, s, &mut plan, || [1; 24], o)), 1);
            assert_eq!(js.field(reads), want, "{state}");
        }
    }

    /// What the JS applies after `translate`: removals, then writes, each as `(name, value)`, by index
    /// first and then by name, as index.js does.
    fn applied(js: &mut Js, c: &Call) -> (Vec<String>, Vec<(String, String)>) {
        let (removals, writes, named) = (js.field(12) as usize, js.field(13) as usize, js.field(14) as usize);
        let at = REPORT.len() + Format::COUNT;
        let name = |js: &Js, i: usize| js.names.get(js.field(i) as usize).copied().unwrap_or("?").to_string();
        let mut removed: Vec<String> = (0..removals).map(|i| name(js, at + i)).collect();
        let mut written: Vec<(String, String)> =
            (0..writes).map(|i| (name(js, at + removals + i), js.string(c, 2 + i).unwrap_or_default())).collect();
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        for i in 0..named {
            match read_named(&js.area, i) {
                (n, None) => removed.push(text(n)),
                (n, Some(v)) => written.push((text(n), text(v))),
            }
        }
        (removed, written)
    }

    /// The binding hands back exactly core's plan, whatever the names.
    fn same_as_core(config: &str, pairs: &[(&str, &str)]) -> (Vec<String>, Vec<(String, String)>) {
        let mut js = Js::new();
        let t = translator(config);
        let c = Call::headers(pairs);
        let mut plan = Plan::new();
        assert_eq!(js.run(&c, |s, o| translate(&t, s, &mut plan, || [7; 24], o)), 1, "{config}");
        let got = applied(&mut js, &c);
        let core = t.plan(pairs, || [7; 24]);
        let (by_index, by_name): (Vec<&str>, Vec<&str>) = core.removals().partition(|n| header_index(n).is_some());
        let removals: Vec<String> = by_index.into_iter().chain(by_name).map(str::to_string).collect();
        let (by_index, by_name): (Vec<_>, Vec<_>) = core.writes().partition(|(n, _)| header_index(n).is_some());
        let writes: Vec<(String, String)> =
            by_index.into_iter().chain(by_name).map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert_eq!(got, (removals, writes), "{config}");
        let r = core.report();
        assert_eq!((js.field(10), js.field(11)), (r.baggage_dropped as i32, r.baggage_error.map_or(-1, error_code)));
        got
    }

    #[test]
    fn translate_hands_back_baggage_headers_by_name() {
        let tp = ("traceparent", TP);
        let (removed, written) = same_as_core(
            r#"{"inject": ["w3c", "jaeger", "ot"], "remove_other_formats": true}"#,
            &[tp, ("baggage", "k=v%201,bad member"), ("Uberctx-Tenant", "t+1"), ("OT-Baggage-x", "y")],
        );
        assert!(removed.is_empty(), "{removed:?}");
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"baggage") && names.contains(&"uberctx-k") && names.contains(&"ot-baggage-tenant"));
        // Read and not written: removed by name (lowercase); `baggage` by index.
        let (removed, _) = same_as_core(
            r#"{"inject": ["w3c"], "remove_other_formats": true}"#,
            &[tp, ("Uberctx-Tenant", "t"), ("ot-baggage-x", "y")],
        );
        assert_eq!(removed, ["uberctx-tenant", "ot-baggage-x"]);
        let (removed, written) = same_as_core(r#"{"trust": "ignore"}"#, &[tp, ("baggage", "k=v"), ("uberctx-a", "b")]);
        assert_eq!((removed, written), (vec!["traceparent".into(), "baggage".into(), "uberctx-a".into()], vec![]));
        // Off: passed or not, nothing of it is touched.
        same_as_core(r#"{"inject": ["jaeger"], "baggage": false}"#, &[tp, ("baggage", "k=v"), ("uberctx-a", "b")]);
    }

    #[test]
    fn the_most_baggage_a_plan_holds_fits_the_output() {
        let owned: Vec<(String, String)> = (0..300)
            .flat_map(|i| {
                [
                    (format!("uberctx-key{i:03}-{}", "k".repeat(40)), format!("v{i}")),
                    (format!("ot-baggage-key{i:03}-{}", "k".repeat(40)), "v".repeat(100)),
                ]
            })
            .collect();
        let members: Vec<String> = (0..70).map(|i| format!("m{i}={}", "x".repeat(100))).collect();
        let line = members.join(",");
        let mut pairs: Vec<(&str, &str)> = vec![("traceparent", TP), ("baggage", &line)];
        pairs.extend(owned.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let (removed, _) = same_as_core(r#"{"trust": "ignore"}"#, &pairs);
        assert!(removed.len() > 200, "{}", removed.len());
        let (_, written) = same_as_core(r#"{"inject": ["w3c", "jaeger", "ot"]}"#, &pairs);
        assert!(written.len() > 60, "{}", written.len());
        let (removed, written) = same_as_core(
            r#"{"extract": ["ot", "jaeger", "w3c"], "inject": ["w3c"], "remove_other_formats": true}"#,
            &pairs,
        );
        let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
        assert!(removed.len() > 200 && names == ["baggage"], "{} {names:?}", removed.len());
    }

    #[test]
    fn inject_span_restores_what_w3c_cannot_say() {
        let mut js = Js::new();
        let t = translator(r#"{"inject": ["b3-single", "w3c"]}"#);
        let c = Call::roles(&[
            (Role::TraceId, "000000000000000080f198ee56343ba8"),
            (Role::SpanId, "e457b5a2e4d86bd1"),
            (Role::TraceState, "tracebridge=s:e457b5a2e4d86bd1;w:64;m:x"),
        ]);
        let mut w = Writes::default();
        assert_eq!(js.run(&c, |s, o| inject_span(&t, s, 1, &mut w, o)), 3);
        let got: Vec<_> = (0..3).map(|i| (js.names.get(js.field(2 + i) as usize).copied(), js.string(&c, i))).collect();
        assert_eq!(
            got,
            [
                (Some("b3"), Some("80f198ee56343ba8-e457b5a2e4d86bd1-d".into())),
                (Some("traceparent"), Some("00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01".into())),
                (Some("tracestate"), Some("tracebridge=s:e457b5a2e4d86bd1;w:64;m:x".into())),
            ]
        );
        let bad = Call::roles(&[(Role::TraceId, "xyz"), (Role::SpanId, "e457b5a2e4d86bd1")]);
        assert_eq!(js.run(&bad, |s, o| inject_span(&t, s, 1, &mut w, o)), InjectError::TraceId as i32);
    }

    #[test]
    fn inject_writes_each_format_in_order_and_says_why_not() {
        let mut js = Js::new();
        let pack = |fs: &[Format]| {
            let p = fs.iter().rev().fold(0u64, |p, f| p << 4 | (f.index() as u64 + 1));
            (p as u32, (p >> 32) as u32)
        };
        let c = Call::roles(&[
            (Role::TraceId, "4bf92f3577b34da6a3ce929d0e0e4736"),
            (Role::SpanId, "00f067aa0ba902b7"),
            (Role::TraceState, "a=1"),
        ]);
        let mut w = Writes::default();
        let n = js.run(&c, |s, o| inject(pack(&[Format::W3c, Format::B3Single]), 1, false, 0, s, &mut w, o));
        assert_eq!(n, 3);
        let got: Vec<_> = (0..3).map(|i| js.string(&c, i)).collect();
        assert_eq!(
            got,
            [
                Some(TP.to_string()),
                Some("a=1".into()),
                Some("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1".into())
            ]
        );
        // B3 multi removes a parent id and a debug flag it does not have.
        let n = js.run(&c, |s, o| inject(pack(&[Format::B3Multi]), 1, false, 0, s, &mut w, o));
        assert_eq!((n, js.field(0)), (3, 2));
        let removed: Vec<_> = (2..4).map(|i| js.names.get(js.field(i) as usize).copied()).collect();
        assert_eq!(removed, [Some("x-b3-parentspanid"), Some("x-b3-flags")]);
        let bad = Call::roles(&[(Role::TraceId, "4bf92f3577b34da6a3ce929d0e0e4736"), (Role::SpanId, "0")]);
        assert_eq!(js.run(&bad, |s, o| inject((1, 0), 1, false, 0, s, &mut w, o)), InjectError::SpanId as i32);
        let bad = Call::roles(&[
            (Role::TraceId, "4bf92f3577b34da6a3ce929d0e0e4736"),
            (Role::SpanId, "00f067aa0ba902b7"),
            (Role::TraceState, "A=1"),
        ]);
        let code = js.run(&bad, |s, o| inject((1, 0), 1, false, 0, s, &mut w, o));
        assert_eq!(code, InjectError::TraceState as i32 - error_code(Error::TracestateKey));
        let (lo, hi) = pack(&Format::ALL);
        assert_eq!(unpack_formats(lo, hi).collect::<Vec<_>>(), Format::ALL);
        // Every slot used: the list ends with the words, not with a 0.
        let full: Vec<Format> = Format::ALL.iter().cycle().take(PACKED_FORMATS).copied().collect();
        let (lo, hi) = pack(&full);
        assert_eq!(unpack_formats(lo, hi).collect::<Vec<_>>(), full);
        // All ten formats written, in order: their first headers, each once.
        let n = js.run(&c, |s, o| inject(pack(&Format::ALL), 1, false, 0, s, &mut w, o));
        let firsts: Vec<_> =
            (0..n as usize).map(|i| js.names.get(js.field(2 + js.field(0) as usize + i) as usize).copied()).collect();
        for f in Format::ALL {
            assert!(f.headers().iter().any(|h| firsts.contains(&Some(h))), "{f} wrote nothing: {firsts:?}");
        }
    }

    #[test]
    fn every_status_and_outcome_has_a_number() {
        for e in Error::ALL {
            assert_eq!(status_code(Status::Invalid(*e)), STATUSES.len() as i32 + error_code(*e));
        }
        for (i, s) in STATUSES.iter().enumerate() {
            assert_eq!(status_code(*s), i as i32);
        }
        for (i, o) in OUTCOMES.iter().enumerate() {
            assert_eq!(outcome_code(*o), i as i32);
        }
        assert_eq!(outcome_code(Outcome::NewRoot(RootReason::Untrusted)), 1);
    }
}
