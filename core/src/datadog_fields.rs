//! The fields only Datadog has (the exact sampling priority, the origin, the propagated `_dd.p.*`
//! tags, the last Datadog parent), as the model carries them: borrowed, never copied, in a leaf module
//! so that the model ([`crate::context`]), the `dd=` tracestate member and the Datadog format
//! ([`crate::datadog`]) build on it without depending on each other.
//!
//! The `dd=` tracestate member, as Datadog's tracers write it next to a W3C `traceparent`
//! (dd-trace-go `ddtrace/tracer/textmap.go` `composeTracestate`/`parseTracestate`; dd-trace-java
//! `W3CHttpCodec`):
//!
//! ```text
//! dd-value = field *( ";" field )            ; at most 256 characters (a tracestate value)
//! field    = "s:" priority                   ; the sampling priority, e.g. s:2
//!          / "o:" origin                     ; x-datadog-origin, "=" written as "~"
//!          / "p:" 16HEXDIGLC                 ; the last Datadog span on the path
//!          / "t." key ":" value              ; the propagated tag _dd.p.{key}, "=" written as "~"
//! ```
//!
//! Characters a tracestate value cannot hold (`,`, `;`, `~` and anything outside `%x20-7E` in a
//! value; `,`, `=` in a key; a space in the origin) are written as `_`, as Datadog's tracers do.

use crate::ascii_buf::AsciiBuf;
use crate::context::{Sampling, TraceContext};
use crate::id::{SpanId, TraceId};
use crate::swar;

/// The prefix of the propagated tags (`_dd.p.dm`, `_dd.p.tid`, `_dd.p.usr.id`, ...).
pub(crate) const PROPAGATED: &str = "_dd.p.";
/// The key of Datadog's tracestate member.
pub(crate) const MEMBER_KEY: &str = "dd";
/// That key with its fingerprint, taken at compile time (it is looked up on every W3C read).
pub(crate) const MEMBER: crate::tracestate::Key<'static> = crate::tracestate::Key::new(MEMBER_KEY);
/// Longest `dd=` member value.
const MAX_MEMBER: usize = crate::ext::MAX_VALUE;

/// Text of a Datadog tag value or origin, as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatadogText<'a> {
    /// As received in `x-datadog-origin` / `x-datadog-tags`.
    Raw(&'a str),
    /// As carried in the `dd=` tracestate member, where `~` stands for `=`.
    Member(&'a str),
}

impl<'a> DatadogText<'a> {
    /// The text as the Datadog headers write it, one byte at a time.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let (s, member) = match *self {
            DatadogText::Raw(s) => (s, false),
            DatadogText::Member(s) => (s, true),
        };
        s.bytes().map(move |b| if member && b == b'~' { b'=' } else { b })
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        match self {
            DatadogText::Raw(s) | DatadogText::Member(s) => s.is_empty(),
        }
    }
}

/// A tag key: in full (`_dd.p.dm`, as in `x-datadog-tags`) or the part after `_dd.p.` (`dm`, as in
/// the `dd=` member's `t.dm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagKey<'a> {
    /// The whole key.
    Full(&'a str),
    /// `_dd.p.` followed by this.
    Propagated(&'a str),
}

impl<'a> TagKey<'a> {
    /// The part after `_dd.p.`, for a propagated tag.
    pub fn propagated(&self) -> Option<&'a str> {
        match *self {
            TagKey::Full(k) => k.strip_prefix(PROPAGATED),
            TagKey::Propagated(k) => Some(k),
        }
    }

    /// The whole key, one byte at a time.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let (prefix, rest) = match *self {
            TagKey::Full(k) => ("", k),
            TagKey::Propagated(k) => (PROPAGATED, k),
        };
        prefix.bytes().chain(rest.bytes())
    }

    /// True for `_dd.p.tid`.
    pub fn is_tid(&self) -> bool {
        self.propagated() == Some("tid")
    }
}

/// Where the trace tags are, without copying them out.
#[derive(Debug, Clone, Copy, Eq, Default)]
pub enum DatadogTags<'a> {
    /// None.
    #[default]
    None,
    /// An `x-datadog-tags` value: `key=value` pairs separated by `,`.
    Header(&'a str),
    /// A `dd=` member value: its `t.{key}:{value}` fields.
    Member(&'a str),
}

impl<'a> DatadogTags<'a> {
    /// The tags in order, as `(key, value)`.
    ///
    /// ```
    /// use tracebridge::context::{DatadogTags, DatadogText, TagKey};
    ///
    /// let tags = DatadogTags::Member("s:2;t.dm:-4;t.usr.id:a~b");
    /// let keys: Vec<_> = tags.pairs().map(|(k, v)| (k.propagated(), v.bytes().collect::<Vec<u8>>())).collect();
    /// assert_eq!(keys, [(Some("dm"), b"-4".to_vec()), (Some("usr.id"), b"a=b".to_vec())]);
    /// let header = DatadogTags::Header("_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000");
    /// assert!(header.pairs().nth(1).is_some_and(|(k, _)| k.is_tid()));
    /// # let _ = (DatadogText::Raw(""), TagKey::Full(""));
    /// ```
    pub fn pairs(self) -> impl Iterator<Item = (TagKey<'a>, DatadogText<'a>)> + 'a {
        let (src, sep, member) = match self {
            DatadogTags::None => ("", b',', false),
            DatadogTags::Header(s) => (s, b',', false),
            DatadogTags::Member(s) => (s, b';', true),
        };
        swar::split_str(src, sep).filter_map(move |field| {
            if member {
                let (k, v) = swar::split_once_byte(field.strip_prefix("t.")?, b':')?;
                Some((TagKey::Propagated(k), DatadogText::Member(v)))
            } else {
                let (k, v) = swar::split_once_byte(field, b'=')?;
                Some((TagKey::Full(k), DatadogText::Raw(v)))
            }
        })
    }

    /// True when there are no tags.
    pub fn is_empty(self) -> bool {
        self.pairs().next().is_none()
    }
}

/// Equal when the tags are (full keys and values compared byte for byte), wherever they are kept.
impl PartialEq for DatadogTags<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (self.pairs(), other.pairs());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some((ka, va)), Some((kb, vb))) => {
                    if !(ka.bytes().eq(kb.bytes()) && va.bytes().eq(vb.bytes())) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

impl core::hash::Hash for DatadogTags<'_> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        for (k, v) in self.pairs() {
            k.bytes().for_each(|b| state.write_u8(b));
            state.write_u8(b'=');
            v.bytes().for_each(|b| state.write_u8(b));
            state.write_u8(b',');
        }
    }
}

/// The fields only Datadog has, kept for an exact round trip
/// ([Datadog: trace context propagation](https://docs.datadoghq.com/tracing/trace_collection/trace_context_propagation/)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DatadogFields<'a> {
    /// The exact sampling priority (`-1` user reject, `0` auto reject, `1` auto keep, `2` user keep);
    /// [`TraceContext::sampling`] holds what it means (`<= 0` deny, `>= 1` accept).
    pub priority: Option<i32>,
    /// `x-datadog-origin` (e.g. `synthetics`), as received.
    pub origin: Option<DatadogText<'a>>,
    /// The trace tags (`x-datadog-tags`, or the `dd=` member's `t.` fields).
    pub tags: DatadogTags<'a>,
    /// The `dd=` member's `p:`: the last Datadog span on the path, when a non-Datadog hop came after it.
    pub parent: Option<SpanId>,
}

impl DatadogFields<'_> {
    /// True when there is nothing to carry.
    pub fn is_empty(&self) -> bool {
        self.priority.is_none() && self.origin.is_none() && self.tags.is_empty() && self.parent.is_none()
    }
}

/// The sampling a priority means: `<= 0` deny, `>= 1` accept (Datadog: "values >= 1 mean the trace
/// is kept").
pub(crate) const fn sampling_of(priority: i32) -> Sampling {
    if priority >= 1 {
        Sampling::Accept
    } else {
        Sampling::Deny
    }
}

/// The priority to write for `ctx`: the one carried, while it still says what the context's sampling
/// says; otherwise the plain one (`1` auto keep, `2` user keep for a forced/debug decision, `0` auto
/// reject); none for *defer* (Datadog then decides).
pub(crate) fn priority_of(ctx: &TraceContext<'_>) -> Option<i32> {
    match (ctx.datadog.priority, ctx.sampling) {
        (_, Sampling::Defer) => None,
        (Some(p), s) if sampling_of(p).is_sampled() == s.is_sampled() => Some(p),
        (_, Sampling::Debug) => Some(2),
        (_, Sampling::Accept) => Some(1),
        (_, Sampling::Deny) => Some(0),
    }
}

/// The high 64 bits of the trace id as `_dd.p.tid` writes them, when not zero.
pub(crate) fn tid_of(trace_id: &TraceId) -> Option<[u8; 16]> {
    let hex = trace_id.to_hex();
    let (high, _) = hex.split_at(16);
    let mut out = [0u8; 16];
    out.copy_from_slice(high);
    (!trace_id.fits_64()).then_some(out)
}

/// Apply a `dd=` member (found next to a `traceparent` just continued) to `ctx`: the priority (made
/// to agree with the sampled flag, as dd-trace-go `parseTracestate` does), origin, last parent and
/// tags. Malformed fields are skipped.
pub(crate) fn apply_member<'a>(ctx: &mut TraceContext<'a>, value: &'a str) {
    let sampled = ctx.trace_flags.is_sampled();
    for field in swar::split_str(value, b';') {
        let Some((k, v)) = swar::split_once_byte(field, b':') else { continue };
        match k {
            "s" => {
                if let Some(p) = crate::decimal::parse_i32(v.as_bytes()) {
                    ctx.datadog.priority = Some(match (sampled, p >= 1) {
                        (true, true) | (false, false) => p,
                        (true, false) => 1,
                        (false, true) => 0,
                    });
                }
            }
            "o" if !v.is_empty() => ctx.datadog.origin = Some(DatadogText::Member(v)),
            "p" => ctx.datadog.parent = SpanId::from_hex(v.as_bytes()).ok(),
            _ if k.starts_with("t.") => ctx.datadog.tags = DatadogTags::Member(value),
            _ => {}
        }
    }
}

/// A `dd=` member value in a fixed buffer.
#[derive(Clone, Copy)]
pub(crate) struct Member(AsciiBuf<MAX_MEMBER>);

impl Member {
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// What a tracestate value can hold at `b` in a tag key, a tag value, the origin.
fn key_byte(b: u8) -> u8 {
    if matches!(b, b',' | b'=' | b';' | b':' | b'~') || !(0x21..=0x7e).contains(&b) {
        b'_'
    } else {
        b
    }
}

fn value_byte(b: u8) -> u8 {
    match b {
        b'=' => b'~',
        b',' | b';' | b'~' => b'_',
        b if (0x20..=0x7e).contains(&b) => b,
        _ => b'_',
    }
}

fn origin_byte(b: u8) -> u8 {
    if b == b' ' {
        b'_'
    } else {
        value_byte(b)
    }
}

/// The `dd=` member for `ctx` (module docs); `last_parent` is `p:`. Tags that would take it past 256
/// characters are left out, as Datadog's tracers do.
pub(crate) fn encode_member(ctx: &TraceContext<'_>, last_parent: Option<SpanId>) -> Member {
    let mut m = Member(AsciiBuf::new());
    let sep = |m: &mut Member| {
        if m.0.len() > 0 {
            m.0.push(b';');
        }
    };
    if let Some(p) = priority_of(ctx) {
        sep(&mut m);
        m.0.put(b"s:");
        crate::decimal::Signed::new(p).as_str().bytes().for_each(|b| m.0.push(b));
    }
    if let Some(o) = ctx.datadog.origin {
        let n = o.bytes().count();
        if n > 0 && m.0.fits(3 + n + 1) {
            sep(&mut m);
            m.0.put(b"o:");
            o.bytes().for_each(|b| m.0.push(origin_byte(b)));
        }
    }
    // Whole or not at all (an origin can leave too little room).
    if let Some(p) = last_parent.filter(|_| m.0.fits(1 + 2 + 16)) {
        sep(&mut m);
        m.0.put(b"p:");
        m.0.put(&p.to_hex());
    }
    let tid = tid_of(&ctx.trace_id);
    let mut wrote_tid = false;
    let tag = |m: &mut Member, key: &mut dyn Iterator<Item = u8>, value: &mut dyn Iterator<Item = u8>| -> bool {
        // At most a member's length of each: one that fills its buffer cannot fit with `t.` and `:`,
        // so what the buffer cut off is never written.
        let (key, value): (AsciiBuf<MAX_MEMBER>, AsciiBuf<MAX_MEMBER>) = (key.collect(), value.collect());
        let need = 1 + 2 + key.len() + 1 + value.len();
        if key.len() == 0 || value.len() == 0 || !m.0.fits(need) {
            return false;
        }
        sep(m);
        m.0.put(b"t.");
        key.as_bytes().iter().for_each(|&b| m.0.push(key_byte(b)));
        m.0.push(b':');
        value.as_bytes().iter().for_each(|&b| m.0.push(value_byte(b)));
        // A value may not end in a space (tracestate value grammar).
        if let Some(last) = m.0.last_mut().filter(|b| **b == b' ') {
            *last = b'_';
        }
        true
    };
    for (k, v) in ctx.datadog.tags.pairs() {
        let Some(suffix) = k.propagated() else { continue };
        let ok = if k.is_tid() {
            match tid {
                Some(t) if !wrote_tid => {
                    wrote_tid = true;
                    tag(&mut m, &mut suffix.bytes(), &mut t.into_iter())
                }
                _ => true,
            }
        } else {
            tag(&mut m, &mut suffix.bytes(), &mut v.bytes())
        };
        if !ok {
            break;
        }
    }
    if let (Some(t), false) = (tid, wrote_tid) {
        tag(&mut m, &mut "tid".bytes(), &mut t.into_iter());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TraceContext<'static> {
        let t = TraceId::from_hex(b"640cfd8d00000000000000000000abcd").ok();
        let s = SpanId::from_hex(b"00f067aa0ba902b7").ok();
        match (t, s) {
            (Some(t), Some(s)) => TraceContext::new(t, s).with_sampling(Sampling::Accept),
            _ => unreachable!(),
        }
    }

    #[test]
    fn member_round_trip() {
        let mut c = ctx();
        c.datadog.priority = Some(2);
        c.datadog.origin = Some(DatadogText::Raw("synthetics=x"));
        c.datadog.tags = DatadogTags::Header("_dd.p.dm=-4,_dd.p.tid=ffffffffffffffff,_dd.p.usr.id=a=b,other=1");
        let m = encode_member(&c, SpanId::from_hex(b"0000000000000001").ok());
        assert_eq!(m.as_str(), "s:2;o:synthetics~x;p:0000000000000001;t.dm:-4;t.tid:640cfd8d00000000;t.usr.id:a~b");
        assert!(crate::tracestate::is_valid_value(m.as_str()));
        let mut back = ctx();
        let v: &'static str = "s:2;o:synthetics~x;p:0000000000000001;t.dm:-4;t.tid:640cfd8d00000000;t.usr.id:a~b";
        apply_member(&mut back, v);
        assert_eq!(back.datadog.priority, Some(2));
        assert!(back.datadog.origin.is_some_and(|o| o.bytes().eq(*b"synthetics=x")));
        let want = DatadogTags::Header("_dd.p.dm=-4,_dd.p.tid=640cfd8d00000000,_dd.p.usr.id=a=b");
        assert_eq!(back.datadog.tags, want);
    }

    #[test]
    fn priority_agrees_with_the_sampled_flag() {
        let mut c = ctx().with_sampling(Sampling::Deny);
        apply_member(&mut c, "s:2");
        assert_eq!(c.datadog.priority, Some(0));
        let mut c = ctx();
        apply_member(&mut c, "s:-1");
        assert_eq!(c.datadog.priority, Some(1));
        assert_eq!(priority_of(&c.with_sampling(Sampling::Defer)), None);
        assert_eq!(priority_of(&c.with_sampling(Sampling::Deny)), Some(0));
    }

    #[test]
    fn long_tags_stop_at_256() {
        let mut c = ctx();
        let long: &'static str = "_dd.p.a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,_dd.p.b=1";
        c.datadog.tags = DatadogTags::Header(long);
        let m = encode_member(&c, None);
        assert!(m.as_str().len() <= 256);
        assert!(crate::tracestate::is_valid_value(m.as_str()), "{}", m.as_str());
        // Whole or left out, never cut short: one byte more and it is left out.
        let whole = long.split(',').next().and_then(|t| t.strip_prefix("_dd.p.a=")).unwrap_or_default();
        assert!(m.as_str().split(';').any(|f| f.strip_prefix("t.a:") == Some(whole)), "{}", m.as_str());
        let longer = std::format!("_dd.p.a=x{whole}");
        c.datadog.tags = DatadogTags::Header(std::string::String::leak(longer));
        let m = encode_member(&c, None);
        assert!(!m.as_str().split(';').any(|f| f.starts_with("t.a:")), "{}", m.as_str());
    }

    /// An origin that leaves less room than `p:` needs: `p:` is left out, not cut short.
    #[test]
    fn the_parent_is_written_whole_or_not_at_all() {
        let parent = SpanId::from_hex(b"0000000000000001").ok();
        for n in 230..=252 {
            let mut c = ctx();
            c.datadog.priority = Some(1);
            let origin: &'static str = std::string::String::leak("o".repeat(n));
            c.datadog.origin = Some(DatadogText::Raw(origin));
            let m = encode_member(&c, parent);
            let v = m.as_str();
            let p = v.split(';').find(|f| f.starts_with("p:"));
            assert!(p.is_none_or(|p| p == "p:0000000000000001"), "{n}: {v}");
            assert!(v.len() <= 256 && crate::tracestate::is_valid_value(v), "{n}: {v}");
        }
    }
}
