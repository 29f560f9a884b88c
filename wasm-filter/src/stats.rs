//! Counter names.
//!
//! Envoy files proxy-wasm metrics under the `wasmcustom.` scope: `tracebridge.requests` reads
//! `wasmcustom.tracebridge.requests` in `/stats` and `tracebridge_requests` in
//! `/stats/prometheus`. Prometheus names allow only `[a-zA-Z0-9_:]` (Envoy would rewrite the rest), so
//! format names are written with `_` (`b3_single`) and the names stay the same in both views.
//!
//! The filter counts in its own memory ([`Pending`]) and adds to Envoy's counters on a timer
//! (`FLUSH_MS`), not with host calls on every request: each call into the host costs the proxy CPU on
//! the hot path.
//!
//! With `caller` configured, every counter but `injected.<format>` ([`per_caller`]) is also kept per
//! caller, under [`caller_stat`] names (see `crate::callers`).

use crate::prelude::*;
use tracebridge::translate::{FormatList, Plan, Report, Status};
use tracebridge::{Error, Format};

/// Every request the filter saw.
pub const REQUESTS: &str = "tracebridge.requests";
/// Requests where no configured format held a valid context.
pub const MISSING: &str = "tracebridge.missing";
/// Requests whose valid formats disagreed about the trace.
pub const CONFLICTS: &str = "tracebridge.conflicts";
/// Requests for which a new root context was generated (or would have been, in shadow mode).
pub const ROOTS: &str = "tracebridge.roots";
/// Requests evaluated in shadow mode whose headers would have changed.
pub const SHADOW: &str = "tracebridge.shadow";
/// Requests where a part of what arrived was not carried on (tracestate or baggage members, a
/// format's optional part): `tracebridge::translate::Report::dropped_input`.
pub const DROPPED: &str = "tracebridge.dropped";

/// The per-format counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerFormat {
    /// The format's headers held a valid context.
    Extracted,
    /// The format's headers were present but malformed.
    Invalid,
    /// The format's headers were written.
    Injected,
}

impl PerFormat {
    /// All kinds.
    pub const ALL: [PerFormat; 3] = [PerFormat::Extracted, PerFormat::Invalid, PerFormat::Injected];

    const fn word(self) -> &'static str {
        match self {
            PerFormat::Extracted => "extracted",
            PerFormat::Invalid => "invalid",
            PerFormat::Injected => "injected",
        }
    }

    /// `tracebridge.<kind>.<format>`, e.g. `tracebridge.extracted.b3_single`.
    pub fn name(self, format: Format) -> String {
        format!("tracebridge.{}.{}", self.word(), format.name().replace('-', "_"))
    }
}

/// The counters of one report, as indices into [`names`]: what the filter adds up per request in
/// its own memory and hands to Envoy on a tick ([`Pending`]).
pub mod index {
    use tracebridge::Format;

    use super::PerFormat;

    /// `tracebridge.requests`.
    pub const REQUESTS: usize = 0;
    /// `tracebridge.missing`.
    pub const MISSING: usize = 1;
    /// `tracebridge.conflicts`.
    pub const CONFLICTS: usize = 2;
    /// `tracebridge.roots`.
    pub const ROOTS: usize = 3;
    /// `tracebridge.shadow`.
    pub const SHADOW: usize = 4;
    /// `tracebridge.dropped`.
    pub const DROPPED: usize = 5;
    const PER_FORMAT_START: usize = 6;

    /// `tracebridge.<kind>.<format>`.
    pub const fn per_format(kind: PerFormat, f: Format) -> usize {
        let k = match kind {
            PerFormat::Extracted => 0,
            PerFormat::Invalid => 1,
            PerFormat::Injected => 2,
        };
        PER_FORMAT_START + k * Format::ALL.len() + f.index()
    }

    /// How many counters there are.
    pub const COUNT: usize = PER_FORMAT_START + PerFormat::ALL.len() * Format::ALL.len();
}

/// Every counter name, in [`index`] order.
pub fn names() -> Vec<String> {
    let mut out: Vec<String> = [REQUESTS, MISSING, CONFLICTS, ROOTS, SHADOW, DROPPED].map(String::from).to_vec();
    for kind in PerFormat::ALL {
        out.extend(Format::ALL.iter().map(|&f| kind.name(f)));
    }
    out
}

/// The Envoy tag regex that turns [`caller_stat`] names into the tag `caller` on the listener-wide
/// name (Istio's syntax: what Istio generates for `extraStatTags: [caller]`).
pub const CALLER_TAG_REGEX: &str = r"(caller=\.=(.*?);\.;)";

/// True for the counters also kept per caller: all but `injected.<format>`, which depends on the
/// configuration, not on the caller.
pub const fn per_caller(i: usize) -> bool {
    let injected = index::per_format(PerFormat::Injected, Format::W3c);
    i < index::COUNT && !(i >= injected && i < injected + Format::ALL.len())
}

/// The name of counter `name` (one of [`names`]) for one caller: `caller=.=<caller>;.;<name>`.
/// `caller` must be a `crate::callers::Name` (or `unknown`/`other`): never raw request bytes.
pub fn caller_stat(name: &str, caller: &str) -> String {
    format!("caller=.={caller};.;{name}")
}

/// Counts not yet handed to Envoy. A request adds to these in module memory (no host call); a tick
/// drains them into Envoy's counters, so `/stats` lags by at most one tick and is otherwise exact.
#[derive(Debug, Clone)]
pub struct Pending {
    counts: [u64; index::COUNT],
}

impl Default for Pending {
    fn default() -> Self {
        Pending { counts: [0; index::COUNT] }
    }
}

impl Pending {
    /// Count one at `i` (an [`index`] constant).
    pub fn inc(&mut self, i: usize) {
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
    }

    /// True when there is nothing to hand over.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }

    /// Every non-zero count as `(index, count)`, leaving all at zero.
    pub fn drain(&mut self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter_mut().enumerate().filter(|(_, c)| **c != 0).map(|(i, c)| (i, core::mem::take(c)))
    }
}

/// What one translation adds to the counters: `inc` is called with the [`index`] of each counter
/// that counts it, `malformed` with each format whose headers were malformed, `dropped` when a part
/// of what arrived was not carried on (both for the debug log). `inject` is the configuration's
/// list of formats written, `shadow` its shadow mode (nothing written: nothing counted as injected).
///
/// A request that core translated by its direct route ([`Plan::direct_source`]: one format's
/// headers only, nearly every request) is counted from what that route promises of its report: the
/// format extracted, what was written, what was dropped. Any other is counted from every format's
/// status: a loop over ten formats with a branch each was a third of the request callback's code
/// in V8 (`benches/envoy/code-lines.sh`: 22 of 70 lines, 340 of 785 instructions).
#[inline]
pub fn count(
    plan: &Plan,
    inject: &FormatList,
    shadow: bool,
    inc: impl FnMut(usize),
    malformed: impl FnMut(Format, Error),
    dropped: impl FnOnce(&Report),
) {
    count_as(plan.direct_source(), plan, inject, shadow, inc, malformed, dropped);
}

/// [`count`], with the direct route's format given (`None`: counted by every format's status).
#[inline(always)]
fn count_as(
    direct: Option<Format>,
    plan: &Plan,
    inject: &FormatList,
    shadow: bool,
    mut inc: impl FnMut(usize),
    malformed: impl FnMut(Format, Error),
    dropped: impl FnOnce(&Report),
) {
    let report = plan.report();
    inc(index::REQUESTS);
    match direct {
        // Without asking `shadow`: the direct route writes, so shadow mode (which only plans) never
        // takes it.
        Some(f) => {
            inc(index::per_format(PerFormat::Extracted, f));
            for g in inject.iter().filter(|&g| report.injected(g)) {
                inc(index::per_format(PerFormat::Injected, g));
            }
        }
        None => count_statuses(report, shadow, &mut inc, malformed),
    }
    if report.dropped_input() {
        dropped(report);
        inc(index::DROPPED);
    }
    if shadow && !plan.is_noop() {
        inc(index::SHADOW);
    }
}

/// [`count`] of a report by every format's status: all but what [`count`] asks of every report.
#[inline(never)]
fn count_statuses(
    report: &Report,
    shadow: bool,
    inc: &mut impl FnMut(usize),
    mut malformed: impl FnMut(Format, Error),
) {
    let mut conflicts = false;
    for (f, &status) in Format::ALL.iter().zip(&report.status) {
        let kind = match status {
            Status::Valid => PerFormat::Extracted,
            Status::Conflict => {
                conflicts = true;
                PerFormat::Extracted
            }
            Status::Invalid(e) => {
                // Malformed trace headers never fail a request: counted, and told at debug level.
                malformed(*f, e);
                PerFormat::Invalid
            }
            Status::NotRead | Status::Absent => continue,
        };
        inc(index::per_format(kind, *f));
    }
    if !shadow {
        for (f, _) in Format::ALL.iter().zip(&report.injected).filter(|(_, &injected)| injected) {
            inc(index::per_format(PerFormat::Injected, *f));
        }
    }
    if report.missing() {
        inc(index::MISSING);
    }
    if conflicts {
        inc(index::CONFLICTS);
    }
    if report.root_generated() {
        inc(index::ROOTS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prometheus_safe() {
        let all = names();
        for n in &all {
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'), "{n}");
        }
        assert_eq!(PerFormat::Extracted.name(Format::GrpcTraceBin), "tracebridge.extracted.grpc_trace_bin");
    }

    #[test]
    fn indices_match_names() {
        let all = names();
        assert_eq!(all.len(), index::COUNT);
        assert_eq!(all[index::REQUESTS], REQUESTS);
        assert_eq!(all[index::SHADOW], SHADOW);
        assert_eq!(all[index::DROPPED], DROPPED);
        for kind in PerFormat::ALL {
            for f in Format::ALL {
                assert_eq!(all[index::per_format(kind, f)], kind.name(f));
            }
        }
    }

    #[test]
    fn pending_drains_exactly() {
        let mut p = Pending::default();
        p.inc(index::REQUESTS);
        p.inc(index::REQUESTS);
        p.inc(index::per_format(PerFormat::Invalid, Format::Jaeger));
        p.inc(index::COUNT); // out of range: ignored
        let got: Vec<_> = p.drain().collect();
        assert_eq!(got, [(index::REQUESTS, 2), (index::per_format(PerFormat::Invalid, Format::Jaeger), 1)]);
        assert_eq!(p.drain().count(), 0);
        assert!(p.is_empty());
    }

    /// A request core translated by its direct route counts what the same report counts by every
    /// format's status: over lines of every format (valid, with a part dropped, malformed), alone
    /// and in pairs, under several configurations.
    #[test]
    fn the_direct_route_counts_as_every_status_does() {
        use tracebridge::translate::Config;
        use tracebridge::Translator;
        const LINES: &[(&str, &str)] = &[
            ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
            ("b3", "e457b5a2e4d86bd1-e457b5a2e4d86bd1-d"),
            ("b3", "garbage"),
            ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
            ("x-b3-spanid", "e457b5a2e4d86bd1"),
            ("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
            ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Self=1-67891233-abcdef012345678912345678;Lineage=a87bd80c:1"),
            ("x-datadog-trace-id", "1234"),
            ("x-datadog-parent-id", "5678"),
            ("x-datadog-tags", "not a tag"),
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("baggage", "user=alice"),
            ("user-agent", "curl"),
        ];
        let injects: [&[Format]; 4] = [
            &[Format::W3c],
            &[Format::W3c, Format::B3Multi],
            &[Format::B3Single, Format::W3c],
            &[Format::Datadog, Format::XRay],
        ];
        let (mut direct, mut all) = (0, 0);
        for inject in injects {
            for shadow in [false, true] {
                let config =
                    Config { inject: FormatList::new(inject).unwrap_or(Config::default().inject), ..Config::default() };
                let t = Translator::new(config).unwrap_or_default();
                for (i, a) in LINES.iter().enumerate() {
                    for b in LINES.iter().skip(i).map(Some).chain([None]) {
                        let lines: Vec<(String, String)> =
                            [Some(a), b].into_iter().flatten().map(|(n, v)| (n.to_string(), v.to_string())).collect();
                        let mut plan = Plan::default();
                        if shadow {
                            t.plan_into(&lines, || [7; 24], &mut plan);
                        } else {
                            t.translate_into(&lines, &mut lines.clone(), || [7; 24], &mut plan);
                        }
                        let counted = |route: Option<Format>| {
                            let (mut counts, mut malformed, mut dropped) = (Pending::default(), Vec::new(), 0);
                            let inc = |i| counts.inc(i);
                            count_as(
                                route,
                                &plan,
                                &t.config().inject,
                                shadow,
                                inc,
                                |f, e| malformed.push((f, e)),
                                |_| dropped += 1,
                            );
                            (counts.drain().collect::<Vec<_>>(), malformed, dropped)
                        };
                        assert_eq!(counted(plan.direct_source()), counted(None), "{lines:?} {inject:?}");
                        direct += usize::from(plan.direct_source().is_some());
                        all += 1;
                    }
                }
            }
        }
        // Not vacuous: many of these took the direct route (none in shadow mode, which only plans).
        assert!(direct * 40 > all, "{direct} of {all}");
    }

    #[test]
    fn every_counter_but_injected_is_kept_per_caller() {
        let all = names();
        let kept: Vec<&str> = all.iter().enumerate().filter(|(i, _)| per_caller(*i)).map(|(_, n)| n.as_str()).collect();
        assert_eq!(kept.len(), 6 + 2 * Format::ALL.len());
        assert!(kept.iter().all(|n| !n.starts_with("tracebridge.injected.")), "{kept:?}");
        assert!(kept.contains(&MISSING) && kept.contains(&"tracebridge.invalid.grpc_trace_bin"));
        assert!(!per_caller(index::COUNT));
        assert_eq!(caller_stat(MISSING, "alpha"), "caller=.=alpha;.;tracebridge.missing");
    }
}
