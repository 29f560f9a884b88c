//! Runs `tests/vectors/translate.json` — the translation policy end to end on header lists — through
//! core's `Translator`. The Envoy filter and npm package run the same file.
//!
//! Vector shape: `{"name", "rule", "config": <Translator JSON>, "headers": [[name, value]...],
//! "random": "<48 hex digits, the bytes a new root draws>"?, "expect": {"outcome": "continued" |
//! "new-root" | "sampling-only" | "ignored" | "pass-through", "source": <format>|null,
//! "status": {<format>: "absent"|"valid"|"invalid"|"conflict"|"not-read"}? (only the listed ones are
//! checked), "headers": [[name, value]...]}}` where `expect.headers` is the whole header list after the
//! translation, compared with lowercase names, in any order.

use serde_json::{json, Value};
use std::path::PathBuf;
use tracebridge::translate::Config;
use tracebridge::{Format, Translator};

fn random_from(v: &Value) -> [u8; 24] {
    let mut out = [0u8; 24];
    if let Some(hex) = v.as_str() {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = hex.get(2 * i..2 * i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()).unwrap_or(0);
        }
    }
    out
}

fn sorted(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut h: Vec<_> = headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    h.sort();
    h
}

#[test]
fn translate_vectors_agree_with_core() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/translate.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(doc["format"], "translate", "{} missing or malformed", path.display());
    let mut failures = Vec::new();
    let vectors = doc["vectors"].as_array().cloned().unwrap_or_default();
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let config: Config = match serde_json::from_value(v["config"].clone()) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: config: {e}"));
                continue;
            }
        };
        let translator = match Translator::new(config) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{name}: config: {e}"));
                continue;
            }
        };
        let mut headers: Vec<(String, String)> = serde_json::from_value(v["headers"].clone()).unwrap_or_default();
        let random = random_from(&v["random"]);
        let report = translator.translate(&mut headers, || random);
        let want = &v["expect"];
        let got_outcome = json!(report.outcome.name());
        if want["outcome"] != got_outcome {
            failures.push(format!("{name}: outcome {got_outcome}, expected {}", want["outcome"]));
        }
        let got_source = json!(report.source.map(Format::name));
        if want["source"] != got_source {
            failures.push(format!("{name}: source {got_source}, expected {}", want["source"]));
        }
        for (f, st) in want["status"].as_object().into_iter().flatten() {
            let got = Format::from_name(f).map(|f| report.status(f).name());
            if got != st.as_str() {
                failures.push(format!("{name}: status of {f} is {got:?}, expected {st}"));
            }
        }
        let want_headers: Vec<(String, String)> = serde_json::from_value(want["headers"].clone()).unwrap_or_default();
        if sorted(&headers) != sorted(&want_headers) {
            failures.push(format!(
                "{name}: headers\n   got {:?}\n  want {:?}",
                sorted(&headers),
                sorted(&want_headers)
            ));
        }
    }
    assert!(!vectors.is_empty(), "no vectors in {}", path.display());
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), vectors.len(), failures.join("\n"));
}

/// A carrier that cannot list its names (as a user's own `Extractor` may be): every format is looked
/// up by name.
struct Unlisted<'a>(&'a [(String, String)]);

use tracebridge::Extractor;

impl Extractor for Unlisted<'_> {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> std::ops::ControlFlow<()>) {
        self.0.visit_values(name, each);
    }

    fn visit_prefixed<'s>(
        &'s self,
        prefix: &str,
        each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> std::ops::ControlFlow<()>,
    ) {
        self.0.visit_prefixed(prefix, each);
    }
}

/// The plan from `headers` as a slice (which gathers: `Extractor::gather`) and as an [`Unlisted`]
/// carrier, as text.
fn plans(t: &Translator, headers: &[(String, String)]) -> (String, String) {
    let listed = t.plan(headers, || [7; 24]);
    let unlisted = t.plan(&Unlisted(headers), || [7; 24]);
    (
        format!("{listed:?} {:?}", listed.removals().collect::<Vec<_>>()),
        format!("{unlisted:?} {:?}", unlisted.removals().collect::<Vec<_>>()),
    )
}

/// The translator reads a slice through the lines it gathers (those whose names a format or baggage
/// source may read), and skips the formats none of whose names are there (core's `name_filter`):
/// the same plan must come out as from a carrier looked up name by name, for every vector of every
/// file, under its own configuration and with every format read and written.
#[test]
fn listing_the_names_changes_no_plan() {
    use tracebridge::translate::FormatList;
    let every =
        Translator::new(Config { inject: FormatList::ALL, ..Config::default() }).unwrap_or_else(|e| panic!("{e}"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        for v in doc["vectors"].as_array().into_iter().flatten() {
            let own = serde_json::from_value::<Config>(v["config"].clone()).ok().and_then(|c| Translator::new(c).ok());
            let headers: Vec<(String, String)> = serde_json::from_value(v["headers"].clone()).unwrap_or_default();
            for t in own.iter().chain([&every]) {
                let (listed, unlisted) = plans(t, &headers);
                assert_eq!(listed, unlisted, "{}: {}", entry.path().display(), v["name"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "{checked} plans compared");
}

/// A slice gathers at most 32 lines: a request with more lines a translator may read (here Jaeger
/// baggage, one line per key) is read from the slice itself, with the same plan; so is one just
/// under the limit, read from the lines gathered.
#[test]
fn more_lines_than_a_slice_gathers_change_no_plan() {
    use tracebridge::translate::FormatList;
    let every =
        Translator::new(Config { inject: FormatList::ALL, ..Config::default() }).unwrap_or_else(|e| panic!("{e}"));
    for n in [20, 29, 30, 31, 32, 33, 60] {
        let mut headers: Vec<(String, String)> = vec![
            ("user-agent".into(), "curl".into()),
            ("uber-trace-id".into(), "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1".into()),
        ];
        headers.extend((0..n).map(|i| (format!("UberCtx-k{i}"), format!("v{i}"))));
        headers.push(("tracestate".into(), "a=1".into()));
        let (listed, unlisted) = plans(&every, &headers);
        assert_eq!(listed, unlisted, "{n} baggage lines");
        assert!(listed.contains(&format!("v{}", n - 1)), "{n}: the last baggage entry is carried: {listed}");
    }
}
