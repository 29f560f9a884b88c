//! Reading a [`Config`] from JSON (feature `json`): every door's configuration, checked by these
//! functions alone, so a mistake reads the same in every door (`on_missing: unknown variant ...`,
//! `tracestate.max_len: invalid type: ...`).
//!
//! They read a parsed [`Value`], not a serde `Deserializer`: generic over the deserializer, this
//! code was instantiated with every field's visitor and was the largest part of the Envoy filter's
//! `.wasm` (see [`crate::json`]). `Deserialize` (feature `serde`) goes through them too.

use super::{Config, FormatList, MemberKey, OnConflict, OnMissing, RootSampling, TracestateConfig, Trust, WidthPolicy};
use crate::format::Format;
use crate::json::{self, Error, Value};

/// The configuration keys, in the order of [`Config`]'s fields.
const CONFIG_KEYS: [&str; 11] = [
    "extract",
    "inject",
    "remove_other_formats",
    "on_missing",
    "on_conflict",
    "trust",
    "drop_forced_sampling",
    "root_sampling",
    "id_width",
    "tracestate",
    "baggage",
];

/// The keys of `tracestate`'s object.
const TRACESTATE_KEYS: [&str; 3] = ["member", "key", "max_len"];

/// Which of [`Config`]'s keys one object gave already: a key given twice is refused (JSON leaves
/// repeated names to the reader, RFC 8259 §4; taking either silently would hide a mistake).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigKeysSeen([bool; CONFIG_KEYS.len()]);

impl Config {
    /// The keys of a configuration object, in the order of the fields: a door that has keys of its
    /// own lists both in its error for an unknown key.
    pub const KEYS: &'static [&'static str] = &CONFIG_KEYS;

    /// Read a configuration from JSON text: `{}` (or `null`) is every default, an unknown key is
    /// refused, and every error names its key.
    ///
    /// ```
    /// use tracebridge::{Config, Format};
    /// let config = Config::from_json(r#"{"inject": ["b3-multi"]}"#)?;
    /// assert_eq!(config.inject.as_slice(), [Format::B3Multi]);
    /// let err = Config::from_json(r#"{"trust": "maybe"}"#).err();
    /// assert!(err.is_some_and(|e| e.to_string().starts_with("trust: unknown variant `maybe`")));
    /// # Ok::<(), tracebridge::json::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Config, Error> {
        Self::from_json_value(&json::parse(text)?, &[])
    }

    /// Read a configuration from a parsed JSON object, skipping `extra_keys`: keys a door reads
    /// itself (the Envoy filter's `shadow`, say), so that one object configures both.
    ///
    /// ```
    /// use tracebridge::{json, Config};
    /// let value = json::parse(r#"{"inject": ["b3-multi"], "shadow": true}"#)?;
    /// assert!(Config::from_json_value(&value, &["shadow"]).is_ok());
    /// assert!(Config::from_json_value(&value, &[]).is_err());
    /// # Ok::<(), json::Error>(())
    /// ```
    pub fn from_json_value(value: &Value, extra_keys: &[&str]) -> Result<Config, Error> {
        let mut config = Config::default();
        let members = match value {
            Value::Null => return Ok(config),
            Value::Map(members) => members,
            other => return Err(Error::invalid_type(other, "a tracebridge configuration object")),
        };
        let mut seen = ConfigKeysSeen::default();
        for (key, value) in members {
            if !extra_keys.contains(&key.as_str()) {
                config.read_json_key(key, value, &mut seen)?;
            }
        }
        Ok(config)
    }

    /// Read the value of configuration key `key` into `self`, naming the key in any error. An
    /// unknown key is an error that lists the known ones; a key `seen` already is refused.
    ///
    /// For a door whose JSON object has keys of its own beside these: it reads its own keys and
    /// hands every other one to this.
    ///
    /// ```
    /// use tracebridge::{json, Config};
    /// use tracebridge::translate::{ConfigKeysSeen, Trust};
    /// let (mut config, mut seen) = (Config::default(), ConfigKeysSeen::default());
    /// config.read_json_key("trust", &json::Value::Str("restart".into()), &mut seen)?;
    /// assert_eq!(config.trust, Trust::Restart);
    /// let again = config.read_json_key("trust", &json::Value::Str("ignore".into()), &mut seen);
    /// assert!(again.is_err_and(|e| e.to_string() == "trust: given twice"));
    /// # Ok::<(), json::Error>(())
    /// ```
    pub fn read_json_key(&mut self, key: &str, value: &Value, seen: &mut ConfigKeysSeen) -> Result<(), Error> {
        if !CONFIG_KEYS.contains(&key) {
            return Err(Error::new(format_args!(
                "unknown configuration key `{key}`, expected one of: {}",
                Joined(&CONFIG_KEYS)
            )));
        }
        json::refuse_repeat(&CONFIG_KEYS, &mut seen.0, key)?;
        // One `at(key)` for every arm: the arms are cold code, and each of its own was a copy.
        let read = match key {
            "extract" => FromJson::from_json(value).map(|v| self.extract = v),
            "inject" => FromJson::from_json(value).map(|v| self.inject = v),
            "remove_other_formats" => boolean(value).map(|v| self.remove_other_formats = v),
            "on_missing" => FromJson::from_json(value).map(|v| self.on_missing = v),
            "on_conflict" => FromJson::from_json(value).map(|v| self.on_conflict = v),
            "trust" => FromJson::from_json(value).map(|v| self.trust = v),
            "drop_forced_sampling" => boolean(value).map(|v| self.drop_forced_sampling = v),
            "root_sampling" => FromJson::from_json(value).map(|v| self.root_sampling = v),
            "id_width" => FromJson::from_json(value).map(|v| self.id_width = v),
            "baggage" => boolean(value).map(|v| self.baggage = v),
            // Names its own keys: `tracestate.max_len: ...`.
            _ => return FromJson::from_json(value).map(|v| self.tracestate = v),
        };
        read.map_err(|e| e.at(key))
    }
}

/// A configuration type read from a JSON value; errors are named by the caller ([`Error::at`]).
/// The `Deserialize` impls (feature `serde`) go through this.
pub(crate) trait FromJson: Sized {
    fn from_json(value: &Value) -> Result<Self, Error>;
}

fn boolean(value: &Value) -> Result<bool, Error> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(Error::invalid_type(other, "a boolean")),
    }
}

/// The variant named by a string: `values[i]` for `names[i]`.
fn variant<T: Copy>(value: &Value, names: &[&str], values: &[T], expected: &str) -> Result<T, Error> {
    let Value::Str(s) = value else { return Err(Error::invalid_type(value, expected)) };
    names
        .iter()
        .zip(values)
        .find(|(n, _)| **n == s.as_str())
        .map(|(_, v)| *v)
        .ok_or_else(|| Error::unknown_variant(s, names))
}

impl FromJson for Format {
    fn from_json(value: &Value) -> Result<Self, Error> {
        match value {
            Value::Str(s) => Format::from_name(s).ok_or_else(|| Error::unknown_variant(s, &Format::NAMES)),
            other => Err(Error::invalid_type(other, "a format name")),
        }
    }
}

impl FromJson for FormatList {
    fn from_json(value: &Value) -> Result<Self, Error> {
        let Value::List(items) = value else {
            return Err(Error::invalid_type(
                value,
                &alloc::format!("a list of format names ({})", Joined(&Format::NAMES)),
            ));
        };
        let mut list = FormatList::EMPTY;
        for item in items {
            list.push(Format::from_json(item)?)
                .map_err(|f| Error::new(format_args!("format `{f}` is listed twice")))?;
        }
        Ok(list)
    }
}

impl FromJson for OnMissing {
    fn from_json(value: &Value) -> Result<Self, Error> {
        use OnMissing::*;
        variant(value, &["pass-through", "new-root"], &[PassThrough, NewRoot], "what to do without a context")
    }
}

impl FromJson for OnConflict {
    fn from_json(value: &Value) -> Result<Self, Error> {
        use OnConflict::*;
        let names = ["prefer-first", "new-root", "pass-through"];
        variant(value, &names, &[PreferFirst, NewRoot, PassThrough], "what to do on a conflict")
    }
}

impl FromJson for Trust {
    fn from_json(value: &Value) -> Result<Self, Error> {
        use Trust::*;
        variant(value, &["continue", "restart", "ignore"], &[Continue, Restart, Ignore], "a trust policy")
    }
}

impl FromJson for RootSampling {
    fn from_json(value: &Value) -> Result<Self, Error> {
        use RootSampling::*;
        variant(value, &["defer", "accept", "deny"], &[Defer, Accept, Deny], "a root sampling policy")
    }
}

impl FromJson for WidthPolicy {
    fn from_json(value: &Value) -> Result<Self, Error> {
        const EXPECTED: &str = "\"keep\", 64 or 128";
        match value {
            Value::Str(s) if s == "keep" => Ok(WidthPolicy::Keep),
            Value::Str(s) if s == "64" => Ok(WidthPolicy::Bits64),
            Value::Int(64) => Ok(WidthPolicy::Bits64),
            Value::Str(s) if s == "128" => Ok(WidthPolicy::Bits128),
            Value::Int(128) => Ok(WidthPolicy::Bits128),
            Value::Str(_) | Value::Int(_) => Err(Error::invalid_value(value, EXPECTED)),
            other => Err(Error::invalid_type(other, EXPECTED)),
        }
    }
}

impl FromJson for MemberKey {
    fn from_json(value: &Value) -> Result<Self, Error> {
        const EXPECTED: &str =
            "a tracestate key of at most 64 characters: a lowercase letter or digit, then a-z 0-9 _ - * / @";
        match value {
            Value::Str(s) => MemberKey::new(s).ok_or_else(|| Error::invalid_value(value, EXPECTED)),
            other => Err(Error::invalid_type(other, EXPECTED)),
        }
    }
}

impl FromJson for TracestateConfig {
    fn from_json(value: &Value) -> Result<Self, Error> {
        let at = |e: Error| e.at("tracestate");
        let Value::Map(members) = value else {
            return Err(at(Error::invalid_type(value, "an object with member, key, max_len")));
        };
        let mut t = TracestateConfig::default();
        // A key given twice is refused, as at the top level: the JSON reader keeps repeats.
        let mut seen = [false; TRACESTATE_KEYS.len()];
        for (key, value) in members {
            let named = |e: Error| at(e.at(key));
            json::refuse_repeat(&TRACESTATE_KEYS, &mut seen, key).map_err(at)?;
            match key.as_str() {
                "member" => t.member = boolean(value).map_err(named)?,
                "key" => t.key = MemberKey::from_json(value).map_err(named)?,
                "max_len" => {
                    t.max_len = match value {
                        Value::Int(n) => usize::try_from(*n).map_err(|_| Error::invalid_value(value, "a length")),
                        other => Err(Error::invalid_type(other, "a length")),
                    }
                    .map_err(named)?;
                }
                _ => {
                    return Err(Error::new(format_args!(
                        "unknown configuration key `tracestate.{key}`, expected one of: {}",
                        Joined(&TRACESTATE_KEYS)
                    )))
                }
            }
        }
        Ok(t)
    }
}

impl FromJson for Config {
    fn from_json(value: &Value) -> Result<Self, Error> {
        Config::from_json_value(value, &[])
    }
}

/// Names joined by `, `.
struct Joined<'a>(&'a [&'a str]);
impl core::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, k) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { "" } else { ", " })?;
            f.write_str(k)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};

    fn msg(json: &str) -> String {
        Config::from_json(json).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn reads_the_shared_configuration() {
        let json = r#" {"extract": ["b3-multi", "w3c"], "inject": ["w3c"], "on_missing": "new-root",
            "on_conflict": "pass-through", "trust": "restart", "root_sampling": "deny", "baggage": false,
            "remove_other_formats": true, "drop_forced_sampling": true,
            "id_width": 64, "tracestate": {"key": "t\u0062", "max_len": 2048, "member": false}} "#;
        let c = Config::from_json(json);
        assert!(c.is_ok(), "{c:?}");
        let Ok(c) = c else { return };
        assert_eq!(Ok(c.extract), FormatList::new(&[Format::B3Multi, Format::W3c]));
        assert_eq!(c.inject.as_slice(), [Format::W3c]);
        assert_eq!(
            (c.on_missing, c.on_conflict, c.trust),
            (OnMissing::NewRoot, OnConflict::PassThrough, Trust::Restart)
        );
        assert_eq!((c.root_sampling, c.id_width), (RootSampling::Deny, WidthPolicy::Bits64));
        assert!(!c.baggage && c.remove_other_formats && c.drop_forced_sampling);
        assert_eq!((c.tracestate.key.as_str(), c.tracestate.max_len, c.tracestate.member), ("tb", 2048, false));
        assert_eq!(Config::from_json("{}"), Ok(Config::default()));
        assert_eq!(Config::from_json(" null "), Ok(Config::default()));
        let width = |j: &str| Config::from_json(j).map(|c| c.id_width);
        assert_eq!(width(r#"{"id_width": "keep"}"#), Ok(WidthPolicy::Keep));
        assert_eq!(width(r#"{"id_width": "128"}"#), Ok(WidthPolicy::Bits128));
        assert_eq!(width(r#"{"id_width": 128}"#), Ok(WidthPolicy::Bits128));
    }

    #[test]
    fn errors_name_the_key() {
        assert!(msg(r#"{"tracestate": {"max_len": "x"}}"#).starts_with("tracestate.max_len: invalid type: string"));
        assert!(
            msg(r#"{"tracestate": {"max_len": -1}}"#).starts_with("tracestate.max_len: invalid value: integer `-1`")
        );
        assert!(msg(r#"{"tracestate": {"key": "Bad"}}"#).starts_with("tracestate.key: invalid value: string \"Bad\""));
        assert!(msg(r#"{"tracestate": {"member": 1}}"#).starts_with("tracestate.member: invalid type: integer `1`"));
        assert!(msg(r#"{"tracestate": {"nope": 1}}"#).starts_with("unknown configuration key `tracestate.nope`"));
        assert!(msg(r#"{"tracestate": []}"#).starts_with("tracestate: invalid type: array"));
        assert!(msg(r#"{"on_missing": "explode"}"#).starts_with("on_missing: unknown variant `explode`, expected `"));
        assert!(msg(r#"{"trust": 1}"#).starts_with("trust: invalid type: integer `1`"));
        assert!(msg(r#"{"bogus": 1}"#).starts_with("unknown configuration key `bogus`, expected one of: extract,"));
        assert!(msg(r#"{"extract": ["w3c", "w3c"]}"#).starts_with("extract: format `w3c` is listed twice"));
        assert!(msg(r#"{"inject": ["w3c", "zipkin"]}"#)
            .starts_with("inject: unknown variant `zipkin`, expected one of `w3c`"));
        assert!(msg(r#"{"inject": "w3c"}"#)
            .starts_with("inject: invalid type: string \"w3c\", expected a list of format names (w3c, "));
        assert!(msg(r#"{"inject": [1]}"#).starts_with("inject: invalid type: integer `1`, expected a format name"));
        assert!(msg(r#"{"id_width": 1.5}"#).starts_with("id_width: a number with a fraction"));
        assert!(msg(r#"{"id_width": 32}"#).starts_with("id_width: invalid value: integer `32`"));
        assert!(msg(r#"{"id_width": true}"#).starts_with("id_width: invalid type: boolean `true`"));
        assert!(msg(r#"{"baggage": null}"#).starts_with("baggage: invalid type: null, expected a boolean"));
        assert!(msg(r#"{"trust": "continue", "trust": "ignore"}"#).starts_with("trust: given twice"));
        assert_eq!(
            msg(r#"{"tracestate": {"max_len": 100, "member": true, "max_len": 200}}"#),
            "tracestate.max_len: given twice"
        );
        assert!(msg("{} x").starts_with("not JSON: trailing"));
        assert!(msg(r#"{"a" 1}"#).starts_with("not JSON"));
        assert!(msg(r#"["#).starts_with("not JSON"));
        assert!(msg(r#"[]"#).starts_with("invalid type: array, expected a tracebridge configuration object"));
        assert!(msg(r#"{"extract": ["w3c",]}"#).starts_with("extract: not JSON"));
    }

    #[test]
    fn every_key_is_read() {
        // A value of the wrong type for each key: each is refused naming that key, so none is skipped.
        for key in Config::KEYS {
            let e = msg(&std::format!(r#"{{"{key}": {{"x": []}}}}"#));
            assert!(e.starts_with(*key) || e.contains(&std::format!("`{key}.x`")), "{key}: {e}");
        }
    }

    #[test]
    fn surrogate_escapes() {
        let key = |json: &str| Config::from_json(json).map(|c| String::from(c.tracestate.key.as_str()));
        assert_eq!(key(r#"{"tracestate": {"key": "a\u0062"}}"#), Ok(String::from("ab")));
        // Neither a pair nor a lone half is a valid tracestate key: both are refused.
        assert!(msg(r#"{"tracestate": {"key": "\uD83D\uDE00"}}"#).starts_with("tracestate.key"));
        assert!(msg(r#"{"tracestate": {"key": "\uD8DD\uD8DD"}}"#).starts_with("tracestate.key"));
    }
}
