//! Everything the JS needs to read the output area, taken from core once at load, as one JSON
//! document: the format registry, the header list entries refer to (and the prefixes of the headers
//! passed by name), the names of statuses, outcomes and sampling decisions (core's `name()`s and
//! `Serialize`), error codes and messages, and the slot layout. So no name is spelled twice, and the
//! JS holds no format knowledge of its own.

use serde::Serialize;
use tracebridge::translate::Status;
use tracebridge::{Error, Format, Sampling};

use crate::io::{header_index, headers, Role, NAMED, NAME_SHIFT, NOT_ASCII, PREFIXES};
use crate::ops::{InjectError, OUTCOMES, PACKED_FORMATS, REPORT, ROOT_REASONS, SAMPLINGS, STATUSES};
use crate::out;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tables {
    /// `Format::NAMES`.
    formats: [&'static str; Format::COUNT],
    /// Per format, the positions of its headers in `headers`.
    format_headers: Vec<Vec<usize>>,
    /// Every header, as entries number them.
    headers: Vec<&'static str>,
    /// The prefixes of the headers passed by name (`io::PREFIXES`).
    prefixes: [&'static str; 2],
    /// By status code: core's serialization of the status (`{"status", "error"?, "code"?}`).
    statuses: Vec<Status>,
    /// By position in `Error::ALL`: `[code, message]`.
    errors: Vec<[&'static str; 2]>,
    /// `Outcome::name` by outcome code.
    outcomes: Vec<&'static str>,
    /// By root reason code.
    root_reasons: Vec<&'static str>,
    /// Core's serialization by sampling code.
    samplings: [Sampling; 4],
    /// The report fields of `translate`, in order.
    report: [&'static str; 16],
    layout: Layout,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Layout {
    result: usize,
    lit_count: usize,
    fields: usize,
    strings: usize,
    lits: usize,
    named: usize,
    raw_end: usize,
    ints: usize,
    bytes: usize,
    lit: i32,
    raw: i32,
    null: i32,
    overflow: i32,
    lit_slots: usize,
    not_ascii: i32,
    named_entry: i32,
    name_shift: u32,
    roles: [i32; 4],
    inject_errors: [i32; 4],
    /// How many formats `inject` takes ([`crate::ops::unpack_formats`]).
    packed_formats: usize,
}

/// The tables document.
pub fn json() -> String {
    let tables = Tables {
        formats: Format::NAMES,
        format_headers: Format::ALL
            .iter()
            .map(|f| f.headers().iter().filter_map(|h| header_index(h)).collect())
            .collect(),
        headers: headers().collect(),
        prefixes: PREFIXES,
        statuses: STATUSES.iter().copied().chain(Error::ALL.iter().map(|e| Status::Invalid(*e))).collect(),
        errors: Error::ALL.iter().map(|e| [e.code(), e.as_str()]).collect(),
        outcomes: OUTCOMES.iter().map(|o| o.name()).collect(),
        root_reasons: ROOT_REASONS.iter().map(|(_, n)| *n).collect(),
        samplings: SAMPLINGS,
        report: REPORT,
        layout: Layout {
            result: out::RESULT,
            lit_count: out::LIT_COUNT,
            fields: out::FIELDS,
            strings: out::STRINGS,
            lits: out::LITS,
            named: out::NAMED,
            raw_end: out::RAW_END,
            ints: out::INTS,
            bytes: out::BYTES,
            lit: out::LIT,
            raw: out::RAW,
            null: out::NULL,
            overflow: out::OVERFLOW,
            lit_slots: out::LIT_SLOTS,
            not_ascii: NOT_ASCII,
            named_entry: NAMED,
            name_shift: NAME_SHIFT,
            roles: [Role::TraceId as i32, Role::SpanId as i32, Role::ParentSpanId as i32, Role::TraceState as i32],
            inject_errors: [
                InjectError::TraceId as i32,
                InjectError::SpanId as i32,
                InjectError::ParentSpanId as i32,
                InjectError::TraceState as i32,
            ],
            packed_formats: PACKED_FORMATS,
        },
    };
    serde_json::to_string(&tables).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_use_core_names() {
        let v: serde_json::Value = serde_json::from_str(&super::json()).unwrap_or_default();
        assert_eq!(v["formats"][1], "b3-single");
        assert_eq!(v["headers"][0], "traceparent");
        assert_eq!(v["formatHeaders"][0], serde_json::json!([0, 1]));
        assert_eq!(v["statuses"][0], serde_json::json!({"status": "not-read"}));
        assert_eq!(v["statuses"][4]["status"], "invalid");
        assert_eq!(v["statuses"][4]["code"], v["errors"][0][0]);
        assert_eq!(v["outcomes"][1], "new-root");
        assert_eq!(v["samplings"], serde_json::json!(["deny", "defer", "accept", "debug"]));
    }
}
