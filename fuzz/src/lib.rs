//! What every fuzz target checks, in one place: a written header value is a valid HTTP field value
//! that parses back in its own format, and header lists are built from fuzz input the same way.

use tracebridge::carrier::{Extractor, Injector, MAX_VALUE_LEN};
use tracebridge::translate::{
    Config, FormatList, MemberKey, OnConflict, OnMissing, RootSampling, TracestateConfig, Trust, WidthPolicy,
};
use tracebridge::{b3, baggage, datadog, gcp, grpc, instana, jaeger, ot, w3c, xray, Format, TraceState};

/// A value we write: not empty, visible ASCII with inner spaces only (no CR, LF, NUL or other control
/// byte), no whitespace at either end (HTTP would strip it and change the value), and short enough to
/// be read back by a hop with the same limits.
pub fn assert_header_value(name: &str, value: &str) {
    assert!(!value.is_empty(), "{name}: empty value written");
    assert!(value.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{name}: byte outside visible ASCII in {value:?}");
    assert!(!value.starts_with(' ') && !value.ends_with(' '), "{name}: whitespace around {value:?}");
    let limit = if name == w3c::TRACESTATE {
        tracebridge::tracestate::MAX_OUTPUT_LEN
    } else if is_baggage(name) {
        baggage::MAX_BYTES
    } else {
        MAX_VALUE_LEN
    };
    assert!(value.len() <= limit, "{name}: {} bytes written, limit {limit}", value.len());
}

/// A value written for `name` is valid and parses back in its own format. `X-B3-*` values are checked
/// as a group by the callers (with `b3::multi::extract`).
pub fn assert_written(name: &str, value: &str) {
    assert_header_value(name, value);
    let v = value.as_bytes();
    let parsed = match name {
        w3c::TRACEPARENT => w3c::Traceparent::parse(v).map(drop),
        w3c::TRACESTATE => TraceState::parse(value).map(drop),
        b3::single::HEADER => b3::single::parse(v).map(drop),
        jaeger::HEADER => jaeger::parse(v).map(drop),
        xray::HEADER => xray::parse(v).map(drop),
        grpc::HEADER => grpc::TraceBin::parse(v).map(drop),
        gcp::HEADER => gcp::parse(v).map(drop),
        // Checked as a group by the callers, like X-B3-*.
        n if b3::multi::HEADERS.contains(&n) => Ok(()),
        n if datadog::HEADERS.contains(&n) || ot::HEADERS.contains(&n) || instana::HEADERS.contains(&n) => Ok(()),
        n if is_baggage(n) => {
            let h = [(n, value)];
            let c = baggage::collect(&h[..], &[baggage::Source::W3c, baggage::Source::Jaeger, baggage::Source::Ot]);
            if c.dropped == 0 {
                Ok(())
            } else {
                Err(tracebridge::Error::BaggageMember)
            }
        }
        other => panic!("unexpected header written: {other}"),
    };
    assert_eq!(parsed, Ok(()), "{name}: written value {value:?} does not parse back");
}

/// A baggage header name (`baggage`, `uberctx-*`, `ot-baggage-*`).
pub fn is_baggage(name: &str) -> bool {
    name == baggage::HEADER
        || tracebridge::carrier::has_prefix(name.as_bytes(), baggage::JAEGER_PREFIX)
        || tracebridge::carrier::has_prefix(name.as_bytes(), baggage::OT_PREFIX)
}

/// Header lines from fuzz input: lines split on `\n`, each `name:value` with at most one space after
/// the colon removed (so the fuzzer can still put optional whitespace around values); a line without
/// a colon is a name with an empty value.
pub fn header_lines(data: &[u8]) -> Vec<(&[u8], &[u8])> {
    data.split(|&b| b == b'\n')
        .map(|line| match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let (name, rest) = line.split_at(i);
                let value = &rest[1..];
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        })
        .collect()
}

/// An owned, byte-exact carrier (names matched case-insensitively, as the core carriers do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(Vec<u8>, Vec<u8>)>);

impl Headers {
    /// A copy of borrowed header lines.
    pub fn from_lines(lines: &[(&[u8], &[u8])]) -> Self {
        Headers(lines.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect())
    }

    /// Every `(name, value)` whose name is one of `names`, for checking what was written.
    pub fn lines_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| &v[..])
    }
}

impl Extractor for Headers {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> std::ops::ControlFlow<()>) {
        self.0.as_slice().visit_values(name, each);
    }

    fn visit_prefixed<'s>(
        &'s self,
        prefix: &str,
        each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> std::ops::ControlFlow<()>,
    ) {
        self.0.as_slice().visit_prefixed(prefix, each);
    }
}

impl Injector for Headers {
    fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.0.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
    }

    fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
    }
}

fn pick<T: Copy>(b: u8, of: &[T]) -> T {
    of[usize::from(b) % of.len()]
}

/// A configuration from 6 bytes: extract order and subset, inject subset, and every policy (the
/// `translator` and `remote_inject` targets).
pub fn config(c: [u8; 6]) -> Config {
    let mut order = Format::ALL.to_vec();
    let mut k = usize::from(u16::from_le_bytes([c[0], c[1]]));
    let mut extract = Vec::new();
    while !order.is_empty() {
        extract.push(order.remove(k % order.len()));
        k /= 6;
    }
    let subset = |mask: u8, v: &[Format]| -> Vec<Format> {
        // 8 bits for 10 formats: the last two share bits with the first two.
        v.iter().copied().filter(|f| mask & (1 << (f.index() % 8)) != 0).collect()
    };
    let extract = match subset(c[2], &extract) {
        s if s.is_empty() => extract,
        s => s,
    };
    let key = pick(c[5] >> 6, &["tracebridge", "tb", "t0@sys", "rojo"]);
    Config {
        extract: FormatList::new(&extract).expect("no repeats"),
        inject: FormatList::new(&subset(c[3], &Format::ALL)).expect("no repeats"),
        remove_other_formats: c[3] & 0x40 != 0,
        drop_forced_sampling: c[3] & 0x80 != 0,
        on_missing: pick(c[4], &[OnMissing::PassThrough, OnMissing::NewRoot]),
        on_conflict: pick(c[4] >> 1, &[OnConflict::PreferFirst, OnConflict::NewRoot, OnConflict::PassThrough]),
        trust: pick(c[4] >> 3, &[Trust::Continue, Trust::Restart, Trust::Ignore]),
        root_sampling: pick(c[4] >> 5, &[RootSampling::Defer, RootSampling::Accept, RootSampling::Deny]),
        id_width: pick(c[5], &[WidthPolicy::Keep, WidthPolicy::Bits64, WidthPolicy::Bits128]),
        tracestate: TracestateConfig {
            member: c[4] & 0x80 == 0,
            key: MemberKey::new(key).expect("valid key"),
            max_len: 512 + usize::from((c[5] >> 2) & 0x0f) * 238,
        },
        baggage: c[1] & 0x80 == 0,
    }
}
