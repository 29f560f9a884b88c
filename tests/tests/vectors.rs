//! Runs every `tests/vectors/<format>.json` through core. The Envoy filter and the npm package run
//! the same files, so every door gives the same answer for the same headers.
//!
//! File shape:
//! ```json
//! { "format": "b3-single", "spec": "<url>", "deviations": [{"name": "...", "reason": "..."}],
//!   "vectors": [ { "name": "...", "rule": "<spec section>", "headers": [["b3", "..."]],
//!                  "expect": <outcome>, "reformat": "<header value written back>"? } ] }
//! ```
//! `<outcome>` is `null` (format absent), `{"error": "<Error::code()>"}`,
//! `{"sampling_only": "deny"|"defer"|"accept"|"debug"}`, or the context JSON of
//! `TraceContext`'s `Serialize` impl, optionally with `"warning": "<code>"`.
//! `reformat`, when given, is what injecting the parsed context in the same format must write for the
//! format's first header (for B3 multi: the headers as `[[name, value]]`).

use serde_json::{json, Value};
use std::path::PathBuf;
use tracebridge::format::Extracted;
use tracebridge::{Format, Propagation};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn outcome(format: Format, headers: &[(String, String)]) -> Value {
    match format.extract(headers) {
        Ok(None) => Value::Null,
        Err(e) => json!({ "error": e.code() }),
        Ok(Some(Extracted { propagation: Propagation::SamplingOnly(s), .. })) => json!({ "sampling_only": s }),
        Ok(Some(Extracted { propagation: Propagation::Context(ctx), warning })) => {
            let mut v = serde_json::to_value(ctx).unwrap_or(Value::Null);
            if let (Some(w), Some(obj)) = (warning, v.as_object_mut()) {
                obj.insert("warning".into(), json!(w.code()));
            }
            v
        }
    }
}

fn reformat(format: Format, headers: &[(String, String)]) -> Value {
    let Ok(Some(Extracted { propagation: Propagation::Context(ctx), .. })) = format.extract(headers) else {
        return Value::Null;
    };
    let mut out: Vec<(String, String)> = Vec::new();
    format.inject(&ctx, &mut out);
    match format {
        Format::B3Multi => json!(out),
        _ => out.first().map_or(Value::Null, |(_, v)| json!(v)),
    }
}

fn strip_optional(expect: &Value, got: &Value) -> Value {
    // Fields the vector leaves out are not checked.
    match (expect, got) {
        (Value::Object(e), Value::Object(g)) => {
            Value::Object(g.iter().filter(|(k, _)| e.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        _ => got.clone(),
    }
}

#[test]
fn every_vector_file_agrees_with_core() {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .map(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            failures.push(format!("{}: not JSON: {e}", file.display()));
            Value::Null
        });
        let Some(format) = doc["format"].as_str().and_then(Format::from_name) else {
            if doc["format"] == "translate" {
                continue; // translator-level vectors are run by tests/translate.rs
            }
            failures.push(format!("{}: no known \"format\"", file.display()));
            continue;
        };
        for v in doc["vectors"].as_array().into_iter().flatten() {
            count += 1;
            let name = v["name"].as_str().unwrap_or("?");
            let headers: Vec<(String, String)> = serde_json::from_value(v["headers"].clone()).unwrap_or_default();
            let got = outcome(format, &headers);
            let want = &v["expect"];
            if strip_optional(want, &got) != *want {
                failures.push(format!("{} / {name}: expected {want}, got {got}", format.name()));
            }
            if let Some(want) = v.get("reformat") {
                let got = reformat(format, &headers);
                if got != *want {
                    failures.push(format!("{} / {name}: reformat expected {want}, got {got}", format.name()));
                }
            }
        }
    }
    assert!(count > 0, "no vectors found in {}", vectors_dir().display());
    assert!(failures.is_empty(), "{} of {count} vectors failed:\n{}", failures.len(), failures.join("\n"));
}
