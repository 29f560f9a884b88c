//! `jaeger::parse` and `extract`: no panic; a context is written back as a valid `uber-trace-id` that
//! parses to the same context (ids, width, parent, sampling and other flag bits), and `inject` (which
//! writes the usual shape at fixed places) writes the same value as `encode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{jaeger, Propagation};
use tracebridge_fuzz::assert_written;

fuzz_target!(|data: &[u8]| {
    let parsed = jaeger::parse(data);
    if let Ok(ctx) = parsed {
        let enc = jaeger::encode(&ctx);
        assert_written(jaeger::HEADER, enc.as_str());
        assert_eq!(jaeger::parse(enc.as_str().as_bytes()), Ok(ctx));
        let mut out: Vec<(String, String)> = Vec::new();
        jaeger::inject(&ctx, &mut out);
        assert_eq!(out, [(jaeger::HEADER.to_string(), enc.as_str().to_string())]);
    }
    let h = [(b"Uber-Trace-Id".as_slice(), data)];
    let extracted = jaeger::extract(&h[..]);
    if data.len() <= tracebridge::carrier::MAX_VALUE_LEN {
        assert_eq!(extracted, parsed.map(|c| Some(Propagation::Context(c))));
    }
});
