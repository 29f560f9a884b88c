//! `b3::multi::extract` over header lines (`name: value` per `\n`-separated line): no panic; what
//! parses is injected — into a fresh carrier and over the original lines — and read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{b3, Propagation, Sampling};
use tracebridge_fuzz::{assert_written, header_lines, Headers};

fn check_written(h: &Headers) {
    for name in b3::multi::HEADERS {
        let mut values = h.lines_named(name);
        if let Some(v) = values.next() {
            assert_written(name, std::str::from_utf8(v).expect("written as str"));
            assert!(values.next().is_none(), "{name} written twice");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let lines = header_lines(data);
    let Ok(Some(p)) = b3::multi::extract(&lines[..]) else { return };
    let mut fresh = Headers::default();
    let mut over = Headers::from_lines(&lines);
    match p {
        Propagation::Context(ctx) => {
            b3::multi::inject(&ctx, &mut fresh);
            b3::multi::inject(&ctx, &mut over);
        }
        Propagation::SamplingOnly(s) => {
            b3::multi::inject_sampling_only(s, &mut fresh);
            b3::multi::inject_sampling_only(s, &mut over);
        }
    }
    let expected = match p {
        Propagation::SamplingOnly(Sampling::Defer) => None,
        p => Some(p),
    };
    for h in [&fresh, &over] {
        check_written(h);
        assert_eq!(b3::multi::extract(h), Ok(expected), "written: {h:?}");
    }
});
