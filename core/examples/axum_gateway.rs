//! A gateway in front of an axum app: every request's trace headers are translated to W3C (and B3
//! multi for a legacy backend) before the handler sees them.
//!
//! ```text
//! cargo run -p tracebridge --example axum_gateway --features tower
//! curl -s -H 'b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' http://127.0.0.1:3000/
//! curl -s -H 'X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' http://127.0.0.1:3000/
//! curl -s http://127.0.0.1:3000/   # nothing arrived: a new root is started
//! ```
//!
//! The listen address is the first argument (default `127.0.0.1:3000`; `127.0.0.1:0` picks a free port).

use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Router};
use tracebridge::tower::TraceBridgeLayer;
use tracebridge::translate::{Config, FormatList, OnMissing, Report};
use tracebridge::Format;

/// Shows what the service behind the gateway receives.
async fn show(headers: HeaderMap, report: Option<Extension<Report>>) -> String {
    let mut out = String::new();
    if let Some(Extension(report)) = report {
        out.push_str(&format!("outcome: {:?}, source: {:?}\n", report.outcome, report.source.map(Format::name)));
    }
    for (name, value) in &headers {
        let is_trace = Format::ALL.iter().any(|f| f.headers().contains(&name.as_str()));
        if is_trace {
            out.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("<not visible ASCII>")));
        }
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_string());
    let config = Config {
        inject: FormatList::new(&[Format::W3c, Format::B3Multi]).map_err(|f| format!("{f} listed twice"))?,
        on_missing: OnMissing::NewRoot,
        ..Config::default()
    };
    let app = Router::new().route("/", get(show)).layer(TraceBridgeLayer::new(config)?);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
