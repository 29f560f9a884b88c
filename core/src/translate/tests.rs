extern crate std;
use super::plan::MAX_OPS;
use super::*;
use crate::format::Extracted;
use crate::{Error, Format, Propagation};
use std::string::{String, ToString};
use std::vec::Vec;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn get<'h>(h: &'h [(String, String)], name: &str) -> Option<&'h str> {
    h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn rng() -> [u8; 24] {
    [7; 24]
}

#[test]
fn w3c_in_w3c_out_is_untouched() {
    let h = headers(&[("traceparent", TP), ("tracestate", "a=1")]);
    let plan = Translator::default().plan(&h, rng);
    assert!(plan.is_noop(), "{plan:?}");
    assert_eq!(plan.report().outcome, Outcome::Continued);
    assert_eq!(plan.report().source, Some(Format::W3c));
}

#[test]
fn missing_passes_through_or_starts_a_root() {
    let h = headers(&[("x", "y")]);
    let plan = Translator::default().plan(&h, rng);
    assert!(plan.is_noop() && plan.report().missing());

    let cfg = Config { on_missing: OnMissing::NewRoot, ..Config::default() };
    let mut h = h;
    let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
    assert_eq!(report.map(|r| r.outcome), Ok(Outcome::NewRoot(RootReason::Missing)));
    // defer → sampled 0, random bit 1; defer remembered in our member.
    assert_eq!(get(&h, "traceparent"), Some("00-07070707070707070707070707070707-0707070707070707-02"));
    assert_eq!(get(&h, "tracestate"), Some("tracebridge=s:0707070707070707;m:d"));
}

#[test]
fn restart_links_the_old_ids() {
    let cfg = Config { trust: Trust::Restart, ..Config::default() };
    let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1")]);
    let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
    assert_eq!(report.map(|r| r.outcome), Ok(Outcome::NewRoot(RootReason::Untrusted)));
    assert_eq!(
        get(&h, "tracestate"),
        Some("tracebridge=s:0707070707070707;m:d;o:4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")
    );
    // and a later hop reads the link back
    let ins = Translator::default().inspect(&h);
    assert_eq!(ins.restarted_from.map(|(t, _)| t.to_string()).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
}

#[test]
fn ignore_removes_the_incoming_trace() {
    let cfg = Config { trust: Trust::Ignore, ..Config::default() };
    let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1"), ("x", "y")]);
    let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
    assert_eq!(report.map(|r| r.outcome), Ok(Outcome::Ignored));
    assert_eq!(h, headers(&[("x", "y")]));
}

#[test]
fn forced_sampling_dropped() {
    let cfg = Config { drop_forced_sampling: true, ..Config::default() };
    let mut h = headers(&[("traceparent", TP)]);
    let _ = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
    assert_eq!(get(&h, "traceparent"), Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
    assert_eq!(get(&h, "tracestate"), Some("tracebridge=s:00f067aa0ba902b7;m:d"));
}

#[test]
fn invalid_tracestate_is_dropped_not_the_traceparent() {
    let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1,A=2")]);
    let report = Translator::default().translate(&mut h, rng);
    assert_eq!(report.tracestate_error, Some(Error::TracestateKey));
    assert!(report.dropped_input());
    assert_eq!(h, headers(&[("traceparent", TP)]));
}

#[test]
fn dropped_input_names_every_kind_of_loss() {
    let report = |pairs: &[(&str, &str)]| Translator::default().plan(&headers(pairs), rng).report().dropped_input();
    assert!(!report(&[("traceparent", TP), ("tracestate", "a=1"), ("baggage", "k=v")]), "nothing lost");
    assert!(report(&[("traceparent", TP), ("tracestate", "a=1"), ("tracestate", "a=2")]), "a repeated key");
    assert!(report(&[("traceparent", TP), ("baggage", "k=v,=broken")]), "a malformed baggage member");
    let long = std::format!("a={}", "x".repeat(250));
    let many: Vec<String> = (0..8).map(|i| long.replacen('a', &std::format!("k{i}"), 1)).collect();
    let state = many.join(",");
    // The sampled flag dropped: the traceparent is rewritten, and its tracestate within max_len.
    let rewrite = Translator::new(Config { drop_forced_sampling: true, ..Config::default() }).unwrap_or_default();
    let rewritten = rewrite.plan(&headers(&[("traceparent", TP), ("tracestate", &state)]), rng);
    assert!(rewritten.report().tracestate_dropped > 0 && rewritten.report().dropped_input(), "over the length limit");
    let dd = [("x-datadog-trace-id", "1234"), ("x-datadog-parent-id", "5678"), ("x-datadog-tags", "not a tag")];
    assert!(report(&dd), "a format's part (Datadog's tags)");
}

#[test]
fn duplicate_tracestate_keys_keep_the_first() {
    let mut h = headers(&[("traceparent", TP), ("tracestate", "a=1,b=2"), ("tracestate", "a=3")]);
    let report = Translator::default().translate(&mut h, rng);
    assert_eq!(report.tracestate_error, Some(Error::TracestateDuplicateKey));
    assert_eq!(h, headers(&[("traceparent", TP), ("tracestate", "a=1,b=2")]));
}

#[test]
fn removals_only_of_headers_that_are_there() {
    let b3 = ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
    // No tracestate arrived: nothing to remove, one write.
    let plan = Translator::default().plan(&headers(&[b3]), rng);
    assert_eq!(plan.removals().count(), 0, "{plan:?}");
    assert_eq!(plan.writes().map(|(n, _)| n).collect::<Vec<_>>(), ["traceparent"]);
    // An orphan tracestate arrived with the B3 context: it must go.
    let plan = Translator::default().plan(&headers(&[b3, ("tracestate", "a=1")]), rng);
    assert_eq!(plan.removals().collect::<Vec<_>>(), ["tracestate"]);
}

#[test]
fn config_checks() {
    let bad = Config { extract: FormatList::EMPTY, ..Config::default() };
    assert_eq!(Translator::new(bad).err(), Some(ConfigError::EmptyExtract));
    let bad =
        Config { tracestate: TracestateConfig { max_len: 100, ..TracestateConfig::default() }, ..Config::default() };
    assert_eq!(Translator::new(bad).err(), Some(ConfigError::TracestateMaxLen));
    assert_eq!(FormatList::new(&[Format::W3c, Format::W3c]).err(), Some(Format::W3c));
    assert!(MemberKey::new("Bad").is_none());
}

/// Our member under a configured key: written under it, and read back by a hop configured with the
/// same key (whose lookup uses the fingerprint taken when the key was configured), not by one
/// configured with another.
#[test]
fn a_configured_member_key_is_written_and_read_back() {
    let translator = |key: &str, inject: &[Format]| {
        let tracestate =
            TracestateConfig { key: MemberKey::new(key).unwrap_or_default(), ..TracestateConfig::default() };
        let inject = FormatList::new(inject).unwrap_or(FormatList::EMPTY);
        Translator::new(Config { tracestate, inject, ..Config::default() })
    };
    // B3 debug with a 64-bit trace id: W3C can say neither.
    let mut first = headers(&[("b3", "80f198ee56343ba8-e457b5a2e4d86bd1-d")]);
    let Ok(to_w3c) = translator("acme@tb", &[Format::W3c]) else { unreachable!() };
    to_w3c.translate(&mut first, rng);
    let (Some(tp), Some(ts)) = (get(&first, "traceparent"), get(&first, "tracestate")) else {
        unreachable!("{first:?}")
    };
    assert_eq!(ts, "acme@tb=s:e457b5a2e4d86bd1;w:64;m:x");
    let b3_after = |key: &str| {
        let mut next = headers(&[("traceparent", tp), ("tracestate", ts)]);
        translator(key, &[Format::B3Single]).map(|t| t.translate(&mut next, rng)).ok()?;
        get(&next, "b3").map(str::to_string)
    };
    assert_eq!(b3_after("acme@tb").as_deref(), Some("80f198ee56343ba8-e457b5a2e4d86bd1-d"));
    // Another key: the member is someone else's, so W3C's own word stands (128 bits, sampled).
    assert_eq!(b3_after("tracebridge").as_deref(), Some("000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-1"));
}

/// Values core formats as bytes go to a carrier that takes bytes as they are and to any other
/// checked once; past their own arena they are kept with the `str` values, not lost.
#[test]
fn values_given_as_bytes_are_written_even_past_their_arena() {
    let mut plan = Plan::new();
    let long = "a".repeat(300);
    crate::Injector::set_bytes(&mut plan, "traceparent", long.as_bytes());
    crate::Injector::set_bytes(&mut plan, "b3", b"0");
    crate::Injector::set_bytes(&mut plan, "x-b3-sampled", &[0xff]);
    assert_eq!(plan.writes().collect::<Vec<_>>(), [("traceparent", long.as_str()), ("b3", "0")]);
    let mut out: Vec<(String, String)> = Vec::new();
    plan.apply(&mut out);
    assert_eq!(out, headers(&[("traceparent", long.as_str()), ("b3", "0")]));
}

#[test]
fn largest_plan_fits_its_buffers() {
    // Budget of MAX_OPS: each header is removed (a format not written) or written at most once,
    // plus one removal of an invalid tracestate.
    let names = Format::ALL.iter().map(|f| f.headers().len()).sum::<usize>();
    assert!(2 * names < MAX_OPS, "{names} header names");
    // Budget of ARENA: every format written at once, X-Ray at the value limit (tracestate has its
    // own buffer). An X-Ray context that is changed (forced sampling dropped) is written again.
    let mut xray = String::from("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
    for i in 0..crate::context::XRAY_MAX_EXTRA_FIELDS {
        let room = crate::carrier::MAX_VALUE_LEN - xray.len() - 4;
        let n = room / (crate::context::XRAY_MAX_EXTRA_FIELDS - i);
        xray.push_str(&std::format!(";k{i}={}", "v".repeat(n)));
    }
    assert!(xray.len() <= crate::carrier::MAX_VALUE_LEN && xray.len() > crate::carrier::MAX_VALUE_LEN - 8);
    let cfg = Config { inject: FormatList::ALL, drop_forced_sampling: true, ..Config::default() };
    let mut h = headers(&[("x-amzn-trace-id", &xray)]);
    let report = Translator::new(cfg).map(|t| t.translate(&mut h, rng));
    assert_eq!(report.map(|r| (r.outcome, r.injected)), Ok((Outcome::Continued, [true; N])));
    assert_eq!(get(&h, "x-amzn-trace-id").map(str::len), Some(xray.len()));
    for f in Format::ALL {
        let back = f.extract(&h);
        assert!(matches!(back, Ok(Some(Extracted { propagation: Propagation::Context(_), warning: None }))), "{f}");
    }
}

#[test]
fn fields_lists_every_header() {
    let t = Translator::default();
    let f: Vec<_> = t.fields().collect();
    assert!(f.contains(&"traceparent") && f.contains(&"x-amzn-trace-id") && f.contains(&"x-b3-flags"));
}

#[cfg(feature = "serde")]
mod config_json_tests {
    extern crate std;
    use super::*;
    use crate::Format;
    use serde::de::DeserializeSeed;
    use std::string::{String, ToString};

    fn parse(json: &str) -> Result<Config, String> {
        serde_json::from_str::<Config>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_object_is_the_defaults() {
        assert_eq!(parse("{}"), Ok(Config::default()));
    }

    #[test]
    fn every_key() {
        let c = parse(
            r#"{"extract": ["xray", "w3c"], "inject": ["w3c", "b3-multi"], "remove_other_formats": true,
            "on_missing": "new-root", "on_conflict": "pass-through", "trust": "restart",
            "drop_forced_sampling": true, "root_sampling": "accept", "id_width": 64,
            "tracestate": {"member": false, "key": "acme@tb", "max_len": 512}}"#,
        );
        let Ok(c) = c else { return assert!(c.is_ok(), "{c:?}") };
        assert_eq!(c.extract.as_slice(), &[Format::XRay, Format::W3c]);
        assert_eq!(c.inject.as_slice(), &[Format::W3c, Format::B3Multi]);
        assert!(c.remove_other_formats && c.drop_forced_sampling && !c.tracestate.member);
        assert_eq!(
            (c.on_missing, c.on_conflict, c.trust),
            (OnMissing::NewRoot, OnConflict::PassThrough, Trust::Restart)
        );
        assert_eq!((c.root_sampling, c.id_width), (RootSampling::Accept, WidthPolicy::Bits64));
        assert_eq!((c.tracestate.key.as_str(), c.tracestate.max_len), ("acme@tb", 512));
        assert_eq!(parse(r#"{"id_width": "keep"}"#).map(|c| c.id_width), Ok(WidthPolicy::Keep));
        assert_eq!(parse(r#"{"id_width": "128"}"#).map(|c| c.id_width), Ok(WidthPolicy::Bits128));
    }

    #[test]
    fn errors_name_the_key() {
        let e = |j: &str| parse(j).err().unwrap_or_default();
        assert!(e(r#"{"injekt": []}"#).starts_with("unknown configuration key `injekt`, expected one of: extract"));
        assert!(e(r#"{"on_missing": "panic"}"#).starts_with("on_missing: unknown variant `panic`"));
        assert!(e(r#"{"inject": ["w3c", "zipkin"]}"#).starts_with("inject: unknown variant `zipkin`"));
        assert!(e(r#"{"extract": ["w3c", "w3c"]}"#).starts_with("extract: format `w3c` is listed twice"));
        assert!(e(r#"{"id_width": 32}"#).starts_with("id_width: invalid value"));
        assert!(e(r#"{"tracestate": {"key": "Bad"}}"#).starts_with("tracestate.key: invalid value: string \"Bad\""));
        assert!(e(r#"{"tracestate": {"max_len": "x"}}"#).starts_with("tracestate.max_len: invalid type: string"));
        assert!(e(r#"{"tracestate": {"nope": 1}}"#).starts_with("unknown configuration key `tracestate.nope`"));
        assert!(e(r#"{"trust": "continue", "trust": "ignore"}"#).starts_with("trust: given twice"));
        assert!(e(r#"[1]"#).contains("expected a tracebridge configuration object"));
    }

    #[test]
    fn inspection_json_names_each_warning() {
        let headers = [
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("tracestate", "A=1"),
            ("x-datadog-trace-id", "1"),
            ("x-datadog-parent-id", "2"),
            ("x-datadog-tags", "no equals sign"),
        ];
        let json = |h: &[(&str, &str)]| serde_json::to_value(Translator::default().inspect(h)).unwrap_or_default();
        let v = json(&headers);
        let at = |p: &str| v.pointer(p).cloned();
        assert_eq!(at("/warnings/w3c"), at("/tracestate_error"));
        assert_eq!(at("/warnings/w3c/code"), Some("tracestate_key".into()));
        assert_eq!(at("/warnings/datadog/status"), Some("invalid".into()));
        assert_eq!(at("/warnings/datadog/code"), Some("datadog_tags".into()));
        assert_eq!(v.pointer("/warnings").and_then(|w| w.as_object()).map(|w| w.len()), Some(2));
        let none = json(headers.get(..1).unwrap_or_default());
        assert_eq!(none.pointer("/warnings"), Some(&serde_json::json!({})));
    }

    #[test]
    fn doors_skip_their_own_keys() {
        let mut d = serde_json::Deserializer::from_str(r#"{"shadow": {"anything": 1}, "inject": ["jaeger"]}"#);
        let c = ConfigSeed { extra_keys: &["shadow"] }.deserialize(&mut d);
        assert_eq!(c.map(|c| c.inject.as_slice() == [Format::Jaeger]).ok(), Some(true));
        let mut d = serde_json::Deserializer::from_str(r#"{"shadow": true}"#);
        assert!(ConfigSeed::default().deserialize(&mut d).is_err());
    }
}

/// `Plan::apply` loops over the ops itself (the filter's hot path): it must do exactly what
/// `removals` then `writes` list, in that order, baggage included, to a carrier of `str` values
/// (whose byte values `apply` checks in one pass) and to one that takes bytes alike.
#[test]
fn apply_does_what_removals_and_writes_list() {
    #[derive(Default)]
    struct Recorder(Vec<(String, Option<String>)>);
    impl crate::Injector for Recorder {
        fn set(&mut self, name: &str, value: &str) {
            self.0.push((name.to_string(), Some(value.to_string())));
        }
        fn remove(&mut self, name: &str) {
            self.0.push((name.to_string(), None));
        }
    }
    /// Takes bytes, and says so: `set_bytes` is what it gets for core's own values.
    #[derive(Default)]
    struct Bytes(Recorder, usize);
    impl crate::Injector for Bytes {
        fn set(&mut self, name: &str, value: &str) {
            self.0.set(name, value);
        }
        fn set_bytes(&mut self, name: &str, value: &[u8]) {
            self.1 += 1;
            self.0.set(name, core::str::from_utf8(value).unwrap_or("not UTF-8"));
        }
        fn remove(&mut self, name: &str) {
            self.0.remove(name);
        }
        fn takes_bytes(&self) -> bool {
            true
        }
    }
    let list = |f: &[Format]| match FormatList::new(f) {
        Ok(list) => list,
        Err(_) => unreachable!("no format twice"),
    };
    let all = list(&Format::ALL);
    let configs = [
        Config::default(),
        Config { inject: all, ..Config::default() },
        Config { remove_other_formats: true, on_missing: OnMissing::NewRoot, ..Config::default() },
        Config { inject: list(&[Format::Jaeger, Format::Ot]), remove_other_formats: true, ..Config::default() },
    ];
    let requests = [
        headers(&[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"), ("baggage", "k=v,l=w")]),
        headers(&[("traceparent", TP), ("tracestate", "a=1,tracebridge=m:d"), ("uber-trace-id", "1:2:0:1")]),
        headers(&[
            ("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
            ("uberctx-user", "alice"),
            ("ot-baggage-x", "y"),
        ]),
        headers(&[
            ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("x-b3-spanid", "00f067aa0ba902b7"),
            ("x-b3-sampled", "1"),
        ]),
        headers(&[("x", "y")]),
    ];
    let mut checked = 0;
    for config in configs {
        let Ok(translator) = Translator::new(config) else { unreachable!("a valid configuration") };
        for h in &requests {
            let plan = translator.plan(h, rng);
            let mut want: Vec<(String, Option<String>)> = plan.removals().map(|n| (n.to_string(), None)).collect();
            want.extend(plan.writes().map(|(n, v)| (n.to_string(), Some(v.to_string()))));
            let mut got = Recorder::default();
            plan.apply(&mut got);
            assert_eq!(got.0, want, "{h:?}");
            let mut bytes = Bytes::default();
            plan.apply(&mut bytes);
            assert_eq!(bytes.0 .0, want, "{h:?}");
            assert_eq!(bytes.1 > 0, plan.writes().any(|(n, _)| n != "tracestate" && n != "baggage"), "{h:?}");
            checked += usize::from(!want.is_empty());
        }
    }
    assert!(checked >= 12, "most plans change something: {checked}");
    // A name given twice: the last op on it decides, once.
    let mut plan = Plan::new();
    for op in [
        plan::Op::SetTracestate,
        plan::Op::Remove("tracestate"),
        plan::Op::Remove("b3"),
        plan::Op::SetTracestate,
        plan::Op::SetTracestate,
    ] {
        plan.push(op);
    }
    let mut got = Recorder::default();
    plan.apply(&mut got);
    assert_eq!(got.0, [("b3".to_string(), None), ("tracestate".to_string(), Some(String::new()))]);
    assert_eq!(plan.removals().collect::<Vec<_>>(), ["b3"]);
}

/// `plan_into` resets the plan it is given field by field: whatever the plan held before, the
/// result is the plan a fresh one gets.
#[test]
fn a_reused_plan_is_a_fresh_plan() {
    let list = |f: &[Format]| match FormatList::new(f) {
        Ok(list) => list,
        Err(_) => unreachable!("no format twice"),
    };
    let configs = [
        Config::default(),
        Config {
            inject: list(&[Format::B3Single, Format::W3c, Format::Jaeger]),
            id_width: WidthPolicy::Bits64,
            ..Config::default()
        },
        Config {
            on_missing: OnMissing::NewRoot,
            remove_other_formats: true,
            trust: Trust::Restart,
            ..Config::default()
        },
    ];
    let long = "k=".to_string() + &"v".repeat(9000);
    let requests = [
        headers(&[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"), ("baggage", "k=v")]),
        headers(&[
            ("traceparent", TP),
            ("tracestate", "a=1,,b=2,a=3"),
            ("uber-trace-id", "1:2:0:1"),
            ("baggage", long.as_str()),
        ]),
        headers(&[("traceparent", "00-zz"), ("x-b3-sampled", "0"), ("uberctx-user", "alice")]),
        headers(&[("x-datadog-trace-id", "123"), ("x-datadog-parent-id", "456"), ("x-datadog-tags", "bad key=1")]),
        headers(&[]),
    ];
    for config in configs {
        let Ok(translator) = Translator::new(config) else { unreachable!("a valid configuration") };
        let mut reused = Plan::new();
        for before in &requests {
            for h in &requests {
                translator.plan_into(before, rng, &mut reused);
                translator.plan_into(h, rng, &mut reused);
                let fresh = translator.plan(h, rng);
                assert_eq!(reused.report(), fresh.report(), "{before:?} then {h:?}");
                assert!(reused.writes().eq(fresh.writes()) && reused.removals().eq(fresh.removals()), "{h:?}");
            }
        }
    }
}

/// `translate_into` against `plan_into` and `apply`: the direct route (one format arrived, continued)
/// must leave the same headers and report the same as the general one, for every format as the one
/// that arrived, alone or with lines that send the request down the general route, under
/// configurations that take the direct route and some that do not.
mod direct_route {
    use super::*;
    use proptest::prelude::*;

    /// Lines of every format (valid, several shapes: 64-bit ids, defer, debug, parents, X-Ray and
    /// Datadog extras that our member or `dd=` carries), invalid ones, tracestate, baggage, others.
    const LINES: &[(&str, &str)] = &[
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
        ("b3", "e457b5a2e4d86bd1-e457b5a2e4d86bd1-d"),
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1"),
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0-05e3ac9a4f6e3b90"),
        ("b3", "0"),
        ("b3", "garbage"),
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
        ("x-b3-sampled", "1"),
        ("x-b3-flags", "1"),
        ("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
        ("uber-trace-id", "463ac35c9f6413ad:72485a3953bb6124:0:0"),
        ("uber-trace-id", "garbage"),
        ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
        ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Self=1-67891233-abcdef012345678912345678;Lineage=a87bd80c:1"),
        ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
        ("grpc-trace-bin", "AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE"),
        ("x-datadog-trace-id", "1234"),
        ("x-datadog-parent-id", "5678"),
        ("x-datadog-sampling-priority", "2"),
        ("x-datadog-origin", "synthetics"),
        ("x-datadog-tags", "_dd.p.tid=4bf92f3577b34da6,_dd.p.dm=-4"),
        ("x-datadog-tags", "not a tag"),
        ("ot-tracer-traceid", "463ac35c9f6413ad"),
        ("ot-tracer-spanid", "72485a3953bb6124"),
        ("ot-tracer-sampled", "true"),
        ("x-instana-t", "463ac35c9f6413ad"),
        ("x-instana-s", "72485a3953bb6124"),
        ("x-instana-l", "1"),
        ("x-cloud-trace-context", "105445aa7843bc8bf206b12000100000/1;o=1"),
        ("traceparent", TP),
        ("tracestate", "a=1,tracebridge=s:1234567890abcdef"),
        ("baggage", "user=alice"),
        ("uberctx-user", "bob"),
        ("ot-baggage-user", "carol"),
        ("user-agent", "curl"),
        ("x-request-id", "1"),
    ];

    fn config(inject: &[Format], bits: u8) -> Config {
        Config {
            inject: FormatList::new(inject).unwrap_or(Config::default().inject),
            drop_forced_sampling: bits & 1 != 0,
            id_width: match (bits >> 1) & 3 {
                0 | 3 => WidthPolicy::Keep,
                1 => WidthPolicy::Bits64,
                _ => WidthPolicy::Bits128,
            },
            tracestate: TracestateConfig { member: bits & 8 == 0, ..TracestateConfig::default() },
            baggage: bits & 16 == 0,
            trust: if bits & 32 == 0 { Trust::Continue } else { Trust::Restart },
            remove_other_formats: bits & 64 != 0,
            ..Config::default()
        }
    }

    const INJECT: &[&[Format]] = &[
        &[Format::W3c],
        &[Format::W3c, Format::B3Multi],
        &[Format::B3Single, Format::W3c],
        &[Format::Datadog, Format::W3c, Format::XRay],
        &[Format::Jaeger],
        &[Format::W3c, Format::Instana, Format::Ot, Format::GrpcTraceBin, Format::Gcp],
    ];

    /// What `Plan::direct_source` promises of a direct route's report.
    fn direct_shape(plan: &Plan) -> Result<(), TestCaseError> {
        let Some(f) = plan.direct_source() else { return Ok(()) };
        let r = plan.report();
        prop_assert_eq!(r.source, Some(f));
        prop_assert_eq!(r.outcome, Outcome::Continued);
        for g in Format::ALL {
            if g != f {
                prop_assert!(matches!(r.status(g), Status::NotRead | Status::Absent), "{:?}: {:?}", g, r);
                prop_assert_eq!(r.warning(g), None);
            }
        }
        prop_assert_eq!(r.status(f), Status::Valid);
        prop_assert!(!r.missing() && !r.root_generated() && r.conflicts() == 0);
        prop_assert_eq!((r.baggage_dropped, r.baggage_error, r.removed), (0, None, [false; N]));
        Ok(())
    }

    fn compare(t: &Translator, lines: &[(&str, &str)]) -> Result<bool, TestCaseError> {
        let owned = headers(lines);
        let plan = t.plan(&owned, rng);
        prop_assert_eq!(plan.direct_source(), None, "planned, not translated");
        let mut planned = owned.clone();
        plan.apply(&mut planned);
        planned.sort();
        let mut scratch = Plan::new();
        // Through a slice (which gathers its lines and names them) and a `Vec`.
        let mut out = owned.clone();
        let report = *t.translate_into(lines, &mut out, rng, &mut scratch);
        out.sort();
        prop_assert_eq!(&report, plan.report(), "report, slice: {:?}", lines);
        prop_assert_eq!(&out, &planned, "headers, slice: {:?}", lines);
        direct_shape(&scratch)?;
        let direct = scratch.direct_source().is_some();
        let mut out = owned.clone();
        let report = *t.translate_into(&owned, &mut out, rng, &mut scratch);
        out.sort();
        prop_assert_eq!(&report, plan.report(), "report, Vec: {:?}", lines);
        prop_assert_eq!(&out, &planned, "headers, Vec: {:?}", lines);
        direct_shape(&scratch)?;
        prop_assert_eq!(scratch.direct_source().is_some(), direct, "both carriers take one route");
        Ok(direct)
    }

    /// Every line alone, under every configuration: most take the direct route.
    #[test]
    fn one_line_under_every_configuration() {
        let (mut direct, mut all) = (0, 0);
        for inject in INJECT {
            for bits in 0..128u8 {
                let t = Translator::new(config(inject, bits)).unwrap_or_default();
                for line in LINES {
                    let result = compare(&t, &[*line]);
                    assert!(result.is_ok(), "{inject:?} {bits}: {result:?}");
                    direct += usize::from(matches!(result, Ok(true)));
                    all += 1;
                }
            }
        }
        // The direct route's promises above are not checked on nothing.
        assert!(direct * 20 > all, "{direct} of {all}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        #[test]
        fn any_lines(picks in proptest::collection::vec(0..LINES.len(), 0..5), inject in 0..INJECT.len(), bits in 0..128u8) {
            let lines: Vec<(&str, &str)> = picks.iter().filter_map(|&i| LINES.get(i).copied()).collect();
            let t = Translator::new(config(INJECT.get(inject).copied().unwrap_or_default(), bits)).unwrap_or_default();
            compare(&t, &lines)?;
        }
    }
}
