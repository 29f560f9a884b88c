//! Per-request fields for Envoy's access log (`access_log` in the configuration).
//!
//! The filter sets one property per request, `tracebridge`, with every chosen field in one
//! `key=value` line (one host call, whatever the number of fields). Envoy keeps it as the filter
//! state object `wasm.tracebridge`, which an access-log format prints with
//! `%FILTER_STATE(wasm.tracebridge:PLAIN)%`:
//!
//! ```text
//! source=b3-single outcome=continued root=no trace_id=0af7651916cd43dd8448eb211c80319c caller=alpha w3c=absent b3-single=valid jaeger=invalid:jaeger_span_id
//! ```
//!
//! | field | key(s) | values |
//! |---|---|---|
//! | `source` | `source` | the format the context came from, `-` for none |
//! | `outcome` | `outcome` | `continued`, `new-root`, `sampling-only`, `ignored`, `pass-through` |
//! | `root` | `root` | `yes` when a new root was started |
//! | `trace_id` | `trace_id` | the trace id written, `-` for none |
//! | `caller` | `caller` | the caller as counted (`unknown`, `other`), only with `caller` configured |
//! | `formats` | one per format read, `w3c=`… | `valid`, `absent`, `conflict`, `invalid:<error code>` |
//!
//! In shadow mode the fields say what the filter would have done. Keys are in this order whatever the
//! order of the configured list; values never contain a space.

use crate::prelude::*;
use tracebridge::translate::{Report, Status};
use tracebridge::Format;

/// The property the filter sets: Envoy's filter state key is `wasm.` followed by it.
pub const PROPERTY: &str = "tracebridge";

/// Which fields go into the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields(u8);

impl Fields {
    /// Every field's configuration name, in output order (field `i` is bit `i`).
    pub const NAMES: [&'static str; 6] = ["source", "outcome", "root", "trace_id", "caller", "formats"];

    /// `source`.
    pub const SOURCE: Fields = Fields(1);
    /// `outcome`.
    pub const OUTCOME: Fields = Fields(1 << 1);
    /// `root`.
    pub const ROOT: Fields = Fields(1 << 2);
    /// `trace_id`.
    pub const TRACE_ID: Fields = Fields(1 << 3);
    /// `caller`.
    pub const CALLER: Fields = Fields(1 << 4);
    /// `formats`.
    pub const FORMATS: Fields = Fields(1 << 5);

    /// All of them (`"access_log": true`).
    pub const ALL: Fields = Fields(0b11_1111);

    /// None.
    pub const NONE: Fields = Fields(0);

    /// The field called `name` (one of [`Fields::NAMES`]).
    pub fn named(name: &str) -> Option<Fields> {
        let i = Fields::NAMES.iter().position(|&n| n == name)?;
        Some(Fields(1 << i))
    }

    /// Both sets.
    pub const fn union(self, other: Fields) -> Fields {
        Fields(self.0 | other.0)
    }

    /// True when every field of `other` is in `self`.
    pub const fn contains(self, other: Fields) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` without `other`.
    pub const fn without(self, other: Fields) -> Fields {
        Fields(self.0 & !other.0)
    }
}

/// Write the line for `report` into `out` (cleared first; reused from request to request, so no
/// allocation once it has grown). `caller` is the caller as counted, when configured. Plain string
/// pushes, no formatting machinery: this runs on every request.
pub fn write(out: &mut String, fields: Fields, report: &Report, caller: Option<&str>) {
    out.clear();
    let put = |out: &mut String, key: &str, value: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    };
    if fields.contains(Fields::SOURCE) {
        put(out, "source", report.source.map_or("-", Format::name));
    }
    if fields.contains(Fields::OUTCOME) {
        put(out, "outcome", report.outcome.name());
    }
    if fields.contains(Fields::ROOT) {
        put(out, "root", if report.root_generated() { "yes" } else { "no" });
    }
    if fields.contains(Fields::TRACE_ID) {
        let hex = report.trace_id.map(|id| id.to_hex());
        put(out, "trace_id", hex.as_ref().and_then(|h| core::str::from_utf8(h).ok()).unwrap_or("-"));
    }
    if let (true, Some(caller)) = (fields.contains(Fields::CALLER), caller) {
        put(out, "caller", caller);
    }
    if fields.contains(Fields::FORMATS) {
        for f in Format::ALL {
            match report.status(f) {
                Status::NotRead => {}
                Status::Invalid(e) => {
                    put(out, f.name(), "invalid:");
                    out.push_str(e.code());
                }
                s => put(out, f.name(), s.name()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tracebridge::translate::{Config, FormatList, Translator};

    use super::*;

    fn report(config: Config, headers: &[(&str, &str)]) -> Report {
        let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let t = Translator::new(config).unwrap_or_default();
        *t.plan(&headers, || [7; 24]).report()
    }

    #[test]
    fn every_field_in_one_line() {
        let r = report(
            Config::default(),
            &[("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"), ("uber-trace-id", "not:valid")],
        );
        let mut out = String::new();
        write(&mut out, Fields::ALL, &r, Some("alpha"));
        assert_eq!(
            out,
            "source=b3-single outcome=continued root=no trace_id=0af7651916cd43dd8448eb211c80319c caller=alpha \
             w3c=absent b3-single=valid b3-multi=absent jaeger=invalid:jaeger_format xray=absent grpc-trace-bin=absent \
             datadog=absent ot=absent instana=absent gcp=absent"
        );
        assert!(!out.contains("  ") && !out.ends_with(' '));
    }

    #[test]
    fn chosen_fields_only_and_formats_not_read_left_out() {
        let config = Config {
            extract: FormatList::new(&[Format::W3c]).unwrap_or(FormatList::ALL),
            on_missing: tracebridge::translate::OnMissing::NewRoot,
            ..Config::default()
        };
        let r = report(config, &[]);
        let mut out = String::from("old text");
        let fields = Fields::named("root").and_then(|a| Some(a.union(Fields::named("formats")?)));
        write(&mut out, fields.unwrap_or(Fields::NONE), &r, None);
        assert_eq!(out, "root=yes w3c=absent");
        write(&mut out, Fields::ALL, &r, None);
        assert!(out.starts_with("source=- outcome=new-root root=yes trace_id=07070707"), "{out}");
        assert!(!out.contains("caller="), "no caller configured: {out}");
        write(&mut out, Fields::NONE, &r, None);
        assert_eq!(out, "");
    }

    #[test]
    fn field_names() {
        for name in Fields::NAMES {
            assert!(Fields::named(name).is_some_and(|f| Fields::ALL.contains(f)), "{name}");
        }
        let bits = [Fields::SOURCE, Fields::OUTCOME, Fields::ROOT, Fields::TRACE_ID, Fields::CALLER, Fields::FORMATS];
        for (name, bit) in Fields::NAMES.iter().zip(bits) {
            assert_eq!(Fields::named(name), Some(bit), "{name}");
        }
        assert_eq!(Fields::named("trace-id"), None);
        let caller = Fields::named("caller").unwrap_or(Fields::NONE);
        assert!(!Fields::ALL.without(caller).contains(caller));
    }
}
