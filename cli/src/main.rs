//! `tracebridge`: inspect and translate trace headers, for operators debugging a broken trace.
//!
//! ```text
//! tracebridge inspect [--json] [-H 'Name: value']... [--config FILE|JSON]   < header lines
//! tracebridge translate --to w3c,b3-multi [-H 'Name: value']... [--config FILE|JSON]
//! ```
//! Input is `Name: value` lines, a raw HTTP request or a `curl -v` transcript (see [`dump`]); stdin
//! is read when no `-H` is given (or with `--stdin`).
//! Exit status: 0 when a context was found, 1 when none, 2 on a usage error.

mod dump;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use tracebridge::translate::{Config, FormatList, Status};
use tracebridge::{Format, Translator};

const USAGE: &str = "\
usage: tracebridge inspect [--json] [-H 'Name: value']... [--stdin] [--config FILE|JSON]
       tracebridge translate --to FORMATS [-H 'Name: value']... [--stdin] [--config FILE|JSON]

Reads trace headers from -H arguments, else from stdin: 'Name: value' lines, a raw HTTP
request, or a `curl -v` transcript (the first request's headers).
  inspect     per format what was found, the chosen context, and how it reads in every format
  translate   the header lines to send, written in FORMATS (comma-separated)
Formats: w3c, b3-single, b3-multi, jaeger, xray, grpc-trace-bin.
--config takes the translator configuration (the JSON the Envoy filter and npm package take),
inline or as a file path. Exit status: 0 context found, 1 none, 2 usage error.";

struct Args {
    command: String,
    json: bool,
    to: Option<FormatList>,
    headers: Vec<(String, String)>,
    stdin: bool,
    config: Option<String>,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("tracebridge: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn parse_formats(list: &str) -> Result<FormatList, String> {
    let formats: Vec<Format> = list
        .split(',')
        .map(|s| s.trim().parse::<Format>().map_err(|e| format!("{e} (got `{s}`)")))
        .collect::<Result<_, _>>()?;
    FormatList::new(&formats).map_err(|f| format!("format `{f}` is listed twice"))
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = it.next().ok_or("missing command")?;
    if !matches!(command.as_str(), "inspect" | "translate") {
        return Err(format!("unknown command `{command}`"));
    }
    let mut args = Args { command, json: false, to: None, headers: Vec::new(), stdin: false, config: None };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => args.json = true,
            "--stdin" => args.stdin = true,
            "-H" | "--header" => {
                let h = it.next().ok_or("-H needs 'Name: value'")?;
                let (name, value) = dump::header(&h).ok_or_else(|| format!("not a header line: `{h}`"))?;
                args.headers.push((name.to_string(), value.to_string()));
            }
            "--to" => args.to = Some(parse_formats(&it.next().ok_or("--to needs formats")?)?),
            "--config" => args.config = Some(it.next().ok_or("--config needs a file or JSON")?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.command == "translate" && args.to.is_none() {
        return Err("translate needs --to".into());
    }
    Ok(args)
}

fn load_config(arg: Option<&str>) -> Result<Config, String> {
    let Some(arg) = arg else { return Ok(Config::default()) };
    let text = if arg.trim_start().starts_with('{') {
        arg.to_string()
    } else {
        std::fs::read_to_string(arg).map_err(|e| format!("--config {arg}: {e}"))?
    };
    // Core's reader, as in the Envoy filter and the npm package: the same words, naming the key.
    tracebridge::json::from_str::<Config>(&text).map_err(|e| format!("configuration: {e}"))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let mut config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    if let Some(to) = args.to {
        config.inject = to;
    }
    let translator = match Translator::new(config) {
        Ok(t) => t,
        Err(e) => return usage(&format!("configuration: {e}")),
    };
    let mut headers = args.headers;
    if args.stdin || (headers.is_empty() && !std::io::stdin().is_terminal()) {
        // Not UTF-8 (a compressed body after a `curl -v` transcript): replaced; header values are ASCII.
        let mut input = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut input) {
            return usage(&format!("reading stdin: {e}"));
        }
        match dump::parse(&String::from_utf8_lossy(&input)) {
            Ok(taken) => headers.extend(taken.into_iter().map(|(n, v)| (n.to_string(), v.to_string()))),
            Err(e) => return usage(&format!("stdin: {e}")),
        }
    }
    let mut out = std::io::stdout().lock();
    let found = match args.command.as_str() {
        "inspect" => inspect(&translator, &headers, args.json, &mut out),
        _ => translate(&translator, &headers, &mut out),
    };
    match found {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tracebridge: {e}");
            ExitCode::from(2)
        }
    }
}

fn inspect(t: &Translator, headers: &[(String, String)], json: bool, out: &mut impl Write) -> std::io::Result<bool> {
    let ins = t.inspect(headers);
    if json {
        let v = serde_json::to_string(&ins).map_err(std::io::Error::other)?;
        writeln!(out, "{v}")?;
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
        Some(e @ tracebridge::Error::TracestateDuplicateKey) => writeln!(out, "  (tracestate members dropped: {e})")?,
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
    writeln!(
        out,
        "  trace id    {}{}",
        ctx.trace_id,
        if ctx.id_width == tracebridge::IdWidth::Bits64 { " (64-bit on the wire)" } else { "" }
    )?;
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
        for (n, v) in written {
            writeln!(out, "  {n}: {v}")?;
        }
        if f == Format::W3c && !ctx.tracestate.is_empty() {
            writeln!(out, "  tracestate: {}", ctx.tracestate)?;
        }
    }
    Ok(true)
}

fn translate(t: &Translator, headers: &[(String, String)], out: &mut impl Write) -> std::io::Result<bool> {
    let plan = t.plan(headers, random);
    for name in plan.removals() {
        if plan.writes().all(|(n, _)| n != name) && headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            writeln!(out, "# remove {name}")?;
        }
    }
    for (n, v) in plan.writes() {
        writeln!(out, "{n}: {v}")?;
    }
    Ok(plan.report().trace_id.is_some())
}

/// Randomness for new roots, from the OS.
fn random() -> [u8; 24] {
    let mut b = [0u8; 24];
    // If the OS generator fails, the zero draw still yields valid ids (TraceId::from_random); the
    // CLI is a debugging tool, not the gateway.
    let _ = getrandom::fill(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = |s: &[&str]| parse_args(s.iter().map(|x| x.to_string()));
        assert!(a(&["inspect", "--json", "-H", "b3: 1"]).is_ok_and(|a| a.json && a.headers.len() == 1));
        assert!(a(&["translate"]).is_err());
        assert!(a(&["translate", "--to", "w3c,nope"]).is_err());
        assert!(a(&["translate", "--to", "w3c,w3c"]).is_err());
        assert!(a(&["frobnicate"]).is_err());
        assert!(a(&["inspect", "-H", "bad name: v"]).is_err());
    }
}
