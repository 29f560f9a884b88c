//! The plugin configuration: core's [`Config`] JSON plus three filter-only keys.
//!
//! Parsed once per `on_configure`; an error is one line that names the offending key, so an
//! operator reading Envoy's log sees what to fix.

use serde_json::{Map, Value};
use tracebridge::translate::{Config, Translator};

/// Keys only the filter understands; every other key belongs to core's [`Config`].
pub const FILTER_KEYS: [&str; 3] = ["shadow", "shadow_header", "response_trace_id_header"];

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
}

/// Parse the plugin configuration bytes. Empty (or whitespace-only) configuration = all defaults.
pub fn parse(bytes: &[u8]) -> Result<FilterConfig, String> {
    let text = core::str::from_utf8(bytes).map_err(|_| "configuration is not UTF-8".to_string())?;
    let mut object = if text.trim().is_empty() {
        Map::new()
    } else {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err("configuration must be a JSON object".into()),
            Err(e) => return Err(format!("configuration is not valid JSON: {e}")),
        }
    };

    let shadow = match object.remove("shadow") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => return Err(format!("shadow: expected true or false, got {other}")),
    };
    let shadow_header = header_name(&mut object, "shadow_header")?;
    let response_trace_id_header = header_name(&mut object, "response_trace_id_header")?;

    // Each key alone first, so a bad value is reported with the key it belongs to (serde's own
    // message for a bad enum value does not say which field held it).
    for (key, value) in &object {
        let mut one = Map::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<Config>(Value::Object(one)) {
            return Err(if e.to_string().starts_with("unknown field") {
                format!("unknown configuration key `{key}`: {e}")
            } else {
                format!("{key}: {e}")
            });
        }
    }
    let config = serde_json::from_value::<Config>(Value::Object(object)).map_err(|e| format!("configuration: {e}"))?;
    let translator = Translator::new(config).map_err(|e| e.to_string())?;
    Ok(FilterConfig { translator, shadow, shadow_header, response_trace_id_header })
}

/// An optional header name: `null`/absent = none; otherwise an RFC 9110 token, stored lowercase
/// (HTTP/2 and HTTP/3 require lowercase names).
fn header_name(object: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_token(&s) => Ok(Some(s.to_ascii_lowercase())),
        Some(Value::String(s)) => Err(format!("{key}: {s:?} is not a valid header name")),
        Some(other) => Err(format!("{key}: expected a header name or null, got {other}")),
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
        assert!(err("[]").contains("JSON object"));
        assert!(err("{").contains("not valid JSON"));
    }
}
