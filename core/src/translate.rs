//! The translation policy: which formats to read and in what order, what to do on conflict or
//! absence, and which formats to write.
//!
//! One [`Config`] — the same JSON shape for the Envoy filter, the npm package and Rust — builds a
//! [`Translator`]. Its decisions, where the specs leave them open:
//!
//! - **Precedence** is the `extract` list, and the first format with a valid *context* wins. (The
//!   OpenTelemetry composite propagators let the *last* one win, which surprises users.) Every other
//!   valid context is compared with it: a different trace id is a [`Status::Conflict`], never merged.
//!   A B3 decision without ids (`b3: 0`) is used only when no format carried a context.
//! - **Sampling** maps by the table on [`Sampling`]: W3C has no *defer*, so it writes `sampled=0` and
//!   our tracestate member remembers *defer* (and *debug*) for later legacy hops.
//! - **Trust at the edge** ([`Trust`]): continue the incoming trace, restart it (a new root whose
//!   tracestate member `o:` names the old ids, so they can be linked), or ignore it (its headers are
//!   removed and `on_missing` applies). `drop_forced_sampling` turns a client's sampled/debug
//!   decision into *defer*.
//! - **tracestate** lines are combined, our member is added or refreshed at the front, members are
//!   dropped by the W3C rules when limits are exceeded (first those over 128 characters, then from the
//!   end), and an empty tracestate header is never written. A tracestate travels only with the
//!   traceparent it came with: when the W3C context is not the one continued, it is replaced.
//! - **X-Ray ids**: an X-Ray trace id's first 32 bits are an epoch. A W3C or B3 id written as X-Ray is
//!   kept bit for bit (`1-{first 8 hex}-{last 24 hex}`), never changed; X-Ray accepts such ids
//!   ([AWS: W3C trace IDs](https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids)).
//! - **Width**: a 64-bit B3/Jaeger trace id is written as W3C left-padded with zeros, and our member
//!   (`w:64`) lets a later B3/Jaeger hop write 16 digits again. `id_width: 64` truncates 128-bit ids
//!   for legacy services that need it, and says so in [`Report::trace_id_truncated`].
//! - **Untouched**: when the outcome is [`Outcome::PassThrough`] nothing is written or removed, and
//!   the format a context came from is not rewritten unless the context changed.

use core::fmt;

use crate::carrier::{Extractor, Injector};
use crate::context::{Propagation, Sampling, TraceContext, TraceFlags};
use crate::format::{Extracted, Format};
use crate::id::{ascii_str, IdWidth, SpanId, TraceId};
use crate::tracestate::{self, TraceStateBuf};
use crate::{b3, ext, xray, Error};

const N: usize = Format::ALL.len();

/// An ordered set of formats (no repeats).
///
/// ```
/// use tracebridge::translate::FormatList;
/// use tracebridge::Format;
///
/// let list = FormatList::new(&[Format::W3c, Format::B3Multi]).map_err(|f| format!("{f} repeated"))?;
/// assert_eq!(list.as_slice(), [Format::W3c, Format::B3Multi]);
/// assert_eq!(FormatList::new(&[Format::W3c, Format::W3c]), Err(Format::W3c));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FormatList {
    items: [Format; N],
    len: u8,
}

impl FormatList {
    /// Every format, in the default extraction order: w3c, b3-single, b3-multi, jaeger, xray, grpc-trace-bin.
    pub const ALL: FormatList = FormatList { items: Format::ALL, len: N as u8 };
    /// No formats.
    pub const EMPTY: FormatList = FormatList { items: Format::ALL, len: 0 };

    /// The list, in order; `Err` names a repeated format.
    pub fn new(formats: &[Format]) -> Result<Self, Format> {
        let mut list = FormatList::EMPTY;
        for &f in formats {
            list.push(f)?;
        }
        Ok(list)
    }

    fn push(&mut self, f: Format) -> Result<(), Format> {
        if self.contains(f) {
            return Err(f);
        }
        let slot = self.items.get_mut(usize::from(self.len)).ok_or(f)?;
        *slot = f;
        self.len += 1;
        Ok(())
    }

    /// The formats in order.
    pub fn as_slice(&self) -> &[Format] {
        self.items.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The formats in order.
    pub fn iter(&self) -> impl Iterator<Item = Format> + '_ {
        self.as_slice().iter().copied()
    }

    /// True when `f` is listed.
    pub fn contains(&self, f: Format) -> bool {
        self.as_slice().contains(&f)
    }

    /// Number of formats.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when no format is listed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for FormatList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Format::name)).finish()
    }
}

/// What to do when no valid context arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(rename_all = "kebab-case"))]
pub enum OnMissing {
    /// Leave the request as it is (counted as missing).
    #[default]
    PassThrough,
    /// Start a new root trace from caller-supplied randomness.
    NewRoot,
}

/// What to do when valid headers name different traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(rename_all = "kebab-case"))]
pub enum OnConflict {
    /// Continue the first valid format in `extract` order; report the others as conflicts.
    #[default]
    PreferFirst,
    /// Start a new root, linked to the first valid context through our tracestate member.
    NewRoot,
    /// Change nothing; report the conflict.
    PassThrough,
}

/// Whether to trust the incoming trace (at the edge of a network, clients are not trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(rename_all = "kebab-case"))]
pub enum Trust {
    /// Continue it.
    #[default]
    Continue,
    /// Start a new root; our tracestate member keeps the incoming ids (`o:`) for linking.
    Restart,
    /// Remove its headers and act as if nothing arrived (`on_missing` applies).
    Ignore,
}

/// The sampling decision of a root this translator starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(rename_all = "kebab-case"))]
pub enum RootSampling {
    /// No decision: the services downstream decide (W3C writes `sampled=0`, B3 omits it).
    #[default]
    Defer,
    /// Sampled.
    Accept,
    /// Not sampled.
    Deny,
}

/// The trace id width written in B3 and Jaeger headers (W3C, X-Ray and grpc always carry 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WidthPolicy {
    /// As it arrived (a W3C/X-Ray/grpc id is 128-bit; a 64-bit B3/Jaeger id stays 64-bit).
    #[default]
    Keep,
    /// Always 64 bits: a 128-bit id is truncated to its low 64 bits (reported).
    Bits64,
    /// Always 128 bits: a 64-bit id is left-padded with zeros.
    Bits128,
}

/// Longest configurable tracestate member key.
pub const MAX_MEMBER_KEY: usize = 64;

/// The key of tracebridge's own tracestate member: a valid tracestate key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberKey {
    buf: [u8; MAX_MEMBER_KEY],
    len: u8,
}

impl MemberKey {
    /// `tracebridge`.
    pub const DEFAULT: &'static str = "tracebridge";

    /// The key, if it is a valid tracestate key of at most [`MAX_MEMBER_KEY`] characters.
    pub fn new(key: &str) -> Option<Self> {
        if key.len() > MAX_MEMBER_KEY || !tracestate::is_valid_key(key) {
            return None;
        }
        let mut buf = [0u8; MAX_MEMBER_KEY];
        buf.get_mut(..key.len())?.copy_from_slice(key.as_bytes());
        Some(MemberKey { buf, len: u8::try_from(key.len()).ok()? })
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        ascii_str(self.buf.get(..usize::from(self.len)).unwrap_or_default())
    }
}

impl Default for MemberKey {
    fn default() -> Self {
        let mut buf = [0u8; MAX_MEMBER_KEY];
        let (dst, _) = buf.split_at_mut(Self::DEFAULT.len());
        dst.copy_from_slice(Self::DEFAULT.as_bytes());
        MemberKey { buf, len: Self::DEFAULT.len() as u8 }
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// tracestate handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TracestateConfig {
    /// Write our own member when a W3C hop would otherwise lose something a legacy format said.
    pub member: bool,
    /// Its key.
    pub key: MemberKey,
    /// The longest tracestate written, 512..=4096 (W3C: propagate at least 512 characters,
    /// [§3.3.1.5](https://www.w3.org/TR/trace-context/#tracestate-limits)).
    pub max_len: usize,
}

impl Default for TracestateConfig {
    fn default() -> Self {
        TracestateConfig { member: true, key: MemberKey::default(), max_len: 1024 }
    }
}

/// The translator's configuration. Every field has a default; see the module docs for the policy.
///
/// ```
/// use tracebridge::translate::{Config, FormatList, OnMissing, Trust};
/// use tracebridge::Format;
///
/// // At the edge: do not trust clients, always write W3C and B3 multi.
/// let config = Config {
///     inject: FormatList::new(&[Format::W3c, Format::B3Multi]).map_err(|_| "repeat")?,
///     trust: Trust::Restart,
///     on_missing: OnMissing::NewRoot,
///     ..Config::default()
/// };
/// assert!(tracebridge::Translator::new(config).is_ok());
/// # Ok::<(), &str>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Formats read, in precedence order (first valid wins). Default: all, w3c first.
    pub extract: FormatList,
    /// Formats written. Default: w3c.
    pub inject: FormatList,
    /// Remove the headers of formats that are read but not injected (when a context is continued or
    /// started). Default: false.
    pub remove_other_formats: bool,
    /// Nothing valid arrived. Default: pass through.
    pub on_missing: OnMissing,
    /// Valid headers name different traces. Default: prefer the first.
    pub on_conflict: OnConflict,
    /// Continue, restart or ignore the incoming trace. Default: continue.
    pub trust: Trust,
    /// Turn an incoming sampled/debug decision into *defer*. Default: false.
    pub drop_forced_sampling: bool,
    /// Sampling of a new root. Default: defer.
    pub root_sampling: RootSampling,
    /// Trace id width in B3/Jaeger headers. Default: keep.
    pub id_width: WidthPolicy,
    /// tracestate handling.
    pub tracestate: TracestateConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            extract: FormatList::ALL,
            inject: FormatList { items: Format::ALL, len: 1 },
            remove_other_formats: false,
            on_missing: OnMissing::default(),
            on_conflict: OnConflict::default(),
            trust: Trust::default(),
            drop_forced_sampling: false,
            root_sampling: RootSampling::default(),
            id_width: WidthPolicy::default(),
            tracestate: TracestateConfig::default(),
        }
    }
}

/// A configuration that cannot work. `Display` names the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `extract` is empty.
    EmptyExtract,
    /// `tracestate.max_len` is outside 512..=4096.
    TracestateMaxLen,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::EmptyExtract => "extract: must name at least one format",
            ConfigError::TracestateMaxLen => "tracestate.max_len: must be between 512 and 4096",
        })
    }
}

impl core::error::Error for ConfigError {}

/// What was found for one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// Not in the `extract` list.
    #[default]
    NotRead,
    /// None of its headers arrived.
    Absent,
    /// Valid.
    Valid,
    /// Present but invalid.
    Invalid(Error),
    /// Valid, but names a different trace than the chosen context.
    Conflict,
}

impl Status {
    /// True when the format's headers arrived (valid, invalid or in conflict).
    pub const fn arrived(&self) -> bool {
        matches!(self, Status::Valid | Status::Invalid(_) | Status::Conflict)
    }

    /// `not-read`, `absent`, `valid`, `invalid`, `conflict`.
    pub const fn name(&self) -> &'static str {
        match self {
            Status::NotRead => "not-read",
            Status::Absent => "absent",
            Status::Valid => "valid",
            Status::Invalid(_) => "invalid",
            Status::Conflict => "conflict",
        }
    }
}

/// Everything read from the headers, and the choice made (no writes).
#[derive(Debug, Clone, Copy)]
pub struct Inspection<'a> {
    /// The format whose context (or decision) was chosen.
    pub source: Option<Format>,
    /// The chosen context, with what our tracestate member carried applied.
    pub context: Option<TraceContext<'a>>,
    /// A decision without ids (B3), when no context arrived.
    pub sampling_only: Option<Sampling>,
    /// Per format, indexed by [`Format::index`].
    pub status: [Status; N],
    /// Why an incoming tracestate was dropped next to a valid traceparent, or
    /// ([`Error::TracestateDuplicateKey`]) why some of its members were.
    pub tracestate_error: Option<Error>,
    /// Ids a previous restart replaced (from our member's `o:`).
    pub restarted_from: Option<(TraceId, SpanId)>,
}

impl Inspection<'_> {
    /// The status of `f`.
    pub fn status(&self, f: Format) -> Status {
        self.status.get(f.index()).copied().unwrap_or_default()
    }

    /// Number of formats in conflict with the chosen context.
    pub fn conflicts(&self) -> usize {
        self.status.iter().filter(|s| matches!(s, Status::Conflict)).count()
    }
}

/// Why a new root was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RootReason {
    /// Nothing valid arrived (`on_missing: new-root`).
    Missing,
    /// Headers named different traces (`on_conflict: new-root`).
    Conflict,
    /// The incoming trace was not trusted (`trust: restart` or `ignore`).
    Untrusted,
}

/// What the translator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The incoming context is continued.
    Continued,
    /// A new root trace was started.
    NewRoot(RootReason),
    /// Only a B3 sampling decision arrived; it was passed on to the B3 formats injected.
    SamplingOnly,
    /// The incoming trace was removed and nothing replaced it (`trust: ignore`, `on_missing: pass-through`).
    Ignored,
    /// Nothing was changed.
    PassThrough,
}

impl Outcome {
    /// `continued`, `new-root`, `sampling-only`, `ignored`, `pass-through`.
    pub const fn name(&self) -> &'static str {
        match self {
            Outcome::Continued => "continued",
            Outcome::NewRoot(_) => "new-root",
            Outcome::SamplingOnly => "sampling-only",
            Outcome::Ignored => "ignored",
            Outcome::PassThrough => "pass-through",
        }
    }
}

/// The outcome of a translation, for counting and logging.
///
/// ```
/// use tracebridge::translate::{Outcome, Status};
/// use tracebridge::{Format, Translator};
///
/// let mut headers = vec![("b3".to_string(), "not-valid".to_string())];
/// let report = Translator::default().translate(&mut headers, || [0; 24]);
/// assert!(report.missing()); // the propagation-gap signal
/// assert_eq!(report.outcome, Outcome::PassThrough);
/// assert!(matches!(report.status(Format::B3Single), Status::Invalid(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Report {
    /// The format the continued context (or decision) came from.
    pub source: Option<Format>,
    /// Per format, indexed by [`Format::index`].
    pub status: [Status; N],
    /// What was done.
    pub outcome: Outcome,
    /// The trace id written, if any.
    pub trace_id: Option<TraceId>,
    /// The span id written (the downstream's parent), if any.
    pub span_id: Option<SpanId>,
    /// The sampling decision written, if any.
    pub sampling: Option<Sampling>,
    /// Formats written, indexed by [`Format::index`].
    pub injected: [bool; N],
    /// Formats whose headers were removed, indexed by [`Format::index`].
    pub removed: [bool; N],
    /// Incoming tracestate members dropped to fit the limits.
    pub tracestate_dropped: usize,
    /// Fields of our tracestate member that did not fit its 256 characters.
    pub member_fields_lost: usize,
    /// A 128-bit trace id was written as 64 bits (`id_width: 64`).
    pub trace_id_truncated: bool,
    /// Why an incoming tracestate was dropped next to a valid traceparent, or
    /// ([`Error::TracestateDuplicateKey`]) why some of its members were.
    pub tracestate_error: Option<Error>,
}

impl Report {
    /// Nothing read, nothing done.
    const EMPTY: Report = Report {
        source: None,
        status: [Status::NotRead; N],
        outcome: Outcome::PassThrough,
        trace_id: None,
        span_id: None,
        sampling: None,
        injected: [false; N],
        removed: [false; N],
        tracestate_dropped: 0,
        member_fields_lost: 0,
        trace_id_truncated: false,
        tracestate_error: None,
    };

    /// The status of `f`.
    pub fn status(&self, f: Format) -> Status {
        self.status.get(f.index()).copied().unwrap_or_default()
    }

    /// Nothing valid arrived: the propagation-gap signal.
    pub fn missing(&self) -> bool {
        self.source.is_none()
    }

    /// Number of formats in conflict with the chosen context.
    pub fn conflicts(&self) -> usize {
        self.status.iter().filter(|s| matches!(s, Status::Conflict)).count()
    }

    /// A new root was generated.
    pub fn root_generated(&self) -> bool {
        matches!(self.outcome, Outcome::NewRoot(_))
    }

    /// True when `f` was written.
    pub fn injected(&self, f: Format) -> bool {
        self.injected.get(f.index()).copied().unwrap_or(false)
    }
}

const MAX_OPS: usize = 32;
const ARENA: usize = 2048;

#[derive(Clone, Copy)]
enum Op {
    Set { name: &'static str, start: u16, len: u16 },
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
#[derive(Clone)]
pub struct Plan {
    report: Report,
    ops: [Option<Op>; MAX_OPS],
    n_ops: usize,
    arena: [u8; ARENA],
    used: usize,
    tracestate: Option<TraceStateBuf>,
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
    pub fn new() -> Self {
        Plan { report: Report::EMPTY, ops: [None; MAX_OPS], n_ops: 0, arena: [0; ARENA], used: 0, tracestate: None }
    }

    /// Empty again, with `report`; the buffers are kept as they are (only what is pushed is read).
    fn reset(&mut self, report: Report) {
        self.report = report;
        self.n_ops = 0;
        self.used = 0;
    }

    /// The outcome, for counting and logging.
    pub fn report(&self) -> &Report {
        &self.report
    }

    fn push(&mut self, op: Op) {
        if let Some(slot) = self.ops.get_mut(self.n_ops) {
            *slot = Some(op);
            self.n_ops += 1;
        }
    }

    fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        self.ops.iter().take(self.n_ops).flatten().copied()
    }

    fn value(&self, start: u16, len: u16) -> &str {
        let (start, len) = (usize::from(start), usize::from(len));
        ascii_str(self.arena.get(start..start + len).unwrap_or_default())
    }

    /// The final header values to set, `(lowercase name, value)`, after [`removals`](Self::removals).
    /// A name set twice appears once, with its last value.
    pub fn writes(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        let final_ops = self.ops().enumerate().filter(move |(i, op)| {
            let name = op_name(op);
            !self.ops().skip(i + 1).any(|later| op_name(&later) == name)
        });
        final_ops.filter_map(move |(_, op)| match op {
            Op::Set { name, start, len } => Some((name, self.value(start, len))),
            Op::SetTracestate => Some((tracestate::HEADER, self.tracestate.as_ref().map_or("", |t| t.as_str()))),
            Op::Remove(_) => None,
        })
    }

    /// Header names to remove (every line of each).
    pub fn removals(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.ops().enumerate().filter_map(move |(i, op)| match op {
            Op::Remove(name) if !self.ops().skip(i + 1).any(|later| op_name(&later) == name) => Some(name),
            _ => None,
        })
    }

    /// True when applying changes nothing.
    pub fn is_noop(&self) -> bool {
        self.ops().next().is_none()
    }

    /// Removing a header that is not there changes nothing but costs the carrier a call (a host call
    /// in the Envoy filter): such removals are dropped, unless the plan itself set that header earlier.
    fn drop_absent_removals<E: Extractor + ?Sized>(&mut self, headers: &E) {
        for i in 0..self.n_ops {
            let Some(Some(Op::Remove(name))) = self.ops.get(i).copied() else { continue };
            let set_before =
                self.ops.iter().take(i).flatten().any(|op| !matches!(op, Op::Remove(_)) && op_name(op) == name);
            if !set_before && crate::carrier::first(headers, name).is_none() {
                if let Some(slot) = self.ops.get_mut(i) {
                    *slot = None;
                }
            }
        }
    }

    /// Apply to a carrier: removals, then writes.
    pub fn apply<I: Injector + ?Sized>(&self, headers: &mut I) {
        for name in self.removals() {
            headers.remove(name);
        }
        for (name, value) in self.writes() {
            headers.set(name, value);
        }
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Set { name, .. } | Op::Remove(name) => name,
        Op::SetTracestate => tracestate::HEADER,
    }
}

/// The static name of a header some format writes.
fn static_name(name: &str) -> Option<&'static str> {
    Format::ALL.into_iter().flat_map(|f| f.headers().iter().copied()).find(|h| h.eq_ignore_ascii_case(name))
}

/// Captures a format's `inject` into the plan.
impl Injector for Plan {
    fn set(&mut self, name: &str, value: &str) {
        let (Some(name), Some(dst)) = (static_name(name), self.arena.get_mut(self.used..self.used + value.len()))
        else {
            return;
        };
        dst.copy_from_slice(value.as_bytes());
        let (Ok(start), Ok(len)) = (u16::try_from(self.used), u16::try_from(value.len())) else { return };
        self.used += value.len();
        self.push(Op::Set { name, start, len });
    }

    fn remove(&mut self, name: &str) {
        if let Some(name) = static_name(name) {
            self.push(Op::Remove(name));
        }
    }
}

/// The translation policy, built from a [`Config`].
///
/// ```
/// use tracebridge::{Config, Format, Translator};
///
/// let translator = Translator::new(Config::default())?;
/// let mut headers = vec![("b3".to_string(), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_string())];
/// let report = translator.translate(&mut headers, || [7; 24]);
/// assert_eq!(report.source, Some(Format::B3Single));
/// assert!(headers.contains(&(
///     "traceparent".to_string(),
///     "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01".to_string()
/// )));
/// # Ok::<(), tracebridge::translate::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Translator {
    config: Config,
}

impl Translator {
    /// A translator for `config`, checked.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        if config.extract.is_empty() {
            return Err(ConfigError::EmptyExtract);
        }
        if !(512..=tracestate::MAX_OUTPUT_LEN).contains(&config.tracestate.max_len) {
            return Err(ConfigError::TracestateMaxLen);
        }
        Ok(Translator { config })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every header the translator may read or write (lowercase), e.g. for OpenTelemetry `fields()`.
    ///
    /// ```
    /// use tracebridge::Translator;
    ///
    /// let fields: Vec<&str> = Translator::default().fields().collect();
    /// assert!(fields.contains(&"traceparent") && fields.contains(&"grpc-trace-bin"));
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        Format::ALL
            .into_iter()
            .filter(|f| self.config.extract.contains(*f) || self.config.inject.contains(*f))
            .flat_map(|f| f.headers().iter().copied())
    }

    /// Read every configured format and choose a context (nothing is written).
    ///
    /// ```
    /// use tracebridge::translate::Status;
    /// use tracebridge::{Format, Translator};
    ///
    /// let headers = [
    ///     ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ///     ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
    ///     ("uber-trace-id", "garbage"),
    /// ];
    /// let ins = Translator::default().inspect(&headers[..]);
    /// assert_eq!(ins.source, Some(Format::W3c));
    /// assert_eq!(ins.status(Format::B3Single), Status::Conflict);
    /// assert!(matches!(ins.status(Format::Jaeger), Status::Invalid(_)));
    /// assert_eq!(ins.status(Format::XRay), Status::Absent);
    /// ```
    pub fn inspect<'a, E: Extractor + ?Sized>(&self, headers: &'a E) -> Inspection<'a> {
        let mut ins = Inspection {
            source: None,
            context: None,
            sampling_only: None,
            status: [Status::NotRead; N],
            tracestate_error: None,
            restarted_from: None,
        };
        let mut decision: Option<(Format, Sampling)> = None;
        for f in self.config.extract.iter() {
            let status = match f.extract(headers) {
                Ok(None) => Status::Absent,
                Err(e) => Status::Invalid(e),
                Ok(Some(Extracted { propagation, warning })) => {
                    if f == Format::W3c {
                        ins.tracestate_error = warning;
                    }
                    match (propagation, &ins.context) {
                        (Propagation::Context(ctx), None) => {
                            ins.source = Some(f);
                            ins.context = Some(ctx);
                            Status::Valid
                        }
                        (Propagation::Context(ctx), Some(chosen)) if ctx.trace_id != chosen.trace_id => {
                            Status::Conflict
                        }
                        (Propagation::Context(_), Some(_)) => Status::Valid,
                        (Propagation::SamplingOnly(s), _) => {
                            decision = decision.or(Some((f, s)));
                            Status::Valid
                        }
                    }
                }
            };
            if let Some(slot) = ins.status.get_mut(f.index()) {
                *slot = status;
            }
        }
        // A conflict is only known once the chosen context is: formats read before it cannot
        // conflict (they were invalid, absent or decisions), so one pass suffices.
        if let (Some(ctx), Some(Format::W3c)) = (ins.context.as_mut(), ins.source) {
            if let Some(member) = ctx.tracestate.get(self.config.tracestate.key.as_str()) {
                ext::clear_extras(ctx);
                ins.restarted_from = ext::apply(ctx, member).restarted_from;
            }
        }
        if ins.context.is_none() {
            if let Some((f, s)) = decision {
                ins.source = Some(f);
                ins.sampling_only = Some(s);
            }
        }
        ins
    }

    /// Decide what to write. `random` is called only when a new root is started, and must return 24
    /// random bytes (16 for the trace id, 8 for the span id).
    ///
    /// ```
    /// use tracebridge::translate::{Config, OnMissing, Outcome, RootReason};
    /// use tracebridge::Translator;
    ///
    /// let translator = Translator::new(Config { on_missing: OnMissing::NewRoot, ..Config::default() })?;
    /// let headers: [(&str, &str); 0] = [];
    /// // `random` is called only for a new root; use the OS generator in real code.
    /// let plan = translator.plan(&headers[..], || [0x11; 24]);
    /// assert_eq!(plan.report().outcome, Outcome::NewRoot(RootReason::Missing));
    /// let writes: Vec<_> = plan.writes().collect();
    /// assert_eq!(writes[0], ("traceparent", "00-11111111111111111111111111111111-1111111111111111-02"));
    /// # Ok::<(), tracebridge::translate::ConfigError>(())
    /// ```
    pub fn plan<E: Extractor + ?Sized>(&self, headers: &E, random: impl FnOnce() -> [u8; 24]) -> Plan {
        let mut plan = Plan::new();
        self.plan_into(headers, random, &mut plan);
        plan
    }

    /// [`plan`](Self::plan) into an existing [`Plan`], replacing what it held. A plan is several KiB
    /// (the values it writes are in fixed buffers): a caller on a hot path (the Envoy filter, the npm
    /// package) keeps one and reuses it, so nothing is zeroed or copied per request.
    ///
    /// ```
    /// use tracebridge::translate::Plan;
    /// use tracebridge::Translator;
    ///
    /// let translator = Translator::default();
    /// let mut plan = Plan::new();
    /// for b3 in ["80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1", "garbage"] {
    ///     translator.plan_into(&[("b3", b3)][..], || [7; 24], &mut plan);
    /// }
    /// assert!(plan.is_noop() && plan.report().missing());
    /// ```
    pub fn plan_into<E: Extractor + ?Sized>(&self, headers: &E, random: impl FnOnce() -> [u8; 24], plan: &mut Plan) {
        self.decide(headers, random, plan);
        plan.drop_absent_removals(headers);
    }

    fn decide<E: Extractor + ?Sized>(&self, headers: &E, random: impl FnOnce() -> [u8; 24], plan: &mut Plan) {
        let ins = self.inspect(headers);
        let cfg = &self.config;
        let mut report =
            Report { source: ins.source, status: ins.status, tracestate_error: ins.tracestate_error, ..Report::EMPTY };
        let sampling_in = |s: Sampling| match s {
            Sampling::Accept | Sampling::Debug if cfg.drop_forced_sampling => Sampling::Defer,
            s => s,
        };
        // Decide the outgoing context.
        let edge_root = match (ins.context, ins.status(Format::XRay), cfg.trust) {
            (None, Status::Invalid(Error::XRayMissingParent), Trust::Continue) => {
                crate::carrier::single(headers, xray::HEADER, Error::XRayDuplicate)
                    .ok()
                    .flatten()
                    .and_then(xray::root_without_parent)
            }
            _ => None,
        };
        let root = |reason: RootReason, sampling: Sampling| {
            let bytes = random();
            let (t, s) = bytes.split_at(16);
            let mut tb = [0u8; 16];
            let mut sb = [0u8; 8];
            tb.copy_from_slice(t);
            sb.copy_from_slice(s);
            let (trace_id, span_id) = (TraceId::from_random(tb), SpanId::from_random(sb));
            let mut ctx = TraceContext::new(trace_id, span_id).with_sampling(sampling);
            // An X-Ray `Root` without `Parent` (a load balancer at the edge) keeps its trace id and
            // fields: the new root span joins the trace the load balancer logged.
            match edge_root {
                Some((root_id, _, xray)) => {
                    ctx.trace_id = root_id;
                    ctx.xray = xray;
                }
                // Level 2 §3.2.2.5.2: the trace-id is random.
                None => ctx.trace_flags = TraceFlags(ctx.trace_flags.0 | TraceFlags::RANDOM),
            }
            (ctx, Outcome::NewRoot(reason))
        };
        let root_sampling = match cfg.root_sampling {
            RootSampling::Defer => Sampling::Defer,
            RootSampling::Accept => Sampling::Accept,
            RootSampling::Deny => Sampling::Deny,
        };
        let mut ignored = false;
        let mut restarted_from = ins.restarted_from;
        let chosen: Option<(TraceContext<'_>, Outcome)> = match (ins.context, ins.sampling_only) {
            (Some(_), _) if ins.conflicts() > 0 && cfg.on_conflict == OnConflict::PassThrough => None,
            // An untrusted context or decision is dropped; `on_missing` decides what replaces it.
            (Some(_), _) | (None, Some(_)) if cfg.trust == Trust::Ignore => {
                ignored = true;
                match cfg.on_missing {
                    OnMissing::NewRoot => Some(root(RootReason::Untrusted, root_sampling)),
                    OnMissing::PassThrough => None,
                }
            }
            (Some(ctx), _) if cfg.trust == Trust::Restart => {
                restarted_from = Some((ctx.trace_id, ctx.span_id));
                Some(root(RootReason::Untrusted, root_sampling))
            }
            (Some(ctx), _) if ins.conflicts() > 0 && cfg.on_conflict == OnConflict::NewRoot => {
                restarted_from = Some((ctx.trace_id, ctx.span_id));
                Some(root(RootReason::Conflict, root_sampling))
            }
            (Some(ctx), _) => Some((ctx.with_sampling(sampling_in(ctx.sampling)), Outcome::Continued)),
            (None, Some(s)) => match cfg.on_missing {
                OnMissing::NewRoot => Some(root(RootReason::Missing, sampling_in(s))),
                OnMissing::PassThrough => {
                    report.outcome = Outcome::SamplingOnly;
                    report.sampling = Some(sampling_in(s));
                    None
                }
            },
            (None, None) => match (cfg.on_missing, edge_root) {
                // The load balancer's decision, if it made one, as for any incoming decision.
                (OnMissing::NewRoot, Some((_, s, _))) if s != Sampling::Defer => {
                    Some(root(RootReason::Missing, sampling_in(s)))
                }
                (OnMissing::NewRoot, _) => Some(root(RootReason::Missing, root_sampling)),
                (OnMissing::PassThrough, _) => None,
            },
        };

        plan.reset(report);
        let Some((mut ctx, outcome)) = chosen else {
            if ignored {
                plan.report.outcome = Outcome::Ignored;
                self.remove_formats(plan, |f| ins.status(f).arrived());
            } else if let Some(s) = plan.report.sampling {
                // `b3: 0` stays a deny: pass the decision to the B3 formats written.
                let from = ins.source;
                for f in cfg.inject.iter().filter(|f| Some(*f) != from) {
                    match f {
                        Format::B3Single => b3::single::inject_sampling_only(s, plan),
                        Format::B3Multi => b3::multi::inject_sampling_only(s, plan),
                        _ => continue,
                    }
                    // Both B3 forms say nothing for defer.
                    let done = s != Sampling::Defer;
                    if let Some(slot) = plan.report.injected.get_mut(f.index()) {
                        *slot = done;
                    }
                }
                if cfg.remove_other_formats {
                    let injected = plan.report.injected;
                    self.remove_formats(plan, |f| {
                        !injected.get(f.index()).copied().unwrap_or(false) && Some(f) != from
                    });
                }
            }
            return;
        };
        let incoming = ins.context;
        // Width policy for B3/Jaeger.
        match cfg.id_width {
            WidthPolicy::Keep => {}
            WidthPolicy::Bits128 => ctx.id_width = IdWidth::Bits128,
            WidthPolicy::Bits64 => {
                ctx.id_width = IdWidth::Bits64;
                plan.report.trace_id_truncated = !ctx.trace_id.fits_64();
            }
        }
        plan.report.outcome = outcome;
        plan.report.trace_id = Some(ctx.trace_id);
        plan.report.span_id = Some(ctx.span_id);
        plan.report.sampling = Some(ctx.sampling);
        let continued_from = if outcome == Outcome::Continued { ins.source } else { None };
        let unchanged = incoming
            .is_some_and(|i| outcome == Outcome::Continued && i.sampling == ctx.sampling && i.id_width == ctx.id_width);

        if cfg.remove_other_formats || ignored {
            self.remove_formats(plan, |f| !cfg.inject.contains(f) && ins.status(f).arrived());
        }
        for f in cfg.inject.iter() {
            if Some(f) == continued_from && unchanged {
                // The source format is left byte for byte as it arrived, but for a tracestate that
                // was dropped (invalid) or cut (a key given twice): written as read, or removed.
                if f == Format::W3c && ins.tracestate_error.is_some() {
                    self.plan_tracestate(plan, &ctx, true, restarted_from);
                }
                continue;
            }
            if f == Format::W3c {
                // traceparent only: tracestate is written by the policy (our member, limits).
                crate::w3c::inject_traceparent(&ctx, plan);
                self.plan_tracestate(plan, &ctx, continued_from == Some(Format::W3c), restarted_from);
            } else {
                f.inject(&ctx, plan);
            }
            if let Some(slot) = plan.report.injected.get_mut(f.index()) {
                *slot = true;
            }
        }
    }

    fn remove_formats(&self, plan: &mut Plan, which: impl Fn(Format) -> bool) {
        for f in self.config.extract.iter().filter(|f| which(*f)) {
            for h in f.headers() {
                plan.push(Op::Remove(h));
            }
            if let Some(slot) = plan.report.removed.get_mut(f.index()) {
                *slot = true;
            }
        }
    }

    fn plan_tracestate(
        &self,
        plan: &mut Plan,
        ctx: &TraceContext<'_>,
        continued_w3c: bool,
        restarted_from: Option<(TraceId, SpanId)>,
    ) {
        let ts_cfg = &self.config.tracestate;
        let member = if ts_cfg.member { ext::encode(ctx, restarted_from) } else { None };
        plan.report.member_fields_lost = member.map_or(0, |m| usize::from(m.lost));
        // A tracestate travels only with the traceparent it came with.
        let base = if continued_w3c { ctx.tracestate } else { tracestate::TraceState::EMPTY };
        let value = member.as_ref().map(|m| m.as_str());
        if base.is_empty() && value.is_none() {
            plan.push(Op::Remove(tracestate::HEADER));
            return;
        }
        // Written in place: the 4 KiB buffer is neither zeroed nor copied unless a tracestate is written.
        let buf = plan.tracestate.get_or_insert_with(TraceStateBuf::new);
        base.write_into(ts_cfg.key.as_str(), value, ts_cfg.max_len, buf);
        plan.report.tracestate_dropped = buf.dropped();
        if buf.as_str().is_empty() {
            plan.push(Op::Remove(tracestate::HEADER));
        } else {
            plan.push(Op::SetTracestate);
        }
    }

    /// Plan and apply in one go, for carriers that read and write.
    pub fn translate<H: Extractor + Injector + ?Sized>(
        &self,
        headers: &mut H,
        random: impl FnOnce() -> [u8; 24],
    ) -> Report {
        let plan = self.plan(&*headers, random);
        plan.apply(headers);
        plan.report
    }
}

#[cfg(feature = "serde")]
pub use serde_impls::ConfigSeed;

#[cfg(feature = "serde")]
mod serde_impls {
    use super::*;
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::ser::{SerializeMap, SerializeStruct, Serializer};
    use serde::{Deserialize, Serialize};

    const FORMAT_NAMES: &[&str] = &["w3c", "b3-single", "b3-multi", "jaeger", "xray", "grpc-trace-bin"];

    impl<'de> Deserialize<'de> for Format {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Format;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a format name")
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<Format, E> {
                    Format::from_name(s).ok_or_else(|| E::unknown_variant(s, FORMAT_NAMES))
                }
            }
            d.deserialize_str(V)
        }
    }

    impl<'de> Deserialize<'de> for FormatList {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = FormatList;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a list of format names (w3c, b3-single, b3-multi, jaeger, xray, grpc-trace-bin)")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FormatList, A::Error> {
                    let mut list = FormatList::EMPTY;
                    while let Some(f) = seq.next_element::<Format>()? {
                        list.push(f).map_err(|f| de::Error::custom(DuplicateFormat(f)))?;
                    }
                    Ok(list)
                }
            }
            d.deserialize_seq(V)
        }
    }

    struct DuplicateFormat(Format);
    impl fmt::Display for DuplicateFormat {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "format `{}` is listed twice", self.0)
        }
    }

    impl<'de> Deserialize<'de> for MemberKey {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = MemberKey;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a tracestate key of at most 64 characters: a lowercase letter or digit, then a-z 0-9 _ - * / @")
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<MemberKey, E> {
                    MemberKey::new(s).ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
                }
            }
            d.deserialize_str(V)
        }
    }

    impl<'de> Deserialize<'de> for WidthPolicy {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = WidthPolicy;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("\"keep\", 64 or 128")
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<WidthPolicy, E> {
                    match s {
                        "keep" => Ok(WidthPolicy::Keep),
                        "64" => Ok(WidthPolicy::Bits64),
                        "128" => Ok(WidthPolicy::Bits128),
                        _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                    }
                }
                fn visit_u64<E: de::Error>(self, n: u64) -> Result<WidthPolicy, E> {
                    match n {
                        64 => Ok(WidthPolicy::Bits64),
                        128 => Ok(WidthPolicy::Bits128),
                        _ => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                    }
                }
                fn visit_i64<E: de::Error>(self, n: i64) -> Result<WidthPolicy, E> {
                    u64::try_from(n)
                        .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
                        .and_then(|n| self.visit_u64(n))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// The configuration keys, for error messages.
    pub(super) const CONFIG_KEYS: &[&str] = &[
        "extract",
        "inject",
        "remove_other_formats",
        "on_missing",
        "on_conflict",
        "trust",
        "drop_forced_sampling",
        "root_sampling",
        "id_width",
        "tracestate",
    ];

    /// Reads a [`Config`] from a JSON-shaped map, naming the key in every error
    /// (`on_missing: unknown variant ...`), and skipping `extra_keys` — keys a door reads itself (the
    /// Envoy filter's `shadow`, say) — so one object can configure both.
    ///
    /// ```
    /// use serde::de::DeserializeSeed;
    /// use tracebridge::translate::ConfigSeed;
    /// let mut json = serde_json::Deserializer::from_str(r#"{"inject": ["b3-multi"], "shadow": true}"#);
    /// let config = ConfigSeed { extra_keys: &["shadow"] }.deserialize(&mut json);
    /// assert!(config.is_ok());
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    pub struct ConfigSeed<'k> {
        /// Keys to skip (their values are not checked here).
        pub extra_keys: &'k [&'k str],
    }

    impl<'de> de::DeserializeSeed<'de> for ConfigSeed<'_> {
        type Value = Config;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Config, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for ConfigSeed<'_> {
        type Value = Config;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a tracebridge configuration object")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Config, A::Error> {
            let mut c = Config::default();
            let mut seen = [false; CONFIG_KEYS.len()];
            while let Some(key) = map.next_key::<KeyName<'de>>()? {
                let key = key.as_str();
                let Some(i) = CONFIG_KEYS.iter().position(|k| *k == key) else {
                    if self.extra_keys.contains(&key) {
                        map.next_value::<de::IgnoredAny>()?;
                        continue;
                    }
                    return Err(de::Error::custom(format_args!(
                        "unknown configuration key `{key}`, expected one of: {}",
                        Joined(CONFIG_KEYS)
                    )));
                };
                if let Some(s) = seen.get_mut(i) {
                    if *s {
                        return Err(de::Error::custom(format_args!("{key}: given twice")));
                    }
                    *s = true;
                }
                let named = |e: A::Error| de::Error::custom(format_args!("{key}: {e}"));
                match key {
                    "extract" => c.extract = map.next_value().map_err(named)?,
                    "inject" => c.inject = map.next_value().map_err(named)?,
                    "remove_other_formats" => c.remove_other_formats = map.next_value().map_err(named)?,
                    "on_missing" => c.on_missing = map.next_value().map_err(named)?,
                    "on_conflict" => c.on_conflict = map.next_value().map_err(named)?,
                    "trust" => c.trust = map.next_value().map_err(named)?,
                    "drop_forced_sampling" => c.drop_forced_sampling = map.next_value().map_err(named)?,
                    "root_sampling" => c.root_sampling = map.next_value().map_err(named)?,
                    "id_width" => c.id_width = map.next_value().map_err(named)?,
                    // Names its own keys: `tracestate.max_len: ...`.
                    _ => c.tracestate = map.next_value()?,
                }
            }
            Ok(c)
        }
    }

    const TRACESTATE_KEYS: &[&str] = &["member", "key", "max_len"];

    impl<'de> Deserialize<'de> for TracestateConfig {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = TracestateConfig;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("tracestate: an object with member, key, max_len")
                }
                fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<TracestateConfig, A::Error> {
                    let mut t = TracestateConfig::default();
                    while let Some(key) = map.next_key::<KeyName<'de>>()? {
                        let key = key.as_str();
                        let named = |e: A::Error| de::Error::custom(format_args!("tracestate.{key}: {e}"));
                        match key {
                            "member" => t.member = map.next_value().map_err(named)?,
                            "key" => t.key = map.next_value().map_err(named)?,
                            "max_len" => t.max_len = map.next_value().map_err(named)?,
                            _ => {
                                return Err(de::Error::custom(format_args!(
                                    "unknown configuration key `tracestate.{key}`, expected one of: {}",
                                    Joined(TRACESTATE_KEYS)
                                )))
                            }
                        }
                    }
                    Ok(t)
                }
            }
            d.deserialize_map(V)
        }
    }

    /// `{}` (JSON `null` or an object) reads as all defaults.
    impl<'de> Deserialize<'de> for Config {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            de::DeserializeSeed::deserialize(ConfigSeed::default(), d)
        }
    }

    /// A map key, borrowed when the input allows.
    struct KeyName<'de>(KeyBuf<'de>);
    enum KeyBuf<'de> {
        Borrowed(&'de str),
        Inline([u8; 32], usize),
    }
    impl KeyName<'_> {
        fn as_str(&self) -> &str {
            match &self.0 {
                KeyBuf::Borrowed(s) => s,
                KeyBuf::Inline(b, n) => ascii_or_empty(b.get(..*n).unwrap_or_default()),
            }
        }
    }
    fn ascii_or_empty(b: &[u8]) -> &str {
        core::str::from_utf8(b).unwrap_or_default()
    }
    impl<'de> Deserialize<'de> for KeyName<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = KeyName<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a key")
                }
                fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<KeyName<'de>, E> {
                    Ok(KeyName(KeyBuf::Borrowed(s)))
                }
                fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyName<'de>, E> {
                    // Escaped keys: long ones cannot be a known key; keep a prefix for the message.
                    let mut b = [0u8; 32];
                    let n = s.len().min(32);
                    let n = (0..=n).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                    if let (Some(dst), Some(src)) = (b.get_mut(..n), s.as_bytes().get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    Ok(KeyName(KeyBuf::Inline(b, n)))
                }
            }
            d.deserialize_str(V)
        }
    }

    struct Joined(&'static [&'static str]);
    impl fmt::Display for Joined {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, k) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(k)?;
            }
            Ok(())
        }
    }

    impl Serialize for Format {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.name())
        }
    }

    /// `{"status": "...", "error": "<message>", "code": "<code>"}` (the last two when invalid).
    impl Serialize for Status {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let invalid = match self {
                Status::Invalid(e) => Some(e),
                _ => None,
            };
            let mut st = s.serialize_struct("Status", 1 + 2 * usize::from(invalid.is_some()))?;
            st.serialize_field("status", self.name())?;
            if let Some(e) = invalid {
                st.serialize_field("error", e.as_str())?;
                st.serialize_field("code", e.code())?;
            }
            st.end()
        }
    }

    struct Statuses<'s>(&'s [Status; N]);
    impl Serialize for Statuses<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(N))?;
            for (f, st) in Format::ALL.iter().zip(self.0.iter()) {
                m.serialize_entry(f.name(), st)?;
            }
            m.end()
        }
    }

    /// The CLI's `inspect --json` shape:
    /// `{"source": name|null, "context": {...}|null, "sampling_only": "deny"|...|null,
    ///   "formats": {name: {"status", "error"?, "code"?}}, "tracestate_error": {...}|null}`.
    impl Serialize for Inspection<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Inspection", 5)?;
            st.serialize_field("source", &self.source)?;
            st.serialize_field("context", &self.context)?;
            st.serialize_field("sampling_only", &self.sampling_only)?;
            st.serialize_field("formats", &Statuses(&self.status))?;
            st.serialize_field("tracestate_error", &self.tracestate_error.map(Status::Invalid))?;
            st.end()
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn get<'h>(h: &'h [(String, String)], name: &str) -> Option<&'h str> {
        h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn rng() -> [u8; 24] {
        [7; 24]
    }

    #[test]
    fn w3c_in_w3c_out_is_untouched() {
        let h = headers(&[("traceparent", TP), ("tracestate", "a=1")]);
        let plan = Translator::default().plan(&h, rng);
        assert!(plan.is_noop(), "{plan:?}");
        assert_eq!(plan.report().outcome, Outcome::Continued);
        assert_eq!(plan.report().source, Some(Format::W3c));
    }

    #[test]
    fn missing_passes_through_or_starts_a_root() {
        let h = headers(&[("x", "y")]);
        let plan = Translator::default().plan(&h, rng);
        assert!(plan.is_noop() && plan.report().missing());

        let cfg = Config { on_missing: OnMissing::NewRoot, ..Config::default() };
        let mut h = h;
        let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
        assert_eq!(report.map(|r| r.outcome), Ok(Outcome::NewRoot(RootReason::Missing)));
        // defer → sampled 0, random bit 1; defer remembered in our member.
        assert_eq!(get(&h, "traceparent"), Some("00-07070707070707070707070707070707-0707070707070707-02"));
        assert_eq!(get(&h, "tracestate"), Some("tracebridge=s:0707070707070707;m:d"));
    }

    #[test]
    fn restart_links_the_old_ids() {
        let cfg = Config { trust: Trust::Restart, ..Config::default() };
        let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1")]);
        let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
        assert_eq!(report.map(|r| r.outcome), Ok(Outcome::NewRoot(RootReason::Untrusted)));
        assert_eq!(
            get(&h, "tracestate"),
            Some("tracebridge=s:0707070707070707;m:d;o:4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")
        );
        // and a later hop reads the link back
        let ins = Translator::default().inspect(&h);
        assert_eq!(ins.restarted_from.map(|(t, _)| t.to_string()).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    #[test]
    fn ignore_removes_the_incoming_trace() {
        let cfg = Config { trust: Trust::Ignore, ..Config::default() };
        let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1"), ("x", "y")]);
        let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
        assert_eq!(report.map(|r| r.outcome), Ok(Outcome::Ignored));
        assert_eq!(h, headers(&[("x", "y")]));
    }

    #[test]
    fn forced_sampling_dropped() {
        let cfg = Config { drop_forced_sampling: true, ..Config::default() };
        let mut h = headers(&[("traceparent", TP)]);
        let _ = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
        assert_eq!(get(&h, "traceparent"), Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
        assert_eq!(get(&h, "tracestate"), Some("tracebridge=s:00f067aa0ba902b7;m:d"));
    }

    #[test]
    fn invalid_tracestate_is_dropped_not_the_traceparent() {
        let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1,A=2")]);
        let report = Translator::default().translate(&mut h, rng);
        assert_eq!(report.tracestate_error, Some(Error::TracestateKey));
        assert_eq!(h, headers(&[("traceparent", TP)]));
    }

    #[test]
    fn duplicate_tracestate_keys_keep_the_first() {
        let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1,b=2"), ("tracestate", "a=3")]);
        let report = Translator::default().translate(&mut h, rng);
        assert_eq!(report.tracestate_error, Some(Error::TracestateDuplicateKey));
        assert_eq!(h, headers(&[("traceparent", TP), ("tracestate", "a=1,b=2")]));
    }

    #[test]
    fn removals_only_of_headers_that_are_there() {
        let b3 = ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
        // No tracestate arrived: nothing to remove, one write.
        let plan = Translator::default().plan(&headers(&[b3]), rng);
        assert_eq!(plan.removals().count(), 0, "{plan:?}");
        assert_eq!(plan.writes().map(|(n, _)| n).collect::<Vec<_>>(), ["traceparent"]);
        // An orphan tracestate arrived with the B3 context: it must go.
        let plan = Translator::default().plan(&headers(&[b3, ("tracestate", "a=1")]), rng);
        assert_eq!(plan.removals().collect::<Vec<_>>(), ["tracestate"]);
    }

    #[test]
    fn config_checks() {
        let bad = Config { extract: FormatList::EMPTY, ..Config::default() };
        assert_eq!(Translator::new(bad).err(), Some(ConfigError::EmptyExtract));
        let bad = Config {
            tracestate: TracestateConfig { max_len: 100, ..TracestateConfig::default() },
            ..Config::default()
        };
        assert_eq!(Translator::new(bad).err(), Some(ConfigError::TracestateMaxLen));
        assert_eq!(FormatList::new(&[Format::W3c, Format::W3c]).err(), Some(Format::W3c));
        assert!(MemberKey::new("Bad").is_none());
    }

    #[test]
    fn largest_plan_fits_its_buffers() {
        // Budget of MAX_OPS: each header is removed (a format not written) or written at most once,
        // plus one removal of an invalid tracestate.
        let names = Format::ALL.iter().map(|f| f.headers().len()).sum::<usize>();
        assert!(2 * names < MAX_OPS, "{names} header names");
        // Budget of ARENA: every format written at once, X-Ray at the value limit (tracestate has its
        // own buffer). An X-Ray context that is changed (forced sampling dropped) is written again.
        let mut xray = String::from("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
        for i in 0..crate::context::XRAY_MAX_EXTRA_FIELDS {
            let room = crate::carrier::MAX_VALUE_LEN - xray.len() - 4;
            let n = room / (crate::context::XRAY_MAX_EXTRA_FIELDS - i);
            xray.push_str(&std::format!(";k{i}={}", "v".repeat(n)));
        }
        assert!(xray.len() <= crate::carrier::MAX_VALUE_LEN && xray.len() > crate::carrier::MAX_VALUE_LEN - 8);
        let cfg = Config { inject: FormatList::ALL, drop_forced_sampling: true, ..Config::default() };
        let mut h = headers(&[("x-amzn-trace-id", &xray)]);
        let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
        assert_eq!(report.map(|r| (r.outcome, r.injected)), Ok((Outcome::Continued, [true; N])));
        assert_eq!(get(&h, "x-amzn-trace-id").map(str::len), Some(xray.len()));
        for f in Format::ALL {
            let back = f.extract(&h);
            assert!(matches!(back, Ok(Some(Extracted { propagation: Propagation::Context(_), warning: None }))), "{f}");
        }
    }

    #[test]
    fn fields_lists_every_header() {
        let t = Translator::default();
        let f: Vec<_> = t.fields().collect();
        assert!(f.contains(&"traceparent") && f.contains(&"x-amzn-trace-id") && f.contains(&"x-b3-flags"));
    }
}

#[cfg(all(test, feature = "serde"))]
mod config_json_tests {
    extern crate std;
    use super::*;
    use serde::de::DeserializeSeed;
    use std::string::{String, ToString};

    fn parse(json: &str) -> Result<Config, String> {
        serde_json::from_str::<Config>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_object_is_the_defaults() {
        assert_eq!(parse("{}"), Ok(Config::default()));
    }

    #[test]
    fn every_key() {
        let c = parse(
            r#"{"extract": ["xray", "w3c"], "inject": ["w3c", "b3-multi"], "remove_other_formats": true,
                "on_missing": "new-root", "on_conflict": "pass-through", "trust": "restart",
                "drop_forced_sampling": true, "root_sampling": "accept", "id_width": 64,
                "tracestate": {"member": false, "key": "acme@tb", "max_len": 512}}"#,
        );
        let Ok(c) = c else { return assert!(c.is_ok(), "{c:?}") };
        assert_eq!(c.extract.as_slice(), &[Format::XRay, Format::W3c]);
        assert_eq!(c.inject.as_slice(), &[Format::W3c, Format::B3Multi]);
        assert!(c.remove_other_formats && c.drop_forced_sampling && !c.tracestate.member);
        assert_eq!(
            (c.on_missing, c.on_conflict, c.trust),
            (OnMissing::NewRoot, OnConflict::PassThrough, Trust::Restart)
        );
        assert_eq!((c.root_sampling, c.id_width), (RootSampling::Accept, WidthPolicy::Bits64));
        assert_eq!((c.tracestate.key.as_str(), c.tracestate.max_len), ("acme@tb", 512));
        assert_eq!(parse(r#"{"id_width": "keep"}"#).map(|c| c.id_width), Ok(WidthPolicy::Keep));
        assert_eq!(parse(r#"{"id_width": "128"}"#).map(|c| c.id_width), Ok(WidthPolicy::Bits128));
    }

    #[test]
    fn errors_name_the_key() {
        let e = |j: &str| parse(j).err().unwrap_or_default();
        assert!(e(r#"{"injekt": []}"#).starts_with("unknown configuration key `injekt`, expected one of: extract"));
        assert!(e(r#"{"on_missing": "panic"}"#).starts_with("on_missing: unknown variant `panic`"));
        assert!(e(r#"{"inject": ["w3c", "zipkin"]}"#).starts_with("inject: unknown variant `zipkin`"));
        assert!(e(r#"{"extract": ["w3c", "w3c"]}"#).starts_with("extract: format `w3c` is listed twice"));
        assert!(e(r#"{"id_width": 32}"#).starts_with("id_width: invalid value"));
        assert!(e(r#"{"tracestate": {"key": "Bad"}}"#).starts_with("tracestate.key: invalid value: string \"Bad\""));
        assert!(e(r#"{"tracestate": {"max_len": "x"}}"#).starts_with("tracestate.max_len: invalid type: string"));
        assert!(e(r#"{"tracestate": {"nope": 1}}"#).starts_with("unknown configuration key `tracestate.nope`"));
        assert!(e(r#"{"trust": "continue", "trust": "ignore"}"#).starts_with("trust: given twice"));
        assert!(e(r#"[1]"#).contains("expected a tracebridge configuration object"));
    }

    #[test]
    fn doors_skip_their_own_keys() {
        let mut d = serde_json::Deserializer::from_str(r#"{"shadow": {"anything": 1}, "inject": ["jaeger"]}"#);
        let c = ConfigSeed { extra_keys: &["shadow"] }.deserialize(&mut d);
        assert_eq!(c.map(|c| c.inject.as_slice() == [Format::Jaeger]).ok(), Some(true));
        let mut d = serde_json::Deserializer::from_str(r#"{"shadow": true}"#);
        assert!(ConfigSeed::default().deserialize(&mut d).is_err());
    }
}
