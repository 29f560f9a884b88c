//! `tracebridge`: inspect and translate trace headers, for operators debugging a broken trace.
//!
//! ```text
//! tracebridge inspect [--json] [-H 'Name: value']... [--config FILE|JSON] [FILE|-]
//! tracebridge translate --to FORMATS [--json] [-H 'Name: value']... [--config FILE|JSON] [FILE|-]
//! curl -v https://example.com/ 2>&1 | tracebridge inspect -
//! ```
//! Headers come from `-H`, and from FILE or stdin: `Name: value` lines, a raw HTTP request, or a
//! `curl -v` transcript (see [`dump`]). The configuration is read by core's reader, so its errors read
//! as in the Envoy filter and the npm package. Exit status: 0 when a context was found, 1 when none,
//! 2 on a usage error (clap's included).

mod args;
mod dump;
mod output;

use std::borrow::Cow;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::error::ErrorKind;
use tracebridge::{Config, Translator};

use args::{Cli, Cmd, Source};

fn main() -> ExitCode {
    let cli = match args::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return exit_with(&e),
    };
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure::Usage(kind, msg)) => exit_with(&usage_error(&cli.command, kind, msg)),
        Err(Failure::Output(e)) => {
            eprintln!("tracebridge: writing the output: {e}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Usage(ErrorKind, String),
    Output(std::io::Error),
}

fn run(cli: &Cli) -> Result<bool, Failure> {
    let input = cli.command.input();
    let mut config = load_config(input.config.as_deref())?;
    if let Cmd::Translate { to, .. } = &cli.command {
        config.inject = *to;
    }
    let translator = Translator::new(config)
        .map_err(|e| Failure::Usage(ErrorKind::ValueValidation, format!("configuration: {e}")))?;

    let text = read_input(input.source(std::io::stdin().is_terminal()))?;
    let mut headers: Vec<(&str, &str)> = input.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let what = match input.source(true) {
        Source::File(path) => path,
        _ => "stdin",
    };
    headers.extend(dump::parse(&text).map_err(|e| Failure::Usage(ErrorKind::InvalidValue, format!("{what}: {e}")))?);

    let mut out = std::io::stdout().lock();
    let found = match &cli.command {
        Cmd::Inspect(_) => output::inspect(&translator.inspect(&headers), input.json, &mut out),
        Cmd::Translate { .. } => output::translate(&translator.plan(&headers, random), input.json, &mut out),
    };
    found.map_err(Failure::Output)
}

/// `--config`: inline JSON (starting with `{`) or a file, read by core's reader.
fn load_config(arg: Option<&str>) -> Result<Config, Failure> {
    let Some(arg) = arg else { return Ok(Config::default()) };
    let text = if arg.trim_start().starts_with('{') {
        Cow::Borrowed(arg)
    } else {
        let text =
            std::fs::read_to_string(arg).map_err(|e| Failure::Usage(ErrorKind::Io, format!("--config {arg}: {e}")))?;
        Cow::Owned(text)
    };
    Config::from_json(&text).map_err(|e| Failure::Usage(ErrorKind::ValueValidation, format!("configuration: {e}")))
}

/// The text to read headers from. Bytes that are not UTF-8 (a compressed body after a `curl -v`
/// transcript, say) are replaced: header values that matter are ASCII.
fn read_input(source: Source<'_>) -> Result<String, Failure> {
    let (bytes, what) = match source {
        Source::None => return Ok(String::new()),
        Source::Stdin => {
            let mut bytes = Vec::new();
            (std::io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes), "stdin")
        }
        Source::File(path) => (std::fs::read(path), path),
    };
    let bytes = bytes.map_err(|e| Failure::Usage(ErrorKind::Io, format!("reading {what}: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Our usage errors, printed as clap prints its own, with the subcommand's usage line.
fn usage_error(command: &Cmd, kind: ErrorKind, msg: String) -> clap::Error {
    let mut cmd = args::command();
    cmd.build();
    match cmd.find_subcommand_mut(command.name()) {
        Some(sub) => sub.error(kind, msg),
        None => cmd.error(kind, msg),
    }
}

/// Print a clap error (or help, or version) where clap would, with its exit status: 0 for help and
/// version, 2 for a usage error.
fn exit_with(e: &clap::Error) -> ExitCode {
    if let Err(io) = e.print() {
        eprintln!("tracebridge: {io}");
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// Randomness for new roots, from the OS.
fn random() -> [u8; 24] {
    let mut b = [0u8; 24];
    // If the OS generator fails, the zero draw still yields valid ids (TraceId::from_random); the
    // CLI is a debugging tool, not the gateway.
    let _ = getrandom::fill(&mut b);
    b
}
