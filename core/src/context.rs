//! The one model of a trace context that every format reads into and writes from.
//!
//! It is rich enough that no format's meaning is lost on the way through: the sampling decision keeps
//! B3's *defer* and *debug*, W3C's other trace-flags bits are kept, and the fields only one format has
//! (X-Ray `Lineage`/`Self`/unknown keys, Jaeger's other flag bits, Datadog's exact priority, origin and
//! tags, Instana's correlation, a 64-bit trace id width) travel along.
//! It borrows from the incoming headers, so building one never allocates.

pub use crate::datadog_fields::{DatadogFields, DatadogTags, DatadogText, TagKey};
use crate::id::{HexId, IdWidth, SpanId, TraceId};
use crate::tracestate::TraceState;
pub use crate::xray_fields::{Text, XRayExtra, XRayFields, XRAY_MAX_EXTRA_FIELDS};
use crate::Error;

/// The sampling decision as the formats express it.
///
/// | model   | W3C `sampled` | B3 `SamplingState` | `X-B3-Sampled`/`Flags` | Jaeger flags | X-Ray `Sampled` | grpc options | Datadog priority | GCP `o=` | OT `sampled` | `X-INSTANA-L` |
/// |---------|---------------|--------------------|------------------------|--------------|-----------------|--------------|------------------|----------|--------------|---------------|
/// | Accept  | 1             | `1`                | `Sampled: 1`           | `0x01`       | `1`             | `1`          | `1` (any `>= 1`) | `1`      | `true`       | `1`           |
/// | Deny    | 0             | `0`                | `Sampled: 0`           | `0x00`       | `0`             | `0`          | `0` (any `<= 0`) | `0`      | `false`      | `0`           |
/// | Defer   | 0 ¹           | absent             | absent                 | `0x00` ¹     | `?` or absent   | `0` ¹        | absent           | absent   | absent       | absent ²      |
/// | Debug   | 1 ¹           | `d`                | `Flags: 1`             | `0x03`       | `1` ¹           | `1` ¹        | `2` ¹            | `1` ¹    | `true` ¹     | `1` ¹         |
///
/// ¹ The format cannot say it. ² Read back as `1`: Instana traces unless told not to. Datadog's exact
/// priority (`-1`, `2`, ...) is kept in [`DatadogFields`] and written back while it agrees with the
/// decision. W3C has no *defer*: `sampled=0` is emitted, which the spec defines as
/// "the caller did not record" and leaves the callee free to decide
/// ([§3.2.2.5.1](https://www.w3.org/TR/trace-context/#sampled-flag)), the closest meaning; the
/// [`Translator`](crate::Translator) also records *defer*/*debug* in its own tracestate member so a
/// later legacy hop gets them back exactly.
///
/// ```
/// use tracebridge::Sampling;
///
/// assert!(Sampling::Debug.is_sampled());
/// assert_eq!(Sampling::Defer.decision(), None);
/// assert_eq!(Sampling::default(), Sampling::Defer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sampling {
    /// Not sampled.
    Deny,
    /// No decision yet: the receiver decides.
    #[default]
    Defer,
    /// Sampled.
    Accept,
    /// Sampled, and forced by the caller (B3 `d`, `X-B3-Flags: 1`, Jaeger flag `0x02`).
    Debug,
}

impl Sampling {
    /// True for [`Accept`](Self::Accept) and [`Debug`](Self::Debug).
    pub const fn is_sampled(self) -> bool {
        matches!(self, Sampling::Accept | Sampling::Debug)
    }

    /// `Some(true)`/`Some(false)` for a decision, `None` for [`Defer`](Self::Defer).
    pub const fn decision(self) -> Option<bool> {
        match self {
            Sampling::Deny => Some(false),
            Sampling::Defer => None,
            Sampling::Accept | Sampling::Debug => Some(true),
        }
    }
}

/// W3C `trace-flags`: one byte, all bits kept.
/// Bit 0 is `sampled`; level 2 defines bit 1 as `random`
/// ([Level 2 §3.2.2.5.2](https://www.w3.org/TR/trace-context-2/#random-trace-id-flag)); the others are
/// reserved. A translating proxy does not start a span, so it forwards bits it does not know.
///
/// ```
/// use tracebridge::TraceFlags;
///
/// let flags = TraceFlags(TraceFlags::RANDOM).with_sampled(true);
/// assert_eq!(flags, TraceFlags(0x03));
/// assert!(flags.is_sampled());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceFlags(pub u8);

impl TraceFlags {
    /// The `sampled` bit.
    pub const SAMPLED: u8 = 0x01;
    /// The level 2 `random` bit: the trace-id's rightmost 7 bytes are random.
    pub const RANDOM: u8 = 0x02;

    /// True when the `sampled` bit is set.
    pub const fn is_sampled(self) -> bool {
        self.0 & Self::SAMPLED != 0
    }

    /// The same flags with `sampled` set or cleared.
    pub const fn with_sampled(self, sampled: bool) -> Self {
        if sampled {
            TraceFlags(self.0 | Self::SAMPLED)
        } else {
            TraceFlags(self.0 & !Self::SAMPLED)
        }
    }
}

/// A trace context: the remote parent span that the next hop continues.
///
/// ```
/// use tracebridge::{Sampling, SpanId, TraceContext, TraceId};
///
/// let trace_id = TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?;
/// let span_id = SpanId::from_hex(b"00f067aa0ba902b7")?;
/// let ctx = TraceContext::new(trace_id, span_id).with_sampling(Sampling::Accept);
/// assert!(ctx.is_sampled());
/// assert_eq!(tracebridge::b3::single::encode(&ctx).as_str(), "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext<'a> {
    /// The trace id (a 64-bit id sits in the low 8 bytes; see [`id_width`](Self::id_width)).
    pub trace_id: TraceId,
    /// The span id of the remote parent (W3C `parent-id`, B3 `SpanId`, X-Ray `Parent`).
    pub span_id: SpanId,
    /// The parent's own parent, where the format carries it (B3, Jaeger).
    pub parent_span_id: Option<SpanId>,
    /// The sampling decision.
    pub sampling: Sampling,
    /// W3C trace-flags with every bit kept; `sampled` is kept in step with [`sampling`](Self::sampling)
    /// by the writers, which take the sampled bit from `sampling`.
    pub trace_flags: TraceFlags,
    /// The trace id's width on the wire (B3/Jaeger may use 64 bits).
    pub id_width: IdWidth,
    /// Jaeger flag bits other than sampled (`0x01`) and debug (`0x02`), e.g. firehose (`0x08`).
    pub jaeger_flags: u8,
    /// X-Ray fields with no counterpart elsewhere.
    pub xray: XRayFields<'a>,
    /// Datadog fields with no counterpart elsewhere.
    pub datadog: DatadogFields<'a>,
    /// Instana's `X-INSTANA-L` correlation (what follows `1,`: `correlationType=...;correlationId=...`).
    pub instana_correlation: Option<Text<'a>>,
    /// W3C tracestate, borrowed from the incoming header lines.
    pub tracestate: TraceState<'a>,
}

impl TraceContext<'_> {
    /// The trace id digits a format with a width choice (B3, Jaeger, OT, Instana) writes: 16 for
    /// [`IdWidth::Bits64`] (the low 64 bits), 32 otherwise. A 64-bit width whose low 64 bits are all
    /// zero cannot be written as 16 digits (an all-zero id is invalid), so that id is written with all
    /// 32 digits rather than as an invalid header.
    pub fn trace_id_hex(&self) -> HexId {
        let width = match self.id_width {
            IdWidth::Bits64 if self.trace_id.low_64().is_some() => IdWidth::Bits64,
            _ => IdWidth::Bits128,
        };
        self.trace_id.to_hex_width(width)
    }

    /// Write header `name` as [`trace_id_hex`](Self::trace_id_hex)'s digits (B3 multi, OT, Instana).
    /// For the usual 128-bit width the id's own [`to_hex`](crate::TraceId::to_hex), the digits where
    /// they were encoded: a [`HexId`] is a copy of them (inject B3 multi 1 533 → 1 509 instructions,
    /// 88.6–91.1 → 86.7–86.9 ns in a loop). Inlined: as a call it gave 20 of those instructions back.
    #[inline(always)]
    pub(crate) fn set_trace_id_hex<I: crate::Injector + ?Sized>(&self, name: &str, headers: &mut I) {
        match self.id_width {
            IdWidth::Bits128 => headers.set_bytes(name, &self.trace_id.to_hex()),
            IdWidth::Bits64 => headers.set_bytes(name, self.trace_id_hex().as_bytes()),
        }
    }

    /// A context with the given ids and defaults for everything else: 128-bit width,
    /// [`Sampling::Defer`], no tracestate.
    pub const fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        TraceContext {
            trace_id,
            span_id,
            parent_span_id: None,
            sampling: Sampling::Defer,
            trace_flags: TraceFlags(0),
            id_width: IdWidth::Bits128,
            jaeger_flags: 0,
            xray: XRayFields { lineage: None, self_: None, extra: XRayExtra::None },
            datadog: DatadogFields { priority: None, origin: None, tags: DatadogTags::None, parent: None },
            instana_correlation: None,
            tracestate: TraceState::EMPTY,
        }
    }

    /// The same context with the sampling decision set (and the W3C sampled bit in step).
    pub const fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.set_sampling(sampling);
        self
    }

    /// [`with_sampling`](Self::with_sampling) in place (no copy of the context).
    pub const fn set_sampling(&mut self, sampling: Sampling) {
        self.sampling = sampling;
        self.trace_flags = self.trace_flags.with_sampled(sampling.is_sampled());
    }

    /// True when sampled (accept or debug).
    pub const fn is_sampled(&self) -> bool {
        self.sampling.is_sampled()
    }
}

/// What a format's header carried: a full context, or (B3 only) a sampling decision with no ids,
/// such as `b3: 0` — kept as a decision, never dropped
/// ([b3-propagation: single header](https://github.com/openzipkin/b3-propagation#single-header)).
///
/// ```
/// use tracebridge::{Propagation, Sampling};
///
/// // `b3: 0` is a decision without ids.
/// let p = tracebridge::b3::single::parse(b"0")?;
/// assert_eq!(p, Propagation::SamplingOnly(Sampling::Deny));
/// assert!(p.context().is_none());
/// # Ok::<(), tracebridge::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
// Boxing the context would need a heap; it is returned once per format per request and moved, not
// stored, so the size difference costs a memcpy at most.
#[allow(clippy::large_enum_variant)]
pub enum Propagation<'a> {
    /// Ids and everything else.
    Context(TraceContext<'a>),
    /// A decision only (`b3: 0`, `b3: 1`, `b3: d`, or `X-B3-Sampled`/`X-B3-Flags` without ids).
    SamplingOnly(Sampling),
}

impl<'a> Propagation<'a> {
    /// The context, if there are ids.
    pub fn context(&self) -> Option<&TraceContext<'a>> {
        match self {
            Propagation::Context(c) => Some(c),
            Propagation::SamplingOnly(_) => None,
        }
    }

    /// The sampling decision either way.
    pub fn sampling(&self) -> Sampling {
        match self {
            Propagation::Context(c) => c.sampling,
            Propagation::SamplingOnly(s) => *s,
        }
    }
}

/// What a format's reader found. A context is written where the caller keeps it (`out` of the
/// readers, `Inspection::context` in the translator): it is a few hundred bytes, and returned by value
/// it was copied at every step between the reader and the translator (three times per extract,
/// 11–21 % of an extract's instructions in glibc's `memcpy` alone, BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// None of the format's headers arrived.
    Absent,
    /// A context, in the caller's slot.
    Context,
    /// A decision without ids.
    SamplingOnly(Sampling),
}

/// Where a format's reader puts the context it reads ([`Read::Context`]): the translator's slot
/// (`Option<TraceContext>`) or the result [`Format::extract`](crate::Format::extract) returns, so that
/// the context is built where it is kept and not moved after (a few hundred bytes written by many
/// small stores and read back by a copy's wide loads: the copy waited for the stores, a quarter of a
/// B3 single extract's time, `perf`).
pub(crate) trait Slot<'a> {
    /// A [`TraceContext::new`] here (replacing what was), to be filled in.
    fn put(&mut self, trace_id: TraceId, span_id: SpanId) -> &mut TraceContext<'a>;
}

impl<'a> Slot<'a> for Option<TraceContext<'a>> {
    #[inline(always)]
    fn put(&mut self, trace_id: TraceId, span_id: SpanId) -> &mut TraceContext<'a> {
        self.insert(TraceContext::new(trace_id, span_id))
    }
}

impl Read {
    /// A format's public `extract` over its reader (`read` fills the slot it is given): the context
    /// moved once, out of the slot.
    pub(crate) fn extract<'a>(
        read: impl FnOnce(&mut Option<TraceContext<'a>>) -> Result<Read, Error>,
    ) -> Result<Option<Propagation<'a>>, Error> {
        let mut out = None;
        Ok(read(&mut out)?.propagation(out))
    }

    /// [`extract`](Self::extract) for a format that also reports a dropped part (W3C's tracestate,
    /// Datadog's tags).
    pub(crate) fn extract_warned<'a>(
        read: impl FnOnce(&mut Option<Error>, &mut Option<TraceContext<'a>>) -> Result<Read, Error>,
    ) -> Result<Option<(Propagation<'a>, Option<Error>)>, Error> {
        let mut warning = None;
        let found = Self::extract(|out| read(&mut warning, out))?;
        Ok(found.map(|p| (p, warning)))
    }

    /// The [`Propagation`] of the public API, the context taken from `out`.
    pub(crate) fn propagation(self, out: Option<TraceContext<'_>>) -> Option<Propagation<'_>> {
        match self {
            Read::Absent => None,
            Read::Context => out.map(Propagation::Context),
            Read::SamplingOnly(s) => Some(Propagation::SamplingOnly(s)),
        }
    }
}

/// The JSON shape shared by the CLI (`inspect --json`), the test vectors and the doors:
/// `{"trace_id", "span_id", "parent_span_id", "sampled", "debug", "tracestate", "id_width"}` with
/// lowercase hex ids (a 64-bit trace id left-padded to 32 digits), `sampled` `true`/`false`/`null`
/// (defer), and `tracestate` in canonical form or `null` when empty.
#[cfg(feature = "serde")]
impl serde::Serialize for TraceContext<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let trace = self.trace_id.to_hex();
        let span = self.span_id.to_hex();
        let parent = self.parent_span_id.map(|p| p.to_hex());
        let mut st = s.serialize_struct("TraceContext", 7)?;
        st.serialize_field("trace_id", crate::id::ascii_str(&trace))?;
        st.serialize_field("span_id", crate::id::ascii_str(&span))?;
        st.serialize_field("parent_span_id", &parent.as_ref().map(|p| crate::id::ascii_str(p)))?;
        st.serialize_field("sampled", &self.sampling.decision())?;
        st.serialize_field("debug", &(self.sampling == Sampling::Debug))?;
        st.serialize_field("tracestate", &(!self.tracestate.is_empty()).then_some(Canonical(&self.tracestate)))?;
        st.serialize_field(
            "id_width",
            &match self.id_width {
                IdWidth::Bits64 => 64u8,
                IdWidth::Bits128 => 128,
            },
        )?;
        st.end()
    }
}

#[cfg(feature = "serde")]
struct Canonical<'s, 'a>(&'s TraceState<'a>);

#[cfg(feature = "serde")]
impl serde::Serialize for Canonical<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Sampling {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Sampling::Deny => "deny",
            Sampling::Defer => "defer",
            Sampling::Accept => "accept",
            Sampling::Debug => "debug",
        })
    }
}

/// A context with ids given in hex, for tests: panics on a bad id rather than letting a test pass
/// without running.
#[cfg(test)]
pub(crate) fn test_context(trace_id: &[u8], span_id: &[u8]) -> TraceContext<'static> {
    match (TraceId::from_hex(trace_id), SpanId::from_hex(span_id)) {
        (Ok(t), Ok(s)) => TraceContext::new(t, s),
        _ => unreachable!("test ids must be valid hex"),
    }
}
