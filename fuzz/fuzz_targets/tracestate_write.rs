//! `TraceState::write` (our member refreshed or removed, limits applied). Input: two bytes of
//! `max_len`, one byte choosing refresh or remove, then `\n`-separated lines: our key, our value, and
//! the incoming tracestate lines. Checks: no panic; the output is a valid tracestate within
//! `max_len` (our member aside), ours first and only once, the rest a subsequence of the incoming
//! members in order, and `dropped` counts exactly what is missing and is zero when all fit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracebridge::tracestate::{self, TraceState, MAX_MEMBERS, MAX_OUTPUT_LEN};
use tracebridge_fuzz::assert_written;

fuzz_target!(|data: &[u8]| {
    let [m0, m1, mode, rest @ ..] = data else { return };
    let max_len = usize::from(u16::from_le_bytes([*m0, *m1]));
    let mut lines = rest.split(|&b| b == b'\n');
    let (Some(key), Some(value)) = (lines.next(), lines.next()) else { return };
    let (Ok(key), Ok(value)) = (std::str::from_utf8(key), std::str::from_utf8(value)) else { return };
    let Ok(ts) = TraceState::parse_lines(lines) else { return };
    let ours = (mode & 1 == 1).then_some(value);
    let out = ts.write(key, ours, max_len);
    // The caller checks our member is valid; with an invalid one only "no panic" is promised.
    if !tracestate::is_valid_key(key) || ours.is_some_and(|v| !tracestate::is_valid_value(v)) {
        return;
    }
    let s = out.as_str();
    let written = if s.is_empty() {
        TraceState::EMPTY
    } else {
        assert_written(tracestate::HEADER, s);
        TraceState::parse(s).expect("written tracestate parses")
    };
    let all_written: Vec<_> = written.members().collect();
    let mut members = all_written.as_slice();
    assert!(members.len() <= MAX_MEMBERS);
    let front_len = match ours {
        Some(v) => {
            let Some(((k, fv), others)) = members.split_first() else { panic!("our member missing") };
            assert_eq!((*k, *fv), (key, v), "our member is not first");
            members = others;
            key.len() + 1 + v.len()
        }
        None => 0,
    };
    assert!(members.iter().all(|(k, _)| *k != key), "our key written twice or not removed");
    let cap = max_len.min(MAX_OUTPUT_LEN);
    assert!(s.len() <= cap.max(front_len), "{} bytes written over max_len {cap}", s.len());
    // The rest: incoming members without ours, in order, some dropped.
    let incoming: Vec<_> = ts.members().filter(|(k, _)| *k != key).collect();
    let mut it = incoming.iter();
    for m in members {
        assert!(it.any(|i| i == m), "member {m:?} not from the input or out of order");
    }
    assert_eq!(out.dropped(), incoming.len() - members.len(), "dropped count");
    let full: usize = front_len
        + incoming.iter().map(|(k, v)| k.len() + 1 + v.len()).sum::<usize>()
        + (incoming.len() + usize::from(ours.is_some())).saturating_sub(1);
    if full <= cap && incoming.len() + usize::from(ours.is_some()) <= MAX_MEMBERS {
        assert_eq!(out.dropped(), 0, "members dropped although everything fits");
    }
});
