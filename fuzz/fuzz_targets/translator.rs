//! The whole `Translator`: `plan` over header lines built from the input, with a configuration chosen
//! by the input's first 6 bytes, the default configuration, and "read and write everything, new root
//! when missing, remove the rest". Checks, for each:
//! - no panic; every write is a valid header value that parses back in its own format; no name is
//!   both written and removed, or written twice;
//! - after `apply`, every format written reads back as the reported trace (a B3 decision as the same
//!   decision), and the formats written agree (no conflict) unless the trace id was truncated;
//! - a second pass over the result continues the same trace;
//! - the same plan comes from the lines as a slice, which the translator reads through the lines it
//!   gathers (`Extractor::gather`) and its name filter, as from `Headers`, which lists nothing;
//! - `translate_into` (its direct route for a request of one format, else plan and apply) leaves
//!   the same headers, and reports the same, as `plan` and `apply`, from either carrier.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::translate::{Config, FormatList, OnMissing, Outcome, Status, Trust};
use tracebridge::{Format, Propagation, Translator};
use tracebridge_fuzz::{assert_written, config, header_lines, Headers};

fn run(t: &Translator, headers: &Headers, random: [u8; 24]) {
    let plan = t.plan(headers, || random);
    let gathered = t.plan(&headers.0[..], || random);
    // The plan's `Debug` shows its report, removals and writes.
    assert_eq!(format!("{gathered:?}"), format!("{plan:?}"), "a slice planned otherwise");
    let report = *plan.report();
    let writes: Vec<_> = plan.writes().collect();
    let removals: Vec<_> = plan.removals().collect();
    for (i, (name, value)) in writes.iter().enumerate() {
        assert_written(name, value);
        assert!(writes[..i].iter().all(|(n, _)| n != name), "{name} written twice");
        assert!(!removals.contains(name), "{name} written and removed");
    }
    assert_eq!(plan.is_noop(), writes.is_empty() && removals.is_empty());
    if matches!(report.outcome, Outcome::PassThrough) {
        assert!(plan.is_noop(), "pass-through changes headers: {plan:?}");
    }
    let mut after = headers.clone();
    plan.apply(&mut after);
    let mut planned = after.0.clone();
    planned.sort();
    for slice in [true, false] {
        let mut out = headers.clone();
        let mut scratch = tracebridge::translate::Plan::new();
        let got = if slice {
            *t.translate_into(&headers.0[..], &mut out, || random, &mut scratch)
        } else {
            *t.translate_into(headers, &mut out, || random, &mut scratch)
        };
        assert_eq!(got, report, "translate_into reported otherwise (slice: {slice})");
        // Lines of different names may come in another order.
        out.0.sort();
        assert_eq!(out.0, planned, "translate_into wrote otherwise (slice: {slice})");
    }
    // X-B3-* values are checked as a group here: every written format reads back.
    let written: Vec<Format> = Format::ALL.into_iter().filter(|f| report.injected(*f)).collect();
    for f in &written {
        let got = f.extract(&after);
        match report.outcome {
            Outcome::SamplingOnly => {
                let s = report.sampling.expect("decision reported");
                assert!(
                    matches!(got, Ok(Some(ref e)) if e.propagation == Propagation::SamplingOnly(s)),
                    "{f}: {got:?}, expected decision {s:?}"
                );
            }
            Outcome::Continued | Outcome::NewRoot(_) => {
                let Ok(Some(e)) = got else { panic!("{f}: written but reads back {got:?}") };
                assert_eq!(e.warning, None, "{f}: written with a warning");
                let Propagation::Context(ctx) = e.propagation else { panic!("{f}: reads back a decision") };
                let (trace, span) = (report.trace_id.expect("trace"), report.span_id.expect("span"));
                assert!(
                    ctx.trace_id == trace || Some(ctx.trace_id) == trace.low_64(),
                    "{f}: trace {} written, {} reported",
                    ctx.trace_id,
                    trace
                );
                assert_eq!(ctx.span_id, span, "{f}: span id");
                let reported = report.sampling.expect("sampling reported");
                // Instana cannot say defer: no level reads as "trace" (instana module docs).
                if !(*f == Format::Instana && reported == tracebridge::Sampling::Defer) {
                    assert_eq!(ctx.sampling.is_sampled(), reported.is_sampled(), "{f}: sampling {:?}", ctx.sampling);
                }
            }
            o => panic!("{o:?} but {f} written"),
        }
    }
    if report.trace_id_truncated || !matches!(report.outcome, Outcome::Continued | Outcome::NewRoot(_)) {
        return;
    }
    // The formats the translator is configured to write agree with each other.
    let cfg = *t.config();
    if !cfg.inject.is_empty() {
        let only_inject = Translator::new(Config { extract: cfg.inject, ..cfg }).expect("valid");
        let ins = only_inject.inspect(&after);
        // Those written: a format that cannot carry the trace id (Datadog, when the low 64 bits are
        // zero) is not written, and the report says so.
        for f in cfg.inject.iter().filter(|f| report.injected(*f)) {
            assert_eq!(ins.status(f), Status::Valid, "{f} after translation: {:?}", ins.status);
        }
    }
    // A second pass continues the same trace, unless what it reads was removed (`remove_other_formats`
    // with no format both read and written: a one-way conversion at a boundary).
    let reread = !cfg.remove_other_formats || cfg.extract.iter().any(|f| cfg.inject.contains(f));
    if cfg.trust == Trust::Continue && report.outcome == Outcome::Continued && reread {
        let again = t.plan(&after, || panic!("second pass started a new root"));
        assert_eq!(again.report().outcome, Outcome::Continued, "second pass: {again:?}");
        assert_eq!(again.report().trace_id, report.trace_id, "second pass: {again:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((c, rest)) = data.split_first_chunk::<6>() else { return };
    let headers = Headers::from_lines(&header_lines(rest));
    let mut random = [0x5a; 24];
    random[..6].copy_from_slice(c);
    let chosen = Translator::new(config(*c)).expect("valid config");
    let everything = Translator::new(Config {
        inject: FormatList::ALL,
        on_missing: OnMissing::NewRoot,
        remove_other_formats: true,
        ..Config::default()
    })
    .expect("valid config");
    for t in [&chosen, &Translator::default(), &everything] {
        run(t, &headers, random);
    }
});
