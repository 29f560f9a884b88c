//! tracebridge against the OpenTelemetry Rust propagators, on identical inputs, in the same run.
//!
//! Benchmark ids are `<op>/<format>/<impl>` with `impl` = `tracebridge`, `otel`, `memcpy` or `floor`
//! (the carrier lookups and writes alone: [`Floor`]).
//! `benches/report.py` turns `target/criterion` into the tables of `BENCHMARKS.md`.
//!
//! ```text
//! cargo bench -p tracebridge-benches --bench propagation -- --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracebridge::{Plan, Translator};
use tracebridge_benches::*;

fn per_format(c: &mut Criterion) {
    let w3c = TraceContextPropagator::new();
    for fx in Fixture::all() {
        let name = fx.format.name();
        let req = Req(fx.headers);

        let mut g = c.benchmark_group(format!("extract/{name}"));
        g.bench_function("tracebridge", |b| b.iter(|| fx.tb_extract(black_box(req))));
        let floor = Floor::reading(&[fx.format]);
        let mut sink = Sink::default();
        g.bench_function("floor", |b| b.iter(|| floor.run(black_box(req), &mut sink)));
        if let Some((p, _)) = &fx.otel {
            g.bench_function("otel", |b| b.iter(|| otel_extract(p, black_box(req))));
        }
        g.finish();

        let mut g = c.benchmark_group(format!("remote/{name}"));
        let mut tracestate = tracebridge::tracestate::TraceStateBuf::new();
        g.bench_function("tracebridge", |b| b.iter(|| fx.tb_remote(black_box(req), &mut tracestate).is_some()));
        g.bench_function("floor", |b| b.iter(|| floor.run(black_box(req), &mut sink)));
        if let Some((p, _)) = &fx.otel {
            g.bench_function("otel", |b| b.iter(|| otel_extract(p, black_box(req))));
        }
        g.finish();

        let mut g = c.benchmark_group(format!("inject/{name}"));
        let mut sink = Sink::default();
        g.bench_function("tracebridge", |b| b.iter(|| fx.tb_inject(black_box(&fx.tb_ctx), &mut sink)));
        let floor = Floor::default().writing(|s| fx.tb_inject(&fx.tb_ctx, s));
        let mut sink = Sink::default();
        g.bench_function("floor", |b| b.iter(|| floor.run(black_box(req), &mut sink)));
        if let Some((p, cx)) = &fx.otel {
            let mut sink = Sink::default();
            g.bench_function("otel", |b| b.iter(|| otel_inject(p, black_box(cx), &mut sink)));
        }
        g.finish();

        if fx.format == tracebridge::Format::W3c {
            continue;
        }
        let mut g = c.benchmark_group(format!("translate/{name}"));
        let mut sink = Sink::default();
        g.bench_function("tracebridge", |b| b.iter(|| fx.tb_translate(black_box(req), &mut sink)));
        let floor = Floor::reading(&[fx.format]).writing(|s| fx.tb_translate(req, s));
        let mut sink = Sink::default();
        g.bench_function("floor", |b| b.iter(|| floor.run(black_box(req), &mut sink)));
        if let Some((p, _)) = &fx.otel {
            let mut sink = Sink::default();
            g.bench_function("otel", |b| b.iter(|| otel_translate(p, &w3c, black_box(req), &mut sink)));
        }
        g.finish();
    }
}

fn tracestate(c: &mut Criterion) {
    for n in [1, 8, 32] {
        let value = tracestate_of(n);
        let mut g = c.benchmark_group(format!("tracestate-parse/{n}"));
        g.bench_function("tracebridge", |b| b.iter(|| tb_tracestate_parse(black_box(&value))));
        g.bench_function("otel", |b| b.iter(|| otel_tracestate_parse(black_box(&value))));
        g.finish();

        let tb = tb_tracestate_parse(&value).unwrap_or_default();
        let otel = otel_tracestate_parse(&value).unwrap_or_default();
        let mut g = c.benchmark_group(format!("tracestate-mutate/{n}"));
        let mut out = tracebridge::tracestate::TraceStateBuf::new();
        g.bench_function("tracebridge", |b| b.iter(|| tb_tracestate_mutate(black_box(&tb), &mut out).as_str().len()));
        g.bench_function("otel", |b| b.iter(|| otel_tracestate_mutate(black_box(&otel))));
        g.finish();
    }
}

fn request(c: &mut Criterion) {
    // The issue's row, and the same request without tracebridge's own tracestate member (what it
    // costs: `translator_five_no_member`).
    for (name, t) in [("five-formats", translator_five()), ("five-formats-no-member", translator_five_no_member())] {
        request_with(c, name, &t);
    }
}

fn request_with(c: &mut Criterion, name: &str, t: &Translator) {
    let p = otel_composite_five();
    let req = Req(inputs::REQUEST);
    let mut g = c.benchmark_group(format!("request/{name}"));
    let mut sink = Sink::default();
    let mut plan = Plan::new();
    g.bench_function("tracebridge", |b| {
        b.iter(|| tb_request(t, black_box(req), &mut plan, &mut sink).report().outcome)
    });
    let mut sink = Sink::default();
    g.bench_function("otel", |b| b.iter(|| otel_request(&p, black_box(req), &mut sink)));
    let floor = Floor::reading(&FIVE).writing(|s| {
        tb_request(t, req, &mut Plan::new(), s);
    });
    let mut sink = Sink::default();
    g.bench_function("floor", |b| b.iter(|| floor.run(black_box(req), &mut sink)));
    g.finish();
}

fn baseline(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse-format/traceparent");
    g.bench_function("memcpy", |b| b.iter(|| memcpy_traceparent(black_box(TRACEPARENT))));
    g.bench_function("tracebridge", |b| b.iter(|| tb_traceparent_parse_format(black_box(TRACEPARENT))));
    // Reference point (not tracebridge): the same strict parse+format with a 256-entry hex table.
    g.bench_function("hex-table", |b| b.iter(|| lut_traceparent_parse_format(black_box(TRACEPARENT))));
    // Reference point (not tracebridge): the hex done by `const-hex` (AVX2 where the CPU has it).
    g.bench_function("const-hex", |b| b.iter(|| const_hex_traceparent_parse_format(black_box(TRACEPARENT))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = baseline, per_format, tracestate, request
}
criterion_main!(benches);
