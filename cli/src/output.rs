//! What the commands print: text for a person, or one JSON object (`--json`).

use std::io::{self, Write};

use serde::Serialize;
use tracebridge::translate::Status;
use tracebridge::{tracestate, Error, Format, IdWidth, Inspection, Plan, Report};

/// `inspect`: per format what was found, the chosen context, and that context in every format.
/// Returns whether a context was found.
pub fn inspect(ins: &Inspection<'_>, json: bool, out: &mut impl Write) -> io::Result<bool> {
    if json {
        // Core's shape, shared with the test vectors and the doors.
        serde_json::to_writer(&mut *out, ins).map_err(io::Error::other)?;
        writeln!(out)?;
        return Ok(ins.context.is_some());
    }
    writeln!(out, "formats:")?;
    for f in Format::ALL {
        match ins.status(f) {
            Status::Invalid(e) => writeln!(out, "  {:<15} invalid   {e}", f.name())?,
            s => writeln!(out, "  {:<15} {}", f.name(), s.name())?,
        }
    }
    match ins.tracestate_error {
        Some(e @ Error::TracestateDuplicateKey) => writeln!(out, "  (tracestate members dropped: {e})")?,
        Some(e) => writeln!(out, "  (tracestate dropped: {e})")?,
        None => {}
    }
    let Some(ctx) = ins.context else {
        match (ins.source, ins.sampling_only) {
            (Some(f), Some(s)) => writeln!(out, "no context; {f} carries only a sampling decision: {s:?}")?,
            _ => writeln!(out, "no valid trace context")?,
        }
        return Ok(false);
    };
    writeln!(out, "chosen: {}", ins.source.map_or("-", Format::name))?;
    let narrow = if ctx.id_width == IdWidth::Bits64 { " (64-bit on the wire)" } else { "" };
    writeln!(out, "  trace id    {}{narrow}", ctx.trace_id)?;
    writeln!(out, "  span id     {}", ctx.span_id)?;
    if let Some(p) = ctx.parent_span_id {
        writeln!(out, "  parent      {p}")?;
    }
    writeln!(out, "  sampling    {:?}", ctx.sampling)?;
    writeln!(out, "  trace-flags {:02x}", ctx.trace_flags.0)?;
    if !ctx.tracestate.is_empty() {
        writeln!(out, "  tracestate  {}", ctx.tracestate)?;
    }
    if let Some((tr, sp)) = ins.restarted_from {
        writeln!(out, "  restarted from trace {tr} span {sp}")?;
    }
    writeln!(out, "in every format:")?;
    for f in Format::ALL {
        let mut written: Vec<(String, String)> = Vec::new();
        f.inject(&ctx, &mut written);
        if f == Format::W3c {
            add_tracestate(&mut written, &ctx.tracestate.to_string());
        }
        for (n, v) in written {
            writeln!(out, "  {n}: {v}")?;
        }
    }
    Ok(true)
}

/// W3C's headers are `traceparent` and `tracestate`. Until `w3c::inject` writes tracestate itself
/// (issue 10) it is added here; once it does, it is printed as written, once.
fn add_tracestate(written: &mut Vec<(String, String)>, tracestate: &str) {
    if !tracestate.is_empty() && !written.iter().any(|(n, _)| n.eq_ignore_ascii_case(tracestate::HEADER)) {
        written.push((tracestate::HEADER.to_string(), tracestate.to_string()));
    }
}

/// `translate`: the headers to remove and to set. Returns whether a context is sent on.
pub fn translate(plan: &Plan, json: bool, out: &mut impl Write) -> io::Result<bool> {
    let found = plan.report().trace_id.is_some();
    if json {
        let doc =
            TranslateJson { report: plan.report(), remove: plan.removals().collect(), set: plan.writes().collect() };
        serde_json::to_writer(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)?;
        return Ok(found);
    }
    for name in plan.removals() {
        writeln!(out, "# remove {name}")?;
    }
    for (n, v) in plan.writes() {
        writeln!(out, "{n}: {v}")?;
    }
    Ok(found)
}

/// `{"report": {...}, "remove": [name, ...], "set": [[name, value], ...]}`: what the npm package's
/// `translate` returns; apply the removals, then the writes.
#[derive(Serialize)]
struct TranslateJson<'p> {
    report: &'p Report,
    remove: Vec<&'p str>,
    set: Vec<(&'p str, &'p str)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracestate_is_added_once() {
        let tp = || ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string());
        let ts = || ("tracestate".to_string(), "congo=t61rcWkgMzE".to_string());
        let mut only_tp = vec![tp()];
        add_tracestate(&mut only_tp, "congo=t61rcWkgMzE");
        assert_eq!(only_tp, [tp(), ts()]);
        let mut both = vec![tp(), ts()];
        add_tracestate(&mut both, "congo=t61rcWkgMzE");
        assert_eq!(both, [tp(), ts()]);
        let mut empty = vec![tp()];
        add_tracestate(&mut empty, "");
        assert_eq!(empty, [tp()]);
    }
}
