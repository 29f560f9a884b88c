//! Reading the configuration from JSON (naming the key in every error) and writing reports as JSON.

use core::fmt;

use ::serde::de::{self, Deserializer, SeqAccess, Visitor};
use ::serde::ser::{SerializeMap, SerializeStruct, Serializer};
use ::serde::{Deserialize, Serialize};

use super::{Config, FormatList, Inspection, MemberKey, Report, Status, TracestateConfig, WidthPolicy, N};
use crate::format::Format;
use crate::id::ascii_str;

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Format;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a format name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Format, E> {
                Format::from_name(s).ok_or_else(|| E::unknown_variant(s, &Format::NAMES))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for FormatList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FormatList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of format names (")?;
                for (i, name) in Format::NAMES.iter().enumerate() {
                    f.write_str(if i == 0 { "" } else { ", " })?;
                    f.write_str(name)?;
                }
                f.write_str(")")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FormatList, A::Error> {
                let mut list = FormatList::EMPTY;
                while let Some(f) = seq.next_element::<Format>()? {
                    list.push(f).map_err(|f| de::Error::custom(DuplicateFormat(f)))?;
                }
                Ok(list)
            }
        }
        d.deserialize_seq(V)
    }
}

struct DuplicateFormat(Format);
impl fmt::Display for DuplicateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "format `{}` is listed twice", self.0)
    }
}

impl<'de> Deserialize<'de> for MemberKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MemberKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a tracestate key of at most 64 characters: a lowercase letter or digit, then a-z 0-9 _ - * / @",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MemberKey, E> {
                MemberKey::new(s).ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for WidthPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WidthPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"keep\", 64 or 128")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<WidthPolicy, E> {
                match s {
                    "keep" => Ok(WidthPolicy::Keep),
                    "64" => Ok(WidthPolicy::Bits64),
                    "128" => Ok(WidthPolicy::Bits128),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<WidthPolicy, E> {
                match n {
                    64 => Ok(WidthPolicy::Bits64),
                    128 => Ok(WidthPolicy::Bits128),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<WidthPolicy, E> {
                u64::try_from(n)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
                    .and_then(|n| self.visit_u64(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// The configuration keys, for error messages.
pub(super) const CONFIG_KEYS: &[&str] = &[
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

/// Reads a [`Config`] from a JSON-shaped map, naming the key in every error
/// (`on_missing: unknown variant ...`), and skipping `extra_keys` — keys a door reads itself (the
/// Envoy filter's `shadow`, say) — so one object can configure both.
///
/// ```
/// use serde::de::DeserializeSeed;
/// use tracebridge::translate::ConfigSeed;
/// let mut json = serde_json::Deserializer::from_str(r#"{"inject": ["b3-multi"], "shadow": true}"#);
/// let config = ConfigSeed { extra_keys: &["shadow"] }.deserialize(&mut json);
/// assert!(config.is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigSeed<'k> {
    /// Keys to skip (their values are not checked here).
    pub extra_keys: &'k [&'k str],
}

impl<'de> de::DeserializeSeed<'de> for ConfigSeed<'_> {
    type Value = Config;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Config, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ConfigSeed<'_> {
    type Value = Config;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tracebridge configuration object")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Config, A::Error> {
        let mut c = Config::default();
        let mut seen = ConfigKeysSeen::default();
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let key = key.as_str();
            if self.extra_keys.contains(&key) {
                map.next_value::<de::IgnoredAny>()?;
            } else {
                c.read_key(key, &mut map, &mut seen)?;
            }
        }
        Ok(c)
    }
}

/// Which of [`Config`]'s keys one object gave already (a key given twice is refused).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigKeysSeen([bool; CONFIG_KEYS.len()]);

impl Config {
    /// The keys of a configuration object, in the order of the fields: a door that has keys of its
    /// own lists both in its error for an unknown key.
    pub const KEYS: &'static [&'static str] = CONFIG_KEYS;

    /// Read the value of configuration key `key` from `map` into `self`, naming the key in any error
    /// (`on_missing: unknown variant ...`, `tracestate.max_len: ...`). An unknown key is an error
    /// that lists the known ones.
    ///
    /// For a door whose JSON object has keys of its own beside these (the Envoy filter's `shadow`,
    /// say): its `visit_map` reads its own keys and hands every other one to this, so the object is
    /// read once and errors read the same in every door.
    ///
    /// ```
    /// use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
    /// use tracebridge::translate::{Config, ConfigKeysSeen};
    ///
    /// struct Door; // reads `verbose` itself
    /// impl<'de> Visitor<'de> for Door {
    ///     type Value = (Config, bool);
    ///     fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("an object")
    ///     }
    ///     fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(Config, bool), A::Error> {
    ///         let (mut config, mut seen, mut verbose) = (Config::default(), ConfigKeysSeen::default(), false);
    ///         while let Some(key) = map.next_key::<String>()? {
    ///             match key.as_str() {
    ///                 "verbose" => verbose = map.next_value()?,
    ///                 other => config.read_key(other, &mut map, &mut seen)?,
    ///             }
    ///         }
    ///         Ok((config, verbose))
    ///     }
    /// }
    /// impl<'de> DeserializeSeed<'de> for Door {
    ///     type Value = (Config, bool);
    ///     fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(Config, bool), D::Error> {
    ///         d.deserialize_map(self)
    ///     }
    /// }
    /// let (config, verbose) = tracebridge::json::from_str_seed(Door, r#"{"verbose": true, "trust": "restart"}"#)?;
    /// assert!(verbose && config.trust == tracebridge::translate::Trust::Restart);
    /// let err = tracebridge::json::from_str_seed(Door, r#"{"trust": "maybe"}"#).err();
    /// assert!(err.is_some_and(|e| e.to_string().starts_with("trust: ")));
    /// # Ok::<(), tracebridge::json::Error>(())
    /// ```
    pub fn read_key<'de, A: de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        seen: &mut ConfigKeysSeen,
    ) -> Result<(), A::Error> {
        let Some(i) = CONFIG_KEYS.iter().position(|k| *k == key) else {
            return Err(de::Error::custom(format_args!(
                "unknown configuration key `{key}`, expected one of: {}",
                Joined(CONFIG_KEYS)
            )));
        };
        if let Some(s) = seen.0.get_mut(i) {
            if *s {
                return Err(de::Error::custom(format_args!("{key}: given twice")));
            }
            *s = true;
        }
        let named = |e: A::Error| de::Error::custom(format_args!("{key}: {e}"));
        match key {
            "extract" => self.extract = map.next_value().map_err(named)?,
            "inject" => self.inject = map.next_value().map_err(named)?,
            "remove_other_formats" => self.remove_other_formats = map.next_value().map_err(named)?,
            "on_missing" => self.on_missing = map.next_value().map_err(named)?,
            "on_conflict" => self.on_conflict = map.next_value().map_err(named)?,
            "trust" => self.trust = map.next_value().map_err(named)?,
            "drop_forced_sampling" => self.drop_forced_sampling = map.next_value().map_err(named)?,
            "root_sampling" => self.root_sampling = map.next_value().map_err(named)?,
            "id_width" => self.id_width = map.next_value().map_err(named)?,
            "baggage" => self.baggage = map.next_value().map_err(named)?,
            // Names its own keys: `tracestate.max_len: ...`.
            _ => self.tracestate = map.next_value()?,
        }
        Ok(())
    }
}

const TRACESTATE_KEYS: &[&str] = &["member", "key", "max_len"];

impl<'de> Deserialize<'de> for TracestateConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TracestateConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tracestate: an object with member, key, max_len")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<TracestateConfig, A::Error> {
                let mut t = TracestateConfig::default();
                while let Some(key) = map.next_key::<KeyName<'de>>()? {
                    let key = key.as_str();
                    let named = |e: A::Error| de::Error::custom(format_args!("tracestate.{key}: {e}"));
                    match key {
                        "member" => t.member = map.next_value().map_err(named)?,
                        "key" => t.key = map.next_value().map_err(named)?,
                        "max_len" => t.max_len = map.next_value().map_err(named)?,
                        _ => {
                            return Err(de::Error::custom(format_args!(
                                "unknown configuration key `tracestate.{key}`, expected one of: {}",
                                Joined(TRACESTATE_KEYS)
                            )))
                        }
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_map(V)
    }
}

/// `{}` (JSON `null` or an object) reads as all defaults.
impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::DeserializeSeed::deserialize(ConfigSeed::default(), d)
    }
}

/// A map key, borrowed when the input allows.
struct KeyName<'de>(KeyBuf<'de>);
enum KeyBuf<'de> {
    Borrowed(&'de str),
    Inline([u8; 32], usize),
}
impl KeyName<'_> {
    fn as_str(&self) -> &str {
        match &self.0 {
            KeyBuf::Borrowed(s) => s,
            KeyBuf::Inline(b, n) => ascii_or_empty(b.get(..*n).unwrap_or_default()),
        }
    }
}
fn ascii_or_empty(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or_default()
}
impl<'de> Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<KeyName<'de>, E> {
                Ok(KeyName(KeyBuf::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyName<'de>, E> {
                // Escaped keys: long ones cannot be a known key; keep a prefix for the message.
                let mut b = [0u8; 32];
                let n = s.len().min(32);
                let n = (0..=n).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                if let (Some(dst), Some(src)) = (b.get_mut(..n), s.as_bytes().get(..n)) {
                    dst.copy_from_slice(src);
                }
                Ok(KeyName(KeyBuf::Inline(b, n)))
            }
        }
        d.deserialize_str(V)
    }
}

struct Joined(&'static [&'static str]);
impl fmt::Display for Joined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(k)?;
        }
        Ok(())
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// `{"status": "...", "error": "<message>", "code": "<code>"}` (the last two when invalid).
impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let invalid = match self {
            Status::Invalid(e) => Some(e),
            _ => None,
        };
        let mut st = s.serialize_struct("Status", 1 + 2 * usize::from(invalid.is_some()))?;
        st.serialize_field("status", self.name())?;
        if let Some(e) = invalid {
            st.serialize_field("error", e.as_str())?;
            st.serialize_field("code", e.code())?;
        }
        st.end()
    }
}

struct Statuses<'s>(&'s [Status; N]);
impl Serialize for Statuses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(N))?;
        for (f, st) in Format::ALL.iter().zip(self.0.iter()) {
            m.serialize_entry(f.name(), st)?;
        }
        m.end()
    }
}

/// The CLI's `inspect --json` shape:
/// `{"source": name|null, "context": {...}|null, "sampling_only": "deny"|...|null,
///   "formats": {name: {"status", "error"?, "code"?}}, "tracestate_error": {...}|null,
///   "warnings": {name: {...}}}` (`warnings`: the formats with one, each in `tracestate_error`'s shape).
/// The JSON shape of a translation's outcome (the CLI's `translate --json`, the npm package):
/// `{"outcome", "root_reason", "source", "trace_id", "span_id", "sampling", "formats", "injected",
/// "removed", "tracestate_dropped", "member_fields_lost", "trace_id_truncated", "tracestate_error"}`.
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry("outcome", self.outcome.name())?;
        m.serialize_entry("root_reason", &self.outcome.root_reason().map(|r| r.name()))?;
        m.serialize_entry("source", &self.source)?;
        m.serialize_entry("trace_id", &self.trace_id.map(|id| id.to_hex()).as_ref().map(|h| ascii_str(h)))?;
        m.serialize_entry("span_id", &self.span_id.map(|id| id.to_hex()).as_ref().map(|h| ascii_str(h)))?;
        m.serialize_entry("sampling", &self.sampling)?;
        m.serialize_entry("formats", &Statuses(&self.status))?;
        m.serialize_entry("injected", &FlagNames(&self.injected))?;
        m.serialize_entry("removed", &FlagNames(&self.removed))?;
        m.serialize_entry("tracestate_dropped", &self.tracestate_dropped)?;
        m.serialize_entry("member_fields_lost", &self.member_fields_lost)?;
        m.serialize_entry("trace_id_truncated", &self.trace_id_truncated)?;
        m.serialize_entry("tracestate_error", &self.tracestate_error.map(Status::Invalid))?;
        m.end()
    }
}

/// The formats whose flag is set, as a JSON list of names.
struct FlagNames<'f>(&'f [bool; N]);
impl Serialize for FlagNames<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(Format::ALL.iter().zip(self.0.iter()).filter(|(_, on)| **on).map(|(f, _)| f))
    }
}

impl Serialize for Inspection<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Inspection", 6)?;
        st.serialize_field("source", &self.source)?;
        st.serialize_field("context", &self.context)?;
        st.serialize_field("sampling_only", &self.sampling_only)?;
        st.serialize_field("formats", &Statuses(&self.status))?;
        st.serialize_field("tracestate_error", &self.tracestate_error.map(Status::Invalid))?;
        st.serialize_field("warnings", &Warnings(&self.warnings))?;
        st.end()
    }
}

/// The formats with a warning (`Inspection::warnings`), by name, each as `tracestate_error` is written.
struct Warnings<'w>(&'w [Option<crate::Error>; N]);
impl Serialize for Warnings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.iter().flatten().count()))?;
        for (f, w) in Format::ALL.iter().zip(self.0.iter()) {
            if let Some(e) = w {
                m.serialize_entry(f.name(), &Status::Invalid(*e))?;
            }
        }
        m.end()
    }
}
