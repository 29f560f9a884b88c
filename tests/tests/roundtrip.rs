//! Cross-format properties of the whole model:
//! - a context injected in any format and extracted again has the same ids and the sampling the
//!   format can express (the table on `Sampling`);
//! - a context that goes legacy → W3C (with our tracestate member) → the same legacy format comes
//!   back exactly as it was written the first time;
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
        for f in [Format::B3Single, Format::B3Multi, Format::Jaeger, Format::XRay] {
            let original = headers_of(f, &ctx);
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
        lines in proptest::collection::vec((0..10usize, "[ -~]{0,80}"), 0..8),
    ) {
        const NAMES: [&str; 10] = ["traceparent", "tracestate", "b3", "X-B3-TraceId", "x-b3-spanid", "X-B3-Sampled",
            "uber-trace-id", "X-Amzn-Trace-Id", "grpc-trace-bin", "X-B3-Flags"];
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
