//! `xray::parse` and `extract`: no panic; a context is written back as a valid `X-Amzn-Trace-Id` that
//! parses to the same context, `Lineage`, `Self` and unknown fields included, whenever the written
//! value fits `Encoded::LEN` (it can only grow by the `;Sampled=?` added when absent); when it does
//! not, ids and sampling still survive and the fields kept are a prefix of the ones read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::context::Text;
use tracebridge::{xray, Propagation, TraceContext};
use tracebridge_fuzz::assert_written;

/// `Lineage`, `Self` and the unknown fields, in the order written.
fn fields<'a>(c: &TraceContext<'a>) -> Vec<(Text<'a>, Text<'a>)> {
    let mut v = vec![c.xray.lineage.map(|l| (Text::Raw("Lineage"), l)), c.xray.self_.map(|s| (Text::Raw("Self"), s))];
    v.extend(c.xray.extra.fields().map(Some));
    v.into_iter().flatten().collect()
}

fuzz_target!(|data: &[u8]| {
    let parsed = xray::parse(data);
    if let Ok(ctx) = parsed {
        let enc = xray::encode(&ctx);
        assert_written(xray::HEADER, enc.as_str());
        let back = xray::parse(enc.as_str().as_bytes()).expect("written value parses");
        if data.len() + ";Sampled=?".len() <= xray::Encoded::LEN {
            assert_eq!(back, ctx);
        } else {
            assert_eq!((back.trace_id, back.span_id, back.sampling), (ctx.trace_id, ctx.span_id, ctx.sampling));
            let (got, all) = (fields(&back), fields(&ctx));
            assert!(all.starts_with(&got), "kept fields {got:?} are not a prefix of {all:?}");
        }
    }
    let h = [(b"x-amzn-trace-id".as_slice(), data)];
    let extracted = xray::extract(&h[..]);
    if data.len() <= tracebridge::carrier::MAX_VALUE_LEN {
        assert_eq!(extracted, parsed.map(|c| Some(Propagation::Context(c))));
    }
});
