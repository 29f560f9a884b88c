//! `instana::extract` over header lines: no panic; a context is injected and reads back the same
//! (ids, width, sampling, correlation); a decision stays a decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::{instana, Propagation};
use tracebridge_fuzz::{assert_written, header_lines, Headers};

fuzz_target!(|data: &[u8]| {
    let lines = header_lines(data);
    let Ok(Some(Propagation::Context(ctx))) = instana::extract(&lines[..]) else { return };
    for mut h in [Headers::default(), Headers::from_lines(&lines)] {
        instana::inject(&ctx, &mut h);
        for name in instana::HEADERS {
            for v in h.lines_named(name) {
                assert_written(name, std::str::from_utf8(v).expect("written as str"));
            }
        }
        let back = instana::extract(&h);
        let Ok(Some(Propagation::Context(b))) = back else { panic!("reads back {back:?} from {h:?}") };
        assert_eq!(
            (b.trace_id, b.span_id, b.sampling, b.id_width),
            (ctx.trace_id, ctx.span_id, ctx.sampling, ctx.id_width)
        );
        let corr = |c: &tracebridge::TraceContext<'_>| c.instana_correlation.map(|t| t.bytes().collect::<Vec<u8>>());
        assert_eq!(corr(&b), corr(&ctx));
    }
});
