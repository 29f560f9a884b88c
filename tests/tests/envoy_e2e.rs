//! The Envoy filter end to end: a real Envoy (V8) runs `target/tracebridge.wasm` (or
//! `$TRACEBRIDGE_WASM`) in front of an echo upstream, and the tests assert the exact trace headers the
//! upstream received. Build the filter first: `scripts/build-filter.sh` (scripts/test.sh does).
//!
//! The expected headers come from core's own [`Translator`] run in-process on the same headers and
//! configuration: the filter must add nothing and lose nothing on the way through the host calls.
//! A few literal values pin the formats themselves.
//!
//! One shared Envoy serves every listener-per-configuration below; the stats test and the refused
//! configurations start their own.

mod envoy_support;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use envoy_support::{only_trace_headers, Envoy, Exchange, Headers};
use serde_json::Value;
use tracebridge::translate::{Config, Translator};
use tracebridge::Format;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const SPAN: &str = "b7ad6b7169203331";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const ALL: &str = r#"["w3c","b3-single","b3-multi","jaeger","xray","grpc-trace-bin","datadog","ot","instana","gcp"]"#;

/// The same sampled context in every format.
fn inputs() -> Vec<(Format, Vec<(&'static str, &'static str)>)> {
    vec![
        (Format::W3c, vec![("traceparent", TRACEPARENT)]),
        (Format::B3Single, vec![("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")]),
        (Format::B3Multi, vec![("X-B3-TraceId", TRACE), ("X-B3-SpanId", SPAN), ("X-B3-Sampled", "1")]),
        (Format::Jaeger, vec![("uber-trace-id", "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1")]),
        (
            Format::XRay,
            vec![("X-Amzn-Trace-Id", "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1")],
        ),
        (Format::GrpcTraceBin, vec![("grpc-trace-bin", "AAAK92UZFs1D3YRI6yEcgDGcAbeta3FpIDMxAgE=")]),
        (
            Format::Datadog,
            vec![
                ("x-datadog-trace-id", "9532127138774266268"),
                ("x-datadog-parent-id", "13235353014750950193"),
                ("x-datadog-sampling-priority", "1"),
                ("x-datadog-tags", "_dd.p.tid=0af7651916cd43dd"),
            ],
        ),
        (Format::Ot, vec![("ot-tracer-traceid", TRACE), ("ot-tracer-spanid", SPAN), ("ot-tracer-sampled", "true")]),
        (Format::Instana, vec![("X-INSTANA-T", TRACE), ("X-INSTANA-S", SPAN), ("X-INSTANA-L", "1")]),
        (Format::Gcp, vec![("X-Cloud-Trace-Context", "0af7651916cd43dd8448eb211c80319c/13235353014750950193;o=1")]),
    ]
}

/// `ALL` names every format: a new one in the registry must be added there (and to `inputs`).
#[test]
fn all_lists_every_format() {
    let names: Vec<String> = serde_json::from_str(ALL).unwrap_or_default();
    assert_eq!(names, Format::NAMES.map(str::to_string));
    assert_eq!(inputs().len(), Format::COUNT);
}

fn listeners() -> Vec<(String, String)> {
    let mut l = vec![
        ("to_w3c".to_string(), format!(r#"{{"extract":{ALL},"inject":["w3c"]}}"#)),
        ("from_w3c".into(), format!(r#"{{"extract":["w3c"],"inject":{ALL}}}"#)),
        ("conflict_first".into(), r#"{"extract":["w3c","b3-single"],"inject":["w3c"]}"#.into()),
        ("conflict_root".into(), r#"{"extract":["w3c","b3-single"],"inject":["w3c"],"on_conflict":"new-root"}"#.into()),
        ("remove".into(), format!(r#"{{"extract":{ALL},"inject":["w3c"],"remove_other_formats":true}}"#)),
        ("roots".into(), r#"{"inject":["w3c","b3-single"],"on_missing":"new-root"}"#.into()),
        (
            "shadow".into(),
            r#"{"inject":["w3c"],"on_missing":"new-root","shadow":true,"shadow_header":"x-tracebridge-shadow"}"#.into(),
        ),
        ("response".into(), r#"{"inject":["w3c"],"response_trace_id_header":"x-trace-id"}"#.into()),
    ];
    for f in Format::ALL {
        l.push((vector_listener(f), format!(r#"{{"extract":["{}"],"inject":["w3c"]}}"#, f.name())));
    }
    l
}

fn vector_listener(f: Format) -> String {
    format!("vectors_{}", f.name().replace('-', "_"))
}

fn config_of(name: &str) -> String {
    listeners().into_iter().find(|(n, _)| n == name).map(|(_, c)| c).unwrap_or_default()
}

/// The Envoy every test except stats and refused configurations shares.
fn envoy() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| {
        let l = listeners();
        let refs: Vec<(&str, &str)> = l.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
        Envoy::start(&refs)
    })
}

/// What core alone writes for `headers` under listener `name`'s configuration: the trace headers the
/// upstream must receive. `random` is fixed, so only use it where no root is generated.
fn core_expects(listener: &str, headers: &[(&str, &str)]) -> Headers {
    let Ok(Value::Object(mut json)) = serde_json::from_str::<Value>(&config_of(listener)) else {
        panic!("listener {listener}: config is not a JSON object");
    };
    for key in ["shadow", "shadow_header", "response_trace_id_header"] {
        json.remove(key);
    }
    let config: Config = serde_json::from_value(Value::Object(json)).unwrap_or_else(|e| panic!("{listener}: {e}"));
    let translator = Translator::new(config).unwrap_or_else(|e| panic!("{listener}: {e}"));
    let mut carrier: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    translator.translate(&mut carrier, || [7; 24]);
    only_trace_headers(&carrier)
}

fn owned(headers: &[(&str, &str)]) -> Headers {
    headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn one<'a>(ex: &'a Exchange, name: &str) -> &'a str {
    match ex.upstream_values(name).as_slice() {
        [v] => v,
        other => panic!("expected one {name} header upstream, got {other:?} (all: {:?})", ex.upstream),
    }
}

#[test]
fn every_format_in_gives_w3c_out() {
    let envoy = envoy();
    for (format, headers) in inputs() {
        let ex = envoy.send("to_w3c", &headers);
        assert_eq!(ex.trace_headers(), core_expects("to_w3c", &headers), "{format} in");
        assert_eq!(one(&ex, "traceparent"), TRACEPARENT, "{format} in");
        for (n, v) in &headers {
            assert!(ex.upstream_values(n).contains(v), "{format}: incoming {n} kept");
        }
    }
}

#[test]
fn w3c_in_gives_every_format_out() {
    let envoy = envoy();
    let input = [("traceparent", TRACEPARENT)];
    let ex = envoy.send("from_w3c", &input);
    assert_eq!(ex.trace_headers(), core_expects("from_w3c", &input));
    assert_eq!(one(&ex, "traceparent"), TRACEPARENT);
    assert_eq!(one(&ex, "b3"), "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1");
    assert_eq!(one(&ex, "x-b3-traceid"), TRACE);
    assert_eq!(one(&ex, "x-b3-spanid"), SPAN);
    assert!(one(&ex, "x-amzn-trace-id").starts_with("Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331"));
    for name in ["uber-trace-id", "grpc-trace-bin", "x-datadog-trace-id", "ot-tracer-traceid", "x-instana-t"] {
        one(&ex, name);
    }
    assert_eq!(one(&ex, "x-cloud-trace-context"), "0af7651916cd43dd8448eb211c80319c/13235353014750950193;o=1");
    // Each written format, read back alone, is the same trace.
    for (format, _) in inputs() {
        let back: Vec<(String, String)> = ex
            .trace_headers()
            .into_iter()
            .filter(|(n, _)| format != Format::W3c && format.headers().contains(&n.as_str()))
            .collect();
        if back.is_empty() {
            continue;
        }
        let refs: Vec<(&str, &str)> = back.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let again = envoy.send("to_w3c", &refs);
        assert_eq!(one(&again, "traceparent"), TRACEPARENT, "{format} written by the filter, read back");
    }
}

#[test]
fn conflicting_formats_prefer_the_first_or_start_a_root() {
    let envoy = envoy();
    let other = "1111111111111111aaaaaaaaaaaaaaaa-2222222222222222-1";
    let input = [("traceparent", TRACEPARENT), ("b3", other)];
    let ex = envoy.send("conflict_first", &input);
    assert_eq!(ex.trace_headers(), core_expects("conflict_first", &input));
    assert_eq!(one(&ex, "traceparent"), TRACEPARENT, "w3c is first in extract");
    assert_eq!(one(&ex, "b3"), other, "the conflicting header is left alone");

    let ex = envoy.send("conflict_root", &input);
    let tp = one(&ex, "traceparent");
    assert!(!tp.contains(TRACE) && !tp.contains("1111111111111111aaaaaaaaaaaaaaaa"), "new root expected: {tp}");
}

#[test]
fn malformed_input_passes_through_untouched() {
    let envoy = envoy();
    let cases: [&[(&str, &str)]; 7] = [
        &[("traceparent", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")],
        &[("traceparent", "zz-not-a-traceparent")],
        &[("b3", "garbage")],
        &[("x-b3-spanid", SPAN)],
        &[("uber-trace-id", "1:2")],
        &[("x-amzn-trace-id", "Root=1-bad")],
        &[("grpc-trace-bin", "!!!")],
    ];
    for headers in cases {
        let ex = envoy.send("to_w3c", headers);
        assert_eq!(ex.trace_headers(), only_trace_headers(&owned(headers)), "{headers:?} must pass untouched");
        assert_eq!(ex.trace_headers(), core_expects("to_w3c", headers));
    }
}

#[test]
fn remove_other_formats_leaves_only_w3c() {
    let envoy = envoy();
    let input = [("X-B3-TraceId", TRACE), ("X-B3-SpanId", SPAN), ("X-B3-Sampled", "1"), ("b3", "0")];
    let ex = envoy.send("remove", &input);
    assert_eq!(ex.trace_headers(), core_expects("remove", &input));
    assert_eq!(one(&ex, "traceparent"), TRACEPARENT);
    let names: BTreeSet<String> = ex.trace_headers().into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().all(|n| n == "traceparent" || n == "tracestate"), "{names:?}");
}

#[test]
fn generated_roots_are_unique() {
    let envoy = envoy();
    let mut trace_ids = BTreeSet::new();
    for _ in 0..20 {
        let ex = envoy.send("roots", &[]);
        let tp = one(&ex, "traceparent").to_string();
        let parts: Vec<&str> = tp.split('-').collect();
        assert!(
            matches!(parts.as_slice(), [v, t, s, _] if *v == "00" && t.len() == 32 && s.len() == 16),
            "traceparent {tp}"
        );
        let trace = parts.get(1).copied().unwrap_or_default().to_string();
        assert!(trace.bytes().any(|b| b != b'0'));
        let b3 = one(&ex, "b3");
        assert!(b3.starts_with(&trace), "b3 {b3} carries the same new trace {trace}");
        assert!(trace_ids.insert(trace), "trace id repeated: {tp}");
    }
}

#[test]
fn shadow_mode_leaves_the_request_untouched_and_describes_the_change() {
    let envoy = envoy();
    let input = [("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")];
    let ex = envoy.send("shadow", &input);
    assert_eq!(ex.trace_headers(), only_trace_headers(&owned(&input)), "untouched");
    let shadow = one(&ex, "x-tracebridge-shadow");
    for part in ["source=b3-single", "inject=w3c", &format!("trace_id={TRACE}"), "root=no", "set=traceparent"] {
        assert!(shadow.contains(part), "shadow header {shadow:?} lacks {part}");
    }

    let ex = envoy.send("shadow", &[]);
    assert!(ex.trace_headers().is_empty(), "no root written in shadow mode: {:?}", ex.trace_headers());
    let shadow = one(&ex, "x-tracebridge-shadow");
    assert!(shadow.contains("source=-") && shadow.contains("root=yes"), "{shadow}");
}

#[test]
fn response_carries_the_trace_id() {
    let envoy = envoy();
    let ex = envoy.send("response", &[("x-b3-traceid", TRACE), ("x-b3-spanid", SPAN)]);
    assert_eq!(ex.response_value("x-trace-id"), Some(TRACE));
    let ex = envoy.send("response", &[]);
    assert_eq!(ex.response_value("x-trace-id"), None, "nothing written, nothing reported");
}

/// Every `tests/vectors/<format>.json` vector through Envoy with `{"extract":[format],"inject":["w3c"]}`:
/// a context comes out as the matching traceparent; an error or absence leaves the headers as they were.
#[test]
fn spec_vectors_through_envoy() {
    let envoy = envoy();
    let dir = envoy_support::workspace_root().join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut checked, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_default()).unwrap_or_default();
        let Some(format) = doc["format"].as_str().and_then(Format::from_name) else { continue };
        for v in doc["vectors"].as_array().into_iter().flatten() {
            let name = format!("{}: {}", format, v["name"].as_str().unwrap_or("?"));
            let headers: Vec<(String, String)> = v["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| Some((h[0].as_str()?.to_string(), h[1].as_str()?.to_string())))
                .collect();
            if let Some(reason) = not_sendable(&headers) {
                skipped.push(format!("{name}: {reason}"));
                continue;
            }
            let expect = &v["expect"];
            let context = expect.get("trace_id").is_some();
            let untouched = expect.is_null() || expect.get("error").is_some();
            if !context && !untouched {
                continue; // sampling-only decisions: not a context outcome
            }
            let raw: Vec<(String, Vec<u8>)> = headers.iter().map(|(n, v)| (n.clone(), v.as_bytes().to_vec())).collect();
            let ex = envoy_support::request_bytes(envoy.port(&vector_listener(format)), &raw);
            checked += 1;
            if ex.status != 200 {
                failures.push(format!("{name}: status {}", ex.status));
                continue;
            }
            if untouched {
                if ex.trace_headers() != only_trace_headers(&headers) {
                    failures
                        .push(format!("{name}: expected untouched {headers:?}, upstream got {:?}", ex.trace_headers()));
                }
                continue;
            }
            let want_flag = if expect["sampled"] == Value::Bool(true) { "1" } else { "0" };
            let got = ex.upstream_values("traceparent");
            let ok = match got.as_slice() {
                [tp] => {
                    let parts: Vec<&str> = tp.split('-').collect();
                    matches!(parts.as_slice(), [_, t, s, flags, ..]
                        if Some(*t) == expect["trace_id"].as_str() && Some(*s) == expect["span_id"].as_str()
                            && u8::from_str_radix(flags, 16).is_ok_and(|f| (f & 1).to_string() == want_flag))
                }
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{name}: expected trace {} span {} sampled {want_flag}, upstream traceparent {got:?}",
                    expect["trace_id"], expect["span_id"]
                ));
            }
            // A W3C context continued: the tracestate goes on as read (an invalid one dropped, a
            // repeated key's later members dropped), whatever its spacing on the wire.
            if format == Format::W3c {
                if let Some(want) = expect.get("tracestate") {
                    let lines = ex.upstream_values("tracestate");
                    let got = if lines.is_empty() {
                        Value::Null
                    } else {
                        match tracebridge::TraceState::parse_lines(lines.iter().map(|l| l.as_bytes())) {
                            Ok(ts) => Value::String(ts.to_string()),
                            Err(e) => Value::String(format!("<invalid: {e}>")),
                        }
                    };
                    if got != *want {
                        failures.push(format!("{name}: expected tracestate {want}, upstream got {lines:?}"));
                    }
                }
            }
        }
    }
    for s in &skipped {
        eprintln!("not sent through Envoy: {s}");
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} vectors differ through Envoy:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no vectors found in {}", dir.display());
}

/// Headers HTTP/1.1 cannot carry unchanged, so the vector tests something Envoy decides, not us.
fn not_sendable(headers: &[(String, String)]) -> Option<&'static str> {
    for (n, v) in headers {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
            return Some("header name is not an HTTP token");
        }
        if v.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
            return Some("control characters are refused by Envoy's HTTP/1.1 codec (400)");
        }
        if v.starts_with([' ', '\t']) || v.ends_with([' ', '\t']) {
            return Some("HTTP/1.1 strips optional whitespace around values (RFC 9112 §5)");
        }
        if v.is_empty() {
            return Some("empty value");
        }
    }
    None
}

/// Counters, read from `/stats?format=json` and `/stats/prometheus` of an Envoy of its own (counters
/// are per Envoy, so no other test may send through it).
#[test]
fn stats_count_each_outcome() {
    let envoy = Envoy::start(&[
        ("stats", &format!(r#"{{"extract":{ALL},"inject":["w3c","b3-multi"],"on_missing":"new-root"}}"#)),
        ("stats_shadow", r#"{"inject":["w3c"],"shadow":true}"#),
    ]);
    envoy.send("stats", &[("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")]);
    envoy.send("stats", &[("uber-trace-id", "not:valid")]);
    envoy.send("stats", &[]);
    envoy.send("stats", &[("traceparent", TRACEPARENT), ("b3", "1111111111111111aaaaaaaaaaaaaaaa-2222222222222222-1")]);
    envoy.send("stats_shadow", &[("uber-trace-id", "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1")]);
    // Dropped parts: a tracestate key given twice (its later member), a malformed baggage member.
    envoy.send("stats_shadow", &[("traceparent", TRACEPARENT), ("tracestate", "a=1"), ("tracestate", "a=2")]);
    envoy.send("stats_shadow", &[("traceparent", TRACEPARENT), ("baggage", "k=v,=broken")]);

    let c = envoy.counters_after(7);
    let get = |n: &str| c.get(n).copied().unwrap_or_else(|| panic!("counter {n} not in /stats: {c:?}"));
    assert_eq!(get("tracebridge.requests"), 7);
    assert_eq!(get("tracebridge.extracted.b3_single"), 2);
    assert_eq!(get("tracebridge.extracted.w3c"), 3);
    assert_eq!(get("tracebridge.dropped"), 2);
    assert_eq!(get("tracebridge.extracted.jaeger"), 1);
    assert_eq!(get("tracebridge.invalid.jaeger"), 1);
    assert_eq!(get("tracebridge.invalid.xray"), 0);
    assert_eq!(get("tracebridge.missing"), 2);
    assert_eq!(get("tracebridge.roots"), 2);
    assert_eq!(get("tracebridge.conflicts"), 1);
    // The conflict request's traceparent is the context continued, so it is not rewritten; shadow
    // requests write nothing.
    assert_eq!(get("tracebridge.injected.w3c"), 3);
    assert_eq!(get("tracebridge.injected.b3_multi"), 4);
    assert_eq!(get("tracebridge.injected.grpc_trace_bin"), 0);
    // Shadow: the Jaeger request, and the repeated tracestate key (its tracestate would be cut).
    assert_eq!(get("tracebridge.shadow"), 2);

    let (status, prom) = envoy.admin_get("/stats/prometheus").unwrap_or_default();
    assert_eq!(status, 200);
    for (name, value) in
        [("tracebridge_requests", 7), ("tracebridge_extracted_b3_single", 2), ("tracebridge_missing", 2)]
    {
        assert!(
            prom.lines()
                .any(|l| l.split_once('{').is_some_and(|(n, rest)| n == name && rest.ends_with(&format!(" {value}")))),
            "{name} {value} not in /stats/prometheus"
        );
        assert!(prom.contains(&format!("# TYPE {name} counter")), "{name} is not a counter");
    }
}

/// A configuration the filter refuses stops Envoy from starting, and the log names the key.
#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    for (config, key) in [
        (r#"{"inject":["w3c"],"injekt":["b3-single"]}"#, "injekt"),
        (r#"{"on_missing":"explode"}"#, "on_missing"),
        (r#"{"tracestate":{"max_len":10}}"#, "tracestate.max_len"),
        (r#"{"shadow":"yes"}"#, "shadow"),
    ] {
        envoy_support::assert_refused(config, key);
    }
}

/// The default build leaves out `proxy_on_response_headers` (a call into the VM on every response):
/// a configuration asking for response headers is refused there, naming the option and the build
/// that serves it; the response build (the `response` listener of [`shared`]) serves it.
#[test]
fn response_headers_need_the_response_build() {
    let upstream = envoy_support::Upstream::start();
    let options = envoy_support::Options { wasm: Some(envoy_support::wasm_path()), ..Default::default() };
    for (config, key) in [
        (r#"{"inject":["w3c"],"response_trace_id_header":"x-trace-id"}"#, "response_trace_id_header"),
        (r#"{"inject":["w3c"],"traceresponse":true}"#, "traceresponse"),
    ] {
        let log = match Envoy::try_start_opts(upstream.port, &[("bad", Some(config))], "debug", &options) {
            Ok(_) => panic!("the default build started with {config}"),
            Err(log) => log,
        };
        let line = log.lines().find(|l| l.contains("configuration refused")).unwrap_or_default();
        assert!(line.contains(key) && line.contains("tracebridge-response.wasm"), "{config}: {line:?}\n{log}");
    }
    // The same default build serves every other listener of the shared Envoy; with the response
    // options it would not have started.
    assert!(!envoy_support::asks_for_response_headers(r#"{"inject":["w3c"],"response_trace_id_header":null}"#));
}

/// Every `tests/vectors/translate.json` vector (the translation policy) through an Envoy with one
/// listener per vector configuration: the upstream must receive exactly the vector's trace headers.
/// Vectors that start a new root get real randomness in Envoy, so for them the headers are checked by
/// name and length, and the ones passed on as they came, exactly.
#[test]
fn translate_vectors_through_envoy() {
    let path = envoy_support::workspace_root().join("tests/vectors/translate.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or_default();
    let vectors = doc["vectors"].as_array().cloned().unwrap_or_default();
    assert!(!vectors.is_empty(), "no vectors in {}", path.display());
    let names: Vec<String> = (0..vectors.len()).map(|i| format!("t{i}")).collect();
    let configs: Vec<String> = vectors.iter().map(|v| v["config"].to_string()).collect();
    let listeners: Vec<(&str, &str)> =
        names.iter().map(String::as_str).zip(configs.iter().map(String::as_str)).collect();
    let envoy = Envoy::start(&listeners);
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| Some((h[0].as_str()?.to_string(), h[1].as_str()?.to_string())))
            .collect()
    };
    let mut failures = Vec::new();
    for (v, listener) in vectors.iter().zip(&names) {
        let name = v["name"].as_str().unwrap_or("?");
        let sent = pairs(&v["headers"]);
        let refs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let ex = envoy.send(listener, &refs);
        let want = only_trace_headers(&pairs(&v["expect"]["headers"]));
        let sent_trace = only_trace_headers(&sent);
        let got = ex.trace_headers();
        let random = v.get("random").is_some();
        let same = if random {
            // Random ids can land in any written header (traceparent, tracestate, b3, X-Ray's Parent…):
            // same names, same lengths, and the headers no id reaches unchanged.
            let shape = |h: &Headers| -> Vec<(String, usize)> { h.iter().map(|(n, v)| (n.clone(), v.len())).collect() };
            let untouched: Vec<_> = want.iter().filter(|w| sent_trace.contains(w)).collect();
            // A trace id not drawn from the vector's random bytes (kept from an X-Ray `Root`) must come
            // through exactly.
            let trace_of = |h: &Headers| {
                h.iter().find(|(n, _)| n == "traceparent").and_then(|(_, v)| v.split('-').nth(1).map(str::to_string))
            };
            let drawn = v["random"].as_str().and_then(|r| r.get(..32)).map(str::to_string);
            let kept_ok = trace_of(&want) == drawn || trace_of(&got) == trace_of(&want);
            shape(&got) == shape(&want) && untouched.iter().all(|w| got.contains(w)) && kept_ok
        } else {
            got == want
        };
        if !same {
            failures.push(format!("{name}:\n   got {got:?}\n  want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} translate vectors differ through Envoy:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
