//! The plugin configuration: core's [`Config`] JSON plus three filter-only keys.
//!
//! Parsed once per `on_configure`; an error is one line that names the offending key, so an
//! operator reading Envoy's log sees what to fix.

use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use tracebridge::translate::{ConfigSeed, Translator};

/// Keys only the filter understands; every other key belongs to core's `Config`.
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
///
/// The JSON is read twice by core's small reader (`tracebridge::json`, no serde_json in the `.wasm`):
/// once for the filter's own keys, once by core's `ConfigSeed`, which skips them and names the key
/// in every error.
pub fn parse(bytes: &[u8]) -> Result<FilterConfig, String> {
    let text = core::str::from_utf8(bytes).map_err(|_| "configuration is not UTF-8".to_string())?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let own = tracebridge::json::from_str_seed(FilterKeys::default(), text).map_err(|e| e.to_string())?;
    let config =
        tracebridge::json::from_str_seed(ConfigSeed { extra_keys: &FILTER_KEYS }, text).map_err(|e| e.to_string())?;
    let translator = Translator::new(config).map_err(|e| e.to_string())?;
    Ok(FilterConfig {
        translator,
        shadow: own.shadow,
        shadow_header: own.shadow_header,
        response_trace_id_header: own.response_trace_id_header,
    })
}

/// The filter's own keys, read from the same object; other keys are left to core.
#[derive(Default)]
struct FilterKeys {
    shadow: bool,
    shadow_header: Option<String>,
    response_trace_id_header: Option<String>,
}

impl<'de> DeserializeSeed<'de> for FilterKeys {
    type Value = FilterKeys;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FilterKeys, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FilterKeys {
    type Value = FilterKeys;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<FilterKeys, A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "shadow" => {
                    self.shadow = map
                        .next_value::<Option<bool>>()
                        .map_err(|e| de::Error::custom(format_args!("shadow: expected true or false ({e})")))?
                        .unwrap_or(false)
                }
                "shadow_header" | "response_trace_id_header" => {
                    let name = map
                        .next_value::<Option<String>>()
                        .map_err(|e| de::Error::custom(format_args!("{key}: expected a header name or null ({e})")))?;
                    let name = match name {
                        Some(s) if is_token(&s) => Some(s.to_ascii_lowercase()),
                        Some(s) => {
                            return Err(de::Error::custom(format_args!("{key}: `{s}` is not a valid header name")))
                        }
                        None => None,
                    };
                    if key == "shadow_header" {
                        self.shadow_header = name;
                    } else {
                        self.response_trace_id_header = name;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(self)
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
        assert!(err("[]").contains("JSON object"), "{}", err("[]"));
        assert!(err("{").starts_with("not JSON"), "{}", err("{"));
    }
}
