//! `TraceBridgeLayer` in front of a service that echoes the request headers it received.

use std::convert::Infallible;

use http::{HeaderMap, Request};
use tower::{service_fn, ServiceExt};
use tower_layer::Layer;
use tracebridge::tower::TraceBridgeLayer;
use tracebridge::translate::{Config, FormatList, OnMissing, Outcome, Report, RootReason};
use tracebridge::Format;

type Seen = (HeaderMap, Option<Report>);

async fn echo(req: Request<()>) -> Result<Seen, Infallible> {
    Ok((req.headers().clone(), req.extensions().get::<Report>().copied()))
}

fn layer(inject: &[Format], on_missing: OnMissing) -> TraceBridgeLayer {
    let Ok(inject) = FormatList::new(inject) else { panic!("format listed twice") };
    match TraceBridgeLayer::new(Config { inject, on_missing, remove_other_formats: true, ..Config::default() }) {
        Ok(l) => l,
        Err(e) => panic!("config: {e}"),
    }
}

async fn send(layer: TraceBridgeLayer, headers: &[(&str, &str)]) -> Seen {
    let mut req = Request::builder();
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let Ok(req) = req.body(()) else { panic!("bad request in test") };
    match layer.layer(service_fn(echo)).oneshot(req).await {
        Ok(seen) => seen,
        Err(e) => match e {},
    }
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn b3_single_becomes_w3c() {
    let (h, report) = send(
        layer(&[Format::W3c], OnMissing::PassThrough),
        &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
    )
    .await;
    assert_eq!(header(&h, "traceparent"), Some("00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"));
    assert_eq!(header(&h, "b3"), None, "remove_other_formats");
    assert!(report.is_some_and(|r| r.outcome == Outcome::Continued && r.source == Some(Format::B3Single)));
}

#[tokio::test]
async fn b3_multi_64_bit_becomes_w3c_and_jaeger() {
    let (h, _) = send(
        layer(&[Format::W3c, Format::Jaeger], OnMissing::PassThrough),
        &[("X-B3-TraceId", "463ac35c9f6413ad"), ("X-B3-SpanId", "a2fb4a1d1a96d312"), ("X-B3-Sampled", "0")],
    )
    .await;
    assert_eq!(header(&h, "traceparent"), Some("00-0000000000000000463ac35c9f6413ad-a2fb4a1d1a96d312-00"));
    assert_eq!(header(&h, "uber-trace-id"), Some("463ac35c9f6413ad:a2fb4a1d1a96d312:0:0"));
    assert_eq!(header(&h, "x-b3-traceid"), None);
}

#[tokio::test]
async fn jaeger_becomes_b3() {
    let (h, _) = send(
        layer(&[Format::B3Single], OnMissing::PassThrough),
        &[("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:3")],
    )
    .await;
    assert_eq!(header(&h, "b3"), Some("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-d"));
    assert_eq!(header(&h, "uber-trace-id"), None);
}

#[tokio::test]
async fn xray_becomes_w3c_keeping_its_ids() {
    let (h, report) = send(
        layer(&[Format::W3c], OnMissing::PassThrough),
        &[("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")],
    )
    .await;
    assert_eq!(header(&h, "traceparent"), Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"));
    assert!(report.is_some_and(|r| r.source == Some(Format::XRay)));
}

#[tokio::test]
async fn nothing_arrived_starts_a_random_root() {
    let (h, report) = send(layer(&[Format::W3c], OnMissing::NewRoot), &[]).await;
    let Some(tp) = header(&h, "traceparent") else { panic!("no traceparent written") };
    assert_eq!(tp.len(), 55);
    assert!(report.is_some_and(|r| r.outcome == Outcome::NewRoot(RootReason::Missing)));
    let (again, _) = send(layer(&[Format::W3c], OnMissing::NewRoot), &[]).await;
    assert_ne!(header(&again, "traceparent"), Some(tp), "fresh randomness per request");
}

#[tokio::test]
async fn nothing_arrived_passes_through_untouched() {
    let (h, report) = send(layer(&[Format::W3c], OnMissing::PassThrough), &[("x-other", "1")]).await;
    assert_eq!(h.len(), 1);
    assert!(report.is_some_and(|r| r.missing() && r.outcome == Outcome::PassThrough));
}
