//! The npm package `tracebridge`: core's [`Translator`] compiled to WebAssembly for Node.js.
//!
//! The door stays thin. The JS wrapper (`node-binding/index.js`) turns any header object (a plain
//! object such as Node's `IncomingHttpHeaders`, a fetch `Headers`, a `Map`) into one flat string
//! `name\0value\0name\0value…` holding only the headers some format reads (see
//! [`WasmTranslator::fields`]), calls **one** export, and applies what comes back. Every answer crosses
//! the boundary once, as one string: JSON for results, `name\0value…` for header writes. So a
//! whole translation is a single JS→wasm call (see `benches/node/README.md` for why that matters).
//!
//! Errors cross once too, through [`BindingError`] → a JS `Error`/`TypeError` with `err.code`:
//! core's [`Error::code`](tracebridge::Error::code) for a header value, `config_invalid` for a
//! configuration, `argument_invalid` for a bad argument.
//!
//! The pure functions ([`translator`], [`extract_json`], [`inspect_json`], [`translate_json`],
//! [`inject_flat`]) are plain Rust so they are tested natively; the `#[wasm_bindgen]` exports only
//! wrap them.

use std::fmt::Write as _;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use tracebridge::translate::{Config, Outcome, RootReason, Status};
use tracebridge::{Extractor, Format, IdWidth, Sampling, SpanId, TraceContext, TraceId, TraceState, Translator};
use wasm_bindgen::prelude::*;

/// Headers as the JS wrapper passes them: `name\0value\0name\0value…` (names in any case; a name
/// may repeat, one entry per header line). The wrapper maps NUL inside a value to DEL, which core
/// rejects the same way ([`Error::NotAscii`](tracebridge::Error::NotAscii)), so a value cannot
/// forge an entry.
///
/// The entries are split once, up front: each format then looks its headers up in a short table
/// instead of rescanning the string (in wasm, that rescan was most of an `extract`).
#[derive(Debug, Clone, Copy)]
pub struct Flat<'a> {
    entries: [(&'a str, &'a str); FLAT_ENTRIES],
    len: usize,
    /// Entries past the table, scanned only when there are that many (never in real traffic).
    rest: &'a str,
}

/// Entries split up front; the wrapper passes only trace headers, so a request has a handful.
const FLAT_ENTRIES: usize = 16;

#[allow(non_snake_case)]
/// Split `name\0value\0…` once.
pub fn Flat(s: &str) -> Flat<'_> {
    let mut flat = Flat { entries: [("", ""); FLAT_ENTRIES], len: 0, rest: "" };
    let mut rest = s;
    while flat.len < FLAT_ENTRIES {
        // A name without a value (a dangling entry) is no entry.
        let Some((n, after)) = rest.split_once('\0') else { return flat };
        let (v, next) = after.split_once('\0').unwrap_or((after, ""));
        if let Some(slot) = flat.entries.get_mut(flat.len) {
            *slot = (n, v);
        }
        flat.len += 1;
        if next.is_empty() && !after.contains('\0') {
            return flat;
        }
        rest = next;
    }
    flat.rest = rest;
    flat
}

impl Extractor for Flat<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> core::ops::ControlFlow<()>) {
        let table = self.entries.get(..self.len).unwrap_or_default().iter().copied();
        let mut parts = self.rest.split('\0');
        let rest = core::iter::from_fn(move || Some((parts.next()?, parts.next()?)));
        let values = table.chain(rest).filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes());
        tracebridge::carrier::visit_each(values, each);
    }
}

/// An error for JS: becomes `new TypeError(message)` (or `Error`) with `err.code = code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingError {
    /// `TypeError` (a bad argument or configuration) rather than `Error` (a bad header value).
    pub type_error: bool,
    /// Stable code: core's `Error::code()`, `config_invalid` or `argument_invalid`.
    pub code: &'static str,
    /// The message; names the key or field.
    pub message: String,
}

impl BindingError {
    fn config(message: String) -> Self {
        BindingError { type_error: true, code: "config_invalid", message }
    }
    fn argument(message: String) -> Self {
        BindingError { type_error: true, code: "argument_invalid", message }
    }
}

impl From<tracebridge::Error> for BindingError {
    fn from(e: tracebridge::Error) -> Self {
        BindingError { type_error: false, code: e.code(), message: e.as_str().into() }
    }
}

/// The one conversion of an error into JS.
impl From<BindingError> for JsValue {
    fn from(e: BindingError) -> JsValue {
        let err: js_sys::Error =
            if e.type_error { js_sys::TypeError::new(&e.message).into() } else { js_sys::Error::new(&e.message) };
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code));
        err.into()
    }
}

/// A translator from the configuration JSON shared with the Envoy filter and core
/// (`{"extract": [...], "inject": [...], ...}`); the message of an error names the key.
pub fn translator(config_json: &str) -> Result<Translator, BindingError> {
    let config: Config = tracebridge::json::from_str(config_json).map_err(|e| BindingError::config(e.to_string()))?;
    Translator::new(config).map_err(|e| BindingError::config(e.to_string()))
}

/// The JS `extract` result: the chosen context in camelCase, or `None` when no format carried one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedJson<'s> {
    trace_id: &'s str,
    span_id: &'s str,
    parent_span_id: Option<&'s str>,
    sampled: Option<bool>,
    debug: bool,
    trace_flags: u8,
    trace_state: Option<String>,
    source: Option<Format>,
}

fn hex(b: &[u8]) -> &str {
    // Lowercase hex digits are ASCII.
    std::str::from_utf8(b).unwrap_or_default()
}

/// `extract`: `{"traceId", "spanId", "parentSpanId", "sampled", "debug", "traceFlags", "traceState", "source"}`
/// for the chosen context, or `None` (a B3 decision without ids is not a context; see `inspect`).
pub fn extract_json(t: &Translator, headers: &str) -> Option<String> {
    let headers = Flat(headers);
    let ins = t.inspect(&headers);
    let ctx = ins.context?;
    let (trace, span) = (ctx.trace_id.to_hex(), ctx.span_id.to_hex());
    let parent = ctx.parent_span_id.map(|p| p.to_hex());
    let out = ExtractedJson {
        trace_id: hex(&trace),
        span_id: hex(&span),
        parent_span_id: parent.as_ref().map(|p| hex(p)),
        sampled: ctx.sampling.decision(),
        debug: ctx.sampling == Sampling::Debug,
        // W3C trace-flags with `sampled` in step with the decision; carries Level 2's `random` bit.
        trace_flags: ctx.trace_flags.with_sampled(ctx.sampling.is_sampled()).0,
        trace_state: (!ctx.tracestate.is_empty()).then(|| ctx.tracestate.to_string()),
        source: ins.source,
    };
    serde_json::to_string(&out).ok()
}

/// `inspect`: exactly the CLI's `tracebridge inspect --json` document (core's `Inspection` serde).
pub fn inspect_json(t: &Translator, headers: &str) -> String {
    let headers = Flat(headers);
    serde_json::to_string(&t.inspect(&headers)).unwrap_or_default()
}

struct Statuses<'s>(&'s [Status]);
impl Serialize for Statuses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (f, st) in Format::ALL.iter().zip(self.0) {
            m.serialize_entry(f.name(), st)?;
        }
        m.end()
    }
}

/// The JS `translate` report (camelCase).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportJson<'s> {
    outcome: &'static str,
    root_reason: Option<&'static str>,
    source: Option<Format>,
    trace_id: Option<String>,
    span_id: Option<String>,
    sampling: Option<Sampling>,
    formats: Statuses<'s>,
    injected: Vec<&'static str>,
    removed: Vec<&'static str>,
    tracestate_dropped: usize,
    member_fields_lost: usize,
    trace_id_truncated: bool,
    tracestate_error: Option<Status>,
}

#[derive(Serialize)]
struct TranslateJson<'s> {
    report: ReportJson<'s>,
    remove: Vec<&'static str>,
    set: Vec<(&'static str, &'s str)>,
}

/// `translate`: `{"report": {...}, "remove": [name], "set": [[name, value]]}`; the wrapper removes,
/// then sets, on the caller's header object. `random` is called only for a new root.
pub fn translate_json(t: &Translator, headers: &str, random: impl FnOnce() -> [u8; 24]) -> String {
    let plan = t.plan(&Flat(headers), random);
    let r = plan.report();
    let (outcome, reason) = match r.outcome {
        Outcome::Continued => ("continued", None),
        Outcome::NewRoot(why) => (
            "new-root",
            Some(match why {
                RootReason::Missing => "missing",
                RootReason::Conflict => "conflict",
                RootReason::Untrusted => "untrusted",
            }),
        ),
        Outcome::SamplingOnly => ("sampling-only", None),
        Outcome::Ignored => ("ignored", None),
        Outcome::PassThrough => ("pass-through", None),
        // `Outcome` may grow; a new variant reads as a pass-through until the binding names it.
        #[allow(unreachable_patterns)]
        _ => ("pass-through", None),
    };
    let names =
        |flags: &[bool; 6]| Format::ALL.iter().zip(flags).filter(|(_, on)| **on).map(|(f, _)| f.name()).collect();
    let report = ReportJson {
        outcome,
        root_reason: reason,
        source: r.source,
        trace_id: r.trace_id.map(|id| id.to_string()),
        span_id: r.span_id.map(|id| id.to_string()),
        sampling: r.sampling,
        formats: Statuses(&r.status),
        injected: names(&r.injected),
        removed: names(&r.removed),
        tracestate_dropped: r.tracestate_dropped,
        member_fields_lost: r.member_fields_lost,
        trace_id_truncated: r.trace_id_truncated,
        tracestate_error: r.tracestate_error.map(Status::Invalid),
    };
    let out = TranslateJson { report, remove: plan.removals().collect(), set: plan.writes().collect() };
    serde_json::to_string(&out).unwrap_or_default()
}

/// A context given by the caller of `inject`, as the JS object's fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextArgs<'a> {
    /// 32 (or 16, a 64-bit id) lowercase hex digits.
    pub trace_id: Option<&'a str>,
    /// 16 lowercase hex digits.
    pub span_id: Option<&'a str>,
    /// 16 lowercase hex digits, or absent.
    pub parent_span_id: Option<&'a str>,
    /// `true`, `false`, or absent for *defer*.
    pub sampled: Option<bool>,
    /// Forced sampling (B3 `d`, Jaeger `0x02`).
    pub debug: bool,
    /// W3C trace-flags (the `sampled` bit is taken from `sampled`/`debug`), e.g. Level 2's `random`.
    pub trace_flags: u8,
    /// A W3C tracestate, written beside `traceparent`.
    pub trace_state: Option<&'a str>,
}

/// `inject`: the headers of `formats` (comma-separated names) for `args`, as `name\0value\0…`.
pub fn inject_flat(formats: &str, args: &ContextArgs<'_>) -> Result<String, BindingError> {
    let trace_hex = args.trace_id.unwrap_or_default().as_bytes();
    let (trace_id, id_width) = match trace_hex.len() {
        16 => (TraceId::from_hex_padded(trace_hex).ok(), IdWidth::Bits64),
        _ => (TraceId::from_hex(trace_hex).ok(), IdWidth::Bits128),
    };
    let trace_id = trace_id.ok_or_else(|| {
        BindingError::argument("traceId: must be 32 (or 16) lowercase hex digits, not all zero".into())
    })?;
    let span_id = SpanId::from_hex(args.span_id.unwrap_or_default().as_bytes())
        .map_err(|_| BindingError::argument("spanId: must be 16 lowercase hex digits, not all zero".into()))?;
    let parent = match args.parent_span_id {
        None => None,
        Some(p) => Some(SpanId::from_hex(p.as_bytes()).map_err(|_| {
            BindingError::argument("parentSpanId: must be 16 lowercase hex digits, not all zero".into())
        })?),
    };
    let sampling = match (args.debug, args.sampled) {
        (true, _) => Sampling::Debug,
        (false, Some(true)) => Sampling::Accept,
        (false, Some(false)) => Sampling::Deny,
        (false, None) => Sampling::Defer,
    };
    let tracestate = match args.trace_state {
        Some(ts) => TraceState::parse(ts)?,
        None => TraceState::EMPTY,
    };
    let mut ctx = TraceContext::new(trace_id, span_id);
    ctx.trace_flags = tracebridge::TraceFlags(args.trace_flags);
    let mut ctx = ctx.with_sampling(sampling);
    ctx.parent_span_id = parent;
    ctx.id_width = id_width;
    ctx.tracestate = tracestate;

    let mut written: Vec<(String, String)> = Vec::new();
    for name in formats.split(',').filter(|n| !n.is_empty()) {
        let f = Format::from_name(name).ok_or_else(|| {
            BindingError::argument(format!(
                "formats: unknown format `{name}`, expected w3c, b3-single, b3-multi, jaeger, xray or grpc-trace-bin"
            ))
        })?;
        f.inject(&ctx, &mut written);
    }
    let mut out = String::new();
    for (i, (n, v)) in written.iter().enumerate() {
        let sep = if i == 0 { "" } else { "\0" };
        let _ = write!(out, "{sep}{n}\0{v}");
    }
    Ok(out)
}

#[wasm_bindgen(module = "node:crypto")]
extern "C" {
    /// WebCrypto `getRandomValues` (Node ≥ 17.4 exports it from `node:crypto`; `globalThis.crypto`
    /// needs Node 19).
    #[wasm_bindgen(js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

fn random() -> [u8; 24] {
    let mut b = [0u8; 24];
    get_random_values(&mut b);
    b
}

/// The wasm side of the JS `Translator`; the wrapper in `index.js` is what users see.
#[wasm_bindgen(js_name = WasmTranslator)]
pub struct WasmTranslator {
    inner: Translator,
}

#[wasm_bindgen(js_class = WasmTranslator)]
impl WasmTranslator {
    /// Parse and check the configuration JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<WasmTranslator, BindingError> {
        translator(config_json).map(|inner| WasmTranslator { inner })
    }

    /// Every header name the translator may read or write, lowercase, comma-separated.
    pub fn fields(&self) -> String {
        self.inner.fields().collect::<Vec<_>>().join(",")
    }

    /// See [`extract_json`].
    pub fn extract(&self, headers: &str) -> Option<String> {
        extract_json(&self.inner, headers)
    }

    /// See [`inspect_json`].
    pub fn inspect(&self, headers: &str) -> String {
        inspect_json(&self.inner, headers)
    }

    /// See [`translate_json`].
    pub fn translate(&self, headers: &str) -> String {
        translate_json(&self.inner, headers, random)
    }
}

/// See [`inject_flat`].
#[wasm_bindgen(js_name = injectContext)]
#[allow(clippy::too_many_arguments)]
pub fn inject_context(
    formats: &str,
    trace_id: Option<String>,
    span_id: Option<String>,
    parent_span_id: Option<String>,
    sampled: Option<bool>,
    debug: bool,
    trace_flags: u8,
    trace_state: Option<String>,
) -> Result<String, BindingError> {
    inject_flat(
        formats,
        &ContextArgs {
            trace_id: trace_id.as_deref(),
            span_id: span_id.as_deref(),
            parent_span_id: parent_span_id.as_deref(),
            sampled,
            debug,
            trace_flags,
            trace_state: trace_state.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn values<'s>(h: &'s Flat<'_>, name: &str) -> Vec<&'s [u8]> {
        let mut out = Vec::new();
        h.visit_values(name, &mut |v| {
            out.push(v);
            core::ops::ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn flat_headers_match_any_case_and_repeat() {
        let h = Flat("TraceState\0a=1\0x\0y\0tracestate\0b=2");
        assert_eq!(values(&h, "tracestate"), [&b"a=1"[..], b"b=2"]);
        assert_eq!(values(&Flat(""), "x").len(), 0);
        assert_eq!(values(&Flat("dangling"), "dangling").len(), 0);
        // Past the up-front table, entries are still found, in order.
        let many: Vec<String> = (0..20).map(|i| format!("x\0{i}")).collect();
        let many = many.join("\0");
        let flat = Flat(&many);
        let got = values(&flat, "X");
        assert_eq!(got.len(), 20);
        assert_eq!((got.first().copied(), got.last().copied()), (Some(&b"0"[..]), Some(&b"19"[..])));
        assert_eq!(values(&Flat("a\0"), "a"), [&b""[..]]);
    }

    #[test]
    fn extract_gives_camel_case_context() {
        let t = translator("{}");
        assert!(t.is_ok());
        let Ok(t) = t else { return };
        let got = extract_json(&t, &format!("traceparent\0{TP}\0tracestate\0a=1"));
        assert_eq!(
            got.as_deref(),
            Some(
                r#"{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":null,"sampled":true,"debug":false,"traceFlags":1,"traceState":"a=1","source":"w3c"}"#
            )
        );
        assert_eq!(extract_json(&t, "b3\x000"), None);
    }

    #[test]
    fn config_errors_name_the_key() {
        let msg = |j: &str| translator(j).err().map(|e| (e.code, e.message));
        let m = msg(r#"{"tracestate": {"max_len": "x"}}"#);
        assert!(
            m.as_ref().is_some_and(|(c, m)| *c == "config_invalid" && m.starts_with("tracestate.max_len: ")),
            "{m:?}"
        );
        let m = msg(r#"{"on_missing": "explode"}"#);
        assert!(m.as_ref().is_some_and(|(_, m)| m.starts_with("on_missing: ")), "{m:?}");
        let m = msg(r#"{"bogus": 1}"#);
        assert!(m.as_ref().is_some_and(|(_, m)| m.contains("bogus")), "{m:?}");
        let m = msg(r#"{"extract": []}"#);
        assert!(m.as_ref().is_some_and(|(_, m)| m.starts_with("extract: ")), "{m:?}");
        assert!(msg("{} x").is_some());
    }

    #[test]
    fn translate_is_one_document() {
        let Ok(t) = translator(r#"{"inject": ["w3c", "b3-single"]}"#) else { return };
        let out = translate_json(
            &t,
            "X-B3-TraceId\x0080f198ee56343ba864fe8b2a57d3eff7\0x-b3-spanid\0e457b5a2e4d86bd1\0x-b3-sampled\x001",
            || [1; 24],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(v["report"]["outcome"], "continued");
        assert_eq!(v["report"]["source"], "b3-multi");
        assert_eq!(v["report"]["injected"], serde_json::json!(["w3c", "b3-single"]));
        assert_eq!(
            v["set"][0],
            serde_json::json!(["traceparent", "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"])
        );
    }

    #[test]
    fn inject_writes_each_format() {
        let args = ContextArgs {
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            span_id: Some("00f067aa0ba902b7"),
            sampled: Some(true),
            trace_state: Some("a=1"),
            ..ContextArgs::default()
        };
        assert_eq!(
            inject_flat("w3c,b3-single", &args).as_deref(),
            Ok("traceparent\x0000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\0tracestate\0a=1\0b3\x004bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")
        );
        let bad = ContextArgs { trace_id: Some("xyz"), ..args };
        assert_eq!(inject_flat("w3c", &bad).map_err(|e| e.code), Err("argument_invalid"));
        let bad = ContextArgs { trace_state: Some("A=1"), ..args };
        assert_eq!(inject_flat("w3c", &bad).map_err(|e| e.code), Err("tracestate_key"));
        assert_eq!(inject_flat("w4c", &args).map_err(|e| e.code), Err("argument_invalid"));
    }
}
