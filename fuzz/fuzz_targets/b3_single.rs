//! `b3::single::parse` and `extract`: no panic; a context is written back as a valid `b3` value that
//! parses to the same context (a deferred context loses its ParentSpanId: the grammar puts it after a
//! SamplingState); a bare decision is written back as the same decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{b3, Propagation, Sampling};
use tracebridge_fuzz::assert_written;

fn check(p: Propagation<'_>) {
    match p {
        Propagation::Context(ctx) => {
            let enc = b3::single::encode(&ctx);
            assert_written(b3::single::HEADER, enc.as_str());
            let expected = if ctx.sampling == Sampling::Defer {
                tracebridge::TraceContext { parent_span_id: None, ..ctx }
            } else {
                ctx
            };
            assert_eq!(b3::single::parse(enc.as_bytes()), Ok(Propagation::Context(expected)));
        }
        Propagation::SamplingOnly(s) => match b3::single::encode_sampling_only(s) {
            Some(v) => {
                assert_written(b3::single::HEADER, v);
                assert_eq!(b3::single::parse(v.as_bytes()), Ok(Propagation::SamplingOnly(s)));
            }
            None => assert_eq!(s, Sampling::Defer),
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let parsed = b3::single::parse(data);
    if let Ok(p) = parsed {
        check(p);
    }
    let h = [(b"B3".as_slice(), data)];
    let extracted = b3::single::extract(&h[..]);
    if data.len() <= tracebridge::carrier::MAX_VALUE_LEN {
        assert_eq!(extracted, parsed.map(Some));
    }
    if let Ok(Some(p)) = extracted {
        check(p);
    }
});
