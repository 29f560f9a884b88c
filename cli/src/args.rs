//! The command line, parsed by clap. Format names come from core (`Format::ALL`, `Format::name`).

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Args, Command, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracebridge::translate::FormatList;
use tracebridge::Format;

use crate::dump;

/// Inspect and translate distributed-trace headers: W3C Trace Context, B3, Jaeger, AWS X-Ray and
/// grpc-trace-bin.
#[derive(Debug, Parser)]
#[command(name = "tracebridge", version, propagate_version = true, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

const AFTER_HELP: &str = "\
Headers come from -H and from FILE, or stdin with `-`; stdin is also read when no -H is
given and it is not a terminal. Input may be `Name: value` lines, a raw HTTP request, or
a `curl -v` transcript: `curl -v URL 2>&1 | tracebridge inspect -`. Only the first
request's headers are taken; responses and bodies are skipped.

--config takes the JSON object the Envoy filter and the npm package take, inline or in
a file.

Exit status: 0 a trace context was found, 1 none, 2 usage error.";

/// The command line, with the format names in `--to`'s help taken from core.
pub fn command() -> Command {
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    let help = format!("Formats to write, comma-separated, in order:\n{}", names.join(", "));
    Cli::command().mut_subcommand("translate", |t| t.mut_arg("to", |a| a.help(help)))
}

/// Parse `args` (the program name first).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::from_arg_matches(&command().try_get_matches_from(args)?)
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Show what each format carries, the context chosen, and that context in every format
    #[command(after_help = AFTER_HELP)]
    Inspect(Input),
    /// Print the headers to set (and to remove) to send the context on in FORMATS
    #[command(after_help = AFTER_HELP)]
    Translate {
        // Help: in `command()`, from core's names. Sets the configuration's `inject`.
        #[arg(long, value_name = "FORMATS", value_parser = FormatListParser, hide_possible_values = true)]
        to: FormatList,
        #[command(flatten)]
        input: Input,
    },
}

impl Cmd {
    pub fn input(&self) -> &Input {
        match self {
            Cmd::Inspect(input) | Cmd::Translate { input, .. } => input,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Inspect(_) => "inspect",
            Cmd::Translate { .. } => "translate",
        }
    }
}

/// Where the headers come from, the configuration, and the output form: shared by both commands.
#[derive(Debug, Args)]
pub struct Input {
    /// A request header (repeatable)
    #[arg(short = 'H', long = "header", value_name = "Name: value", value_parser = header_arg)]
    pub headers: Vec<(String, String)>,

    /// Translator configuration: inline JSON (starting with `{`) or a file
    #[arg(long, value_name = "FILE|JSON")]
    pub config: Option<String>,

    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,

    /// Read headers from FILE; `-` reads stdin
    #[arg(value_name = "FILE")]
    pub file: Option<String>,

    /// Same as `-` (kept from earlier releases).
    #[arg(long, hide = true)]
    pub stdin: bool,
}

impl Input {
    /// Where to read more headers from, besides `-H`.
    pub fn source(&self, stdin_is_terminal: bool) -> Source<'_> {
        match self.file.as_deref() {
            Some("-") => Source::Stdin,
            Some(path) => Source::File(path),
            None if self.stdin || (self.headers.is_empty() && !stdin_is_terminal) => Source::Stdin,
            None => Source::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    None,
    Stdin,
    File(&'a str),
}

fn header_arg(s: &str) -> Result<(String, String), String> {
    dump::header(s).map(|(n, v)| (n.to_string(), v.to_string())).ok_or_else(|| "expected 'Name: value'".to_string())
}

/// `w3c,b3-multi`: a list of format names without repeats; help lists the names core knows.
#[derive(Debug, Clone, Copy)]
struct FormatListParser;

impl TypedValueParser for FormatListParser {
    type Value = FormatList;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<FormatList, clap::Error> {
        let invalid = |why: String| {
            let arg = arg.map_or_else(|| "--to".to_string(), ToString::to_string);
            let value = value.to_string_lossy();
            cmd.clone().error(ErrorKind::InvalidValue, format!("invalid value '{value}' for '{arg}': {why}"))
        };
        let text = value.to_str().ok_or_else(|| invalid("not UTF-8".into()))?;
        let formats = text
            .split(',')
            .map(|name| name.trim().parse::<Format>().map_err(|e| invalid(format!("`{name}`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        FormatList::new(&formats).map_err(|f| invalid(format!("format `{f}` is listed twice")))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Format::ALL.into_iter().map(|f| PossibleValue::new(f.name()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        parse_from(std::iter::once("tracebridge").chain(args.iter().copied()))
    }

    fn kind(args: &[&str]) -> Option<ErrorKind> {
        parse(args).err().map(|e| e.kind())
    }

    #[test]
    fn the_command_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn inspect_takes_headers_json_config_and_a_file() {
        let cli = parse(&["inspect", "--json", "-H", "b3: 1", "--header", "X-B3-Flags:1", "--config", "{}", "-"]);
        let Ok(Cli { command: Cmd::Inspect(input) }) = cli else { panic!("{cli:?}") };
        assert!(input.json);
        assert_eq!(input.headers, [("b3".to_string(), "1".to_string()), ("X-B3-Flags".to_string(), "1".to_string())]);
        assert_eq!(input.config.as_deref(), Some("{}"));
        assert_eq!(input.source(true), Source::Stdin);
    }

    #[test]
    fn translate_takes_formats_in_order() {
        let cli = parse(&["translate", "--to", "b3-multi, w3c", "--json", "dump.txt"]);
        let Ok(Cli { command: Cmd::Translate { to, input } }) = cli else { panic!("{cli:?}") };
        assert_eq!(to.as_slice(), [Format::B3Multi, Format::W3c]);
        assert!(input.json);
        assert_eq!(input.source(false), Source::File("dump.txt"));
    }

    #[test]
    fn stdin_is_read_when_asked_or_when_piped_without_headers() {
        let input = |args: &[&str]| match parse(args) {
            Ok(Cli { command: Cmd::Inspect(input) }) => input,
            other => panic!("{other:?}"),
        };
        assert_eq!(input(&["inspect"]).source(false), Source::Stdin);
        assert_eq!(input(&["inspect"]).source(true), Source::None);
        assert_eq!(input(&["inspect", "-H", "b3: 1"]).source(false), Source::None);
        assert_eq!(input(&["inspect", "-H", "b3: 1", "-"]).source(true), Source::Stdin);
        assert_eq!(input(&["inspect", "-H", "b3: 1", "--stdin"]).source(true), Source::Stdin);
    }

    #[test]
    fn usage_errors() {
        assert_eq!(kind(&[]), Some(ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand));
        assert_eq!(kind(&["frobnicate"]), Some(ErrorKind::InvalidSubcommand));
        assert_eq!(kind(&["translate"]), Some(ErrorKind::MissingRequiredArgument));
        assert_eq!(kind(&["translate", "--to", "w3c,nope"]), Some(ErrorKind::InvalidValue));
        assert_eq!(kind(&["translate", "--to", "w3c,w3c"]), Some(ErrorKind::InvalidValue));
        assert_eq!(kind(&["translate", "--to", ""]), Some(ErrorKind::InvalidValue));
        assert_eq!(kind(&["inspect", "-H", "no colon"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["inspect", "-H"]), Some(ErrorKind::InvalidValue));
        assert_eq!(kind(&["inspect", "--to", "w3c"]), Some(ErrorKind::UnknownArgument));
        assert_eq!(kind(&["inspect", "a", "b"]), Some(ErrorKind::UnknownArgument));
        assert_eq!(kind(&["inspect", "--config", "{}", "--config", "{}"]), Some(ErrorKind::ArgumentConflict));
        for args in [&["--help"][..], &["inspect", "--help"], &["translate", "-h"]] {
            assert_eq!(kind(args), Some(ErrorKind::DisplayHelp), "{args:?}");
        }
        for args in [&["--version"][..], &["inspect", "--version"], &["translate", "-V"]] {
            assert_eq!(kind(args), Some(ErrorKind::DisplayVersion), "{args:?}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let msg = |args: &[&str]| parse(args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg(&["translate", "--to", "w3c,nope"]).contains("`nope`: unknown format"));
        assert!(msg(&["translate", "--to", "w3c,w3c"]).contains("format `w3c` is listed twice"));
        assert!(msg(&["inspect", "-H", "no colon"]).contains("expected 'Name: value'"));
    }

    #[test]
    fn help_lists_the_formats_core_knows() {
        let mut cmd = command();
        let help = cmd.find_subcommand_mut("translate").map(|t| t.render_help().to_string()).unwrap_or_default();
        for f in Format::ALL {
            assert!(help.contains(f.name()), "{f} missing from:\n{help}");
        }
    }
}
