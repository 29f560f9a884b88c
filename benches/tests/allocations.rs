//! Heap allocations per operation, tracebridge and OpenTelemetry, on the benches' fixtures.
//!
//! A counting global allocator (thread-local counter) around one steady-state call of each operation
//! (after one warm-up call, so the reused [`Sink`] slots already exist). Prints the table of
//! `BENCHMARKS.md`:
//!
//! ```text
//! cargo test -p tracebridge-benches --test allocations -- --nocapture
//! ```
//!
//! Asserts only tracebridge's zero: a correctness property of core (no heap on parse/format paths),
//! not a timing. OpenTelemetry's counts are reported, never asserted.

use std::hint::black_box;

use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracebridge::{Format, Plan};
use tracebridge_benches::*;
use tracebridge_tests::alloc_count::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations of the second of two calls (the first warms reused buffers).
fn steady<R>(mut f: impl FnMut() -> R) -> usize {
    black_box(f());
    allocations(|| black_box(f())).1
}

struct Row {
    op: &'static str,
    format: String,
    tracebridge: usize,
    otel: Option<usize>,
}

fn table() -> Vec<Row> {
    let mut rows = Vec::new();
    let w3c = TraceContextPropagator::new();
    let fixtures = Fixture::all();
    let mut push =
        |op, format: &str, tracebridge, otel| rows.push(Row { op, format: format.to_owned(), tracebridge, otel });

    push("parse-format", "traceparent", steady(|| tb_traceparent_parse_format(black_box(TRACEPARENT))), None);
    for fx in &fixtures {
        let req = Req(fx.headers);
        let otel = fx.otel.as_ref().map(|(p, _)| steady(|| otel_extract(p, black_box(req))));
        push("extract", fx.format.name(), steady(|| fx.tb_extract(black_box(req)).is_ok()), otel);
    }
    for fx in &fixtures {
        let mut sink = Sink::default();
        let tb = steady(|| fx.tb_inject(&fx.tb_ctx, &mut sink));
        let otel = fx.otel.as_ref().map(|(p, cx)| {
            let mut sink = Sink::default();
            steady(|| otel_inject(p, cx, &mut sink))
        });
        push("inject", fx.format.name(), tb, otel);
    }
    for fx in fixtures.iter().filter(|f| f.format != Format::W3c) {
        let req = Req(fx.headers);
        let mut sink = Sink::default();
        let tb = steady(|| fx.tb_translate(black_box(req), &mut sink));
        let otel = fx.otel.as_ref().map(|(p, _)| {
            let mut sink = Sink::default();
            steady(|| otel_translate(p, &w3c, black_box(req), &mut sink))
        });
        push("translate", fx.format.name(), tb, otel);
    }
    for n in [1, 8, 32] {
        let value = tracestate_of(n);
        let name = n.to_string();
        push(
            "tracestate-parse",
            &name,
            steady(|| tb_tracestate_parse(black_box(&value)).is_ok()),
            Some(steady(|| otel_tracestate_parse(black_box(&value)))),
        );
        let tb = tb_tracestate_parse(&value).unwrap_or_default();
        let otel = otel_tracestate_parse(&value).unwrap_or_default();
        push(
            "tracestate-mutate",
            &name,
            {
                let mut out = tracebridge::tracestate::TraceStateBuf::new();
                steady(|| tb_tracestate_mutate(black_box(&tb), &mut out).dropped())
            },
            Some(steady(|| otel_tracestate_mutate(black_box(&otel)))),
        );
    }
    let t = translator_five();
    let p = otel_composite_five();
    let req = Req(inputs::REQUEST);
    let mut sink = Sink::default();
    let mut plan = Plan::new();
    let tb = steady(|| tb_request(&t, black_box(req), &mut plan, &mut sink).report().outcome);
    let mut sink = Sink::default();
    let otel = steady(|| otel_request(&p, black_box(req), &mut sink));
    push("request", "five-formats", tb, Some(otel));
    rows
}

#[test]
fn allocation_table_and_tracebridge_allocates_nothing() {
    let rows = table();
    println!("\n| op | format | tracebridge allocs/op | OpenTelemetry allocs/op |");
    println!("|---|---|---:|---:|");
    for r in &rows {
        let otel = r.otel.map_or_else(|| "—".to_owned(), |n| n.to_string());
        println!("| {} | {} | {} | {} |", r.op, r.format, r.tracebridge, otel);
    }
    let bad: Vec<_> = rows.iter().filter(|r| r.tracebridge != 0).map(|r| format!("{}/{}", r.op, r.format)).collect();
    assert!(bad.is_empty(), "tracebridge allocated in: {bad:?}");
}

/// The comparison is only fair if both do the same work: the legacy → W3C translation must give the
/// same `traceparent` from both.
#[test]
fn both_translate_to_the_same_traceparent() {
    let w3c = TraceContextPropagator::new();
    for fx in Fixture::all() {
        let Some((p, _)) = &fx.otel else { continue };
        let (mut a, mut b) = (Sink::default(), Sink::default());
        fx.tb_translate(Req(fx.headers), &mut a);
        otel_translate(p, &w3c, Req(fx.headers), &mut b);
        assert_eq!(a.get("traceparent"), b.get("traceparent"), "{}", fx.format);
        assert!(a.get("traceparent").is_some(), "{}", fx.format);
    }
}

/// The whole-request fixture continues the B3 context in all five formats, for both. (tracebridge
/// leaves the source format's headers as they arrived, so it writes the other four; OpenTelemetry
/// rewrites all five.)
#[test]
fn both_write_five_formats_for_the_request() {
    let mut a = Sink::default();
    let mut plan = Plan::new();
    let plan = tb_request(&translator_five(), Req(inputs::REQUEST), &mut plan, &mut a);
    assert_eq!(plan.report().source, Some(Format::B3Multi));
    let mut b = Sink::default();
    otel_request(&otel_composite_five(), Req(inputs::REQUEST), &mut b);
    for h in ["traceparent", "b3", "uber-trace-id", "x-amzn-trace-id"] {
        assert!(a.get(h).is_some() && b.get(h).is_some(), "{h}: {:?} / {:?}", a.get(h), b.get(h));
    }
    assert!(b.get("x-b3-traceid").is_some());
    assert_eq!(a.get("traceparent"), b.get("traceparent"));
}

/// The hex-table and const-hex reference points compute what tracebridge computes, and refuse what it
/// refuses.
#[test]
fn hex_references_agree() {
    type ParseFormat = fn(&[u8; 55]) -> Option<[u8; 55]>;
    let references: [ParseFormat; 2] = [lut_traceparent_parse_format, const_hex_traceparent_parse_format];
    let mut inputs = vec![*TRACEPARENT];
    for (at, b) in [(10, b'A'), (10, b'g'), (2, b'_'), (54, b'x')] {
        let mut bad = *TRACEPARENT;
        bad[at] = b;
        inputs.push(bad);
    }
    let mut zero_trace = *TRACEPARENT;
    zero_trace[3..35].fill(b'0');
    let mut zero_parent = *TRACEPARENT;
    zero_parent[36..52].fill(b'0');
    let mut version_ff = *TRACEPARENT;
    version_ff[0..2].copy_from_slice(b"ff");
    inputs.extend([zero_trace, zero_parent, version_ff]);
    for input in &inputs {
        let expected = tb_traceparent_parse_format(input);
        for reference in references {
            assert_eq!(reference(input), expected, "{}", String::from_utf8_lossy(input));
        }
    }
    assert!(tb_traceparent_parse_format(TRACEPARENT).is_some());
    assert_eq!(inputs.iter().filter(|i| tb_traceparent_parse_format(i).is_none()).count(), inputs.len() - 1);
}

/// Sizes of the values core returns by value on the hot path (moved with memcpy on every call).
#[test]
fn print_value_sizes() {
    use std::mem::size_of;
    println!("\n| type | bytes |\n|---|---:|");
    println!("| `TraceContext` | {} |", size_of::<tracebridge::TraceContext<'static>>());
    println!("| `TraceState` | {} |", size_of::<tracebridge::TraceState<'static>>());
    println!(
        "| `Result<Option<Extracted>, Error>` | {} |",
        size_of::<Result<Option<tracebridge::format::Extracted<'static>>, tracebridge::Error>>()
    );
    println!("| `Plan` | {} |", size_of::<tracebridge::Plan>());
    println!("| `TraceStateBuf` | {} |", size_of::<tracebridge::tracestate::TraceStateBuf>());
}

#[test]
fn the_counter_counts() {
    assert_eq!(steady(|| vec![1u8; 10]), 1);
}
