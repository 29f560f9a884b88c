//! serde: the configuration read through [`FromJson`] (the checks every door shares), and reports
//! and inspections written.

use core::fmt;

use alloc::string::String;
use alloc::vec::Vec;

use ::serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use ::serde::ser::{SerializeMap, SerializeStruct, Serializer};
use ::serde::{Deserialize, Serialize};

use super::from_json::FromJson;
use super::{
    Config, FormatList, Inspection, MemberKey, OnConflict, OnMissing, Report, RootSampling, Status, TracestateConfig,
    Trust, WidthPolicy, N,
};
use crate::format::Format;
use crate::id::ascii_str;
use crate::json::Value;

/// Every configuration type reads through [`FromJson`], as in the wasm doors: deserialized into a
/// [`Value`] first, then checked by the same functions, so serde_json and `Config::from_json` answer
/// alike.
macro_rules! deserialize_through_json {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                FromJson::from_json(&Value::deserialize(d)?).map_err(de::Error::custom)
            }
        }
    )*};
}
deserialize_through_json!(
    Config,
    Format,
    FormatList,
    MemberKey,
    WidthPolicy,
    TracestateConfig,
    OnMissing,
    OnConflict,
    Trust,
    RootSampling
);

/// Reads a [`Config`] skipping `extra_keys` (keys a door reads itself, the Envoy filter's `shadow`,
/// say): [`Config::from_json_value`] for any serde format.
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
        Config::from_json_value(&Value::deserialize(d)?, self.extra_keys).map_err(de::Error::custom)
    }
}

/// Any self-describing format's value as JSON; integers only, as [`crate::json`] reads them. A
/// value's error names its key, as `json::parse` does.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
                i64::try_from(n).map(Value::Int).map_err(|_| E::custom("an integer too large"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
                Err(E::custom("a number with a fraction or exponent: only integers are used"))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::Str(s.into()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value().map_err(|e| de::Error::custom(format_args!("{key}: {e}")))?;
                    members.push((key, value));
                }
                Ok(Value::Map(members))
            }
        }
        d.deserialize_any(V)
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
