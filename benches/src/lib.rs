//! Shared fixtures for the criterion benches (`benches/propagation.rs`) and the allocation table
//! (`tests/allocations.rs`): the same header sets, carriers and operations for tracebridge and for the
//! OpenTelemetry Rust propagators, so both measure exactly the same thing.
//!
//! Fairness rules (see `BENCHMARKS.md`):
//! - Both read from the same header slice through one adapter ([`Req`]) that matches names the same
//!   way for both (lengths, exact bytes, then ASCII case-insensitively: core's slice carrier);
//!   neither pays for lowercasing keys.
//! - Both write into the same [`Sink`], which reuses its slots: tracebridge's `set(&str, &str)` copies
//!   into an existing `String`'s capacity, OpenTelemetry's `set(&str, String)` moves its own `String`
//!   in. Each trait's cheapest honest implementation.
//! - Inject starts from a context extracted once from the same headers by each implementation.

use opentelemetry::propagation::{
    Extractor as OtelExtractor, Injector as OtelInjector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracebridge::format::Extracted;
use tracebridge::tracestate::TraceStateBuf;
use tracebridge::translate::{Config, FormatList};
use tracebridge::{w3c, Error, Extractor, Format, Injector, Plan, TraceContext, TraceState, Translator};

/// One header line: `(name, value)`.
pub type Header = (&'static str, &'static str);

/// The key tracebridge writes its own tracestate member under.
pub const MEMBER_KEY: &str = "tracebridge";
/// A typical value of that member.
pub const MEMBER_VALUE: &str = "s:00f067aa0ba902b7";

/// Header sets per format: one valid, sampled context each (full-width ids, so neither implementation
/// takes a padding path).
pub mod inputs {
    use super::Header;

    /// W3C, with a two-member tracestate as real traffic usually carries.
    pub const W3C: &[Header] = &[
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ];
    /// B3 single header with a parent span id.
    pub const B3_SINGLE: &[Header] = &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90")];
    /// B3 multi header.
    pub const B3_MULTI: &[Header] = &[
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
        ("x-b3-sampled", "1"),
    ];
    /// Jaeger.
    pub const JAEGER: &[Header] = &[("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1")];
    /// AWS X-Ray.
    pub const XRAY: &[Header] =
        &[("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")];
    /// gRPC binary (no OpenTelemetry Rust propagator exists for it).
    pub const GRPC: &[Header] = &[("grpc-trace-bin", "AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE")];
    /// Datadog, 128-bit, with a sampling priority and tags as dd-trace writes them.
    pub const DATADOG: &[Header] = &[
        ("x-datadog-trace-id", "11803532876627986230"),
        ("x-datadog-parent-id", "67667974448284343"),
        ("x-datadog-sampling-priority", "1"),
        ("x-datadog-tags", "_dd.p.dm=-1,_dd.p.tid=4bf92f3577b34da6"),
    ];
    /// OpenTracing basic tracer.
    pub const OT: &[Header] = &[
        ("ot-tracer-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("ot-tracer-spanid", "00f067aa0ba902b7"),
        ("ot-tracer-sampled", "true"),
    ];
    /// Instana.
    pub const INSTANA: &[Header] = &[
        ("x-instana-t", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("x-instana-s", "00f067aa0ba902b7"),
        ("x-instana-l", "1"),
    ];
    /// Google Cloud.
    pub const GCP: &[Header] = &[("x-cloud-trace-context", "4bf92f3577b34da6a3ce929d0e0e4736/67667974448284343;o=1")];

    /// A whole request as a gateway sees it: a legacy B3 client's trace headers among ordinary ones.
    pub const REQUEST: &[Header] = &[
        (":authority", "api.example.com"),
        (":method", "GET"),
        (":path", "/v1/orders/12345?expand=items"),
        (":scheme", "https"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"),
        ("accept", "application/json"),
        ("accept-encoding", "gzip, deflate, br"),
        ("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
        ("x-request-id", "2f1c3c1e-7d0b-4f55-9a52-6f2b1f0e8d3a"),
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
        ("x-b3-sampled", "1"),
        ("content-length", "0"),
    ];
}

/// A tracestate of `n` members (`vendor0=00f067aa0ba902b7,...`), for `n` in 1..=32.
pub fn tracestate_of(n: usize) -> String {
    (0..n).map(|i| format!("vendor{i}=00f067aa0ba902b7")).collect::<Vec<_>>().join(",")
}

/// Request headers as both implementations read them.
#[derive(Debug, Clone, Copy)]
pub struct Req<'a>(pub &'a [(&'a str, &'a str)]);

impl OtelExtractor for Req<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        // The matcher core's slice carrier uses (`carrier::name_eq`): lengths, then exact bytes, then
        // ASCII case-insensitively, so neither side has a faster lookup than the other.
        self.0.iter().find(|(n, _)| n.len() == key.len() && (*n == key || n.eq_ignore_ascii_case(key))).map(|(_, v)| *v)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| *n).collect()
    }
}

/// Core's slice carrier, as a user's slice of pairs is read (names listed: `Extractor::visit_names`).
impl Extractor for Req<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> std::ops::ControlFlow<()>) {
        self.0.visit_values(name, each);
    }

    fn visit_prefixed<'s>(
        &'s self,
        prefix: &str,
        each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> std::ops::ControlFlow<()>,
    ) {
        self.0.visit_prefixed(prefix, each);
    }

    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        self.0.visit_names(each)
    }

    // Forwarded as the others: without it the trait's default built the filter through
    // `visit_names`, a dynamic call per header that a user's slice does not pay.
    fn name_filter(&self) -> Option<tracebridge::carrier::NameFilter> {
        self.0.name_filter()
    }

    fn gather<'s>(
        &'s self,
        wanted: &tracebridge::carrier::NameFilter,
        out: &mut tracebridge::carrier::Gathered<'s>,
    ) -> bool {
        self.0.gather(wanted, out)
    }

    fn lines_of<'s>(&'s self, names: &[&str], out: &mut [tracebridge::carrier::Lines<'s>]) {
        self.0.lines_of(names, out);
    }
}

#[derive(Debug, Clone, Default)]
struct Slot {
    name: String,
    value: String,
    present: bool,
}

/// A header sink that reuses its slots, so steady-state writes cost only what the writer does.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    slots: Vec<Slot>,
}

impl Sink {
    fn slot(&mut self, name: &str) -> &mut Slot {
        let i = match self.slots.iter().position(|s| s.name.eq_ignore_ascii_case(name)) {
            Some(i) => i,
            None => {
                self.slots.push(Slot { name: name.to_owned(), ..Slot::default() });
                self.slots.len() - 1
            }
        };
        // `i` is in range: found above or just pushed.
        #[allow(clippy::indexing_slicing)]
        &mut self.slots[i]
    }

    /// The value of header `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.slots.iter().find(|s| s.present && s.name.eq_ignore_ascii_case(name)).map(|s| s.value.as_str())
    }

    /// The headers set, in first-write order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots.iter().filter(|s| s.present).map(|s| (s.name.as_str(), s.value.as_str()))
    }

    /// Forget every value (keeping capacity).
    pub fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| s.present = false);
    }
}

impl Injector for Sink {
    fn set(&mut self, name: &str, value: &str) {
        let slot = self.slot(name);
        slot.value.clear();
        slot.value.push_str(value);
        slot.present = true;
    }
    fn remove(&mut self, name: &str) {
        self.slots.iter_mut().filter(|s| s.name.eq_ignore_ascii_case(name)).for_each(|s| s.present = false);
    }
}

impl OtelInjector for Sink {
    fn set(&mut self, key: &str, value: String) {
        let slot = self.slot(key);
        slot.value = value;
        slot.present = true;
    }
}

/// An OpenTelemetry propagator, boxed as OpenTelemetry uses them (`global::set_text_map_propagator`).
pub type OtelPropagator = Box<dyn TextMapPropagator + Send + Sync>;

/// The OpenTelemetry propagator for a format, if OpenTelemetry Rust has one.
// OpenTelemetry deprecated its B3 (zipkin crate) and Jaeger propagators; they are still what its users
// run, and the newest releases, so they are what we measure.
#[allow(deprecated)]
pub fn otel_propagator(format: Format) -> Option<OtelPropagator> {
    use opentelemetry_zipkin::{B3Encoding, Propagator as B3};
    Some(match format {
        Format::W3c => Box::new(TraceContextPropagator::new()),
        Format::B3Single => Box::new(B3::with_encoding(B3Encoding::SingleHeader)),
        Format::B3Multi => Box::new(B3::with_encoding(B3Encoding::MultipleHeader)),
        Format::Jaeger => Box::new(opentelemetry_jaeger_propagator::Propagator::new()),
        Format::XRay => Box::new(opentelemetry_aws::trace::XrayPropagator::new()),
        _ => return None,
    })
}

/// Write `ctx` as W3C headers: `traceparent`, and `tracestate` when it has members (as
/// OpenTelemetry's `TraceContextPropagator` does).
pub fn tb_inject_w3c(ctx: &TraceContext<'_>, sink: &mut Sink) {
    w3c::inject(ctx, sink);
}

/// One format's inputs and prepared contexts for both implementations.
pub struct Fixture {
    /// The format.
    pub format: Format,
    /// Its headers.
    pub headers: &'static [Header],
    /// The context tracebridge extracted from them (the input of inject).
    pub tb_ctx: TraceContext<'static>,
    /// OpenTelemetry's propagator and extracted context, when it has the format.
    pub otel: Option<(OtelPropagator, Context)>,
    /// A translator reading and writing this format only (the OpenTelemetry adapters' `remote`).
    pub translator: Translator,
}

impl Fixture {
    /// The fixture for `format` with its header set from [`inputs`].
    pub fn new(format: Format) -> Self {
        let headers = match format {
            Format::W3c => inputs::W3C,
            Format::B3Single => inputs::B3_SINGLE,
            Format::B3Multi => inputs::B3_MULTI,
            Format::Jaeger => inputs::JAEGER,
            Format::XRay => inputs::XRAY,
            Format::Datadog => inputs::DATADOG,
            Format::Ot => inputs::OT,
            Format::Instana => inputs::INSTANA,
            Format::Gcp => inputs::GCP,
            _ => inputs::GRPC,
        };
        let tb_ctx = match format.extract(headers) {
            Ok(Some(x)) => x.propagation.context().copied(),
            _ => None,
        };
        let Some(tb_ctx) = tb_ctx else { panic!("tracebridge rejects the {format} fixture") };
        let otel = otel_propagator(format).map(|p| {
            let cx = p.extract(&Req(headers));
            assert!(
                opentelemetry::trace::TraceContextExt::span(&cx).span_context().is_valid(),
                "OpenTelemetry rejects the {format} fixture"
            );
            (p, cx)
        });
        let one = FormatList::new(&[format]).unwrap_or(FormatList::ALL);
        let translator = match Translator::new(Config { extract: one, inject: one, ..Config::default() }) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        Fixture { format, headers, tb_ctx, otel, translator }
    }

    /// Every format.
    pub fn all() -> Vec<Self> {
        Format::ALL.into_iter().map(Self::new).collect()
    }

    /// tracebridge: read this format.
    #[inline]
    pub fn tb_extract<'a>(&self, headers: Req<'a>) -> Result<Option<Extracted<'a>>, Error> {
        self.format.extract(headers.0)
    }

    /// tracebridge: the remote parent an OpenTelemetry SDK continues, as the adapters extract it
    /// (`Translator::remote_into`: the translator's policy, what W3C cannot say kept in our
    /// tracestate member, the tracestate written into `tracestate`). OpenTelemetry's counterpart is
    /// its propagator's `extract`.
    #[inline]
    pub fn tb_remote<'a>(&self, headers: Req<'a>, tracestate: &mut TraceStateBuf) -> Option<TraceContext<'a>> {
        self.translator.remote_into(headers.0, tracestate)
    }

    /// tracebridge: write this format (W3C: with tracestate, as OpenTelemetry does).
    #[inline]
    pub fn tb_inject(&self, ctx: &TraceContext<'_>, sink: &mut Sink) {
        match self.format {
            Format::W3c => tb_inject_w3c(ctx, sink),
            f => f.inject(ctx, sink),
        }
    }

    /// tracebridge: read this format and write W3C (the gateway hot path).
    #[inline]
    pub fn tb_translate(&self, headers: Req<'_>, sink: &mut Sink) {
        // The result matched by reference: bound by value, the context (352 bytes) was moved out
        // of it, a copy that waited for the reader's stores (`perf`: 13% of the op).
        if let Ok(Some(x)) = &self.format.extract(headers.0) {
            if let Some(ctx) = x.propagation.context() {
                tb_inject_w3c(ctx, sink);
            }
        }
    }
}

/// OpenTelemetry: read with `p`.
#[inline]
pub fn otel_extract(p: &OtelPropagator, headers: Req<'_>) -> Context {
    p.extract(&headers)
}

/// OpenTelemetry: write `cx` with `p`.
#[inline]
pub fn otel_inject(p: &OtelPropagator, cx: &Context, sink: &mut Sink) {
    p.inject_context(cx, sink);
}

/// OpenTelemetry: read with `p`, write with `w3c`.
#[inline]
pub fn otel_translate(p: &OtelPropagator, w3c: &TraceContextPropagator, headers: Req<'_>, sink: &mut Sink) {
    let cx = p.extract(&headers);
    w3c.inject_context(&cx, sink);
}

/// The five formats both implementations have, in tracebridge's default precedence.
pub const FIVE: [Format; 5] = [Format::W3c, Format::B3Single, Format::B3Multi, Format::Jaeger, Format::XRay];

/// A translator reading and writing [`FIVE`] (other settings default).
pub fn translator_five() -> Translator {
    translator_five_with(Config::default())
}

/// [`translator_five`] with tracebridge's own tracestate member off (`tracestate.member: false`), to
/// tell what the member costs. By default the request also gets a `tracestate` whose member keeps
/// what W3C cannot carry (from the bench's B3 request: the parent span id), which OpenTelemetry
/// drops; without it the headers written are OpenTelemetry's but for the parent span id that `b3`
/// and `uber-trace-id` carry in their own fields (OpenTelemetry's span context has no parent: it
/// writes none) and the empty `tracestate` OpenTelemetry writes (tested below).
pub fn translator_five_no_member() -> Translator {
    let mut config = Config::default();
    config.tracestate.member = false;
    translator_five_with(config)
}

fn translator_five_with(config: Config) -> Translator {
    let five = FormatList::new(&FIVE).unwrap_or(FormatList::ALL);
    match Translator::new(Config { extract: five, inject: five, ..config }) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

/// OpenTelemetry's equivalent: a composite of the five propagators (extract: the last valid one wins;
/// inject: all five).
pub fn otel_composite_five() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(FIVE.into_iter().filter_map(otel_propagator).map(|p| p as _).collect())
}

/// tracebridge: a whole request through the translator, applied to `sink`. Planned into `plan`, kept
/// across requests as the filter and the npm package keep theirs (a plan is fixed buffers; building it
/// in place copies nothing).
#[inline]
pub fn tb_request<'p>(t: &Translator, headers: Req<'_>, plan: &'p mut Plan, sink: &mut Sink) -> &'p Plan {
    t.plan_into(&headers, || [7; 24], plan);
    plan.apply(sink);
    plan
}

/// OpenTelemetry: a whole request through the composite propagator.
#[inline]
pub fn otel_request(p: &TextMapCompositePropagator, headers: Req<'_>, sink: &mut Sink) {
    let cx = p.extract(&headers);
    p.inject_context(&cx, sink);
}

/// The floor of an op: what any implementation does through the same carriers, with no parsing or
/// formatting — every header name it reads looked up once in the request ([`Req`]), and the headers
/// it writes set into the [`Sink`] from values computed beforehand. What tracebridge spends above it
/// is its own work; OpenTelemetry's time over it is the best ratio any implementation could reach.
#[derive(Debug, Clone, Default)]
pub struct Floor {
    reads: Vec<&'static str>,
    writes: Vec<(String, String)>,
}

impl Floor {
    /// Reads the header names of `formats` (W3C: `traceparent` and `tracestate`), writes nothing.
    pub fn reading(formats: &[Format]) -> Self {
        Floor { reads: formats.iter().flat_map(|f| f.headers().iter().copied()).collect(), writes: Vec::new() }
    }

    /// And writes what `write` sets into an empty sink (run once, now).
    pub fn writing(mut self, write: impl FnOnce(&mut Sink)) -> Self {
        let mut sink = Sink::default();
        write(&mut sink);
        self.writes = sink.headers().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        self
    }

    /// Look up every name, set every header; returns the bytes read (so nothing is optimised away).
    #[inline]
    pub fn run(&self, headers: Req<'_>, sink: &mut Sink) -> usize {
        let mut read = 0;
        for name in &self.reads {
            headers.visit_values(name, &mut |v| {
                read += v.len();
                std::ops::ControlFlow::Continue(())
            });
        }
        for (n, v) in &self.writes {
            Injector::set(sink, n, v);
        }
        read
    }
}

/// tracebridge: parse a tracestate value, returning what [`TraceState::parse`] returns. (It was
/// converted with `.ok()` to match OpenTelemetry's side, whose error type is not public: a 150-byte
/// copy of the parsed state on our side only, a quarter of a one-member parse's time in `perf`.)
#[inline]
pub fn tb_tracestate_parse(value: &str) -> Result<TraceState<'_>, Error> {
    TraceState::parse(value)
}

/// OpenTelemetry: parse a tracestate value.
#[inline]
pub fn otel_tracestate_parse(value: &str) -> Option<opentelemetry::trace::TraceState> {
    // Its error type is not public.
    value.parse().ok()
}

/// tracebridge: put our member at the front and serialize into `out`, as the translator does per
/// request (into its plan's buffer, reused). Not [`TraceState::write`], which returns the 4 KiB
/// buffer by value: on this bench machine that move alone cost ~1.7 µs (glibc's `rep movsb` with
/// source and destination 4 KiB apart on the stack), 85% of the op in `perf`.
#[inline]
pub fn tb_tracestate_mutate<'o>(
    ts: &TraceState<'_>,
    out: &'o mut tracebridge::tracestate::TraceStateBuf,
) -> &'o tracebridge::tracestate::TraceStateBuf {
    ts.write_into(MEMBER_KEY, Some(MEMBER_VALUE), 1024, out);
    out
}

/// OpenTelemetry: the same with `insert` (puts the member at the front) and `header()`.
#[inline]
pub fn otel_tracestate_mutate(ts: &opentelemetry::trace::TraceState) -> String {
    ts.insert(MEMBER_KEY, MEMBER_VALUE).map(|t| t.header()).unwrap_or_default()
}

/// The traceparent value of the W3C fixture.
pub const TRACEPARENT: &[u8; 55] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Baseline: copy the 55 bytes.
#[inline]
pub fn memcpy_traceparent(src: &[u8; 55]) -> [u8; 55] {
    let mut out = [0u8; 55];
    out.copy_from_slice(src);
    out
}

/// tracebridge: parse a traceparent and format it again.
#[inline]
pub fn tb_traceparent_parse_format(src: &[u8; 55]) -> Option<[u8; 55]> {
    w3c::Traceparent::parse(src).ok().map(|t| t.encode())
}

/// Reference point only (not a tracebridge path): a strict version-00 traceparent parse+format with a
/// 256-entry hex table, the same checks (delimiters, lowercase hex, non-zero ids, version `ff`), to
/// show what the hex codec costs in [`tb_traceparent_parse_format`].
pub fn lut_traceparent_parse_format(src: &[u8; 55]) -> Option<[u8; 55]> {
    const INVALID: u8 = 0xff;
    const LUT: [u8; 256] = {
        let mut t = [INVALID; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    if src[2] != b'-' || src[35] != b'-' || src[52] != b'-' {
        return None;
    }
    let mut bytes = [0u8; 26]; // version, trace id, parent id, flags
    let mut bad = 0u8;
    for (k, out) in bytes.iter_mut().enumerate() {
        let i = match k {
            0 => 0,
            1..=16 => 3 + 2 * (k - 1),
            17..=24 => 36 + 2 * (k - 17),
            _ => 53,
        };
        let (hi, lo) = (LUT[usize::from(src[i])], LUT[usize::from(src[i + 1])]);
        bad |= hi | lo;
        *out = hi << 4 | lo;
    }
    if bad & 0xf0 != 0 || bytes[0] != 0 || bytes[1..17] == [0; 16] || bytes[17..25] == [0; 8] {
        return None;
    }
    let mut out = [b'-'; 55];
    for (k, b) in bytes.iter().enumerate() {
        let i = match k {
            0 => 0,
            1..=16 => 3 + 2 * (k - 1),
            17..=24 => 36 + 2 * (k - 17),
            _ => 53,
        };
        out[i] = DIGITS[usize::from(b >> 4)];
        out[i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    Some(out)
}

/// Reference point only (not a tracebridge path): the same strict parse+format with `const-hex`, a
/// well-kept hex crate that uses AVX2 where the CPU has it (detected at run time), and the checks
/// it does not make on top: W3C's `HEXDIGLC` is lowercase only (const-hex also takes uppercase),
/// the version is `00`, and neither id is all zeros.
pub fn const_hex_traceparent_parse_format(src: &[u8; 55]) -> Option<[u8; 55]> {
    if src[2] != b'-' || src[35] != b'-' || src[52] != b'-' || src.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    let version: [u8; 1] = const_hex::decode_to_array(&src[0..2]).ok()?;
    let trace_id: [u8; 16] = const_hex::decode_to_array(&src[3..35]).ok()?;
    let parent_id: [u8; 8] = const_hex::decode_to_array(&src[36..52]).ok()?;
    let flags: [u8; 1] = const_hex::decode_to_array(&src[53..55]).ok()?;
    if version != [0] || trace_id == [0; 16] || parent_id == [0; 8] {
        return None;
    }
    let mut out = [b'-'; 55];
    const_hex::encode_to_slice(version, &mut out[0..2]).ok()?;
    const_hex::encode_to_slice(trace_id, &mut out[3..35]).ok()?;
    const_hex::encode_to_slice(parent_id, &mut out[36..52]).ok()?;
    const_hex::encode_to_slice(flags, &mut out[53..55]).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor reads every header of its formats (all of their bytes) and writes what tracebridge
    /// writes, no more.
    #[test]
    fn floor_reads_and_writes_what_the_op_does() {
        let req = Req(inputs::B3_MULTI);
        let floor = Floor::reading(&[Format::B3Multi]);
        let mut sink = Sink::default();
        assert_eq!(floor.run(req, &mut sink), inputs::B3_MULTI.iter().map(|(_, v)| v.len()).sum::<usize>());
        assert_eq!(sink.headers().count(), 0);

        let fx = Fixture::new(Format::B3Multi);
        let floor = Floor::reading(&[Format::B3Multi]).writing(|s| fx.tb_translate(req, s));
        let (mut by_floor, mut by_tb) = (Sink::default(), Sink::default());
        floor.run(req, &mut by_floor);
        fx.tb_translate(req, &mut by_tb);
        assert!(by_tb.get("traceparent").is_some());
        assert_eq!(by_floor.headers().collect::<Vec<_>>(), by_tb.headers().collect::<Vec<_>>());
    }

    /// The request through each implementation, applied to the request's own headers, sorted.
    fn after(write: impl FnOnce(&mut Sink)) -> Vec<(String, String)> {
        let mut sink = Sink::default();
        write(&mut sink);
        let mut out: Vec<(String, String)> = inputs::REQUEST
            .iter()
            .filter(|(n, _)| sink.get(n).is_none())
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .chain(sink.headers().map(|(n, v)| (n.to_string(), v.to_string())))
            .collect();
        out.sort();
        out
    }

    /// How the request ends through each: tracebridge with its member off differs from
    /// OpenTelemetry's composite only in the parent span id that `b3` and `uber-trace-id` carry
    /// (OpenTelemetry writes none) and OpenTelemetry's empty `tracestate`; by default (the member
    /// on) tracebridge also writes the `tracestate` that keeps B3's parent span id for W3C.
    #[test]
    fn how_the_request_ends_against_opentelemetry() {
        let req = Req(inputs::REQUEST);
        let otel = after(|s| otel_request(&otel_composite_five(), req, s));
        let only = |a: &[(String, String)], b: &[(String, String)]| -> Vec<String> {
            a.iter().filter(|h| !b.contains(h)).map(|(n, v)| format!("{n}: {v}")).collect()
        };
        let no_member = after(|s| {
            tb_request(&translator_five_no_member(), req, &mut Plan::new(), s);
        });
        let (trace, span, parent) = ("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", "05e3ac9a4f6e3b90");
        assert_eq!(
            only(&no_member, &otel),
            [format!("b3: {trace}-{span}-1-{parent}"), format!("uber-trace-id: {trace}:{span}:{parent}:1")]
        );
        assert_eq!(
            only(&otel, &no_member),
            [format!("b3: {trace}-{span}-1"), "tracestate: ".to_string(), format!("uber-trace-id: {trace}:{span}:0:1")]
        );
        let default = after(|s| {
            tb_request(&translator_five(), req, &mut Plan::new(), s);
        });
        assert_eq!(only(&default, &no_member), [format!("tracestate: tracebridge=s:{span};p:{parent}")]);
    }
}
