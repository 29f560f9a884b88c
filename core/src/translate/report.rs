//! What the translator found and did: per-format [`Status`], the [`Inspection`] of a request and the
//! [`Report`] of a translation.

use crate::context::{Sampling, TraceContext};
use crate::format::Format;
use crate::id::{SpanId, TraceId};
use crate::Error;

use super::*;

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
    /// Per format, indexed by [`Format::index`]: a part of a valid format that was dropped, and why
    /// (W3C: the tracestate, as [`tracestate_error`](Self::tracestate_error); Datadog: `x-datadog-tags`).
    pub warnings: [Option<Error>; N],
}

impl<'a> Inspection<'a> {
    /// Nothing read yet: every format [`Status::NotRead`].
    pub(crate) const fn new() -> Self {
        Inspection {
            source: None,
            context: None,
            sampling_only: None,
            status: [Status::NotRead; N],
            tracestate_error: None,
            restarted_from: None,
            warnings: [None; N],
        }
    }

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

impl RootReason {
    /// `missing`, `conflict`, `untrusted`.
    pub const fn name(&self) -> &'static str {
        match self {
            RootReason::Missing => "missing",
            RootReason::Conflict => "conflict",
            RootReason::Untrusted => "untrusted",
        }
    }
}

impl Outcome {
    /// Why a new root was started, for [`Outcome::NewRoot`].
    pub const fn root_reason(&self) -> Option<RootReason> {
        match self {
            Outcome::NewRoot(r) => Some(*r),
            _ => None,
        }
    }

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
    /// Per format, indexed by [`Format::index`]: a part of a valid format that was dropped, and why.
    pub warnings: [Option<Error>; N],
    /// Baggage list-members dropped (malformed, over the W3C limits, or not writable in a format).
    pub baggage_dropped: usize,
    /// Why the first of them was dropped.
    pub baggage_error: Option<Error>,
}

impl Report {
    /// Nothing read, nothing done.
    pub(super) const EMPTY: Report = Report {
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
        warnings: [None; N],
        baggage_dropped: 0,
        baggage_error: None,
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

    /// The warning of `f` (see [`warnings`](Self::warnings)).
    pub fn warning(&self, f: Format) -> Option<Error> {
        self.warnings.get(f.index()).copied().flatten()
    }

    /// True when `f` was written.
    pub fn injected(&self, f: Format) -> bool {
        self.injected.get(f.index()).copied().unwrap_or(false)
    }

    /// True when a part of what arrived next to the context was not carried on: an invalid
    /// tracestate, tracestate members (a repeated key, over the length limit), a format's optional
    /// part ([`warnings`](Self::warnings)), baggage members. The request is never failed for these,
    /// so a door counts them: nothing the caller sent is lost without a trace of it.
    #[inline]
    pub fn dropped_input(&self) -> bool {
        self.tracestate_error.is_some()
            || self.tracestate_dropped > 0
            || self.warnings.iter().any(Option::is_some)
            || self.baggage_dropped > 0
    }
}
