//! `baggage::collect` over header lines, then written for W3C, Jaeger and OT: no panic; every value
//! written is a valid header value that reads back without a drop, and within the W3C limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::baggage::{self, Source};
use tracebridge_fuzz::{assert_written, header_lines, Headers};

fuzz_target!(|data: &[u8]| {
    let lines = header_lines(data);
    let got = baggage::collect(&lines[..], &[Source::W3c, Source::Jaeger, Source::Ot]);
    assert!(got.entries().count() <= baggage::MAX_MEMBERS);
    for to in [Source::W3c, Source::Jaeger, Source::Ot] {
        let mut h = Headers::default();
        baggage::inject(&got, to, &mut h);
        let mut total = 0;
        for (n, v) in &h.0 {
            let (n, v) = (std::str::from_utf8(n).expect("name"), std::str::from_utf8(v).expect("value"));
            assert_written(n, v);
            total += v.len();
        }
        assert!(total <= baggage::MAX_BYTES + 64 * 64, "{total} bytes written");
        let again = baggage::collect(&h, &[to]);
        assert_eq!(again.dropped, 0, "{h:?}");
    }
});
