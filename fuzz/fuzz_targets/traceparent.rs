//! `w3c::Traceparent::parse` and `w3c::extract`/`inject`: no panic; what parses is written back as a
//! valid version-00 value that parses to the same ids and flags.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::w3c::{self, Traceparent};
use tracebridge::Propagation;
use tracebridge_fuzz::{assert_written, Headers};

fuzz_target!(|data: &[u8]| {
    if let Ok(tp) = Traceparent::parse(data) {
        let enc = tp.encode();
        let s = std::str::from_utf8(&enc).expect("encode writes ASCII");
        assert_written(w3c::TRACEPARENT, s);
        // A future version is written back as 00 with the known fields.
        assert_eq!(Traceparent::parse(&enc), Ok(Traceparent { version: 0, ..tp }));
    }
    let h = [(w3c::TRACEPARENT.as_bytes(), data)];
    if let Ok(Some((Propagation::Context(ctx), warning))) = w3c::extract(&h[..]) {
        assert_eq!(warning, None);
        let mut out = Headers::default();
        w3c::inject(&ctx, &mut out);
        for (n, v) in &out.0 {
            assert_written(std::str::from_utf8(n).unwrap(), std::str::from_utf8(v).unwrap());
        }
        assert_eq!(w3c::extract(&out), Ok(Some((Propagation::Context(ctx), None))));
    }
});
