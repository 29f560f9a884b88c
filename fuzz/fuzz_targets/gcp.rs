//! `gcp::parse` and `extract`: no panic; encode is a valid value that parses to the same context.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{gcp, Propagation};
use tracebridge_fuzz::assert_written;

fuzz_target!(|data: &[u8]| {
    let parsed = gcp::parse(data);
    if let Ok(ctx) = parsed {
        let enc = gcp::encode(&ctx);
        assert_written(gcp::HEADER, enc.as_str());
        assert_eq!(gcp::parse(enc.as_str().as_bytes()), Ok(ctx));
    }
    let h = [(b"X-Cloud-Trace-Context".as_slice(), data)];
    if data.len() <= tracebridge::carrier::MAX_VALUE_LEN {
        assert_eq!(gcp::extract(&h[..]), parsed.map(|c| Some(Propagation::Context(c))));
    }
});
