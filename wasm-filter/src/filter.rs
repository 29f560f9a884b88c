//! The proxy-wasm contexts: one root context per plugin (configuration, counters), one HTTP context
//! per stream (plan, apply, count). All format logic is core's.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};
use tracebridge::translate::{Plan, Status};
use tracebridge::{Format, Injector, TraceId};

use crate::config::{self, FilterConfig};
use crate::stats::{self, PerFormat};

proxy_wasm::main! {{
    // Envoy's own `wasm` log level decides what is shown.
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// A defined counter (`None` when the host refused to define it: then it is simply not counted).
#[derive(Clone, Copy, Default)]
struct Counter(Option<u32>);

impl Counter {
    fn define(name: &str) -> Self {
        match hostcalls::define_metric(MetricType::Counter, name) {
            Ok(id) => Counter(Some(id)),
            Err(status) => {
                warn!("cannot define counter {name}: {status:?}");
                Counter(None)
            }
        }
    }

    fn inc(self) {
        if let Some(id) = self.0 {
            let _ = hostcalls::increment_metric(id, 1);
        }
    }
}

#[derive(Default)]
struct Counters {
    requests: Counter,
    missing: Counter,
    conflicts: Counter,
    roots: Counter,
    shadow: Counter,
    extracted: [Counter; 6],
    invalid: [Counter; 6],
    injected: [Counter; 6],
}

impl Counters {
    fn define() -> Self {
        let per_format = |kind: PerFormat| Format::ALL.map(|f| Counter::define(&kind.name(f)));
        Counters {
            requests: Counter::define(stats::REQUESTS),
            missing: Counter::define(stats::MISSING),
            conflicts: Counter::define(stats::CONFLICTS),
            roots: Counter::define(stats::ROOTS),
            shadow: Counter::define(stats::SHADOW),
            extracted: per_format(PerFormat::Extracted),
            invalid: per_format(PerFormat::Invalid),
            injected: per_format(PerFormat::Injected),
        }
    }
}

/// What every stream of one plugin shares.
struct Shared {
    config: FilterConfig,
    counters: Rc<Counters>,
}

#[derive(Default)]
struct Root {
    counters: Option<Rc<Counters>>,
    shared: Option<Rc<Shared>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let config = match config::parse(&bytes) {
            Ok(c) => c,
            Err(reason) => {
                error!("configuration refused: {reason}");
                return false;
            }
        };
        let counters = self.counters.get_or_insert_with(|| Rc::new(Counters::define())).clone();
        info!("configured{}", if config.shadow { " (shadow mode)" } else { "" });
        self.shared = Some(Rc::new(Shared { config, counters }));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let shared = self.shared.clone()?;
        Some(Box::new(Stream { shared, trace_id: None }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream {
    shared: Rc<Shared>,
    /// The trace id written to the request, for `response_trace_id_header`.
    trace_id: Option<TraceId>,
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let shared = Rc::clone(&self.shared);
        let headers = self.get_http_request_headers_bytes();
        let plan = shared.config.translator.plan(&headers, random_ids);
        count(&shared, &plan);

        if shared.config.shadow {
            if let Some(name) = &shared.config.shadow_header {
                self.set_http_request_header(name, Some(&describe(&plan)));
            }
        } else {
            plan.apply(&mut RequestHeaders(self));
            self.trace_id = plan.report().trace_id;
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if let (Some(name), Some(id)) = (&self.shared.config.response_trace_id_header, self.trace_id) {
            let hex = id.to_hex();
            if let Ok(value) = core::str::from_utf8(&hex) {
                self.set_http_response_header(name, Some(value));
            }
        }
        Action::Continue
    }
}

/// Core's [`Injector`] over the host's request header map.
struct RequestHeaders<'c, C: HttpContext + ?Sized>(&'c C);

impl<C: HttpContext + ?Sized> Injector for RequestHeaders<'_, C> {
    fn set(&mut self, name: &str, value: &str) {
        self.0.set_http_request_header(name, Some(value));
    }

    fn remove(&mut self, name: &str) {
        self.0.remove_http_request_header(name);
    }
}

fn count(shared: &Shared, plan: &Plan) {
    let c = &shared.counters;
    let report = plan.report();
    c.requests.inc();
    for f in Format::ALL {
        let i = f.index();
        match report.status(f) {
            Status::Valid | Status::Conflict => c.extracted.get(i).copied().unwrap_or_default().inc(),
            Status::Invalid(e) => {
                // Malformed trace headers never fail a request: count, and tell at debug level.
                debug!("ignoring malformed {} headers: {e}", f.name());
                c.invalid.get(i).copied().unwrap_or_default().inc();
            }
            _ => {}
        }
        if report.injected(f) && !shared.config.shadow {
            c.injected.get(i).copied().unwrap_or_default().inc();
        }
    }
    if report.missing() {
        c.missing.inc();
    }
    if report.conflicts() > 0 {
        c.conflicts.inc();
    }
    if report.root_generated() {
        c.roots.inc();
    }
    if shared.config.shadow && !plan.is_noop() {
        c.shadow.inc();
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
    let trace_id = report.trace_id.map(|id| id.to_hex()).and_then(|h| String::from_utf8(h.to_vec()).ok());
    let set = join(&mut plan.writes().map(|(name, _)| name));
    let remove = join(&mut plan.removals());
    format!(
        "source={source}; inject={inject}; trace_id={}; root={}; conflicts={}; set={set}; remove={remove}",
        trace_id.as_deref().unwrap_or("-"),
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
        static STATE: AtomicU64 = AtomicU64::new(0);
        error!("random_get failed ({e}); using a clock-seeded generator");
        let nanos = hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let mut x = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ nanos;
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
