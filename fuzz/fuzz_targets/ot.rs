//! `ot::extract` over header lines: no panic; a context is injected and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{ot, Propagation};
use tracebridge_fuzz::{assert_written, header_lines, Headers};

fuzz_target!(|data: &[u8]| {
    let lines = header_lines(data);
    let Ok(Some(Propagation::Context(ctx))) = ot::extract(&lines[..]) else { return };
    for mut h in [Headers::default(), Headers::from_lines(&lines)] {
        ot::inject(&ctx, &mut h);
        for name in ot::HEADERS {
            for v in h.lines_named(name) {
                assert_written(name, std::str::from_utf8(v).expect("written as str"));
            }
        }
        assert_eq!(ot::extract(&h), Ok(Some(Propagation::Context(ctx))), "{h:?}");
    }
});
