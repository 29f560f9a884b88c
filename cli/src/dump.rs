//! Request headers out of what an operator has at hand: `Name: value` lines, a raw HTTP/1 request
//! (as `nc -l` or `tcpdump -A` show it), or a `curl -v` transcript (`curl -v URL 2>&1`).
//!
//! ```text
//! line          = [ progress ] ( curl-line / message-line )
//! progress      = curl's progress meter (`  % Total ...`, `Dload ...`, `\r  0  0 ... --:--:--  0`):
//!                 skipped, and what follows it on the same line is read as a line of its own
//! curl-line     = ">" [ SP message-line ]    ; what curl sent: read as below
//!               / "<" [ SP *CHAR ]           ; what came back: the response
//!               / "*" [ SP *CHAR ]           ; curl's notes (connection, TLS, HTTP/2 frames): skipped
//!               / ( "{" / "}" ) [ SP *CHAR ] ; curl's data markers, `{ [15 bytes data]`: skipped
//! message-line  = request-line               ; `GET /path HTTP/1.1`: the request starts
//!               / status-line                ; `HTTP/1.1 200 OK`: the response
//!               / header-line                ; `Name: value`: taken
//!               / pseudo-header              ; `:authority: example.com` (HTTP/2 dumps): skipped
//!               / blank                      ; ends the request's headers; skipped before it
//! ```
//! Only the first request's headers are taken. Once its request line has come, its blank line, the
//! response, or a second request line ends it, and nothing after that is read (the request body,
//! the response and its body, which `curl -v URL 2>&1` mixes in, and the requests a redirect adds).
//! A `CONNECT` request (curl through a proxy) and its response are skipped: the request that counts
//! is the one sent through the tunnel. Without a request line the input is a list of header lines,
//! as the CLI always took, in which blank lines are skipped. Up to the end, a line that is none of
//! the above is an error that names it. Line ends may be CRLF; names keep their case (core matches
//! names without regard to case).

use std::fmt;

/// A line that is neither a header nor anything else a dump holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based.
    pub line: usize,
    /// The line as it came (without its line end).
    pub text: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: not a header line: `{}`", self.line, self.text.escape_debug())
    }
}

impl std::error::Error for LineError {}

/// What one line (without a curl prefix) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line<'a> {
    Blank,
    Request { connect: bool },
    Status,
    Header(&'a str, &'a str),
    Pseudo,
    Other,
}

/// curl's verbose prefixes: `> ` what was sent, `< ` what came back, `* ` notes, `{ `/`} ` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curl<'a> {
    Sent(&'a str),
    Received,
    Note,
}

/// Where the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No request line yet: header lines are taken as a plain list.
    Before,
    /// In the headers of the first request.
    Request,
    /// In a `CONNECT` request or its response: skipped up to the next request line.
    Tunnel,
}

/// The request headers in `text`, borrowed from it, in order.
pub fn parse(text: &str) -> Result<Vec<(&str, &str)>, LineError> {
    let mut headers = Vec::new();
    let mut state = State::Before;
    for (i, raw) in text.lines().enumerate() {
        let Some(line) = without_progress(raw) else { continue };
        let line = match curl_prefix(line) {
            Some(Curl::Sent(rest)) => rest,
            Some(Curl::Note) => continue,
            Some(Curl::Received) if state == State::Tunnel => continue,
            Some(Curl::Received) => break,
            None => line,
        };
        let kind = classify(line);
        if state == State::Tunnel && !matches!(kind, Line::Request { .. }) {
            continue;
        }
        match kind {
            Line::Header(name, value) => headers.push((name, value)),
            Line::Pseudo => {}
            Line::Blank if state == State::Request => break,
            Line::Blank => {}
            Line::Request { .. } if state == State::Request || !headers.is_empty() => break,
            Line::Request { connect: true } => state = State::Tunnel,
            Line::Request { connect: false } => state = State::Request,
            Line::Status => break,
            Line::Other => return Err(LineError { line: i + 1, text: raw.to_string() }),
        }
    }
    Ok(headers)
}

/// `line` without curl's progress meter; `None` when the line was only that. The meter is printed to
/// stderr when stdout is not a terminal (`-s` turns it off), as a two-line heading and then records
/// that start with `\r` and end without a line end, so that the next verbose line (or the body)
/// follows on the same line.
fn without_progress(line: &str) -> Option<&str> {
    let start = line.trim_start_matches([' ', '\r']);
    if start.starts_with("% Total") || start.starts_with("Dload  Upload") {
        return None;
    }
    let mut rest = line;
    let mut seen = false;
    while let Some(after) = meter_record(rest) {
        rest = after;
        seen = true;
    }
    (!seen || !rest.trim().is_empty()).then_some(rest)
}

/// One record: `\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0`
/// (percent, total, percent, received, percent, sent, download speed, upload speed, three times,
/// current speed; sizes may end in k, M, G, T, P; times may read `1d 02h`). Returns what follows.
fn meter_record(s: &str) -> Option<&str> {
    let body = s.strip_prefix('\r').unwrap_or(s);
    let end = body.find(|c: char| !(c == ' ' || c.is_ascii_digit() || ".kMGTPdh:-".contains(c))).unwrap_or(body.len());
    let (record, rest) = body.split_at(end);
    let mut fields = record.split_whitespace();
    let percent = fields.next()?;
    let is_record = percent.len() <= 3
        && percent.bytes().all(|b| b.is_ascii_digit())
        && record.contains(':')
        && fields.count() + 1 >= 12;
    is_record.then_some(rest)
}

fn curl_prefix(line: &str) -> Option<Curl<'_>> {
    let first = *line.as_bytes().first()?;
    let rest = line.get(1..)?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    match first {
        b'>' => Some(Curl::Sent(rest.strip_prefix(' ').unwrap_or(rest))),
        b'<' => Some(Curl::Received),
        b'*' | b'{' | b'}' => Some(Curl::Note),
        _ => None,
    }
}

fn classify(line: &str) -> Line<'_> {
    let line = line.trim_matches([' ', '\t', '\r']);
    if line.is_empty() {
        return Line::Blank;
    }
    if let Some((name, value)) = header(line) {
        return Line::Header(name, value);
    }
    // RFC 9113 §8.3: `:method`, `:path`, ... in HTTP/2 dumps; not headers a format reads.
    if line.strip_prefix(':').and_then(header).is_some() {
        return Line::Pseudo;
    }
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
        (Some(method), Some(_target), Some(version), None) if is_token(method) && is_version(version) => {
            Line::Request { connect: method == "CONNECT" }
        }
        // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
        (Some(version), Some(code), ..) if is_version(version) && code.len() == 3 && is_digits(code) => Line::Status,
        _ => Line::Other,
    }
}

/// `Name: value`, the name a token (RFC 9110 §5.1), the value without surrounding blanks; for a line
/// of input and for `-H`.
pub fn header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim_start_matches([' ', '\t']);
    is_token(name).then(|| (name, value.trim_matches([' ', '\t', '\r'])))
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `HTTP/1.1`, `HTTP/1.0`, and `HTTP/2`, `HTTP/3` as curl writes them.
fn is_version(s: &str) -> bool {
    match s.strip_prefix("HTTP/").map(str::as_bytes) {
        Some([major]) => major.is_ascii_digit(),
        Some([major, b'.', minor]) => major.is_ascii_digit() && minor.is_ascii_digit(),
        _ => false,
    }
}

fn is_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured: `curl -v http://127.0.0.1:18431/api/index.json -H 'traceparent: ...' -H
    /// 'tracestate: ...' > file 2>&1` (curl 7.88.1 against `python3 -m http.server`): the progress
    /// meter, CRLF on the lines curl sent and received, the body at the end.
    const CURL_HTTP1: &str = include_str!("../tests/data/curl-7.88-http1.txt");
    /// Captured the same way with `-L` and the B3 multi headers: a 301, then a second request.
    const CURL_REDIRECT: &str = include_str!("../tests/data/curl-7.88-redirect.txt");

    /// Written after curl 8's output for HTTP/2 over TLS through a proxy (`HTTPS_PROXY` set), with
    /// `-s`: no progress meter, `* [HTTP/2]` notes that repeat the headers, lowercase names.
    const CURL_H2_PROXY: &str = "\
* Uses proxy env variable HTTPS_PROXY == 'http://proxy.internal:3128'
*   Trying 10.0.0.5:3128...
* Connected to proxy.internal (10.0.0.5) port 3128
* CONNECT tunnel: HTTP/1.1 negotiated
* allocate connect buffer
* Establish HTTP proxy tunnel to api.example.com:443
> CONNECT api.example.com:443 HTTP/1.1\r
> Host: api.example.com:443\r
> User-Agent: curl/8.5.0\r
> Proxy-Connection: Keep-Alive\r
> \r
< HTTP/1.1 200 Connection established\r
< \r
* CONNECT phase completed
* CONNECT tunnel established, response 200
* ALPN: curl offers h2,http/1.1
} [5 bytes data]
* TLSv1.3 (OUT), TLS handshake, Client hello (1):
{ [122 bytes data]
* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384 / X25519 / RSASSA-PSS
* ALPN: server accepted h2
* using HTTP/2
* [HTTP/2] [1] OPENED stream for https://api.example.com/orders
* [HTTP/2] [1] [:method: GET]
* [HTTP/2] [1] [:scheme: https]
* [HTTP/2] [1] [:authority: api.example.com]
* [HTTP/2] [1] [:path: /orders]
* [HTTP/2] [1] [user-agent: curl/8.5.0]
* [HTTP/2] [1] [accept: */*]
* [HTTP/2] [1] [uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1]
> GET /orders HTTP/2\r
> Host: api.example.com\r
> User-Agent: curl/8.5.0\r
> Accept: */*\r
> uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1\r
> \r
< HTTP/2 200 \r
< content-type: application/json\r
< traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01\r
< \r
{ [42 bytes data]
* Connection #0 to host proxy.internal left intact
{\"orders\": [], \"next\": null}";

    #[test]
    fn curl_verbose_takes_what_was_sent() {
        assert_eq!(
            parse(CURL_HTTP1),
            Ok(vec![
                ("Host", "127.0.0.1:18431"),
                ("User-Agent", "curl/7.88.1"),
                ("Accept", "*/*"),
                ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                ("tracestate", "congo=t61rcWkgMzE"),
            ])
        );
    }

    #[test]
    fn curl_redirect_takes_the_first_request_only() {
        let taken = parse(CURL_REDIRECT);
        assert_eq!(taken.as_ref().map(Vec::len), Ok(6), "{taken:?}");
        let b3: Vec<_> = taken.unwrap_or_default().into_iter().filter(|(n, _)| n.starts_with("X-B3")).collect();
        assert_eq!(
            b3,
            [
                ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("X-B3-SpanId", "e457b5a2e4d86bd1"),
                ("X-B3-Sampled", "1")
            ]
        );
    }

    #[test]
    fn curl_through_a_proxy_skips_the_connect() {
        assert_eq!(
            parse(CURL_H2_PROXY),
            Ok(vec![
                ("Host", "api.example.com"),
                ("User-Agent", "curl/8.5.0"),
                ("Accept", "*/*"),
                ("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
            ])
        );
    }

    #[test]
    fn progress_meter() {
        assert_eq!(
            without_progress("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current"),
            None
        );
        assert_eq!(
            without_progress("                                 Dload  Upload   Total   Spent    Left  Speed"),
            None
        );
        let glued =
            "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0*   Trying 127.0.0.1...";
        assert_eq!(without_progress(glued), Some("*   Trying 127.0.0.1..."));
        let twice = "\r  2 2509k    2 59559    0     0  33949      0  0:01:15  0:00:01  0:01:14  177k\r100 2509k  100 2509k    0     0   939k      0  0:00:02  0:00:02 --:--:-- 2140k";
        assert_eq!(without_progress(twice), None);
        let days = "\r  0 1024G    0 1024k    0     0   1024      0 12d 03h  0:00:01 12d 03h  1024> GET / HTTP/1.1";
        assert_eq!(without_progress(days), Some("> GET / HTTP/1.1"));
        // Not a record: too few fields, or no times.
        assert_eq!(without_progress("100 42 100 42"), Some("100 42 100 42"));
        assert_eq!(without_progress("1 2 3 4 5 6 7 8 9 10 11 12"), Some("1 2 3 4 5 6 7 8 9 10 11 12"));
        assert_eq!(without_progress("b3: 1"), Some("b3: 1"));
    }

    #[test]
    fn a_meter_record_between_request_headers_is_not_a_blank_line() {
        let dump = "> GET / HTTP/1.1\r\n> Host: a\r\n\r  0     0    0     0    0     0      0      0 --:--:--  0:00:01 --:--:--     0\n> b3: 1\r\n> \r\n";
        assert_eq!(parse(dump), Ok(vec![("Host", "a"), ("b3", "1")]));
    }

    #[test]
    fn raw_request_stops_at_the_body() {
        let dump = "POST /v1/traces HTTP/1.1\r\nHost: collector\r\nX-B3-TraceId: 80f198ee56343ba8\r\nX-B3-SpanId: e457b5a2e4d86bd1\r\n\r\n{\"a\": 1}\r\nnot: taken\r\n";
        assert_eq!(
            parse(dump),
            Ok(vec![("Host", "collector"), ("X-B3-TraceId", "80f198ee56343ba8"), ("X-B3-SpanId", "e457b5a2e4d86bd1")])
        );
    }

    #[test]
    fn plain_lines_skip_blanks_and_pseudo_headers() {
        let dump = "\n:method: GET\n:authority: example.com\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n\n  uber-trace-id:\t4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1 \r\n";
        assert_eq!(
            parse(dump),
            Ok(vec![
                ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                ("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"),
            ])
        );
    }

    #[test]
    fn a_response_takes_nothing() {
        assert_eq!(parse("HTTP/1.1 200 OK\r\ntraceparent: 00-x\r\n"), Ok(vec![]));
        assert_eq!(parse("< HTTP/2 200\n< traceparent: 00-x\n"), Ok(vec![]));
    }

    #[test]
    fn the_response_ends_a_request_without_its_blank_line() {
        assert_eq!(parse("> GET / HTTP/1.1\n> b3: 1\n< HTTP/1.1 200 OK\nbody\n"), Ok(vec![("b3", "1")]));
        assert_eq!(parse("GET / HTTP/1.1\nb3: 1\nHTTP/1.1 200 OK\nbody\n"), Ok(vec![("b3", "1")]));
    }

    #[test]
    fn plain_lines_then_a_request_line_end_there() {
        assert_eq!(parse("b3: 1\nGET / HTTP/1.1\nb3: 0\n"), Ok(vec![("b3", "1")]));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("traceparent: 00-x\nnot a header\n");
        assert_eq!(e, Err(LineError { line: 2, text: "not a header".into() }));
        assert_eq!(e.map_err(|e| e.to_string()), Err("line 2: not a header line: `not a header`".into()));
        assert_eq!(parse("> GET / HTTP/1.1\n> bad name: v\n").map_err(|e| e.line), Err(2));
        assert_eq!(parse("{\"a\": 1}\n").map_err(|e| e.line), Err(1));
        assert_eq!(parse(">no-space: v\n").map_err(|e| e.line), Err(1));
        assert_eq!(parse("get / http/1.1\n").map_err(|e| e.line), Err(1));
        // Before the request ends, a body-like line is still an error.
        assert_eq!(parse("GET / HTTP/1.1\n<html>\n").map_err(|e| e.line), Err(2));
    }

    #[test]
    fn header_lines() {
        assert_eq!(header("X-B3-TraceId: abc \r"), Some(("X-B3-TraceId", "abc")));
        assert_eq!(header("b3:1"), Some(("b3", "1")));
        assert_eq!(header("empty:"), Some(("empty", "")));
        assert_eq!(header("no colon"), None);
        assert_eq!(header("bad name: v"), None);
        assert_eq!(header(": v"), None);
        assert_eq!(header("\"quoted\": v"), None);
    }

    #[test]
    fn start_lines() {
        assert_eq!(classify("GET http://example.com:8080/x HTTP/1.1"), Line::Request { connect: false });
        assert_eq!(classify("OPTIONS * HTTP/1.0"), Line::Request { connect: false });
        assert_eq!(classify("CONNECT example.com:443 HTTP/1.1"), Line::Request { connect: true });
        assert_eq!(classify("HTTP/2 200 "), Line::Status);
        assert_eq!(classify("HTTP/1.1 404 Not Found"), Line::Status);
        assert_eq!(classify("HTTP/1.1 20 OK"), Line::Other);
        assert_eq!(classify("GET / HTTP/11"), Line::Other);
        assert_eq!(classify(":path: /"), Line::Pseudo);
    }
}
