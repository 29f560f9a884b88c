//! The [`Translator`]: reads every configured format, chooses, and plans the writes.

use crate::baggage::{self, Source};
use crate::carrier::{Extractor, Gathered, Injector};
use crate::context::{Read, Sampling, TraceContext, TraceFlags};
use crate::format::Format;
use crate::id::{IdWidth, SpanId, TraceId};
use crate::name_filter::{self, NameFilter, Owners};
use crate::tracestate::{self, TraceState, TraceStateBuf};
use crate::{b3, datadog_fields, ext, instana, xray, Error};

use super::plan::Op;
use super::*;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Translator {
    config: Config,
    /// Read the carrier's names into a [`NameFilter`] first: worth it when the formats read have
    /// many header names (each a scan of the headers when looked up; the filter costs about as
    /// much as six such scans on a common request, callgrind).
    list_names: bool,
    /// The formats read that carry baggage, in `extract` order (at most three: W3C, Jaeger, OT),
    /// worked out once rather than per request.
    baggage_read: ([Source; 3], u8),
    /// The baggage headers and prefixes of [`baggage_read`](Self::baggage_read), to rule them all
    /// out in one test: most requests carry no baggage.
    baggage_probe: NameFilter,
    /// The configuration lets [`translate_into`](Self::translate_into) take its direct route for a
    /// request of one format: an incoming context is continued (`trust: continue`), and no other
    /// format's headers are removed (`remove_other_formats: false`).
    direct: bool,
    /// Every format's status when none arrived: absent if read, else not read.
    none_arrived: [Status; N],
    /// Whether Datadog is injected (its `dd=` member then goes into the tracestate): asked by the
    /// direct route on every request.
    injects_datadog: bool,
    /// Which format read owns each bit of the name filter, to find the one a request brings
    /// ([`single_source`](Self::single_source)); W3C is never found.
    owners: Owners,
}

impl Default for Translator {
    fn default() -> Self {
        Self::checked(Config::default())
    }
}

impl Translator {
    /// Every header name and baggage prefix a translator reads, of any format and configuration: a
    /// carrier that keeps only the lines whose names this [`holds`](NameFilter::holds) (and builds
    /// its [`name_filter`](Extractor::name_filter) from them) answers every read of a translation
    /// as if it kept them all. What [`Extractor::gather`] is asked with.
    pub const WANTED: NameFilter = WANTED;

    /// A translator for `config`, checked.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        if config.extract.is_empty() {
            return Err(ConfigError::EmptyExtract);
        }
        if !(512..=tracestate::MAX_OUTPUT_LEN).contains(&config.tracestate.max_len) {
            return Err(ConfigError::TracestateMaxLen);
        }
        Ok(Self::checked(config))
    }

    /// A translator for a `config` already checked.
    fn checked(config: Config) -> Self {
        let names: usize = config.extract.iter().map(|f| f.headers().len()).sum();
        let mut baggage_read = ([Source::W3c; 3], 0u8);
        for s in config.extract.iter().filter_map(baggage_source) {
            if let Some(slot) = baggage_read.0.get_mut(usize::from(baggage_read.1)) {
                *slot = s;
                baggage_read.1 += 1;
            }
        }
        let baggage_probe = baggage_read
            .0
            .iter()
            .take(usize::from(baggage_read.1))
            .fold(NameFilter::EMPTY, |p, s| p.union(baggage_probe(*s)));
        let direct = config.trust == Trust::Continue && !config.remove_other_formats;
        const { assert!(N <= Owners::SETS) };
        let (mut none_arrived, mut owners) = ([Status::NotRead; N], Owners::EMPTY);
        for f in config.extract.iter() {
            if let Some(slot) = none_arrived.get_mut(f.index()) {
                *slot = Status::Absent;
            }
            owners.add(f.index() as u8, f.name_mask(), f != Format::W3c);
        }
        let injects_datadog = config.inject.contains(Format::Datadog);
        Translator {
            config,
            list_names: names >= 6,
            baggage_read,
            baggage_probe,
            direct,
            none_arrived,
            injects_datadog,
            owners,
        }
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
        let mut ins = Inspection::new();
        self.inspect_into(headers, self.name_filter(headers), &mut ins);
        ins
    }

    /// The names `headers` may carry, when it pays to list them first.
    pub(crate) fn name_filter<E: Extractor + ?Sized>(&self, headers: &E) -> NameFilter {
        if self.list_names {
            NameFilter::of(headers)
        } else {
            NameFilter::ALL
        }
    }

    /// [`inspect`](Self::inspect) into `ins` (as [`Inspection::new`] made it), with the formats none
    /// of whose header names can be present (`present`) absent without a lookup: a format's `extract`
    /// reads only its own [`Format::headers`], and gives `Ok(None)` when none of them arrived. Filled
    /// where the caller keeps it rather than returned: an inspection holds a context (a few hundred
    /// bytes), and returned it was copied on every request (in wasm, a call out of the module).
    pub(crate) fn inspect_into<'a, E: Extractor + ?Sized>(
        &self,
        headers: &'a E,
        present: NameFilter,
        ins: &mut Inspection<'a>,
    ) {
        let mut decision: Option<(Format, Sampling)> = None;
        // The first context is read straight into the inspection; later ones (only compared with
        // it) into `other`.
        let mut other = None;
        for f in self.config.extract.iter() {
            let mut warning = None;
            let first = ins.context.is_none();
            let read = if !present.may_have_any(f.name_mask()) {
                Ok(Read::Absent)
            } else if first {
                f.read(headers, &mut warning, &mut ins.context)
            } else {
                f.read(headers, &mut warning, &mut other)
            };
            if first && read != Ok(Read::Context) {
                // A reader that failed may have written part of a context.
                ins.context = None;
            }
            let status = match read {
                Ok(Read::Absent) => Status::Absent,
                Err(e) => Status::Invalid(e),
                Ok(found) => {
                    if f == Format::W3c {
                        ins.tracestate_error = warning;
                    }
                    if let Some(slot) = ins.warnings.get_mut(f.index()) {
                        *slot = warning;
                    }
                    match (found, &ins.context, &other) {
                        (Read::Context, Some(_), _) if first => {
                            ins.source = Some(f);
                            Status::Valid
                        }
                        (Read::Context, Some(chosen), Some(ctx)) if ctx.trace_id != chosen.trace_id => Status::Conflict,
                        (Read::SamplingOnly(s), _, _) => {
                            decision = decision.or(Some((f, s)));
                            Status::Valid
                        }
                        _ => Status::Valid,
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
            if let Some(member) = ctx.tracestate.get_key(self.config.tracestate.key.key()) {
                ext::clear_extras(ctx);
                ins.restarted_from = ext::apply(ctx, member).restarted_from;
            }
            // Datadog's own member: priority, origin, tags and last parent next to the traceparent.
            if let Some(dd) = ctx.tracestate.get_key(datadog_fields::MEMBER) {
                datadog_fields::apply_member(ctx, dd);
            }
        }
        if ins.context.is_none() {
            if let Some((f, s)) = decision {
                ins.source = Some(f);
                ins.sampling_only = Some(s);
            }
        }
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
        self.run(headers, random, plan, None::<&mut Plan>);
    }

    /// Plan and apply in one go, reading `headers` and writing `out` (two carriers: the Envoy
    /// filter reads the host's header map and writes through host calls). `plan` is the caller's,
    /// kept for reuse as for [`plan_into`](Self::plan_into); afterwards its [`report`](Plan::report)
    /// is this request's, and what it lists as [`writes`](Plan::writes) and
    /// [`removals`](Plan::removals) is not specified (they may have gone straight to `out`). `out`
    /// ends with the headers and values `plan_into` and [`Plan::apply`] would leave in it (lines of
    /// different names may come in another order), and the report is the same: compared on every
    /// input by the `translator` fuzz target and by the tests of `translate::tests::direct_route`.
    ///
    /// A request that brings one format (by the names it carries) and whose context is continued
    /// takes the *direct route*: that format is read, and the formats to inject are written to `out`
    /// as they are made, with the report filled as a plan's would be. No inspection of the other
    /// formats, no choice between contexts, no list of operations to fill and then walk: in the Envoy
    /// filter, those were most of what a request cost over reading one header and writing one
    /// (`benches/envoy`, the ladder's `direct` arm; BENCHMARKS.md). Every other request is planned
    /// and applied.
    ///
    /// ```
    /// use tracebridge::translate::{Outcome, Plan};
    /// use tracebridge::{Format, Translator};
    ///
    /// let translator = Translator::default();
    /// let read = [("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")];
    /// let mut written: Vec<(String, String)> = Vec::new();
    /// let mut plan = Plan::new();
    /// let report = translator.translate_into(&read[..], &mut written, || [7; 24], &mut plan);
    /// assert_eq!((report.source, report.outcome), (Some(Format::B3Single), Outcome::Continued));
    /// assert_eq!(written, [("traceparent".to_string(), "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01".to_string())]);
    /// ```
    pub fn translate_into<'p, E: Extractor + ?Sized, I: Injector + ?Sized>(
        &self,
        headers: &E,
        out: &mut I,
        random: impl FnOnce() -> [u8; 24],
        plan: &'p mut Plan,
    ) -> &'p Report {
        self.run(headers, random, plan, Some(out));
        &plan.report
    }

    /// [`plan_into`](Self::plan_into), and with `out`, [`translate_into`](Self::translate_into).
    fn run<E: Extractor + ?Sized, I: Injector + ?Sized>(
        &self,
        headers: &E,
        random: impl FnOnce() -> [u8; 24],
        plan: &mut Plan,
        out: Option<&mut I>,
    ) {
        if self.list_names {
            // A carrier that gathers ([`Extractor::gather`]) is read through the lines it gathered:
            // each name looked up then scans those few, not every header of the request, and the
            // name filter is built from those lines alone (the five-format request, a slice of 14
            // headers: 7 257 → 6 518 instructions, callgrind; 425 → 370 ns in a loop).
            let mut gathered = Gathered::new();
            if headers.gather(&WANTED, &mut gathered) {
                // The names of those lines only: all that is read from here on.
                return self.route(gathered.as_slice(), gathered.names(), random, plan, out);
            }
        }
        self.route(headers, self.name_filter(headers), random, plan, out);
    }

    /// Plan (and with `out`, apply) from `headers`, which may hold only the names in `present`: the
    /// direct route when it applies, else [`decide`](Self::decide).
    fn route<E: Extractor + ?Sized, I: Injector + ?Sized>(
        &self,
        headers: &E,
        present: NameFilter,
        random: impl FnOnce() -> [u8; 24],
        plan: &mut Plan,
        out: Option<&mut I>,
    ) {
        match out {
            None => self.decide(headers, present, random, plan),
            Some(out) => {
                if !self.direct(headers, present, out, plan) {
                    self.decide(headers, present, random, plan);
                    plan.apply(out);
                }
            }
        }
    }

    /// The one format among those read whose header names may be present, unless it is W3C (whose
    /// tracestate and our member in it take the general route) or none or several may be: then
    /// [`inspect_into`](Self::inspect_into) would find every other format absent without a lookup.
    /// Found from the bits the request's names set ([`Owners`]) rather than by asking each format
    /// read: the request pays a few dozen instructions, not ten questions (≈ 175 natively).
    #[inline]
    fn single_source(&self, present: NameFilter) -> Option<Format> {
        self.owners.sole(present).and_then(|i| Format::ALL.get(usize::from(i)).copied())
    }

    /// The direct route of [`translate_into`](Self::translate_into): false, with nothing written,
    /// when the request needs the general one. Taken when the configuration continues contexts
    /// without removing other formats (the `direct` field), one format other than W3C may be
    /// present ([`single_source`](Self::single_source)), no baggage header of a format read may be,
    /// and that format gives a context. Then `decide` would find every other format absent and no
    /// conflict, continue that context ([`choose`](Self::choose)), collect no baggage, and plan the
    /// formats injected and the tracestate ([`plan_context`](Self::plan_context)); this makes the
    /// same writes and the same report. W3C is written straight to `out`; any other format injected
    /// is planned and applied as `decide` would (its writers are built for a plan already: one more
    /// copy of all ten for the filter's carrier made the `.wasm` 7 KiB larger).
    fn direct<E: Extractor + ?Sized, I: Injector + ?Sized>(
        &self,
        headers: &E,
        present: NameFilter,
        out: &mut I,
        plan: &mut Plan,
    ) -> bool {
        if !self.direct || (self.config.baggage && present.intersects(self.baggage_probe)) {
            return false;
        }
        let Some(f) = self.single_source(present) else { return false };
        let (mut warning, mut read) = (None, None);
        if f.read(headers, &mut warning, &mut read) != Ok(Read::Context) {
            return false;
        }
        let Some(ctx) = read.as_mut() else { return false };
        let (truncated, unchanged) = self.continue_as(ctx, self.incoming(ctx.sampling));
        plan.clear(Some(f), self.none_arrived, None, [None; N]);
        plan.present = present;
        let report = &mut plan.report;
        if let (Some(s), Some(w)) = (report.status.get_mut(f.index()), report.warnings.get_mut(f.index())) {
            (*s, *w) = (Status::Valid, warning);
        }
        report_written(report, Outcome::Continued, ctx);
        report.trace_id_truncated = truncated;
        let ctx = &*ctx;
        for g in self.config.inject.iter() {
            if g == f && unchanged {
                continue;
            }
            if g == Format::W3c {
                // Written as made: the format nearly every request is translated to.
                crate::w3c::inject_traceparent(ctx, out);
                // Most requests: W3C says all (no member), no Datadog (no `dd=`), and no tracestate
                // came (`single_source`): nothing to write. Asked here rather than by calling the
                // policy's functions, which answer the same: their code, fetched into the
                // instruction cache on every request, was ≈ 20 cache lines (V8, callgrind).
                let quiet = !(self.wants_datadog_member(f == Format::Datadog)
                    || (self.config.tracestate.member && ext::needed(ctx, None)));
                let dd =
                    if quiet { None } else { self.datadog_member(f == Format::Datadog, f == Format::Datadog, ctx) };
                match if quiet { Tracestate::Leave } else { self.tracestate_of(plan, dd, ctx, false, None) } {
                    // A `tracestate` cannot have come: its name is W3C's, and with W3C's names
                    // present there is no single source. Nor can a member and `dd=` come out
                    // empty (each far below `max_len`); removed all the same if it did.
                    Tracestate::Leave => {}
                    Tracestate::Remove => out.remove(tracestate::HEADER),
                    Tracestate::Set => out.set(tracestate::HEADER, plan.tracestate.as_str()),
                }
            } else {
                plan.inject_as(g, |p| inject_format(g, ctx, p));
            }
            if let Some(slot) = plan.report.injected.get_mut(g.index()) {
                *slot = written_as(g, ctx);
            }
        }
        if !plan.is_empty() {
            plan.drop_absent_removals(headers);
            plan.apply(out);
        }
        plan.direct = Some(f);
        true
    }

    /// Read, choose, write: the three steps of a plan, from `headers`, which may hold only the
    /// names in `present`; then the removals of headers not there are dropped.
    fn decide<E: Extractor + ?Sized>(
        &self,
        headers: &E,
        present: NameFilter,
        random: impl FnOnce() -> [u8; 24],
        plan: &mut Plan,
    ) {
        plan.present = present;
        let mut ins = Inspection::new();
        self.inspect_into(headers, present, &mut ins);
        plan.reset(&ins);
        let edge = self.edge_root(&ins, headers);
        match self.choose(&ins, edge) {
            Choice::Leave => {}
            Choice::Decision(s) => self.plan_decision(plan, &ins, s),
            Choice::Ignore => {
                plan.report.outcome = Outcome::Ignored;
                self.remove_formats(plan, |f| ins.status(f).arrived());
                self.remove_baggage(plan, headers, |_| true);
            }
            Choice::Continue(sampling) => {
                // Changed where the inspection holds it, not copied (a few hundred bytes).
                let unchanged = ins.context.as_mut().map(|ctx| {
                    let (truncated, unchanged) = self.continue_as(ctx, sampling);
                    plan.report.trace_id_truncated = truncated;
                    unchanged
                });
                if let (Some(ctx), Some(unchanged)) = (&ins.context, unchanged) {
                    self.plan_context(plan, &ins, ctx, Written::Continued { unchanged });
                }
                self.plan_baggage(plan, headers, present);
            }
            Choice::Root { reason, sampling, restarted_from, ignored } => {
                let mut ctx = new_root(random(), sampling, edge);
                plan.report.trace_id_truncated = self.apply_width(&mut ctx);
                self.plan_context(plan, &ins, &ctx, Written::Root { reason, restarted_from, ignored });
                if ignored {
                    // dd-trace-go `DD_TRACE_PROPAGATION_BEHAVIOR_EXTRACT=ignore`: "Baggage is dropped".
                    self.remove_baggage(plan, headers, |_| true);
                } else {
                    self.plan_baggage(plan, headers, present);
                }
            }
        }
        plan.drop_absent_removals(headers);
    }

    /// The formats read that carry baggage, in `extract` order, less those whose baggage headers
    /// cannot be present.
    fn baggage_sources(&self, present: NameFilter) -> ([Source; 3], usize) {
        let mut out = [Source::W3c; 3];
        let mut n = 0;
        let may_be_present = |s: &Source| present.intersects(baggage_probe(*s));
        let (read, n_read) = &self.baggage_read;
        for s in read.iter().take(usize::from(*n_read)).copied().filter(may_be_present) {
            if let Some(slot) = out.get_mut(n) {
                *slot = s;
                n += 1;
            }
        }
        (out, n)
    }

    /// Carry the baggage read into every injected format that has baggage (`baggage` module docs);
    /// with `remove_other_formats`, the baggage headers of formats read and not written go too.
    fn plan_baggage<E: Extractor + ?Sized>(&self, plan: &mut Plan, headers: &E, present: NameFilter) {
        let cfg = &self.config;
        if !cfg.baggage {
            return;
        }
        let (sources, n) =
            if present.intersects(self.baggage_probe) { self.baggage_sources(present) } else { ([Source::W3c; 3], 0) };
        // No baggage header can be there (most requests): nothing to collect. The collection is
        // several KiB, built and moved: in wasm, without SIMD copies, it cost more than the plan.
        if n > 0 {
            let collected = baggage::collect(headers, sources.get(..n).unwrap_or_default());
            let (mut dropped, mut error) = (collected.dropped, collected.error);
            if !collected.is_empty() {
                for to in cfg.inject.iter().filter_map(baggage_source) {
                    let (d, e) = baggage::write(&collected, to, plan);
                    dropped += d;
                    error = error.or(e);
                }
            }
            plan.report.baggage_dropped = dropped;
            plan.report.baggage_error = error;
        }
        if cfg.remove_other_formats {
            self.remove_baggage(plan, headers, |f| !cfg.inject.contains(f));
        }
    }

    /// Remove the baggage headers of the formats read for which `which` holds.
    fn remove_baggage<E: Extractor + ?Sized>(&self, plan: &mut Plan, headers: &E, which: impl Fn(Format) -> bool) {
        if !self.config.baggage {
            return;
        }
        for f in self.config.extract.iter().filter(|f| which(*f)) {
            match baggage_source(f) {
                Some(Source::W3c) if crate::carrier::first(headers, baggage::HEADER).is_some() => {
                    plan.push(Op::Remove(baggage::HEADER));
                }
                Some(s @ (Source::Jaeger | Source::Ot)) => {
                    let prefix = if s == Source::Jaeger { baggage::JAEGER_PREFIX } else { baggage::OT_PREFIX };
                    headers.visit_prefixed(prefix, &mut |name, _| {
                        plan.remove_baggage(name);
                        core::ops::ControlFlow::Continue(())
                    });
                }
                _ => {}
            }
        }
    }

    /// An X-Ray `Root` without `Parent` when nothing else arrived (an AWS load balancer at the edge):
    /// a new root keeps its trace id and fields so the trace stays joined with the load balancer's logs.
    fn edge_root<'a, E: Extractor + ?Sized>(&self, ins: &Inspection<'_>, headers: &'a E) -> Option<EdgeRoot<'a>> {
        match (ins.context.is_none(), ins.status(Format::XRay), self.config.trust) {
            (true, Status::Invalid(Error::XRayMissingParent), Trust::Continue) => {
                crate::carrier::single(headers, xray::HEADER, Error::XRayDuplicate)
                    .ok()
                    .flatten()
                    .and_then(xray::root_without_parent)
            }
            _ => None,
        }
    }

    /// What to do with what arrived, by the configuration (module docs, "Trust", precedence).
    fn choose(&self, ins: &Inspection<'_>, edge: Option<EdgeRoot<'_>>) -> Choice {
        let cfg = &self.config;
        let incoming = |s| self.incoming(s);
        let root_sampling = match cfg.root_sampling {
            RootSampling::Defer => Sampling::Defer,
            RootSampling::Accept => Sampling::Accept,
            RootSampling::Deny => Sampling::Deny,
        };
        let root =
            |reason, sampling, restarted_from, ignored| Choice::Root { reason, sampling, restarted_from, ignored };
        let conflict = ins.conflicts() > 0;
        // The context is matched by reference and handed on as its sampling alone: it is a few hundred
        // bytes, and this runs on every request (`decide` reads it from `ins`).
        match (&ins.context, ins.sampling_only) {
            (Some(_), _) if conflict && cfg.on_conflict == OnConflict::PassThrough => Choice::Leave,
            // An untrusted context or decision is dropped; `on_missing` decides what replaces it.
            (Some(_), _) | (None, Some(_)) if cfg.trust == Trust::Ignore => match cfg.on_missing {
                OnMissing::NewRoot => root(RootReason::Untrusted, root_sampling, None, true),
                OnMissing::PassThrough => Choice::Ignore,
            },
            (Some(ctx), _) if cfg.trust == Trust::Restart => {
                root(RootReason::Untrusted, root_sampling, Some((ctx.trace_id, ctx.span_id)), false)
            }
            (Some(ctx), _) if conflict && cfg.on_conflict == OnConflict::NewRoot => {
                root(RootReason::Conflict, root_sampling, Some((ctx.trace_id, ctx.span_id)), false)
            }
            (Some(ctx), _) => Choice::Continue(incoming(ctx.sampling)),
            (None, Some(s)) => match cfg.on_missing {
                OnMissing::NewRoot => root(RootReason::Missing, incoming(s), None, false),
                OnMissing::PassThrough => Choice::Decision(incoming(s)),
            },
            (None, None) => match (cfg.on_missing, edge) {
                // The load balancer's decision, if it made one, as for any incoming decision.
                (OnMissing::NewRoot, Some((_, s, _))) if s != Sampling::Defer => {
                    root(RootReason::Missing, incoming(s), None, false)
                }
                (OnMissing::NewRoot, _) => root(RootReason::Missing, root_sampling, None, false),
                (OnMissing::PassThrough, _) => Choice::Leave,
            },
        }
    }

    /// Continue `ctx` with `sampling` and the width policy: whether that cut the trace id
    /// ([`Report::trace_id_truncated`]), and whether the context is still as it arrived (then its
    /// own format is left as it came). Inlined into both routes, as `report_written` is: as calls
    /// they made the filter's `.wasm` 109 bytes larger.
    #[inline(always)]
    fn continue_as(&self, ctx: &mut TraceContext<'_>, sampling: Sampling) -> (bool, bool) {
        let arrived = (ctx.sampling, ctx.id_width);
        ctx.set_sampling(sampling);
        let truncated = self.apply_width(ctx);
        (truncated, arrived == (ctx.sampling, ctx.id_width))
    }

    /// An incoming decision as the configuration takes it: `drop_forced_sampling` turns sampled and
    /// debug into defer.
    fn incoming(&self, s: Sampling) -> Sampling {
        match s {
            Sampling::Accept | Sampling::Debug if self.config.drop_forced_sampling => Sampling::Defer,
            s => s,
        }
    }

    /// A B3 decision without ids and no context: `b3: 0` stays a deny, passed to the B3 formats
    /// written (both say nothing for defer).
    fn plan_decision(&self, plan: &mut Plan, ins: &Inspection<'_>, s: Sampling) {
        let cfg = &self.config;
        plan.report.outcome = Outcome::SamplingOnly;
        plan.report.sampling = Some(s);
        let from = ins.source;
        for f in cfg.inject.iter().filter(|f| Some(*f) != from) {
            let written = match f {
                Format::B3Single => {
                    b3::single::inject_sampling_only(s, plan);
                    s != Sampling::Defer
                }
                Format::B3Multi => {
                    b3::multi::inject_sampling_only(s, plan);
                    s != Sampling::Defer
                }
                // `X-INSTANA-L: 0` alone is a decision Instana reads (`instana` module docs).
                Format::Instana => instana::inject_sampling_only(s, plan),
                _ => continue,
            };
            if let Some(slot) = plan.report.injected.get_mut(f.index()) {
                *slot = written;
            }
        }
        if cfg.remove_other_formats {
            let injected = plan.report.injected;
            self.remove_formats(plan, |f| !injected.get(f.index()).copied().unwrap_or(false) && Some(f) != from);
        }
    }

    /// The width policy for B3/Jaeger, applied to the context to write: true when it cut the trace
    /// id ([`Report::trace_id_truncated`]).
    fn apply_width(&self, ctx: &mut TraceContext<'_>) -> bool {
        match self.config.id_width {
            WidthPolicy::Keep => false,
            WidthPolicy::Bits128 => {
                ctx.id_width = IdWidth::Bits128;
                false
            }
            WidthPolicy::Bits64 => {
                ctx.id_width = IdWidth::Bits64;
                !ctx.trace_id.fits_64()
            }
        }
    }

    /// Write `ctx` (its sampling and width policy applied) in every injected format. A continued
    /// context's own format is left as it arrived when its sampling and width are unchanged.
    fn plan_context(&self, plan: &mut Plan, ins: &Inspection<'_>, ctx: &TraceContext<'_>, written: Written) {
        let cfg = &self.config;
        let (outcome, restarted_from, ignored, unchanged) = match written {
            Written::Continued { unchanged } => (Outcome::Continued, ins.restarted_from, false, unchanged),
            Written::Root { reason, restarted_from, ignored } => {
                (Outcome::NewRoot(reason), restarted_from.or(ins.restarted_from), ignored, false)
            }
        };
        report_written(&mut plan.report, outcome, ctx);
        let continued_from = if outcome == Outcome::Continued { ins.source } else { None };

        if cfg.remove_other_formats || ignored {
            self.remove_formats(plan, |f| !cfg.inject.contains(f) && ins.status(f).arrived());
        }
        for f in cfg.inject.iter() {
            if Some(f) == continued_from && unchanged {
                // The source format is left byte for byte as it arrived, but for a tracestate that
                // was dropped (invalid) or cut (a key given twice): written as read, or removed.
                if f == Format::W3c && ins.tracestate_error.is_some() {
                    self.plan_tracestate(plan, ins, ctx, true, restarted_from);
                }
                continue;
            }
            if f == Format::W3c {
                // traceparent only: tracestate is written by the policy (our member, limits).
                plan.inject_as(f, |p| crate::w3c::inject_traceparent(ctx, p));
                self.plan_tracestate(plan, ins, ctx, continued_from == Some(Format::W3c), restarted_from);
            } else {
                plan.inject_as(f, |p| inject_format(f, ctx, p));
            }
            if let Some(slot) = plan.report.injected.get_mut(f.index()) {
                *slot = written_as(f, ctx);
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

    /// Whether a `dd=` member goes next to the traceparent: Datadog was read (`read`: valid) or is
    /// injected. Asked by [`datadog_member`](Self::datadog_member), and by the direct route before
    /// it calls anything.
    #[inline(always)]
    fn wants_datadog_member(&self, read: bool) -> bool {
        read || self.injects_datadog
    }

    /// The `dd=` member to write next to a traceparent, when Datadog was read (`read`: valid) or is
    /// written: its `p:` is the last Datadog span, i.e. the parent when `ctx` is the context the
    /// Datadog headers brought (`from_datadog`).
    fn datadog_member(&self, read: bool, from_datadog: bool, ctx: &TraceContext<'_>) -> Option<datadog_fields::Member> {
        if !self.wants_datadog_member(read) {
            return None;
        }
        let last_parent = ctx.datadog.parent.or(from_datadog.then_some(ctx.span_id));
        Some(datadog_fields::encode_member(ctx, last_parent)).filter(|m| !m.as_str().is_empty())
    }

    fn plan_tracestate(
        &self,
        plan: &mut Plan,
        ins: &Inspection<'_>,
        ctx: &TraceContext<'_>,
        continued_w3c: bool,
        restarted_from: Option<(TraceId, SpanId)>,
    ) {
        let read = ins.status(Format::Datadog) == Status::Valid;
        let from_datadog =
            ins.source == Some(Format::Datadog) && ins.context.as_ref().is_some_and(|c| c.span_id == ctx.span_id);
        let dd = self.datadog_member(read, from_datadog, ctx);
        match self.tracestate_of(plan, dd, ctx, continued_w3c, restarted_from) {
            Tracestate::Leave => {}
            Tracestate::Remove => plan.push(Op::Remove(tracestate::HEADER)),
            Tracestate::Set => plan.push(Op::SetTracestate),
        }
    }

    /// The tracestate to write next to `ctx`'s traceparent (into `plan`'s buffer, with the report's
    /// counts of what it dropped): the incoming list when `continued_w3c`, our member, Datadog's `dd`.
    fn tracestate_of(
        &self,
        plan: &mut Plan,
        dd: Option<datadog_fields::Member>,
        ctx: &TraceContext<'_>,
        continued_w3c: bool,
        restarted_from: Option<(TraceId, SpanId)>,
    ) -> Tracestate {
        let ts_cfg = &self.config.tracestate;
        let mut value = ext::MemberValue::new();
        let member = (ts_cfg.member && ext::encode_into(ctx, restarted_from, &mut value)).then_some(&value);
        plan.report.member_fields_lost = member.map_or(0, |m| usize::from(m.lost));
        // A tracestate travels only with the traceparent it came with.
        // By reference: a `TraceState` is a few hundred bytes, and this runs on every request.
        let base = if continued_w3c { &ctx.tracestate } else { &tracestate::TraceState::EMPTY };
        let value = member.map(|m| m.as_str());
        if base.is_empty() && value.is_none() && dd.is_none() {
            // Most requests carry none: then there is nothing to remove (and nothing to drop later).
            if plan.present.may_have_any(const { name_filter::mask(&[tracestate::HEADER]) }) {
                return Tracestate::Remove;
            }
            return Tracestate::Leave;
        }
        // Written in place: the 4 KiB buffer is neither zeroed nor copied unless a tracestate is written.
        let (buf, scratch) = plan.tracestate_buffers();
        let dropped = compose_tracestate(
            base,
            (ts_cfg.key.key(), value),
            dd.as_ref().map(datadog_fields::Member::as_str),
            ts_cfg.max_len,
            buf,
            scratch,
        );
        plan.report.tracestate_dropped = dropped;
        if plan.tracestate.as_str().is_empty() {
            Tracestate::Remove
        } else {
            Tracestate::Set
        }
    }

    /// Plan and apply in one go, for carriers that read and write.
    pub fn translate<H: Extractor + Injector + ?Sized>(
        &self,
        headers: &mut H,
        random: impl FnOnce() -> [u8; 24],
    ) -> Report {
        // Planned in place: a plan is tens of KiB of fixed buffers, and a move would copy all of it.
        let mut plan = Plan::new();
        self.plan_into(&*headers, random, &mut plan);
        plan.apply(headers);
        plan.report
    }
}

/// Every header name and baggage prefix a translator reads, of any format: what a carrier gathers
/// for it ([`Extractor::gather`]). Any name read in a plan must be here, or a gathering carrier
/// would seem not to hold it (tested: `every_name_read_is_wanted`).
const WANTED: NameFilter = {
    let mut wanted = NameFilter::probe(&[baggage::HEADER], &[baggage::JAEGER_PREFIX, baggage::OT_PREFIX]);
    let mut formats: &[Format] = &Format::ALL;
    while let [f, rest @ ..] = formats {
        wanted = wanted.union(NameFilter::probe(f.headers(), &[]));
        formats = rest;
    }
    wanted
};

/// The header names (W3C's `baggage`) and prefixes (`uberctx-`, `ot-baggage-`) of baggage source
/// `s`, as a probe of the name filter.
const fn baggage_probe(s: Source) -> NameFilter {
    match s {
        Source::W3c => const { NameFilter::probe(&[baggage::HEADER], &[]) },
        Source::Jaeger => const { NameFilter::probe(&[], &[baggage::JAEGER_PREFIX]) },
        Source::Ot => const { NameFilter::probe(&[], &[baggage::OT_PREFIX]) },
    }
}

/// The baggage headers of a format, if it has any.
fn baggage_source(f: Format) -> Option<Source> {
    match f {
        Format::W3c => Some(Source::W3c),
        Format::Jaeger => Some(Source::Jaeger),
        Format::Ot => Some(Source::Ot),
        _ => None,
    }
}

/// Write `base` with our member (`ours`: key and value, or none) and Datadog's `dd=` member at the
/// front, within `max_len`, into `out`; returns how many of `base`'s members were dropped. Built from
/// [`TraceState::write_into`] twice (the `dd=` member first, into `scratch`), so the limits are the
/// W3C rules of that one function.
pub(crate) fn compose_tracestate(
    base: &TraceState<'_>,
    ours: (tracestate::Key<'_>, Option<&str>),
    dd: Option<&str>,
    max_len: usize,
    out: &mut TraceStateBuf,
    scratch: &mut Option<TraceStateBuf>,
) -> usize {
    let (key, value) = ours;
    // Nothing to write: no list came, and neither member goes in (an SDK's usual span, a legacy
    // header W3C says whole). No list is walked.
    if base.is_empty() && value.is_none() && dd.is_none() {
        out.clear();
        return 0;
    }
    let Some(dd) = dd.filter(|_| key.text != datadog_fields::MEMBER_KEY) else {
        base.write_into_key(key, value, max_len, out);
        return out.dropped();
    };
    let Some(value) = value else {
        base.write_into_key(datadog_fields::MEMBER, Some(dd), max_len, out);
        return out.dropped();
    };
    let tmp = scratch.get_or_insert_with(TraceStateBuf::new);
    // Room for our member in front of the list written with `dd=`.
    base.write_into_key(
        datadog_fields::MEMBER,
        Some(dd),
        max_len.saturating_sub(key.text.len() + value.len() + 2),
        tmp,
    );
    let first = tmp.dropped();
    // A list this crate wrote always parses; if it did not, `dd=` is left out rather than the rest.
    let with_dd = TraceState::parse(tmp.as_str()).unwrap_or(*base);
    with_dd.write_into_key(key, Some(value), max_len, out);
    first + out.dropped()
}

/// `f`'s writer, behind a call: inlined into [`Translator::plan_context`]'s loop over the formats
/// to write, every format's writer was, and LLVM moved parts of all of them (bytes of the ids, the
/// flags) before the loop, where they ran on every request whichever formats were written (≈ 250
/// instructions natively for a request written as W3C alone, measured with callgrind).
#[inline(never)]
fn inject_format(f: Format, ctx: &TraceContext<'_>, plan: &mut Plan) {
    f.inject(ctx, plan);
}

/// The report's outcome and the ids and decision of the context written.
#[inline(always)]
fn report_written(report: &mut Report, outcome: Outcome, ctx: &TraceContext<'_>) {
    report.outcome = outcome;
    (report.trace_id, report.span_id, report.sampling) = (Some(ctx.trace_id), Some(ctx.span_id), Some(ctx.sampling));
}

/// Whether format `f`, asked to write `ctx`, carries it ([`Report::injected`]): Datadog cannot carry a
/// trace id whose low 64 bits are zero, and its writer removes its headers instead.
fn written_as(f: Format, ctx: &TraceContext<'_>) -> bool {
    !(f == Format::Datadog && ctx.trace_id.low_64().is_none())
}

/// [`xray::root_without_parent`]'s trace id, decision and fields.
type EdgeRoot<'a> = (TraceId, Sampling, crate::context::XRayFields<'a>);

/// How [`Translator::plan_context`] came to write a context.
#[derive(Clone, Copy)]
enum Written {
    /// The incoming context, continued; `unchanged`: with the sampling and width it arrived with.
    Continued { unchanged: bool },
    /// A new root; `restarted_from`: the ids it replaces, if not those our member carried;
    /// `ignored`: the incoming trace was dropped (`trust: ignore`).
    Root { reason: RootReason, restarted_from: Option<(TraceId, SpanId)>, ignored: bool },
}

/// What [`Translator::tracestate_of`] found to do with `tracestate`.
enum Tracestate {
    /// Nothing: none is written, and none can be there.
    Leave,
    /// Remove the one that came, if one did.
    Remove,
    /// Write the plan's tracestate buffer.
    Set,
}

/// What [`Translator::choose`] decided. Small: the context it continues stays in the inspection.
enum Choice {
    /// Change nothing (nothing arrived, or a conflict under `on_conflict: pass-through`).
    Leave,
    /// Only a B3 decision arrived: pass it on.
    Decision(Sampling),
    /// Remove the untrusted trace; nothing replaces it.
    Ignore,
    /// Continue the context read (`Inspection::context`), with this sampling.
    Continue(Sampling),
    /// Start a new root.
    Root { reason: RootReason, sampling: Sampling, restarted_from: Option<(TraceId, SpanId)>, ignored: bool },
}

/// A new root from 24 random bytes (16 trace id, 8 span id). Behind an AWS load balancer (`edge`) it
/// keeps the load balancer's trace id and X-Ray fields; otherwise its trace id is random, which W3C
/// Level 2 says with the `random` flag (§3.2.2.5.2).
fn new_root<'a>(bytes: [u8; 24], sampling: Sampling, edge: Option<EdgeRoot<'a>>) -> TraceContext<'a> {
    let (t, s) = bytes.split_at(16);
    let mut tb = [0u8; 16];
    let mut sb = [0u8; 8];
    tb.copy_from_slice(t);
    sb.copy_from_slice(s);
    let mut ctx = TraceContext::new(TraceId::from_random(tb), SpanId::from_random(sb)).with_sampling(sampling);
    match edge {
        Some((root_id, _, xray)) => {
            ctx.trace_id = root_id;
            ctx.xray = xray;
        }
        None => ctx.trace_flags = TraceFlags(ctx.trace_flags.0 | TraceFlags::RANDOM),
    }
    ctx
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn held(name: &[u8]) -> bool {
        let mut kept = NameFilter::EMPTY;
        kept.insert_if_held(name, &WANTED)
    }

    /// Every header name and baggage prefix a plan reads hits [`WANTED`], in any case: a carrier that
    /// gathers keeps all of their lines.
    #[test]
    fn every_name_read_is_wanted() {
        let mut names: Vec<String> = Format::ALL.iter().flat_map(|f| f.headers()).map(|h| h.to_string()).collect();
        names.push(baggage::HEADER.into());
        for prefix in [baggage::JAEGER_PREFIX, baggage::OT_PREFIX] {
            names.extend([prefix.to_string(), format!("{prefix}user-id")]);
        }
        for name in names {
            for n in [name.clone(), name.to_ascii_uppercase()] {
                let mut kept = NameFilter::EMPTY;
                assert!(kept.insert_if_held(n.as_bytes(), &WANTED), "{n}");
                assert!(kept != NameFilter::EMPTY, "{n}");
            }
        }
        // And not everything: a common request's other names are mostly left out.
        let common = ["user-agent", "accept", "accept-encoding", "authorization", "x-request-id", "content-length"];
        let kept = common.iter().filter(|n| held(n.as_bytes())).count();
        assert!(kept <= 2, "{kept} of {common:?}");
        assert!(!held(b":authority"));
    }
}
