//! The filter: the proxy-wasm callbacks ([`crate::abi`] exports only the ones needed), each plugin's
//! configuration, and per request core's translation (`Translator::translate_into`: a request of one
//! format written as it is read, any other planned and applied), counted. All format logic is core's.
//!
//! Per request the host makes two calls into the module (`proxy_on_request_headers`,
//! `proxy_on_response_headers`), and the module makes one host call to read the request headers (plus
//! the host's call back to allocate them) and one per header written. Which configuration a stream
//! belongs to is known without a call when the VM serves one ([`stream_root`]).
//! Counters, per caller too, are added up here and handed to Envoy on a tick ([`FLUSH_MS`]). Only
//! what the configuration asks for costs more host calls: a caller read from a host property (one
//! `proxy_get_property`), the access-log fields (one `proxy_set_property`), the response headers.

use crate::prelude::*;
use alloc::rc::Rc;

use tracebridge::translate::{Plan, Report};
use tracebridge::{Format, Injector, TraceId};

use crate::abi::{self, LogLevel, MapType, VmLocal};
use crate::access_log;
use crate::callers::{Callers, Name};
use crate::config::{self, CallerSource, FilterConfig};
use crate::headers::Pairs;
use crate::stats::{self, Pending};
use crate::streams::{Streams, Written};

/// How often counts are handed to Envoy's counters: `/stats` lags by at most this much.
pub const FLUSH_MS: u32 = 500;

/// Plugin configurations kept per VM. The filter does not export `proxy_on_delete` (one more call
/// into the VM on every stream), so it is not told when Envoy retires a configuration (an xDS update
/// creates a new root context and drains the old one); past this many, the oldest is forgotten.
const MAX_ROOTS: usize = 64;

/// One plugin configuration served by the VM.
struct Root {
    /// The root context's id (a stream remembers it until its response).
    id: u32,
    /// The plugin's `name` (Envoy's `PluginConfig.name`).
    name: Vec<u8>,
    config: Rc<FilterConfig>,
}

/// Everything one VM (one Envoy worker) keeps.
#[derive(Default)]
struct State {
    /// The plugin configurations this VM serves, one per plugin `name`.
    roots: Vec<Root>,
    /// What was written to each live stream whose response headers the configuration writes to.
    streams: Streams,
    /// Envoy's ids of the counters, in [`stats::index`] order; defined once.
    counter_ids: Option<Vec<Option<u32>>>,
    pending: Pending,
    /// The callers seen, with their counts (shared by every configuration of the VM, as Envoy's
    /// counters are; each configuration admits callers up to its own `max_callers`).
    callers: Callers,
    log_level: Option<LogLevel>,
    /// Reused for every request: a plan is several KiB, filled in place (`Translator::plan_into`).
    plan: Plan,
    /// Reused for every request's access-log line.
    line: String,
}

static STATE: VmLocal<State> = VmLocal::new();

impl State {
    fn logs(&mut self, level: LogLevel) -> bool {
        level >= *self.log_level.get_or_insert_with(abi::log_level)
    }

    #[cfg(feature = "response")]
    fn root(&self, id: u32) -> Option<Rc<FilterConfig>> {
        self.roots.iter().find(|r| r.id == id).map(|r| Rc::clone(&r.config))
    }
}

/// The configuration of the current stream, and its root's id: borrowed, not an `Rc` cloned and
/// dropped on every request (a write to the configuration's count, and the drop's branch).
///
/// The filter does not export `proxy_on_context_create`, which would tell the stream's root
/// context, because Envoy would then call into the VM once more on every request (≈ 2 000
/// instructions of Envoy's, measured with callgrind: `benches/envoy/callgrind.sh`). A VM that
/// serves one configuration (the usual case: one filter per `vm_id`) needs no call at all. A VM
/// shared by several asks the host for the stream's plugin `name` (one `proxy_get_property`),
/// which Envoy documents as what identifies a filter among those sharing a VM
/// (`envoy.extensions.wasm.v3.PluginConfig.name`: "A unique name for a filters/services in a VM
/// for use in identifying the filter/service if multiple filters/services are sharing the same
/// VM").
fn stream_root(roots: &[Root]) -> Option<(u32, &FilterConfig)> {
    let found = match roots {
        [only] => only,
        [] => return None,
        several => {
            let name = abi::property(b"plugin_name");
            let name = name.as_ref().map_or(&[][..], |n| n.as_slice());
            several.iter().find(|r| r.name == name)?
        }
    };
    Some((found.id, &found.config))
}

fn log(level: LogLevel, message: &str) {
    abi::log(level, message);
}

/// `proxy_on_configure`: false refuses the configuration.
pub fn on_configure(root_id: u32, size: usize) -> bool {
    let bytes = abi::plugin_configuration(size);
    let config = match config::parse(bytes.as_ref().map_or(&[][..], |b| b.as_slice())) {
        Ok(c) => c,
        Err(reason) => {
            log(LogLevel::Error, &format!("configuration refused: {reason}"));
            return false;
        }
    };
    if let (false, Some(key)) = (cfg!(feature = "response"), config.response_option()) {
        log(
            LogLevel::Error,
            &format!(
                "configuration refused: {key}: this build (tracebridge.wasm) leaves out response headers; \
                 load tracebridge-response.wasm for them (it exports proxy_on_response_headers, a call into \
                 the VM on every response)"
            ),
        );
        return false;
    }
    let shadow = config.shadow;
    STATE.with_borrow_mut(|s| {
        if s.counter_ids.is_none() {
            let ids = stats::names()
                .iter()
                .map(|name| {
                    let id = abi::define_counter(name);
                    if id.is_none() {
                        log(LogLevel::Warn, &format!("cannot define counter {name}"));
                    }
                    id
                })
                .collect();
            s.counter_ids = Some(ids);
        }
        let config = Rc::new(config);
        let name = abi::property(b"plugin_name").map(|n| n.as_slice().to_vec());
        if name.is_none() {
            // Every Envoy with wasm has it. A host without it cannot tell configurations sharing a VM
            // apart: the last one configured would serve every stream.
            log(LogLevel::Warn, "the host gives no plugin_name: give each configuration its own VM (vm_id)");
        }
        let name = name.unwrap_or_default();
        let shown = core::str::from_utf8(&name).unwrap_or("(not UTF-8)").to_string();
        // A configuration update (xDS) gives the same plugin a new root context; the old one drains.
        // Streams are matched to configurations by plugin name (`State::stream_root`), so the newest
        // configuration of a name serves every stream of that name from now on, in-flight ones included.
        let replaced = match s.roots.iter_mut().find(|r| r.id == root_id || r.name == name) {
            Some(root) => {
                (root.id, root.config) = (root_id, config);
                true
            }
            None => {
                s.roots.push(Root { id: root_id, name, config });
                false
            }
        };
        if s.roots.len() > MAX_ROOTS {
            // The host numbers contexts from one counter: the smallest id is the oldest.
            if let Some(oldest) = s.roots.iter().map(|r| r.id).min() {
                s.roots.retain(|r| r.id != oldest);
            }
        }
        if s.logs(LogLevel::Info) {
            let mode = if shadow { " (shadow mode)" } else { "" };
            let what = if replaced {
                // Also what two filters with one `name` in one VM look like: then say so.
                "replaced the configuration of the same name (filters sharing a VM need distinct names)"
            } else {
                "configured"
            };
            log(LogLevel::Info, &format!("plugin \"{shown}\": {what}{mode}"));
        }
    });
    abi::set_tick_period(FLUSH_MS);
    true
}

/// `proxy_on_tick`: hand the counts to Envoy.
pub fn on_tick() {
    STATE.with_borrow_mut(|s| {
        s.log_level = Some(abi::log_level());
        let State { counter_ids, pending, callers, .. } = s;
        let ids = counter_ids.as_deref().unwrap_or_default();
        for (i, n) in pending.drain() {
            if let Some(Some(id)) = ids.get(i) {
                abi::increment_counter(*id, n);
            }
        }
        for caller in callers.slots_mut() {
            if caller.pending.is_empty() {
                continue;
            }
            // A caller's counters are defined the first time it has counts, all at once, so that a
            // ratio over them finds every series (a 0 rather than none).
            let ids = caller.ids.get_or_insert_with(|| {
                let name = &caller.name;
                let define = |(i, base): (usize, &String)| {
                    if !stats::per_caller(i) {
                        return None;
                    }
                    let stat = stats::caller_stat(base, name);
                    let id = abi::define_counter(&stat);
                    if id.is_none() {
                        log(LogLevel::Warn, &format!("cannot define counter {stat}"));
                    }
                    id
                };
                stats::names().iter().enumerate().map(define).collect()
            });
            for (i, n) in caller.pending.drain() {
                if let Some(Some(id)) = ids.get(i) {
                    abi::increment_counter(*id, n);
                }
            }
        }
    });
}

/// `proxy_on_request_headers`: the work. The request always continues.
pub fn on_request_headers(context_id: u32) {
    STATE.with_borrow_mut(|s| {
        let debug = s.logs(LogLevel::Debug);
        let State { roots, plan, streams, pending, callers, line, .. } = s;
        let Some((root, config)) = stream_root(roots) else { return };
        if cfg!(feature = "ladder-empty") {
            return;
        }
        let bytes = abi::header_pairs(MapType::RequestHeaders);
        let mut headers = Pairs::empty();
        headers.read(bytes.as_ref().map_or(&[][..], |b| b.as_slice()));
        // Ablation ladder (benches/envoy/ladder.sh): builds that stop after one step.
        if cfg!(feature = "ladder-fetch") {
            core::hint::black_box(&headers);
            return;
        }
        // Ablation only: the least real translation (core reads `b3`, core writes `traceparent`), no
        // plan: what the plan's generality (every format, conflicts, tracestate, counters) costs.
        if cfg!(feature = "ladder-direct") {
            if let Ok(Some(tracebridge::Propagation::Context(ctx))) = tracebridge::b3::single::extract(&headers) {
                tracebridge::w3c::inject_traceparent(&ctx, &mut RequestHeaders);
            }
            return;
        }
        let caller = config.caller.as_ref().map(|source| caller_slot(callers, source, &headers, config.max_callers));
        if config.shadow || config.response_option().is_some() || cfg!(feature = "ladder-plan") {
            planned(context_id, root, config, &headers, plan, streams);
            if cfg!(feature = "ladder-plan") {
                return;
            }
        } else {
            // Planned and written in one go: a request with one format is written as it is read
            // (core's direct route), without a plan to fill and walk.
            config.translator.translate_into(&headers, &mut RequestHeaders, random_ids, plan);
        }
        if config.access_log != access_log::Fields::NONE {
            log_access(line, config, plan.report(), caller.map(|c| callers.name(c)));
        }
        if !cfg!(feature = "ladder-apply") {
            let caller = caller.and_then(|c| callers.get_mut(c)).map(|c| &mut c.pending);
            count(pending, caller, debug, config, plan);
        }
    });
}

// Out of line, each of the next three: what only some configurations do stays out of the request
// callback's code, which V8 fetches into the instruction cache on every request
// (benches/envoy/code-lines.sh).

/// The caller's slot among those counted (`caller` configured).
#[inline(never)]
fn caller_slot(callers: &mut Callers, source: &CallerSource, headers: &Pairs<'_>, max: usize) -> usize {
    callers.slot(caller_name(source, headers).as_ref(), max)
}

/// Plan, then show (shadow mode) or apply the plan and remember what it wrote for the response.
#[inline(never)]
fn planned(
    context_id: u32,
    root: u32,
    config: &FilterConfig,
    headers: &Pairs<'_>,
    plan: &mut Plan,
    streams: &mut Streams,
) {
    config.translator.plan_into(headers, random_ids, plan);
    if cfg!(feature = "ladder-plan") {
        core::hint::black_box(&plan);
        return;
    }
    if config.shadow {
        if let Some(name) = &config.shadow_header {
            abi::replace_header(MapType::RequestHeaders, name, &describe(plan));
        }
    } else {
        plan.apply(&mut RequestHeaders);
        let report = plan.report();
        let flags = if config.traceresponse { written_flags(plan, headers) } else { 0 };
        let written = report.trace_id.map(|trace_id| Written { trace_id, span_id: report.span_id, flags });
        streams.open(context_id, root, written);
    }
}

/// The access-log fields, handed to Envoy as a filter state property.
#[inline(never)]
fn log_access(line: &mut String, config: &FilterConfig, report: &Report, caller: Option<&str>) {
    access_log::write(line, config.access_log, report, caller);
    abi::set_property(access_log::PROPERTY, line.as_bytes());
}

/// The caller of the request, from where the configuration says.
fn caller_name(source: &CallerSource, headers: &Pairs<'_>) -> Option<Name> {
    match source {
        // From the header map already read: no host call.
        CallerSource::Header(name) => headers.first(name).and_then(Name::new),
        CallerSource::Property { path, principal } => {
            let value = abi::property(path)?;
            if *principal {
                Name::from_principal(value.as_slice())
            } else {
                Name::new(value.as_slice())
            }
        }
    }
}

/// `proxy_on_response_headers`: `response_trace_id_header` and `traceresponse`. The response always
/// continues. Only in the `response` build (`tracebridge-response.wasm`): see [`on_configure`].
#[cfg(feature = "response")]
pub fn on_response_headers(context_id: u32) {
    STATE.with_borrow_mut(|s| {
        // The stream's entry is no longer needed after this.
        let Some((root, written)) = s.streams.close(context_id) else { return };
        let (Some(config), Some(written)) = (s.root(root), written) else { return };
        let hex = written.trace_id.to_hex();
        if let Some(name) = &config.response_trace_id_header {
            abi::replace_header(MapType::ResponseHeaders, name, hex_str(&hex));
        }
        if let (true, Some(span)) = (config.traceresponse, written.span_id) {
            // An upstream that sends its own knows its own span: leave it.
            if abi::header_value(MapType::ResponseHeaders, TRACERESPONSE).is_none() {
                // `00-<32 hex>-<16 hex>-<2 hex>`, in place.
                let mut value = [b'-'; 55];
                let flags = [hex_digit(written.flags >> 4), hex_digit(written.flags)];
                for (at, part) in [(0, &b"00"[..]), (3, &hex[..]), (36, &span.to_hex()[..]), (53, &flags[..])] {
                    if let Some(dst) = value.get_mut(at..at + part.len()) {
                        dst.copy_from_slice(part);
                    }
                }
                abi::replace_header(MapType::ResponseHeaders, TRACERESPONSE, hex_str(&value));
            }
        }
    });
}

/// The trace-flags of the `traceparent` the upstream receives (written, or continued as it came),
/// the two defined by Level 2 (sampled, random); without one, the sampled decision alone.
fn written_flags(plan: &Plan, headers: &Pairs<'_>) -> u8 {
    let report = plan.report();
    let traceparent = match plan.writes().find(|(name, _)| *name == TRACEPARENT) {
        Some((_, value)) => Some(value.as_bytes()),
        None if report.source == Some(Format::W3c) => headers.first(TRACEPARENT),
        None => None,
    };
    // `version-trace_id-parent_id-flags`: the flags are bytes 53..55 in every version.
    match traceparent.and_then(|tp| tp.get(53..55)) {
        Some(&[hi, lo]) => match (hex_value(hi), hex_value(lo)) {
            (Some(hi), Some(lo)) => (hi << 4 | lo) & 0x03,
            _ => 0,
        },
        _ => u8::from(report.sampling.is_some_and(|s| s.is_sampled())),
    }
}

/// A lowercase hex digit's value (W3C `HEXDIGLC`).
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// The lowercase hex digit of the low four bits of `n`.
#[cfg(feature = "response")]
fn hex_digit(n: u8) -> u8 {
    b"0123456789abcdef".get(usize::from(n & 0x0f)).copied().unwrap_or(b'0')
}

const TRACEPARENT: &str = "traceparent";

/// W3C Trace Context Level 2 response header.
#[cfg(feature = "response")]
const TRACERESPONSE: &str = "traceresponse";

/// Lowercase hex digits (and `-`) as `str`.
fn hex_str(hex: &[u8]) -> &str {
    core::str::from_utf8(hex).unwrap_or_default()
}

/// Core's [`Injector`] over the host's request header map.
struct RequestHeaders;

impl Injector for RequestHeaders {
    fn set(&mut self, name: &str, value: &str) {
        abi::replace_header(MapType::RequestHeaders, name, value);
    }

    /// The host takes bytes: core's own values go as they are, without a UTF-8 check.
    fn set_bytes(&mut self, name: &str, value: &[u8]) {
        abi::replace_header_bytes(MapType::RequestHeaders, name, value);
    }

    fn takes_bytes(&self) -> bool {
        true
    }

    fn remove(&mut self, name: &str) {
        abi::remove_header(MapType::RequestHeaders, name);
    }
}

/// Count `plan`'s outcome ([`stats::count`]) in the listener-wide counters and, for the counters
/// kept per caller, the caller's.
fn count(all: &mut Pending, caller: Option<&mut Pending>, debug: bool, config: &FilterConfig, plan: &Plan) {
    let mut c = Counts { all, caller };
    let malformed = |f, e| {
        if debug {
            log_malformed(f, e);
        }
    };
    let dropped = |report: &Report| {
        if debug {
            log_dropped(report);
        }
    };
    stats::count(plan, &config.translator.config().inject, config.shadow, |i| c.inc(i), malformed, dropped);
}

/// Debug log: a format's headers were malformed. Out of line (formatting), as is [`log_dropped`].
#[cold]
#[inline(never)]
fn log_malformed(f: Format, e: tracebridge::Error) {
    log(LogLevel::Debug, &format!("ignoring malformed {} headers: {e}", f.name()));
}

/// Debug log: what [`Report::dropped_input`] counted.
#[cold]
#[inline(never)]
fn log_dropped(report: &Report) {
    log(LogLevel::Debug, &dropped_detail(report));
}

/// What [`Report::dropped_input`] counted, for the debug log: `dropped: tracestate (tracestate_key);
/// 2 tracestate members over the length limit; 1 baggage members (baggage_member)`.
fn dropped_detail(report: &Report) -> String {
    let mut parts = Vec::new();
    if let Some(e) = report.tracestate_error {
        parts.push(format!("tracestate ({})", e.code()));
    }
    if report.tracestate_dropped > 0 {
        parts.push(format!("{} tracestate members over the length limit", report.tracestate_dropped));
    }
    for f in Format::ALL {
        if let Some(e) = report.warning(f) {
            parts.push(format!("part of {} ({})", f.name(), e.code()));
        }
    }
    if report.baggage_dropped > 0 {
        let why = report.baggage_error.map_or("", |e| e.code());
        parts.push(format!("{} baggage members ({why})", report.baggage_dropped));
    }
    format!("dropped: {}", parts.join("; "))
}

/// The listener-wide counts and the caller's.
struct Counts<'a> {
    all: &'a mut Pending,
    caller: Option<&'a mut Pending>,
}

impl Counts<'_> {
    fn inc(&mut self, i: usize) {
        self.all.inc(i);
        if let (Some(c), true) = (self.caller.as_deref_mut(), stats::per_caller(i)) {
            c.inc(i);
        }
    }
}

/// The shadow header:
/// `source=b3-multi; inject=w3c; trace_id=…; root=no; conflicts=0; set=traceparent; remove=-`.
fn describe(plan: &Plan) -> String {
    let report = plan.report();
    let join = |names: &mut dyn Iterator<Item = &str>| {
        let v: Vec<&str> = names.collect();
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(",")
        }
    };
    let source = report.source.map_or("-", Format::name);
    let inject = join(&mut Format::ALL.iter().filter(|&&f| report.injected(f)).map(|f| f.name()));
    let trace_id = report.trace_id.map(|id: TraceId| id.to_hex());
    let set = join(&mut plan.writes().map(|(name, _)| name));
    let remove = join(&mut plan.removals());
    format!(
        "source={source}; inject={inject}; trace_id={}; root={}; conflicts={}; set={set}; remove={remove}",
        trace_id.as_ref().map_or("-", |h| hex_str(h)),
        if report.root_generated() { "yes" } else { "no" },
        report.conflicts(),
    )
}

/// 24 random bytes for a new root (16 trace id + 8 span id) from WASI `random_get`.
fn random_ids() -> [u8; 24] {
    let mut bytes = [0u8; 24];
    if let Err(e) = getrandom::fill(&mut bytes) {
        // Never seen with Envoy's runtimes; ids must still differ per request, so fall back to a
        // clock-seeded SplitMix64 stream rather than fail the request.
        static SEQ: VmLocal<u64> = VmLocal::new();
        log(LogLevel::Error, &format!("random_get failed ({e}); using a clock-seeded generator"));
        let mut x = SEQ.with_borrow_mut(|c| {
            *c = c.wrapping_add(0x9e37_79b9_7f4a_7c15);
            *c
        }) ^ abi::now_ns();
        for chunk in bytes.chunks_mut(8) {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            for (b, v) in chunk.iter_mut().zip(z.to_le_bytes()) {
                *b = v;
            }
        }
    }
    bytes
}
