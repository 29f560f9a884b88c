//! `datadog::extract` over header lines: no panic; a context is injected (into an empty carrier and
//! over the original lines) and reads back with the same ids, sampling, priority and origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{datadog, Propagation};
use tracebridge_fuzz::{assert_written, header_lines, Headers};

fuzz_target!(|data: &[u8]| {
    let lines = header_lines(data);
    let Ok(Some((Propagation::Context(ctx), _))) = datadog::extract(&lines[..]) else { return };
    for mut h in [Headers::default(), Headers::from_lines(&lines)] {
        datadog::inject(&ctx, &mut h);
        for name in datadog::HEADERS {
            for v in h.lines_named(name) {
                assert_written(name, std::str::from_utf8(v).expect("written as str"));
            }
        }
        let back = datadog::extract(&h);
        let Ok(Some((Propagation::Context(b), None))) = back else { panic!("reads back {back:?} from {h:?}") };
        assert_eq!(
            (b.trace_id, b.span_id, b.sampling, b.datadog.priority),
            (ctx.trace_id, ctx.span_id, ctx.sampling, ctx.datadog.priority)
        );
        assert_eq!(
            b.datadog.origin.map(|o| o.bytes().collect::<Vec<u8>>()),
            ctx.datadog.origin.map(|o| o.bytes().collect::<Vec<u8>>())
        );
    }
});
