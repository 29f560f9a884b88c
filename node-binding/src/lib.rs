//! The npm package `tracebridge`: core's [`Translator`] compiled to WebAssembly for Node.js.
//!
//! The door stays thin, and so does the boundary. A call passes no strings and returns none:
//!
//! - **In**: the JS writes the values of the trace headers present (only the headers core reads, found
//!   by name in core's registry) into a reused input area in wasm memory, and one entry per value
//!   into a reused table: `[header index, start, len, flags]` ([`io`]). Names of known headers never
//!   cross: an index does; only a baggage header whose name carries its key (`uberctx-{key}`) is
//!   passed with its name, when there is one. For `inject`, entries hold the context's ids and
//!   tracestate by role.
//! - **Call**: one export per operation, with integer arguments (the entry count, flags); it runs one
//!   core call ([`ops`]) and writes into a reused output area. Nothing is allocated per call: the
//!   translation plan is reused ([`Translator::plan_into`]), injected headers go to a reused buffer.
//! - **Out**: fixed `i32` slots read through one `Int32Array` (statuses, outcome, flags as numbers
//!   named by tables taken from core once, [`tables`]) and strings as `[kind, a, b]`: a substring of
//!   a value the JS passed, a literal it decoded once, or raw bytes, all of a call's raw bytes
//!   decoded at once ([`out`]). Headers to write or remove whose names are not known (baggage) come
//!   back as raw names and values.
//!
//! The configuration crosses once per translator, as JSON; `inspect` returns core's JSON document (the
//! CLI's `inspect --json`), which is not a hot path. Errors from the constructor cross through
//! [`BindingError`] → a JS `TypeError` with `err.code` (`config_invalid`); the JS wrapper names the
//! rest from the result codes.

use std::cell::RefCell;

use tracebridge::tracestate::TraceStateBuf;
use tracebridge::translate::{Config, Plan};
use tracebridge::Translator;
use wasm_bindgen::prelude::*;

pub mod io;
pub mod ops;
pub mod out;
pub mod tables;

use io::{header_index, Io};
use ops::Writes;
use out::Area;

/// A configuration error for JS: becomes `new TypeError(message)` with `err.code = code`. (Errors of
/// the calls are result codes the JS names from [`tables`].)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingError {
    /// Stable code: `config_invalid` (core's `ConfigError` has no code of its own yet).
    pub code: &'static str,
    /// The message; names the key.
    pub message: String,
}

impl BindingError {
    fn config(message: String) -> Self {
        BindingError { code: "config_invalid", message }
    }
}

/// The one conversion of an error into JS.
impl From<BindingError> for JsValue {
    fn from(e: BindingError) -> JsValue {
        let err: js_sys::Error = js_sys::TypeError::new(&e.message).into();
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code));
        err.into()
    }
}

/// A translator from the configuration JSON shared with the Envoy filter and core
/// (`{"extract": [...], "inject": [...], ...}`); the message of an error names the key.
pub fn translator(config_json: &str) -> Result<Translator, BindingError> {
    let config = Config::from_json(config_json).map_err(|e| BindingError::config(e.to_string()))?;
    Translator::new(config).map_err(|e| BindingError::config(e.to_string()))
}

/// The result of a call made while another runs (a JS callback re-entering): cannot happen today
/// (no export calls back into JS but `getRandomValues`); refused rather than risked.
pub const BUSY: i32 = -1001;

/// Everything reused across calls.
#[derive(Default)]
struct State {
    io: Io,
    area: Area,
    plan: Plan,
    writes: Writes,
    scratch: String,
    tracestate: TraceStateBuf,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with_state<R>(busy: R, f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => busy,
    })
}

fn addr<T>(p: *const T) -> u32 {
    p as usize as u32
}

/// Where the areas are: `[input, input bytes, entries, entry count, ints, bytes]` (byte addresses in
/// the wasm memory).
#[wasm_bindgen]
pub fn layout() -> Vec<u32> {
    with_state(Vec::new(), |s| {
        vec![
            addr(s.io.input.as_ptr()),
            s.io.input.len() as u32,
            addr(s.io.entries.as_ptr()),
            s.io.entries.len() as u32,
            addr(s.area.ints.as_ptr()),
            addr(s.area.bytes.as_ptr()),
        ]
    })
}

/// Room for `bytes` input bytes and `entries` entries; returns the new [`layout`].
#[wasm_bindgen]
pub fn reserve(bytes: u32, entries: u32) -> Vec<u32> {
    with_state((), |s| s.io.reserve(bytes as usize, entries as usize));
    layout()
}

/// The wasm memory, for the JS's typed arrays.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// A call that does nothing: `benches/node` measures the floor of a call with it.
#[wasm_bindgen]
pub fn noop(n: u32) -> u32 {
    n
}

/// See [`tables::json`].
#[wasm_bindgen]
pub fn tables() -> String {
    tables::json()
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

    /// Every header the translator may read or write ([`Translator::fields`]), as header indices.
    pub fn fields(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for i in self.inner.fields().filter_map(header_index) {
            if !out.contains(&(i as u32)) {
                out.push(i as u32);
            }
        }
        out
    }

    /// Every header `translate` reads or writes, as header indices: [`fields`](Self::fields), and W3C
    /// `baggage` when the configuration carries baggage.
    pub fn touches(&self) -> Vec<u32> {
        let mut out = self.fields();
        if self.inner.config().baggage {
            out.extend(header_index(tracebridge::baggage::HEADER).map(|i| i as u32));
        }
        out
    }

    /// The prefixes (positions in [`io::PREFIXES`]) of the headers `translate` reads or writes by name:
    /// Jaeger's and OT's baggage when the configuration carries baggage, none otherwise. (Core reads
    /// only those of the formats it extracts; passing the others costs nothing when they are absent.)
    pub fn prefixes(&self) -> Vec<u32> {
        if self.inner.config().baggage {
            (0..io::PREFIXES.len() as u32).collect()
        } else {
            Vec::new()
        }
    }

    /// The headers of the `extract` formats: all that `extract` and `remote` read.
    pub fn reads(&self) -> Vec<u32> {
        let names = self.inner.config().extract.iter().flat_map(|f| f.headers().iter().copied());
        names.filter_map(header_index).map(|i| i as u32).collect()
    }

    /// [`ops::remote`] over the first `n` entries.
    pub fn remote(&self, n: u32) -> i32 {
        with_state(BUSY, |s| ops::remote(&self.inner, &s.io.input(n as usize), &mut s.tracestate, s.area.begin()))
    }

    /// [`ops::extract`] over the first `n` entries.
    pub fn extract(&self, n: u32) -> i32 {
        with_state(BUSY, |s| ops::extract(&self.inner, &s.io.input(n as usize), &mut s.scratch, s.area.begin()))
    }

    /// [`ops::translate`] over the first `n` entries.
    pub fn translate(&self, n: u32) -> i32 {
        with_state(BUSY, |s| ops::translate(&self.inner, &s.io.input(n as usize), &mut s.plan, random, s.area.begin()))
    }

    /// [`ops::inject_span`] of the first `n` entries (by role) with `trace_flags`.
    #[wasm_bindgen(js_name = injectSpan)]
    pub fn inject_span(&self, n: u32, trace_flags: u32) -> i32 {
        with_state(BUSY, |s| {
            let flags = (trace_flags & 0xff) as u8;
            ops::inject_span(&self.inner, &s.io.input(n as usize), flags, &mut s.writes, s.area.begin())
        })
    }

    /// Core's `inspect --json` document for the first `n` entries.
    pub fn inspect(&self, n: u32) -> String {
        with_state(String::new(), |s| {
            serde_json::to_string(&self.inner.inspect(&s.io.input(n as usize))).unwrap_or_default()
        })
    }
}

/// [`ops::inject`] of the first `n` entries (by role), in the formats packed in `formats_lo` and
/// `formats_hi` ([`ops::unpack_formats`]).
#[wasm_bindgen]
pub fn inject(formats_lo: u32, formats_hi: u32, sampled: i32, debug: bool, trace_flags: u32, n: u32) -> i32 {
    with_state(BUSY, |s| {
        let flags = (trace_flags & 0xff) as u8;
        let formats = (formats_lo, formats_hi);
        ops::inject(formats, sampled, debug, flags, &s.io.input(n as usize), &mut s.writes, s.area.begin())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_state_is_reused_and_refuses_reentry() {
        let first = layout();
        assert_eq!(first.len(), 6);
        assert_eq!(layout(), first, "no call moves the areas");
        assert_eq!(with_state(0, |_| with_state(7, |_| 1)), 7);
    }
}
