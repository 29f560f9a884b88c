//! Cross-format properties of the whole model:
//! - a context injected in any format and extracted again has the same ids and the sampling the
//!   format can express (the table on `Sampling`);
//! - a context that goes legacy → W3C (with our tracestate member) → the same legacy format comes
//!   back exactly as it was written the first time;
//! - Datadog → W3C → Datadog is exact through Datadog's own `dd=` tracestate member, and baggage
//!   crosses W3C ↔ Jaeger ↔ OT;
//! - the translator never panics on arbitrary header lists and only writes valid header values.

use proptest::prelude::*;
use tracebridge::translate::{Config, FormatList, OnMissing};
use tracebridge::{Format, IdWidth, Propagation, Sampling, SpanId, TraceContext, TraceId, Translator};

fn context() -> impl Strategy<Value = TraceContext<'static>> {
    (any::<[u8; 16]>(), any::<[u8; 8]>(), proptest::option::of(any::<[u8; 8]>()), 0..4u8, any::<bool>())
        .prop_filter_map("zero ids", |(t, s, p, samp, narrow)| {
            let mut t = t;
            if narrow {
                t[..8].fill(0);
            }
            let mut ctx = TraceContext::new(TraceId::from_bytes(t)?, SpanId::from_bytes(s)?);
            ctx.parent_span_id = p.and_then(SpanId::from_bytes);
            ctx.id_width = if narrow { IdWidth::Bits64 } else { IdWidth::Bits128 };
            let sampling = [Sampling::Deny, Sampling::Defer, Sampling::Accept, Sampling::Debug][usize::from(samp)];
            Some(ctx.with_sampling(sampling))
        })
}

/// What format `f` can say about `s` (see the table on `Sampling`).
fn expressible(f: Format, s: Sampling) -> Sampling {
    match (f, s) {
        (Format::W3c | Format::GrpcTraceBin, Sampling::Defer) => Sampling::Deny,
        (Format::W3c | Format::GrpcTraceBin | Format::XRay, Sampling::Debug) => Sampling::Accept,
        (Format::Jaeger, Sampling::Defer) => Sampling::Deny,
        // Datadog's 2 (user keep) reads as accept; GCP and OT have no debug.
        (Format::Datadog | Format::Gcp | Format::Ot | Format::Instana, Sampling::Debug) => Sampling::Accept,
        // Instana reads a missing level as "trace".
        (Format::Instana, Sampling::Defer) => Sampling::Accept,
        (_, s) => s,
    }
}

fn headers_of(f: Format, ctx: &TraceContext<'_>) -> Vec<(String, String)> {
    let mut h = Vec::new();
    f.inject(ctx, &mut h);
    h
}

fn valid_value(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| (0x20..0x7f).contains(&b)) && !v.starts_with(' ') && !v.ends_with(' ')
}

proptest! {
    #[test]
    fn every_format_round_trips_ids(ctx in context()) {
        for f in Format::ALL {
            let h = headers_of(f, &ctx);
            let got = f.extract(&h);
            let Ok(Some(x)) = got else { return Err(TestCaseError::fail(format!("{f}: {got:?} from {h:?}"))) };
            let Propagation::Context(back) = x.propagation else { return Err(TestCaseError::fail(format!("{f}: no context"))) };
            prop_assert_eq!(back.trace_id, ctx.trace_id, "{}", f);
            prop_assert_eq!(back.span_id, ctx.span_id, "{}", f);
            prop_assert_eq!(back.sampling, expressible(f, ctx.sampling), "{}", f);
            for (_, v) in &h {
                prop_assert!(valid_value(v), "{}: {:?}", f, v);
            }
        }
    }

    #[test]
    fn legacy_to_w3c_and_back_is_exact(ctx in context()) {
        for f in [Format::B3Single, Format::B3Multi, Format::Jaeger, Format::XRay, Format::Datadog, Format::Gcp, Format::Ot, Format::Instana] {
            // What the format itself says about the context (Instana reads no level as "trace").
            let once = headers_of(f, &ctx);
            let Ok(Some(x)) = f.extract(&once) else { return Err(TestCaseError::fail(format!("{f}: {once:?}"))) };
            let Propagation::Context(said) = x.propagation else { return Err(TestCaseError::fail(format!("{f}: no context"))) };
            let original = headers_of(f, &said);
            // hop 1: legacy → W3C only
            let to_w3c = Config { extract: FormatList::new(&[f]).unwrap_or(FormatList::ALL), ..Config::default() };
            let mut hop = original.clone();
            Translator::new(to_w3c).unwrap_or_default().translate(&mut hop, || [1; 24]);
            let w3c_only: Vec<_> = hop.into_iter().filter(|(n, _)| n == "traceparent" || n == "tracestate").collect();
            // hop 2: W3C → the legacy format again
            let back_cfg = Config {
                extract: FormatList::new(&[Format::W3c]).unwrap_or(FormatList::ALL),
                inject: FormatList::new(&[f]).unwrap_or(FormatList::ALL),
                ..Config::default()
            };
            let mut back = w3c_only.clone();
            Translator::new(back_cfg).unwrap_or_default().translate(&mut back, || [1; 24]);
            let mut rebuilt: Vec<_> = back.into_iter().filter(|(n, _)| n != "traceparent" && n != "tracestate").collect();
            let mut want = original.clone();
            rebuilt.sort();
            want.sort();
            prop_assert_eq!(rebuilt, want, "{} via {:?}", f, w3c_only);
        }
    }

    #[test]
    fn translator_never_panics_and_writes_valid_values(
        lines in proptest::collection::vec((0..18usize, "[ -~]{0,80}"), 0..8),
    ) {
        const NAMES: [&str; 18] = ["traceparent", "tracestate", "b3", "X-B3-TraceId", "x-b3-spanid", "X-B3-Sampled",
            "uber-trace-id", "X-Amzn-Trace-Id", "grpc-trace-bin", "X-B3-Flags", "x-datadog-trace-id", "x-datadog-parent-id",
            "x-datadog-tags", "X-Cloud-Trace-Context", "ot-tracer-traceid", "X-INSTANA-L", "baggage", "uberctx-k"];
        let headers: Vec<(String, String)> =
            lines.into_iter().map(|(i, v)| (NAMES[i].to_string(), v)).collect();
        let cfg = Config { inject: FormatList::ALL, on_missing: OnMissing::NewRoot, ..Config::default() };
        let t = Translator::new(cfg).unwrap_or_default();
        let plan = t.plan(&headers, || [3; 24]);
        for (name, v) in plan.writes() {
            prop_assert!(valid_value(v), "{}: {:?}", name, v);
        }
    }
}

/// Datadog's priority, origin and tags ride in the `dd=` member: Datadog → W3C → Datadog is exact, and
/// the member is the one Datadog's tracers write (`s:`, `o:`, `p:`, `t.` with `~` for `=`).
#[test]
fn datadog_to_w3c_and_back_through_the_dd_member() {
    let original: Vec<(String, String)> = [
        ("x-datadog-trace-id", "1234567890"),
        ("x-datadog-parent-id", "987654321"),
        ("x-datadog-sampling-priority", "2"),
        ("x-datadog-origin", "synthetics"),
        ("x-datadog-tags", "_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000,_dd.p.usr.id=a=b"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let to_w3c =
        Config { extract: FormatList::new(&[Format::Datadog]).unwrap_or(FormatList::ALL), ..Config::default() };
    let mut hop = original.clone();
    Translator::new(to_w3c).unwrap_or_default().translate(&mut hop, || [1; 24]);
    let w3c: Vec<_> = hop.into_iter().filter(|(n, _)| n == "traceparent" || n == "tracestate").collect();
    assert_eq!(
        w3c,
        [
            ("traceparent".to_string(), "00-640cfd8d0000000000000000499602d2-000000003ade68b1-01".to_string()),
            (
                "tracestate".to_string(),
                "dd=s:2;o:synthetics;p:000000003ade68b1;t.dm:-4;t.tid:640cfd8d00000000;t.usr.id:a~b".to_string()
            ),
        ]
    );
    let back_cfg = Config {
        extract: FormatList::new(&[Format::W3c]).unwrap_or(FormatList::ALL),
        inject: FormatList::new(&[Format::Datadog]).unwrap_or(FormatList::ALL),
        ..Config::default()
    };
    let mut back = w3c.clone();
    Translator::new(back_cfg).unwrap_or_default().translate(&mut back, || [1; 24]);
    let mut rebuilt: Vec<_> = back.into_iter().filter(|(n, _)| n.starts_with("x-datadog-")).collect();
    let mut want = original;
    rebuilt.sort();
    want.sort();
    assert_eq!(rebuilt, want);
}

/// Baggage: W3C → Jaeger → W3C keeps every entry (keys lowercase, values re-encoded the same way), and
/// OT gets what it can carry.
#[test]
fn baggage_crosses_w3c_jaeger_and_ot() {
    let cfg = |from: Format, to: &[Format]| Config {
        extract: FormatList::new(&[from]).unwrap_or(FormatList::ALL),
        inject: FormatList::new(to).unwrap_or(FormatList::ALL),
        remove_other_formats: true,
        ..Config::default()
    };
    let mut h: Vec<(String, String)> = vec![
        ("traceparent".into(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        ("baggage".into(), "user=alice,cart=%E2%82%AC%2042,bad member".into()),
    ];
    let report = Translator::new(cfg(Format::W3c, &[Format::Jaeger, Format::Ot]))
        .unwrap_or_default()
        .translate(&mut h, || [1; 24]);
    // "bad member" is malformed; the euro sign cannot be an OT header value.
    assert_eq!((report.baggage_dropped, report.baggage_error.map(|e| e.code())), (2, Some("baggage_member")));
    let get = |h: &[(String, String)], n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get(&h, "uberctx-user").as_deref(), Some("alice"));
    assert_eq!(get(&h, "uberctx-cart").as_deref(), Some("%E2%82%AC%2042"));
    assert_eq!(get(&h, "ot-baggage-user").as_deref(), Some("alice"));
    assert_eq!(get(&h, "ot-baggage-cart"), None, "not visible ASCII: left out of OT");
    assert_eq!(get(&h, "baggage"), None, "removed with the W3C format");
    let mut back: Vec<(String, String)> =
        h.into_iter().filter(|(n, _)| n == "uber-trace-id" || n.starts_with("uberctx-")).collect();
    Translator::new(cfg(Format::Jaeger, &[Format::W3c])).unwrap_or_default().translate(&mut back, || [1; 24]);
    assert_eq!(get(&back, "baggage").as_deref(), Some("user=alice,cart=%E2%82%AC%2042"));
}
