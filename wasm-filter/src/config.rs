//! The plugin configuration: core's [`Config`](tracebridge::translate::Config) JSON plus the
//! filter-only keys ([`FILTER_KEYS`]).
//!
//! Parsed once per `on_configure`; an error is one line that names the offending key, so an
//! operator reading Envoy's log sees what to fix.

use crate::prelude::*;
use tracebridge::json::{self, Value};
use tracebridge::translate::{Config, ConfigKeysSeen, Translator};

use crate::access_log::Fields;
use crate::callers::{DEFAULT_MAX_CALLERS, MAX_CALLERS_CAP};

/// Keys only the filter understands; every other key belongs to core's `Config` (an unknown one is
/// refused there).
pub const FILTER_KEYS: [&str; 7] =
    ["shadow", "shadow_header", "response_trace_id_header", "caller", "max_callers", "access_log", "traceresponse"];

/// The parsed plugin configuration.
pub struct FilterConfig {
    /// The translation policy.
    pub translator: Translator,
    /// Compute and count the translation but leave the request untouched. Default `false`.
    pub shadow: bool,
    /// In shadow mode, a request header describing what would have changed. Default none.
    pub shadow_header: Option<String>,
    /// A response header carrying the trace id written to the request. Default none.
    pub response_trace_id_header: Option<String>,
    /// Where a request's caller is read from, to count per caller. Default none (no per-caller
    /// counters).
    pub caller: Option<CallerSource>,
    /// Named callers counted apart (the rest are `other`). Default [`DEFAULT_MAX_CALLERS`].
    pub max_callers: usize,
    /// The access-log fields set per request ([`crate::access_log`]). Default none (no host call).
    pub access_log: Fields,
    /// Add the W3C `traceresponse` response header. Default `false`.
    pub traceresponse: bool,
}

impl FilterConfig {
    /// The first option set that writes a response header (`response_trace_id_header`,
    /// `traceresponse`), if any. Only the build that exports `proxy_on_response_headers`
    /// (`tracebridge-response.wasm`, cargo feature `response`) serves them: exported, that callback
    /// is a call into the VM on every response, whatever the configuration.
    pub fn response_option(&self) -> Option<&'static str> {
        if self.response_trace_id_header.is_some() {
            Some("response_trace_id_header")
        } else if self.traceresponse {
            Some("traceresponse")
        } else {
            None
        }
    }
}

/// Where the caller's identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerSource {
    /// The first line of a request header, read from the headers the filter already has (no host
    /// call). `{"header": "x-client-name"}`.
    Header(String),
    /// A host property (one `proxy_get_property` call per request): `path` is its segments joined
    /// by NUL, as the ABI wants them; `principal` names a SPIFFE id by its path.
    Property {
        /// `connection\0uri_san_peer_certificate`, …
        path: Vec<u8>,
        /// Read as a peer certificate URI SAN (`crate::callers::Name::from_principal`).
        principal: bool,
    },
}

/// The fields of Istio's downstream peer metadata (`filter_state.downstream_peer`, written by Istio's
/// metadata exchange) that `{"istio_peer": ...}` accepts.
pub const ISTIO_PEER_FIELDS: [&str; 9] =
    ["workload", "namespace", "app", "version", "service", "revision", "cluster", "name", "type"];

/// The most segments an `attribute` path may have.
const MAX_ATTRIBUTE_SEGMENTS: usize = 8;

/// Parse the plugin configuration bytes. Empty (or whitespace-only) configuration = all defaults.
///
/// The JSON is read once, by core's small reader ([`tracebridge::json`]: no serde in the `.wasm`):
/// the filter's own keys here, every other key by [`Config::read_json_key`], which names the key in
/// every error, so a mistake reads the same as in the other doors.
pub fn parse(bytes: &[u8]) -> Result<FilterConfig, String> {
    let text = core::str::from_utf8(bytes).map_err(|_| "configuration is not UTF-8".to_string())?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let own = FilterKeys::read(&json::parse(text).map_err(|e| e.to_string())?)?;
    let translator = Translator::new(own.config).map_err(|e| e.to_string())?;
    if own.caller.is_none() && own.max_callers.is_some() {
        return Err("max_callers: counts per caller, so it needs `caller`".into());
    }
    if own.caller.is_none() && own.access_log_listed && own.access_log.contains(Fields::CALLER) {
        return Err("access_log: the field `caller` needs `caller`".into());
    }
    let access_log = if own.caller.is_none() { own.access_log.without(Fields::CALLER) } else { own.access_log };
    Ok(FilterConfig {
        translator,
        shadow: own.shadow,
        shadow_header: own.shadow_header,
        response_trace_id_header: own.response_trace_id_header,
        caller: own.caller,
        max_callers: own.max_callers.unwrap_or(DEFAULT_MAX_CALLERS),
        access_log,
        traceresponse: own.traceresponse,
    })
}

/// The filter's own keys, and core's configuration read from the same object.
#[derive(Default)]
struct FilterKeys {
    config: Config,
    shadow: bool,
    shadow_header: Option<String>,
    response_trace_id_header: Option<String>,
    caller: Option<CallerSource>,
    max_callers: Option<usize>,
    access_log: Fields,
    /// `access_log` was a list (a field named there must make sense), not `true`.
    access_log_listed: bool,
    traceresponse: bool,
}

impl Default for Fields {
    fn default() -> Self {
        Fields::NONE
    }
}

impl FilterKeys {
    /// The object's members in order. A key given twice is refused, the filter's as core's own: the
    /// JSON reader keeps repeats, and taking either value would drop the other without a word.
    fn read(value: &Value) -> Result<FilterKeys, String> {
        let members = match value {
            Value::Map(members) => members.as_slice(),
            Value::Null => &[],
            other => return Err(json::Error::invalid_type(other, "a JSON object").to_string()),
        };
        let mut own = FilterKeys::default();
        let mut seen = ConfigKeysSeen::default();
        let mut own_seen = [false; FILTER_KEYS.len()];
        for (key, value) in members {
            let key = key.as_str();
            json::refuse_repeat(&FILTER_KEYS, &mut own_seen, key).map_err(|e| e.to_string())?;
            match key {
                "shadow" | "traceresponse" => {
                    let on = match value {
                        Value::Null => false,
                        Value::Bool(b) => *b,
                        other => return Err(format!("{key}: expected true or false, not {}", other.found())),
                    };
                    *(if key == "shadow" { &mut own.shadow } else { &mut own.traceresponse }) = on;
                }
                "shadow_header" | "response_trace_id_header" => {
                    let name = match value {
                        Value::Null => None,
                        Value::Str(s) if is_token(s) => Some(s.to_ascii_lowercase()),
                        Value::Str(s) => return Err(format!("{key}: `{s}` is not a valid header name")),
                        other => return Err(format!("{key}: expected a header name or null, not {}", other.found())),
                    };
                    *(if key == "shadow_header" {
                        &mut own.shadow_header
                    } else {
                        &mut own.response_trace_id_header
                    }) = name;
                }
                "caller" => own.caller = caller(value)?,
                "max_callers" => own.max_callers = max_callers(value)?,
                "access_log" => (own.access_log, own.access_log_listed) = access_log(value)?,
                other if Config::KEYS.contains(&other) => {
                    own.config.read_json_key(other, value, &mut seen).map_err(|e| e.to_string())?
                }
                other => {
                    return Err(format!(
                        "unknown configuration key `{other}`, expected one of: {}, {}",
                        Config::KEYS.join(", "),
                        FILTER_KEYS.join(", ")
                    ))
                }
            }
        }
        Ok(own)
    }
}

/// `caller`: `null`, or an object with exactly one source.
fn caller(value: &Value) -> Result<Option<CallerSource>, String> {
    const EXPECTED: &str = "expected an object with one source: header, principal, istio_peer or attribute";
    let fields = match value {
        Value::Null => return Ok(None),
        Value::Map(fields) => fields,
        _ => return Err(format!("caller: {EXPECTED}")),
    };
    let (name, source) = match fields.as_slice() {
        [one] => one,
        [] => return Err(format!("caller: {EXPECTED}")),
        [(a, _), (b, _), ..] => return Err(format!("caller: one source only, not both `{a}` and `{b}`")),
    };
    let source = match (name.as_str(), source) {
        ("header", Value::Str(h)) if is_token(h) => CallerSource::Header(h.to_ascii_lowercase()),
        ("header", Value::Str(h)) => return Err(format!("caller.header: `{h}` is not a valid header name")),
        ("header", _) => return Err("caller.header: expected a header name".into()),
        ("principal", Value::Bool(true)) => property(&["connection", "uri_san_peer_certificate"], true),
        ("principal", _) => return Err("caller.principal: expected true".into()),
        ("istio_peer", Value::Str(f)) if ISTIO_PEER_FIELDS.contains(&f.as_str()) => {
            property(&["filter_state", "downstream_peer", f], false)
        }
        ("istio_peer", other) => {
            let got = if let Value::Str(f) = other { format!("`{f}`") } else { "not a string".into() };
            return Err(format!("caller.istio_peer: {got}: expected one of {}", ISTIO_PEER_FIELDS.join(", ")));
        }
        ("attribute", Value::List(items)) => {
            let segments: Option<Vec<&str>> = items
                .iter()
                .map(|i| match i {
                    Value::Str(s) if !s.is_empty() && !s.contains('\0') => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            match segments {
                Some(s) if (1..=MAX_ATTRIBUTE_SEGMENTS).contains(&s.len()) => property(&s, false),
                _ => {
                    return Err(format!(
                        "caller.attribute: expected a path of 1 to {MAX_ATTRIBUTE_SEGMENTS} non-empty strings, \
                         e.g. [\"connection\", \"uri_san_peer_certificate\"]"
                    ))
                }
            }
        }
        ("attribute", _) => return Err("caller.attribute: expected a list of path segments".into()),
        (other, _) => {
            return Err(format!(
                "caller: unknown source `{other}` (expected header, principal, istio_peer or attribute)"
            ))
        }
    };
    Ok(Some(source))
}

fn property(segments: &[&str], principal: bool) -> CallerSource {
    CallerSource::Property { path: segments.join("\0").into_bytes(), principal }
}

/// `max_callers`: an integer in 1..=[`MAX_CALLERS_CAP`].
fn max_callers(value: &Value) -> Result<Option<usize>, String> {
    let n = match value {
        Value::Null => return Ok(None),
        Value::Int(n) => usize::try_from(*n).ok().filter(|n| (1..=MAX_CALLERS_CAP).contains(n)),
        _ => None,
    };
    n.map(Some).ok_or_else(|| format!("max_callers: must be between 1 and {MAX_CALLERS_CAP}"))
}

/// `access_log`: `true`/`false`/`null`, or a list of field names; and whether it was a list.
fn access_log(value: &Value) -> Result<(Fields, bool), String> {
    match value {
        Value::Null | Value::Bool(false) => Ok((Fields::NONE, false)),
        Value::Bool(true) => Ok((Fields::ALL, false)),
        Value::List(items) if !items.is_empty() => {
            let mut fields = Fields::NONE;
            for item in items {
                let field = match item {
                    Value::Str(s) => Fields::named(s).ok_or_else(|| {
                        format!("access_log: unknown field `{s}` (expected {})", Fields::NAMES.join(", "))
                    })?,
                    _ => return Err("access_log: fields are strings".into()),
                };
                fields = fields.union(field);
            }
            Ok((fields, true))
        }
        _ => Err(format!("access_log: expected true, false or a list of fields ({})", Fields::NAMES.join(", "))),
    }
}

/// RFC 9110 §5.6.2 `token` (no pseudo-headers, no empty name).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        parse(json.as_bytes()).err().unwrap_or_default()
    }

    #[test]
    fn empty_is_defaults() {
        for text in ["", "  \n", "{}"] {
            let c = parse(text.as_bytes());
            assert!(
                matches!(&c, Ok(c) if !c.shadow && c.shadow_header.is_none() && c.response_trace_id_header.is_none())
            );
        }
    }

    #[test]
    fn filter_keys_are_taken_out_and_core_keys_pass() {
        let c = parse(
            br#"{"shadow": true, "shadow_header": "X-Shadow", "response_trace_id_header": null,
                "extract": ["b3-multi"], "inject": ["w3c"]}"#,
        );
        assert!(matches!(&c, Ok(c) if c.shadow && c.shadow_header.as_deref() == Some("x-shadow")
            && c.response_trace_id_header.is_none()));
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err(r#"{"inject": ["w3c"], "injekt": ["b3-single"]}"#);
        assert!(e.contains("`injekt`"), "{e}");
        assert!(e.contains("inject,") && e.contains("shadow,"), "lists core's keys and the filter's: {e}");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let e = err(r#"{"inject": ["w3c"], "inject": ["b3-single"]}"#);
        assert!(e.starts_with("inject: given twice"), "{e}");
        // The filter's own keys too, each of them, whatever the values.
        for key in FILTER_KEYS {
            let e = err(&format!(r#"{{"{key}": null, "inject": ["w3c"], "{key}": null}}"#));
            assert_eq!(e, format!("{key}: given twice"));
        }
        let e = err(r#"{"shadow": true, "shadow": false}"#);
        assert_eq!(e, "shadow: given twice");
    }

    #[test]
    fn bad_value_names_its_key() {
        let e = err(r#"{"on_missing": "explode"}"#);
        assert!(e.starts_with("on_missing:"), "{e}");
        let e = err(r#"{"extract": ["w3c", "zipkin"]}"#);
        assert!(e.starts_with("extract:"), "{e}");
    }

    #[test]
    fn filter_key_types_are_checked() {
        assert!(err(r#"{"shadow": "yes"}"#).starts_with("shadow:"));
        assert!(err(r#"{"shadow_header": "bad header"}"#).starts_with("shadow_header:"));
        assert!(err(r#"{"response_trace_id_header": 7}"#).starts_with("response_trace_id_header:"));
        assert!(err("[]").contains("JSON object"), "{}", err("[]"));
        assert!(err("{").starts_with("not JSON"), "{}", err("{"));
        assert!(err(r#"{"traceresponse": 1}"#).starts_with("traceresponse:"));
    }

    /// The parsed configuration, asserting that it parses.
    fn ok(json: &str) -> Option<FilterConfig> {
        let c = parse(json.as_bytes());
        assert!(c.is_ok(), "{json}: {:?}", c.as_ref().err());
        c.ok()
    }

    #[test]
    fn caller_sources() {
        let caller = |json: &str| ok(json).map(|c| (c.caller, c.max_callers));
        let property = |path: &[u8], principal: bool| Some(CallerSource::Property { path: path.to_vec(), principal });
        let header = Some(CallerSource::Header("x-client-name".into()));
        assert_eq!(caller(r#"{"caller": {"header": "X-Client-Name"}}"#), Some((header, DEFAULT_MAX_CALLERS)));
        let principal = property(b"connection\0uri_san_peer_certificate", true);
        assert_eq!(caller(r#"{"caller": {"principal": true}, "max_callers": 1000}"#), Some((principal, 1000)));
        let peer = property(b"filter_state\0downstream_peer\0workload", false);
        assert_eq!(caller(r#"{"caller": {"istio_peer": "workload"}, "max_callers": 1}"#), Some((peer, 1)));
        let attribute = property(b"request\0headers\0x-team", false);
        let json = r#"{"caller": {"attribute": ["request", "headers", "x-team"]}}"#;
        assert_eq!(caller(json), Some((attribute, DEFAULT_MAX_CALLERS)));
        let c = ok(r#"{"caller": null}"#);
        assert!(c.is_some_and(|c| c.caller.is_none() && c.access_log == Fields::NONE && !c.traceresponse));
    }

    #[test]
    fn bad_caller_configuration_is_refused_naming_the_key() {
        for (json, starts) in [
            (r#"{"caller": "x-client-name"}"#, "caller: expected an object"),
            (r#"{"caller": {}}"#, "caller: expected an object"),
            (r#"{"caller": {"cookie": "session"}}"#, "caller: unknown source `cookie`"),
            (r#"{"caller": {"header": "x-a", "principal": true}}"#, "caller: one source only"),
            (r#"{"caller": {"header": "bad header"}}"#, "caller.header: `bad header` is not a valid header name"),
            (r#"{"caller": {"header": ""}}"#, "caller.header:"),
            (r#"{"caller": {"header": 7}}"#, "caller.header: expected a header name"),
            (r#"{"caller": {"principal": false}}"#, "caller.principal: expected true"),
            (r#"{"caller": {"istio_peer": "pod"}}"#, "caller.istio_peer: `pod`: expected one of workload"),
            (r#"{"caller": {"attribute": []}}"#, "caller.attribute: expected a path"),
            (r#"{"caller": {"attribute": ["a", ""]}}"#, "caller.attribute: expected a path"),
            (r#"{"caller": {"attribute": ["a","b","c","d","e","f","g","h","i"]}}"#, "caller.attribute:"),
            (r#"{"caller": {"attribute": "source.principal"}}"#, "caller.attribute: expected a list"),
            (r#"{"caller": {"header": "x-a"}, "max_callers": 0}"#, "max_callers: must be between 1 and 1000"),
            (r#"{"caller": {"header": "x-a"}, "max_callers": 1001}"#, "max_callers: must be between 1 and 1000"),
            (r#"{"caller": {"header": "x-a"}, "max_callers": -5}"#, "max_callers: must be between 1 and 1000"),
            (r#"{"caller": {"header": "x-a"}, "max_callers": "50"}"#, "max_callers: must be between 1 and 1000"),
            (r#"{"caller": {"header": "x-a"}, "max_callers": 5.5}"#, "max_callers: a number with a fraction"),
            (r#"{"max_callers": 10}"#, "max_callers: counts per caller, so it needs `caller`"),
            (r#"{"caller": {"header": "x-a"}, "caller": 1}"#, "caller: given twice"),
        ] {
            let e = err(json);
            assert!(e.starts_with(starts), "{json}: got {e:?}, expected it to start with {starts:?}");
        }
    }

    #[test]
    fn access_log_fields() {
        let fields = |json: &str| ok(json).map(|c| c.access_log);
        assert_eq!(fields(r#"{"access_log": false}"#), Some(Fields::NONE));
        let caller = Fields::named("caller").unwrap_or(Fields::NONE);
        // `true` is every field; `caller` only where a caller is configured.
        assert_eq!(fields(r#"{"access_log": true}"#), Some(Fields::ALL.without(caller)));
        assert_eq!(fields(r#"{"access_log": true, "caller": {"header": "x-a"}}"#), Some(Fields::ALL));
        let listed = fields(r#"{"access_log": ["trace_id", "source"]}"#).unwrap_or(Fields::NONE);
        assert!(listed.contains(Fields::named("source").unwrap_or(Fields::ALL)));
        assert!(!listed.contains(Fields::named("root").unwrap_or(Fields::NONE)));
        for (json, starts) in [
            (r#"{"access_log": "yes"}"#, "access_log: expected true, false or a list"),
            (r#"{"access_log": []}"#, "access_log: expected true, false or a list"),
            (r#"{"access_log": ["trace-id"]}"#, "access_log: unknown field `trace-id`"),
            (r#"{"access_log": [1]}"#, "access_log: fields are strings"),
            (r#"{"access_log": ["caller"]}"#, "access_log: the field `caller` needs `caller`"),
        ] {
            let e = err(json);
            assert!(e.starts_with(starts), "{json}: got {e:?}");
        }
        assert!(ok(r#"{"traceresponse": true}"#).is_some_and(|c| c.traceresponse));
    }

    #[test]
    fn the_response_options_are_named() {
        let option = |json: &str| parse(json.as_bytes()).ok().and_then(|c| c.response_option());
        assert_eq!(option(r#"{"inject": ["w3c"]}"#), None);
        assert_eq!(option(r#"{"response_trace_id_header": null, "traceresponse": false}"#), None);
        assert_eq!(option(r#"{"response_trace_id_header": "x-trace-id"}"#), Some("response_trace_id_header"));
        assert_eq!(option(r#"{"traceresponse": true, "shadow": true}"#), Some("traceresponse"));
    }
}
