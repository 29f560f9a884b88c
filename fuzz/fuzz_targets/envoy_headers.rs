//! The Envoy filter's header view (`tracebridge_envoy::headers::Pairs`), which reads the header map
//! as the host serializes it, in place. The first input byte picks how the rest is used:
//! - even: as the serialized map itself (any bytes, from the host's side): no panic, and either an
//!   empty view or one whose pairs serialize back to those bytes (the view, like Envoy's own
//!   readers, does not look at the byte after each name and value, the ABI's NUL, nor past the last
//!   pair);
//! - odd: as header lines (`name: value` per line, as the other targets), serialized here the way
//!   the ABI lays a map out, with a configuration from the next 6 bytes. Then the view answers as
//!   core's slice carrier does over the same lines: every header a translator reads (`lines`), the
//!   first value of any name in the request (`first`), the name filter (against core's `gather` of
//!   the same lines), and a whole translation (the plan and `translate_into`'s report and writes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::carrier::{Extractor, Gathered, Lines};
use tracebridge::translate::Plan;
use tracebridge::{Format, Translator};
use tracebridge_envoy::headers::{serialize, Pairs};
use tracebridge_fuzz::{config, header_lines, Headers};

/// Where `serialize(lines)` puts the NUL after each name and value.
fn nuls(lines: &[(&[u8], &[u8])]) -> Vec<usize> {
    let mut at = 4 + 8 * lines.len();
    let mut out = Vec::new();
    for (n, v) in lines {
        for part in [n, v] {
            at += part.len();
            out.push(at);
            at += 1;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        let pairs = Pairs::new(rest);
        let decoded: Vec<(&[u8], &[u8])> = pairs.iter().collect();
        assert_eq!(decoded.len(), pairs.len());
        if !pairs.is_empty() {
            let expected = serialize(&decoded);
            let mut seen = rest.get(..expected.len()).map(<[u8]>::to_vec).unwrap_or_default();
            nuls(&decoded).iter().for_each(|&at| seen[at] = 0);
            assert_eq!(expected, seen, "a view of bytes that are not that map");
        }
        // Reads never panic, whatever the bytes.
        for f in Format::ALL {
            for name in f.headers() {
                let _ = pairs.lines(name);
            }
        }
        let _ = Translator::default().plan(&pairs, || [1; 24]);
        return;
    }
    let Some((c, lines)) = rest.split_first_chunk::<6>() else { return };
    let lines = header_lines(lines);
    let bytes = serialize(&lines);
    let pairs = Pairs::new(&bytes);
    assert_eq!(pairs.len(), lines.len());
    let slice = lines.as_slice();
    let mut wanted: Vec<&str> = Format::ALL.iter().flat_map(|f| f.headers()).copied().collect();
    wanted.push(tracebridge::baggage::HEADER);
    for name in wanted {
        assert_eq!(pairs.lines(name), slice.lines(name), "{name}");
    }
    for (name, _) in &lines {
        let Ok(name) = std::str::from_utf8(name) else { continue };
        let expected = match slice.lines(name) {
            Lines::Absent => None,
            Lines::One(v) | Lines::Many(v) => Some(v),
        };
        assert_eq!(pairs.first(name), expected, "{name}");
    }
    let mut gathered = Gathered::new();
    if slice.gather(&Translator::WANTED, &mut gathered) && lines.len() < 32 {
        assert_eq!(pairs.name_filter(), Some(gathered.names()));
    }
    let t = Translator::new(config(*c)).unwrap_or_default();
    let from_view = t.plan(&pairs, || [1; 24]);
    let from_lines = t.plan(slice, || [1; 24]);
    assert_eq!(format!("{from_view:?}"), format!("{from_lines:?}"), "a translation of the view");
    let (mut out_view, mut out_lines) = (Headers::from_lines(&lines), Headers::from_lines(&lines));
    let (mut plan_view, mut plan_lines) = (Plan::default(), Plan::default());
    let report_view = *t.translate_into(&pairs, &mut out_view, || [1; 24], &mut plan_view);
    let report_lines = *t.translate_into(slice, &mut out_lines, || [1; 24], &mut plan_lines);
    assert_eq!(report_view, report_lines);
    assert_eq!(out_view, out_lines);
    assert_eq!(plan_view.direct_source(), plan_lines.direct_source());
});
