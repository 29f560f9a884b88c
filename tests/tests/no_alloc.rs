//! No heap allocation on any parse or format path: a counting global allocator around extract,
//! inject into a fixed plan, and the whole translation decision (`Translator::plan`).
//! Only applying a plan to a heap-backed carrier allocates, and that is the carrier's business.

use tracebridge::translate::{Config, FormatList, OnMissing};
use tracebridge::{Format, Translator};
use tracebridge_tests::alloc_count::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const INPUTS: &[&[(&str, &str)]] = &[
    &[
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ("tracestate", "tracebridge=s:00f067aa0ba902b7;w:64;m:d"),
    ],
    &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90")],
    &[("b3", "0")],
    &[
        ("X-B3-TraceId", "463ac35c9f6413ad"),
        ("X-B3-SpanId", "a2fb4a1d1a96d312"),
        ("X-B3-ParentSpanId", "0020000000000001"),
        ("X-B3-Flags", "1"),
    ],
    &[("uber-trace-id", "3ce929d0e0e4736:ef12a:0:9")],
    &[("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5;Foo=bar")],
    &[("grpc-trace-bin", "AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE")],
    &[("traceparent", "garbage"), ("b3", "also-garbage"), ("x-amzn-trace-id", "Root=nope")],
];

#[test]
fn extract_and_inject_every_format_without_allocating() {
    for headers in INPUTS {
        for f in Format::ALL {
            let ((), n) = allocations(|| {
                let mut plan_sink = Translator::default().plan(*headers, || [1; 24]);
                if let Ok(Some(x)) = f.extract(*headers) {
                    if let Some(ctx) = x.propagation.context() {
                        for out in Format::ALL {
                            // A Plan is a fixed-buffer Injector: format paths write into it.
                            out.inject(ctx, &mut plan_sink);
                        }
                    }
                }
            });
            assert_eq!(n, 0, "{} on {headers:?} allocated {n} times", f.name());
        }
    }
}

#[test]
fn whole_translation_decision_without_allocating() {
    let all = FormatList::new(&Format::ALL).unwrap_or(FormatList::ALL);
    let cfg = Config { inject: all, on_missing: OnMissing::NewRoot, remove_other_formats: true, ..Config::default() };
    let t = Translator::new(cfg).unwrap_or_default();
    for headers in INPUTS {
        let (plan, n) = allocations(|| t.plan(*headers, || [9; 24]));
        assert_eq!(n, 0, "plan of {headers:?} allocated {n} times");
        assert!(plan.report().trace_id.is_some(), "{plan:?}");
    }
}

#[test]
fn the_counter_counts() {
    let (v, n) = allocations(|| vec![1u8; 10]);
    assert_eq!((v.len(), n), (10, 1));
}
