//! Runs one op of the benches `n` times, for `benches/instructions.py` to count its instructions
//! under callgrind: a second measure next to criterion's times, exact and the same on a busy machine
//! (instructions are not time: a cache miss or an allocation's page fault costs more than its count).
//!
//! ```text
//! instructions <op> <format> <impl> <n>
//!   op:   extract | remote | inject | translate | request | tracestate-parse | tracestate-mutate | parse-format
//!   impl: tracebridge | otel | floor (extract, remote, inject, translate, request) | memcpy (parse-format)
//! ```
//!
//! Each op is the same function the criterion bench times (`benches/propagation.rs`).

use std::hint::black_box;
use std::process::ExitCode;

use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracebridge::{Format, Plan};
use tracebridge_benches::*;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, format, imp, n] = args.as_slice() else {
        eprintln!("usage: instructions <op> <format> <impl> <n>");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("n: not a number: {n}");
        return ExitCode::from(2);
    };
    match run(op, format, imp, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn run(op: &str, format: &str, imp: &str, n: usize) -> Result<(), String> {
    let mut sink = Sink::default();
    match op {
        "extract" | "remote" | "inject" | "translate" => {
            let f = Format::from_name(format).ok_or_else(|| format!("unknown format {format}"))?;
            let fx = Fixture::new(f);
            let req = Req(fx.headers);
            let w3c = TraceContextPropagator::new();
            let otel = || fx.otel.as_ref().ok_or_else(|| format!("OpenTelemetry has no {format} propagator"));
            match (op, imp) {
                ("extract", "tracebridge") => repeat(n, || keep(fx.tb_extract(black_box(req)))),
                // OpenTelemetry's extract is also its remote parent; the floor reads the same headers.
                ("extract" | "remote", "otel") => {
                    let (p, _) = otel()?;
                    repeat(n, || keep(otel_extract(p, black_box(req))));
                }
                ("extract" | "remote", "floor") => {
                    let floor = Floor::reading(&[f]);
                    repeat(n, || keep(floor.run(black_box(req), &mut sink)));
                }
                ("remote", "tracebridge") => {
                    let mut tracestate = tracebridge::tracestate::TraceStateBuf::new();
                    repeat(n, || keep(fx.tb_remote(black_box(req), &mut tracestate).is_some()));
                }
                ("inject", "tracebridge") => repeat(n, || fx.tb_inject(black_box(&fx.tb_ctx), &mut sink)),
                ("inject", "otel") => {
                    let (p, cx) = otel()?;
                    repeat(n, || otel_inject(p, black_box(cx), &mut sink));
                }
                ("inject", "floor") => {
                    let floor = Floor::default().writing(|s| fx.tb_inject(&fx.tb_ctx, s));
                    repeat(n, || keep(floor.run(black_box(req), &mut sink)));
                }
                ("translate", "tracebridge") => repeat(n, || fx.tb_translate(black_box(req), &mut sink)),
                ("translate", "otel") => {
                    let (p, _) = otel()?;
                    repeat(n, || otel_translate(p, &w3c, black_box(req), &mut sink));
                }
                ("translate", "floor") => {
                    let floor = Floor::reading(&[f]).writing(|s| fx.tb_translate(req, s));
                    repeat(n, || keep(floor.run(black_box(req), &mut sink)));
                }
                _ => return Err(format!("unknown impl {imp} for {op}")),
            }
        }
        "request" => {
            let t = if format.ends_with("no-member") { translator_five_no_member() } else { translator_five() };
            let req = Req(inputs::REQUEST);
            match imp {
                "tracebridge" => {
                    let mut plan = Plan::new();
                    repeat(n, || keep(tb_request(&t, black_box(req), &mut plan, &mut sink).report().outcome));
                }
                "otel" => {
                    let p = otel_composite_five();
                    repeat(n, || otel_request(&p, black_box(req), &mut sink));
                }
                "floor" => {
                    let floor = Floor::reading(&FIVE).writing(|s| {
                        tb_request(&t, req, &mut Plan::new(), s);
                    });
                    repeat(n, || keep(floor.run(black_box(req), &mut sink)));
                }
                _ => return Err(format!("unknown impl {imp} for {op}")),
            }
        }
        "tracestate-parse" | "tracestate-mutate" => {
            let members: usize = format.parse().map_err(|_| format!("{op}: members, not {format}"))?;
            let value = tracestate_of(members);
            match (op, imp) {
                ("tracestate-parse", "tracebridge") => repeat(n, || keep(tb_tracestate_parse(black_box(&value)))),
                ("tracestate-parse", "otel") => repeat(n, || keep(otel_tracestate_parse(black_box(&value)))),
                ("tracestate-mutate", "tracebridge") => {
                    let ts = tb_tracestate_parse(&value).unwrap_or_default();
                    let mut out = tracebridge::tracestate::TraceStateBuf::new();
                    repeat(n, || keep(tb_tracestate_mutate(black_box(&ts), &mut out).as_str().len()));
                }
                ("tracestate-mutate", "otel") => {
                    let ts = otel_tracestate_parse(&value).unwrap_or_default();
                    repeat(n, || keep(otel_tracestate_mutate(black_box(&ts))));
                }
                _ => return Err(format!("unknown impl {imp} for {op}")),
            }
        }
        "parse-format" => match imp {
            "tracebridge" => repeat(n, || keep(tb_traceparent_parse_format(black_box(TRACEPARENT)))),
            "memcpy" => repeat(n, || keep(memcpy_traceparent(black_box(TRACEPARENT)))),
            "hex-table" => repeat(n, || keep(lut_traceparent_parse_format(black_box(TRACEPARENT)))),
            "const-hex" => repeat(n, || keep(const_hex_traceparent_parse_format(black_box(TRACEPARENT)))),
            _ => return Err(format!("unknown impl {imp} for {op}")),
        },
        _ => return Err(format!("unknown op {op}")),
    }
    Ok(())
}

/// Keep a result alive (the optimizer must compute it).
fn keep<T>(v: T) {
    let _ = black_box(v);
}

fn repeat(n: usize, mut f: impl FnMut()) {
    for _ in 0..n {
        f();
    }
}
