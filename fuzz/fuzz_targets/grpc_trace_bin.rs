//! `grpc::TraceBin::parse` (base64 text) and `TraceBin::from_bytes` (the input as decoded bytes), and
//! `grpc::extract`: no panic; what parses is written back as valid unpadded base64 that parses to the
//! same ids and options (absent options are read as `0`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::grpc::{self, TraceBin};
use tracebridge::{Propagation, Sampling};
use tracebridge_fuzz::{assert_written, Headers};

fn check(tb: TraceBin) {
    let enc = tb.encode();
    assert_written(grpc::HEADER, enc.as_str());
    assert_eq!(TraceBin::parse(enc.as_str().as_bytes()), Ok(tb));
    assert_eq!(TraceBin::from_bytes(&tb.to_bytes()), Ok(tb));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tb) = TraceBin::parse(data) {
        check(tb);
    }
    if let Ok(tb) = TraceBin::from_bytes(data) {
        check(tb);
    }
    let h = [(b"grpc-trace-bin".as_slice(), data)];
    if let Ok(Some(Propagation::Context(ctx))) = grpc::extract(&h[..]) {
        let mut out = Headers::default();
        grpc::inject(&ctx, &mut out);
        // grpc cannot say defer: it is written as not sampled.
        let expected = if ctx.sampling == Sampling::Defer { ctx.with_sampling(Sampling::Deny) } else { ctx };
        assert_eq!(grpc::extract(&out), Ok(Some(Propagation::Context(expected))));
    }
});
