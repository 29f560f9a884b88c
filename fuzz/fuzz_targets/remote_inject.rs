//! What the OpenTelemetry adapters do with a request (`core/src/otel.rs`, npm's `TraceBridgePropagator`):
//! `Translator::remote` on extract, then `Translator::inject_span` of the span context it gave, with the
//! tracestate it wrote. A configuration is chosen by the input's first 6 bytes (as in `translator`),
//! and the default one is run too. Checks:
//! - no panic; the tracestate handed to the SDK parses; every header written is a valid value that
//!   parses back in its own format, and none is written twice;
//! - W3C written carries the same ids and sampled bit;
//! - read back with the same translator, what was written continues the same trace with the same
//!   span id, and with W3C alone written, the same sampling decision (our member restoring what W3C
//!   cannot say: debug, defer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::propagate::SpanContext;
use tracebridge::tracestate::TraceStateBuf;
use tracebridge::translate::{Trust, WidthPolicy};
use tracebridge::w3c::Traceparent;
use tracebridge::{Format, TraceState, Translator};
use tracebridge_fuzz::{assert_written, config, header_lines, Headers};

fn run(t: &Translator, headers: &Headers) {
    let mut ts = TraceStateBuf::new();
    let Some(ctx) = t.remote_into(headers, &mut ts) else { return };
    let tracestate = match ts.as_str() {
        "" => TraceState::EMPTY,
        s => TraceState::parse(s).unwrap_or_else(|e| panic!("remote's tracestate {s:?}: {e}")),
    };
    let span = SpanContext { trace_id: ctx.trace_id, span_id: ctx.span_id, trace_flags: ctx.trace_flags, tracestate };
    let mut out: Vec<(String, String)> = Vec::new();
    t.inject_span(&span, &mut out);
    for (i, (name, value)) in out.iter().enumerate() {
        assert_written(name, value);
        assert!(out[..i].iter().all(|(n, _)| n != name), "{name} written twice: {out:?}");
    }
    let cfg = *t.config();
    if cfg.inject.contains(Format::W3c) {
        let (_, tp) = out.iter().find(|(n, _)| n == "traceparent").expect("traceparent written");
        let tp = Traceparent::parse(tp.as_bytes()).expect("traceparent parses");
        assert_eq!((tp.trace_id, tp.parent_id), (ctx.trace_id, ctx.span_id), "{out:?}");
        assert_eq!(tp.flags.is_sampled(), ctx.trace_flags.is_sampled(), "{out:?}");
    }
    // Read back what was written: the same trace and span, when every format written is also read,
    // something was written (Datadog alone writes nothing for an id whose low 64 bits are zero), and
    // no format cut the id to 64 bits (then the formats written disagree: a conflict, by design).
    let truncated = cfg.id_width == WidthPolicy::Bits64 && !ctx.trace_id.fits_64();
    let all_read = cfg.inject.iter().all(|f| cfg.extract.contains(f));
    if cfg.trust == Trust::Continue && !out.is_empty() && all_read && !truncated {
        let lines: Vec<(&str, &str)> = out.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let again = t.remote_into(&lines[..], &mut TraceStateBuf::new());
        let again = again.unwrap_or_else(|| panic!("{out:?} does not read back"));
        assert!(
            again.trace_id == ctx.trace_id || Some(again.trace_id) == ctx.trace_id.low_64(),
            "trace {} read back as {}: {out:?}",
            ctx.trace_id,
            again.trace_id
        );
        assert_eq!(again.span_id, ctx.span_id, "{out:?}");
        // W3C alone, with our member: the decision comes back whole (debug and defer included).
        if cfg.inject.iter().eq([Format::W3c]) && cfg.tracestate.member {
            assert_eq!(again.sampling, ctx.sampling, "{out:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((c, rest)) = data.split_first_chunk::<6>() else { return };
    let headers = Headers::from_lines(&header_lines(rest));
    run(&Translator::new(config(*c)).expect("valid config"), &headers);
    run(&Translator::default(), &headers);
});
