//! `TraceState::parse_lines` (the input's `\n`-separated lines are header lines): no panic, limits
//! hold, `get` finds every member, and the canonical form parses back to the same members.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::tracestate::{self, TraceState, MAX_INPUT_LEN, MAX_LINES, MAX_MEMBERS};
use tracebridge::Error;
use tracebridge_fuzz::assert_written;

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    match TraceState::parse_lines(lines.iter().copied()) {
        Ok(ts) => {
            assert!(lines.len() <= MAX_LINES, "{} lines accepted", lines.len());
            // Each line counts its length plus one (the joining comma).
            assert!(data.len() < MAX_INPUT_LEN, "{} bytes accepted", data.len());
            assert!(ts.len() <= MAX_MEMBERS);
            let members: Vec<_> = ts.members().collect();
            assert_eq!(members.len(), ts.len());
            for (i, (k, v)) in members.iter().enumerate() {
                assert!(tracestate::is_valid_key(k) && tracestate::is_valid_value(v), "{k}={v}");
                assert!(members[..i].iter().all(|(p, _)| p != k), "duplicate key {k}");
                // `get` finds a member by its `=` and a key filter, not by this walk: same answer.
                assert_eq!(ts.get(k), Some(*v), "get({k})");
            }
            let canonical = ts.to_string();
            if !canonical.is_empty() {
                assert_written(tracestate::HEADER, &canonical);
            }
            let back = TraceState::parse(&canonical);
            assert_eq!(back.map(|b| b.members().collect::<Vec<_>>()), Ok(members));
        }
        Err(Error::TooLong) => {
            assert!(lines.len() > MAX_LINES || data.len() + 1 > MAX_INPUT_LEN, "too long for no reason");
        }
        Err(_) => {}
    }
});
