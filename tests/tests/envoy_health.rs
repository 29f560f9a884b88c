//! Finding who breaks propagation, in a real Envoy: per-caller counters read from
//! `/stats/prometheus` with the label `caller`, the per-request fields printed by an access log
//! (`%FILTER_STATE(wasm.tracebridge:PLAIN)%`), and the `traceresponse` response header. Build the
//! filter first: `scripts/build-filter.sh`.
//!
//! Counters and the caller table belong to one Envoy, so every test starts its own.

mod envoy_support;

use std::path::Path;
use std::process::Command;

use envoy_support::{Envoy, Options, TempDir, Tls, Upstream};
use tracebridge::Format;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const SPAN: &str = "b7ad6b7169203331";
const B3: &str = "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Every format, as a JSON `extract` list.
fn all_formats() -> String {
    let names: Vec<String> = Format::ALL.iter().map(|f| format!("\"{}\"", f.name())).collect();
    format!("[{}]", names.join(","))
}

/// The value of the Prometheus series `name{labels}`, if `/stats/prometheus` has it.
fn series(prom: &str, name: &str, labels: &str) -> Option<u64> {
    let want = format!("{name}{{{labels}}} ");
    prom.lines().find_map(|l| l.strip_prefix(&want)).and_then(|v| v.trim().parse().ok())
}

fn start(listeners: &[(&str, &str)], options: &Options) -> Envoy {
    let upstream = Upstream::start();
    let listeners: Vec<(&str, Option<&str>)> = listeners.iter().map(|(n, c)| (*n, Some(*c))).collect();
    Envoy::try_start_opts(upstream.port, &listeners, "debug", options)
        .unwrap_or_else(|log| panic!("Envoy did not start; its log:\n{log}"))
}

/// `x-client-name: alpha` / `beta` / none through a filter counting per caller: the counters carry
/// the caller as the Prometheus label `caller`, callers past `max_callers` are `other`, and the
/// listener-wide counters are what they were.
#[test]
fn per_caller_counters_carry_the_caller_label() {
    let config = format!(
        r#"{{"extract":{},"inject":["w3c"],"caller":{{"header":"x-client-name"}},"max_callers":3}}"#,
        all_formats()
    );
    let envoy = start(&[("callers", &config)], &Options::default());
    let send = |caller: Option<&str>, trace: &[(&'static str, &'static str)]| {
        let mut headers: Vec<(&str, &str)> = trace.to_vec();
        if let Some(c) = caller {
            headers.push(("x-client-name", c));
        }
        envoy.send("callers", &headers);
    };
    // alpha propagates nothing; beta sends B3 (once with a malformed Jaeger header beside it); a
    // hostile name is made safe; gamma and delta come after three named callers.
    for _ in 0..3 {
        send(Some("alpha"), &[]);
    }
    send(Some("beta"), &[("b3", B3)]);
    send(Some("beta"), &[("b3", B3), ("uber-trace-id", "not:valid")]);
    send(Some("Team.A/b c=d;e"), &[("traceparent", TRACEPARENT)]);
    send(None, &[]);
    send(Some("gamma"), &[]);
    send(Some("delta"), &[("b3", B3)]);
    let total = 9;

    let c = envoy.counters_after(total);
    assert_eq!(c.get("tracebridge.requests"), Some(&total), "listener-wide counters unchanged: {c:?}");
    assert_eq!(c.get("tracebridge.missing"), Some(&5));
    assert_eq!(c.get("caller=.=alpha;.;tracebridge.missing"), Some(&3), "the stat name in /stats: {c:?}");

    let prom = envoy.prometheus();
    let expect = [
        ("tracebridge_requests", r#"caller="alpha""#, 3),
        ("tracebridge_missing", r#"caller="alpha""#, 3),
        ("tracebridge_roots", r#"caller="alpha""#, 0),
        ("tracebridge_requests", r#"caller="beta""#, 2),
        ("tracebridge_missing", r#"caller="beta""#, 0),
        ("tracebridge_extracted_b3_single", r#"caller="beta""#, 2),
        ("tracebridge_invalid_jaeger", r#"caller="beta""#, 1),
        ("tracebridge_invalid_jaeger", r#"caller="alpha""#, 0),
        ("tracebridge_requests", r#"caller="Team_A_b_c_d_e""#, 1),
        ("tracebridge_extracted_w3c", r#"caller="Team_A_b_c_d_e""#, 1),
        ("tracebridge_requests", r#"caller="unknown""#, 1),
        ("tracebridge_missing", r#"caller="unknown""#, 1),
        ("tracebridge_requests", r#"caller="other""#, 2),
        ("tracebridge_missing", r#"caller="other""#, 1),
        ("tracebridge_extracted_b3_single", r#"caller="other""#, 1),
        // The listener-wide series: the same family, no label.
        ("tracebridge_requests", "", total),
        ("tracebridge_missing", "", 5),
        ("tracebridge_invalid_jaeger", "", 1),
    ];
    let mut wrong = Vec::new();
    for (name, labels, value) in expect {
        let got = series(&prom, name, labels);
        if got != Some(value) {
            wrong.push(format!("{name}{{{labels}}}: expected {value}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}\n/stats/prometheus:\n{prom}", wrong.join("\n"));
    for absent in ["gamma", "delta"] {
        assert!(!prom.contains(&format!("caller=\"{absent}\"")), "{absent} is past max_callers: counted as other");
    }
    assert!(!prom.contains("tracebridge_injected_w3c{caller="), "injected.<format> is not kept per caller");
    assert!(!prom.contains("caller___"), "every per-caller name is tagged: none left untagged");
    assert_eq!(prom.matches("# TYPE tracebridge_missing counter").count(), 1, "one family per counter");
}

/// Callers read from a host property: an Envoy attribute path, and the peer certificate's URI SAN,
/// which a plain-text connection does not have (so `unknown`, never a failed request).
#[test]
fn callers_from_envoy_attributes() {
    let envoy = start(
        &[
            ("attribute", r#"{"caller":{"attribute":["request","headers","x-team"]},"max_callers":1}"#),
            ("principal", r#"{"caller":{"principal":true}}"#),
        ],
        &Options::default(),
    );
    envoy.send("attribute", &[("x-team", "ops")]);
    envoy.send("attribute", &[("x-team", "ops"), ("b3", B3)]);
    envoy.send("attribute", &[("x-team", "dev")]);
    envoy.send("attribute", &[]);
    envoy.send("principal", &[("x-team", "ops")]);
    envoy.send("principal", &[]);
    envoy.counters_after(6);
    let prom = envoy.prometheus();
    for (name, labels, value) in [
        ("tracebridge_requests", r#"caller="ops""#, 2),
        ("tracebridge_missing", r#"caller="ops""#, 1),
        ("tracebridge_requests", r#"caller="other""#, 1),
        ("tracebridge_requests", r#"caller="unknown""#, 3),
        ("tracebridge_requests", "", 6),
    ] {
        assert_eq!(series(&prom, name, labels), Some(value), "{name}{{{labels}}}\n{prom}");
    }
}

/// Runs `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("this test needs the openssl command (to make certificates): {e}"),
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate whose URI SAN is `spiffe`.
fn certificates(dir: &Path, spiffe: &str) -> Tls {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem"];
    ca.extend(ec);
    openssl(dir, &ca);
    for (name, san) in [("server", "IP:127.0.0.1".to_string()), ("client", format!("URI:{spiffe}"))] {
        let (key, csr, pem, ext) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        std::fs::write(dir.join(&ext), format!("subjectAltName={san}\n")).unwrap_or_else(|e| panic!("{ext}: {e}"));
        let mut req = vec!["req", "-new", "-subj", "/CN=test", "-keyout", &key, "-out", &csr];
        req.extend(ec);
        openssl(dir, &req);
        openssl(
            dir,
            &["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2"]
                .into_iter()
                .chain(["-extfile", &ext, "-out", &pem])
                .collect::<Vec<_>>(),
        );
    }
    Tls { cert: dir.join("server.pem"), key: dir.join("server.key"), ca: dir.join("ca.pem") }
}

/// The peer certificate's URI SAN as the caller, over real mutual TLS: a SPIFFE id is named by its
/// path; a client without a certificate is `unknown`.
#[test]
fn principal_is_the_peer_certificate_uri_san() {
    let dir = TempDir::new();
    let tls = certificates(&dir.0, "spiffe://cluster.local/ns/shop/sa/cart");
    let envoy = start(
        &[("mtls", r#"{"inject":["w3c"],"caller":{"principal":true}}"#)],
        &Options { tls: Some(tls), ..Options::default() },
    );
    let url = format!("https://127.0.0.1:{}/echo", envoy.port("mtls"));
    let curl = |client_cert: bool| {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail", "-o", "/dev/null", "--cacert"]).arg(dir.0.join("ca.pem"));
        if client_cert {
            cmd.arg("--cert").arg(dir.0.join("client.pem")).arg("--key").arg(dir.0.join("client.key"));
        }
        let out = cmd.args(["-H", &format!("b3: {B3}"), &url]).output();
        match out {
            Ok(o) => assert!(o.status.success(), "curl over TLS: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => panic!("this test needs the curl command (a TLS client): {e}"),
        }
    };
    curl(true);
    curl(true);
    curl(false);
    envoy.counters_after(3);
    let prom = envoy.prometheus();
    for (labels, value) in [(r#"caller="ns_shop_sa_cart""#, 2), (r#"caller="unknown""#, 1), ("", 3)] {
        assert_eq!(series(&prom, "tracebridge_requests", labels), Some(value), "{labels}\n{prom}");
    }
    assert_eq!(series(&prom, "tracebridge_extracted_b3_single", r#"caller="ns_shop_sa_cart""#), Some(2));
}

/// One line per request from a real access log printing the filter state the filter sets.
#[test]
fn access_log_prints_the_fields() {
    let options = Options {
        access_log_format: Some("%REQ(x-test)% %FILTER_STATE(wasm.tracebridge:PLAIN)%".to_string()),
        ..Options::default()
    };
    let all = format!(
        r#"{{"extract":{},"inject":["w3c"],"on_missing":"new-root","caller":{{"header":"x-client-name"}},"access_log":true}}"#,
        all_formats()
    );
    let envoy = start(
        &[
            ("all", &all),
            ("some", r#"{"inject":["w3c"],"access_log":["trace_id","root"]}"#),
            ("shadow", r#"{"inject":["w3c"],"on_missing":"new-root","shadow":true,"access_log":["root","formats"]}"#),
            ("unset", r#"{"inject":["w3c"]}"#),
        ],
        &options,
    );
    envoy.send("all", &[("x-test", "b3"), ("x-client-name", "alpha"), ("b3", B3), ("uber-trace-id", "not:valid")]);
    let root = envoy.send("all", &[("x-test", "root")]);
    envoy.send(
        "all",
        &[
            ("x-test", "conflict"),
            ("traceparent", TRACEPARENT),
            ("b3", "1111111111111111aaaaaaaaaaaaaaaa-2222222222222222-1"),
        ],
    );
    envoy.send("some", &[("x-test", "w3c"), ("traceparent", TRACEPARENT)]);
    envoy.send("shadow", &[("x-test", "shadow")]);
    envoy.send("unset", &[("x-test", "unset"), ("b3", B3)]);

    let root_trace = root
        .upstream_values("traceparent")
        .first()
        .and_then(|tp| tp.split('-').nth(1))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("a root was written upstream: {:?}", root.upstream));
    let formats_absent = format_states(&[]);
    let expect = [
        (
            "all",
            vec![
                format!(
                    "b3 source=b3-single outcome=continued root=no trace_id={TRACE} caller=alpha {}",
                    format_states(&[("b3-single", "valid"), ("jaeger", "invalid:jaeger_format")])
                ),
                format!(
                    "root source=- outcome=new-root root=yes trace_id={root_trace} caller=unknown {formats_absent}"
                ),
                format!(
                    "conflict source=w3c outcome=continued root=no trace_id={TRACE} caller=unknown {}",
                    format_states(&[("w3c", "valid"), ("b3-single", "conflict")])
                ),
            ],
        ),
        ("some", vec![format!("w3c root=no trace_id={TRACE}")]),
        // Shadow mode: what would have been done (the default extract list: every format).
        ("shadow", vec![format!("shadow root=yes {formats_absent}")]),
        // No access_log: the filter sets nothing, Envoy prints `-`.
        ("unset", vec!["unset -".to_string()]),
    ];
    for (listener, want) in expect {
        let got = envoy.access_log(listener, want.len());
        assert_eq!(got, want, "access log of listener {listener}");
    }
}

/// The per-format fields of an access-log line: every format in order, `absent` unless listed.
fn format_states(states: &[(&str, &str)]) -> String {
    Format::ALL
        .iter()
        .map(|f| {
            let state = states.iter().find(|(n, _)| *n == f.name()).map_or("absent", |(_, s)| s);
            format!("{}={state}", f.name())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// W3C Level 2 `traceresponse`: the trace id, parent id and flags of the `traceparent` the upstream
/// received.
#[test]
fn traceresponse_names_the_trace_written() {
    let envoy = start(
        &[
            ("traceresponse", r#"{"inject":["w3c"],"on_missing":"new-root","traceresponse":true}"#),
            ("plain", r#"{"inject":["w3c"],"on_missing":"new-root"}"#),
        ],
        &Options::default(),
    );
    let ex = envoy.send("traceresponse", &[("b3", B3)]);
    assert_eq!(ex.response_value("traceresponse"), Some(TRACEPARENT), "continued: the incoming ids");
    let ex = envoy.send("traceresponse", &[]);
    let upstream = ex.upstream_values("traceparent").first().map(|tp| tp.to_string()).unwrap_or_default();
    let response = ex.response_value("traceresponse").unwrap_or_default();
    assert_eq!(response.len(), 55, "{response:?}");
    assert_eq!(response, upstream, "a new root: the ids (and random flag) the upstream received");
    assert!(!response.contains(TRACE) && !response.contains(SPAN));
    assert_eq!(envoy.send("plain", &[]).response_value("traceresponse"), None, "only when configured");
}

/// Bad per-caller configuration stops Envoy from starting, and the log names the key.
#[test]
fn bad_caller_configuration_is_refused_with_the_key_named() {
    for (config, key) in [
        (r#"{"caller":{"header":"x-client-name"},"max_callers":0}"#, "max_callers: must be between 1 and 1000"),
        (r#"{"caller":{"header":"x-client-name"},"max_callers":5000}"#, "max_callers: must be between 1 and 1000"),
        (r#"{"caller":{"cookie":"session"}}"#, "caller: unknown source `cookie`"),
        (r#"{"caller":{"header":"bad name"}}"#, "caller.header:"),
        (r#"{"access_log":["span"]}"#, "access_log: unknown field `span`"),
    ] {
        envoy_support::assert_refused(config, key);
    }
}
