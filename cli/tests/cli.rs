//! The built `tracebridge` binary, end to end: arguments, input, output and exit status.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use tracebridge::Format;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const TRACEPARENT: &str = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const B3: &str = "b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1";
/// Captured from curl 7.88.1: `curl -v URL -H 'traceparent: ...' -H 'tracestate: congo=t61rcWkgMzE' 2>&1`.
const CURL_HTTP1: &str = include_str!("data/curl-7.88-http1.txt");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Result<Value> {
        Ok(serde_json::from_str(&self.stdout)
            .map_err(|e| format!("{e} in {:?} (stderr {:?})", self.stdout, self.stderr))?)
    }
}

/// Run the binary with `args`, `stdin` on its standard input (closed at once when `None`: not a
/// terminal, so it is read as an empty input when no -H is given).
fn run(args: &[&str], stdin: Option<&str>) -> Result<Run> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracebridge"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        match pipe.write_all(text.as_bytes()) {
            // The binary may exit without reading stdin (it reads it only when told to).
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written?,
        }
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    Ok(Run {
        code: out.status.code().ok_or("killed by a signal")?,
        stdout: String::from_utf8(out.stdout)?,
        stderr: String::from_utf8(out.stderr)?,
    })
}

#[test]
fn version_for_the_program_and_each_command() -> Result {
    for args in [&["--version"][..], &["-V"], &["inspect", "--version"], &["translate", "--version"]] {
        let r = run(args, None)?;
        assert_eq!(r.code, 0, "{args:?}");
        assert!(r.stdout.starts_with("tracebridge"), "{args:?}: {}", r.stdout);
        assert!(r.stdout.trim_end().ends_with(env!("CARGO_PKG_VERSION")), "{args:?}: {}", r.stdout);
    }
    Ok(())
}

#[test]
fn help_for_the_program_and_each_command() -> Result {
    let top = run(&["--help"], None)?;
    assert_eq!(top.code, 0);
    assert!(top.stdout.contains("inspect") && top.stdout.contains("translate"), "{}", top.stdout);
    assert!(top.stdout.contains("Exit status: 0"), "{}", top.stdout);

    let inspect = run(&["inspect", "--help"], None)?;
    assert_eq!(inspect.code, 0);
    for word in ["Usage: tracebridge inspect", "--header <Name: value>", "--config <FILE|JSON>", "--json", "[FILE]"] {
        assert!(inspect.stdout.contains(word), "{word} missing from\n{}", inspect.stdout);
    }

    let translate = run(&["help", "translate"], None)?;
    assert_eq!(translate.code, 0);
    assert!(translate.stdout.contains("--to <FORMATS>"), "{}", translate.stdout);
    for f in Format::ALL {
        assert!(translate.stdout.contains(f.name()), "{f} missing from\n{}", translate.stdout);
    }
    Ok(())
}

#[test]
fn inspect_json_names_the_chosen_context() -> Result {
    let r =
        run(&["inspect", "--json", "-H", B3, "-H", "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793"], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json()?;
    assert_eq!(v["source"], "b3-single");
    assert_eq!(v["context"]["trace_id"], "80f198ee56343ba864fe8b2a57d3eff7");
    assert_eq!(v["context"]["span_id"], "e457b5a2e4d86bd1");
    assert_eq!(v["context"]["sampled"], true);
    assert_eq!(v["formats"]["b3-single"]["status"], "valid");
    assert_eq!(v["formats"]["xray"]["status"], "invalid");
    assert_eq!(v["formats"]["w3c"]["status"], "absent");
    Ok(())
}

#[test]
fn inspect_text_prints_tracestate_once() -> Result {
    let r = run(&["inspect", "-H", TRACEPARENT, "-H", "tracestate: congo=t61rcWkgMzE"], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("chosen: w3c"), "{}", r.stdout);
    assert!(r.stdout.contains("  tracestate  congo=t61rcWkgMzE"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("\n  tracestate: congo=t61rcWkgMzE\n").count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("  uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
        "{}",
        r.stdout
    );
    Ok(())
}

#[test]
fn translate_json_reports_removes_and_sets() -> Result {
    let r =
        run(&["translate", "--to", "w3c,b3-multi", "--json", "-H", "uber-trace-id: 3ce929d0e0e4736:ef12a:0:1"], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json()?;
    assert_eq!(v["report"]["outcome"], "continued");
    assert_eq!(v["report"]["source"], "jaeger");
    assert_eq!(v["report"]["trace_id"], "000000000000000003ce929d0e0e4736");
    assert_eq!(v["report"]["injected"], serde_json::json!(["w3c", "b3-multi"]));
    assert_eq!(v["report"]["formats"]["jaeger"]["status"], "valid");
    assert_eq!(v["remove"], serde_json::json!([]));
    let set = v["set"].as_array().ok_or("set is not an array")?;
    assert_eq!(set[0], serde_json::json!(["traceparent", "00-000000000000000003ce929d0e0e4736-00000000000ef12a-01"]));
    let names: Vec<_> = set.iter().filter_map(|pair| pair[0].as_str()).collect();
    assert_eq!(names, ["traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]);
    Ok(())
}

#[test]
fn translate_json_with_a_new_root_and_removals() -> Result {
    let config = r#"{"on_missing": "new-root", "remove_other_formats": true}"#;
    let r = run(&["translate", "--to", "b3-single", "--json", "--config", config, "-H", "uber-trace-id: nope"], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json()?;
    assert_eq!(v["report"]["outcome"], "new-root");
    assert_eq!(v["report"]["root_reason"], "missing");
    assert_eq!(v["report"]["formats"]["jaeger"]["status"], "invalid");
    assert_eq!(v["remove"], serde_json::json!(["uber-trace-id"]));
    assert_eq!(v["set"][0][0], "b3");
    Ok(())
}

#[test]
fn translate_text_prints_header_lines() -> Result {
    let r = run(&["translate", "--to", "b3-multi", "-H", TRACEPARENT], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "x-b3-traceid: 4bf92f3577b34da6a3ce929d0e0e4736\nx-b3-spanid: 00f067aa0ba902b7\nx-b3-sampled: 1\n"
    );
    Ok(())
}

#[test]
fn dash_reads_stdin_next_to_header_arguments() -> Result {
    let stdin = format!("{TRACEPARENT}\r\n");
    let r = run(&["inspect", "--json", "-H", "tracestate: congo=t61rcWkgMzE", "-"], Some(&stdin))?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json()?;
    assert_eq!(v["source"], "w3c");
    assert_eq!(v["context"]["tracestate"], "congo=t61rcWkgMzE");
    // Without `-`, -H alone is the input and stdin is left alone.
    let r = run(&["inspect", "--json", "-H", "tracestate: congo=t61rcWkgMzE"], Some(&stdin))?;
    assert_eq!((r.code, r.json()?["source"].clone()), (1, Value::Null));
    Ok(())
}

#[test]
fn stdin_is_read_without_dash_when_no_header_is_given() -> Result {
    let r = run(&["inspect", "--json"], Some(B3))?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()?["source"], "b3-single");
    Ok(())
}

#[test]
fn a_curl_verbose_transcript_on_stdin() -> Result {
    let r = run(&["inspect", "-"], Some(CURL_HTTP1))?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("chosen: w3c"), "{}", r.stdout);
    assert!(r.stdout.contains("  trace id    4bf92f3577b34da6a3ce929d0e0e4736"), "{}", r.stdout);
    let r = run(&["translate", "--to", "b3-single", "--json", "-"], Some(CURL_HTTP1))?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()?["set"][0][1], "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
    Ok(())
}

#[test]
fn a_dump_file_as_argument() -> Result {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/curl-7.88-redirect.txt");
    let r = run(&["inspect", "--json", file], None)?;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()?["source"], "b3-multi");
    Ok(())
}

#[test]
fn a_bad_config_names_the_key() -> Result {
    let r = run(&["inspect", "--config", r#"{"injekt": ["w3c"]}"#, "-H", B3], None)?;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("configuration: unknown configuration key `injekt`, expected one of:"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tracebridge-cli-max-len.json");
    std::fs::write(&file, r#"{"tracestate": {"max_len": 5}}"#)?;
    let r = run(&["translate", "--to", "w3c", "--config", file.to_str().ok_or("path")?, "-H", B3], None)?;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tracestate.max_len: must be between 512 and 4096"), "{}", r.stderr);

    // Core's reader (as in the Envoy filter and the npm package), not serde_json: its words, and no
    // serde_json `at line 1 column 17`.
    let r = run(&["inspect", "--config", r#"{"tracestate": {"max_len": 512.5}}"#, "-H", B3], None)?;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tracestate.max_len: a number with a fraction or exponent"), "{}", r.stderr);
    let r = run(&["inspect", "--config", r#"{"trust": "maybe"}"#, "-H", B3], None)?;
    assert!(r.stderr.contains("trust: unknown variant `maybe`"), "{}", r.stderr);
    assert!(!r.stderr.contains(" at line "), "{}", r.stderr);
    Ok(())
}

#[test]
fn exit_status() -> Result {
    let code = |args: &[&str], stdin: Option<&str>| run(args, stdin).map(|r| r.code);
    assert_eq!(code(&["inspect", "-H", B3], None)?, 0);
    assert_eq!(code(&["inspect", "-H", "b3: not-valid"], None)?, 1);
    assert_eq!(code(&["inspect", "--json"], Some(""))?, 1);
    assert_eq!(code(&["translate", "--to", "w3c", "-H", "b3: not-valid"], None)?, 1);
    // Usage errors, clap's and ours.
    assert_eq!(code(&[], None)?, 2);
    assert_eq!(code(&["frobnicate"], None)?, 2);
    assert_eq!(code(&["translate", "-H", B3], None)?, 2);
    assert_eq!(code(&["translate", "--to", "w3c,zipkin", "-H", B3], None)?, 2);
    assert_eq!(code(&["inspect", "-H", "not a header"], None)?, 2);
    assert_eq!(code(&["inspect", "--bogus"], None)?, 2);
    assert_eq!(code(&["inspect", "/nonexistent/dump.txt"], None)?, 2);
    let r = run(&["inspect", "-"], Some("b3: 1\n<html>\n"))?;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("stdin: line 2: not a header line: `<html>`"), "{}", r.stderr);
    Ok(())
}
