//! tracebridge's own tracestate member: what a later legacy hop needs to rebuild its original header
//! exactly, carried through W3C hops within the spec's limits (a value of at most 256 characters,
//! [W3C §3.3.1.3.2](https://www.w3.org/TR/trace-context/#value)).
//!
//! Value grammar (fields in this order, `;`-separated, each `name:value`):
//!
//! | field | meaning | when written |
//! |-------|---------|--------------|
//! | `s:{16 hex}` | the span id (W3C parent-id) the per-hop fields below describe | always, first |
//! | `w:64` | the trace id was 64-bit on the wire (B3/Jaeger) | 64-bit ids |
//! | `m:d` / `m:x` | sampling was *defer* / *debug* (W3C can only say 0 / 1) | defer, debug |
//! | `p:{16 hex}` | the parent's own parent (B3 `ParentSpanId`, Jaeger parent) | when known |
//! | `j:{hex}` | Jaeger flag bits other than sampled/debug | when non-zero |
//! | `xl:` `xs:` `xe:{key}:{value}` | X-Ray `Lineage`, `Self`, unknown fields | when present |
//! | `ic:{text}` | Instana `X-INSTANA-L` correlation (`correlationType=...;correlationId=...`) | when present |
//! | `o:{32 hex}-{16 hex}` | the incoming trace and span a restarted trace replaced, for linking | on restart |
//!
//! Text fields are percent-encoded for `%`, `,`, `=`, `;`, `:` and space, so the value stays valid
//! and unambiguous. A hop in between may start new spans; the per-hop fields then no longer describe
//! the traceparent's parent-id and are ignored (`s` does not match), while `w` and `o`, which describe
//! the whole trace, still apply.
//!
//! Datadog's priority, origin and tags do not ride here: they ride in Datadog's own `dd=` member,
//! which Datadog's tracers read too (see [`crate::context::DatadogFields`]).

use arrayvec::ArrayString;

use crate::ascii_buf::AsciiBuf;
use crate::context::{Sampling, TraceContext};
use crate::id::{decode_hex_exact, IdWidth, SpanId, TraceId};
use crate::swar;
use crate::xray_fields::{Text, XRayExtra, XRayFields};

/// Longest member value ([§3.3.1.3.2](https://www.w3.org/TR/trace-context/#value)).
pub(crate) const MAX_VALUE: usize = 256;

/// An encoded member value in a fixed buffer: not zeroed when made, read without a UTF-8 scan
/// (`ArrayString`), written a part at a time rather than byte by byte (every B3 or Jaeger request
/// with a parent span id builds one).
#[derive(Clone, Copy)]
pub(crate) struct MemberValue {
    buf: ArrayString<MAX_VALUE>,
    /// Fields that did not fit in 256 characters and were left out.
    pub(crate) lost: u8,
}

impl MemberValue {
    pub(crate) fn new() -> Self {
        MemberValue { buf: ArrayString::new(), lost: 0 }
    }

    pub(crate) fn as_str(&self) -> &str {
        self.buf.as_str()
    }

    fn len(&self) -> usize {
        self.buf.len()
    }

    /// Append one field if it fits whole; otherwise count it as lost.
    fn field(&mut self, name: &str, parts: &[Part<'_>]) {
        let sep = usize::from(!self.buf.is_empty());
        let need = sep + name.len() + 1 + parts.iter().map(Part::len).sum::<usize>();
        if self.buf.len() + need > MAX_VALUE {
            self.lost = self.lost.saturating_add(1);
            return;
        }
        // Room was checked: none of the pushes below can fail.
        if sep == 1 {
            let _ = self.buf.try_push(';');
        }
        let _ = self.buf.try_push_str(name);
        let _ = self.buf.try_push(':');
        for p in parts {
            match p {
                Part::Plain(s) => {
                    let _ = self.buf.try_push_str(s);
                }
                Part::Text(t) => t.bytes().for_each(|b| self.push_escaped(b)),
            }
        }
    }

    fn push_escaped(&mut self, b: u8) {
        if needs_escape(b) {
            let mut hex = [0u8; 2];
            crate::id::encode_hex(&[b], &mut hex);
            let [h, l] = hex;
            let _ = self.buf.try_push('%');
            let _ = self.buf.try_push(char::from(h.to_ascii_uppercase()));
            let _ = self.buf.try_push(char::from(l.to_ascii_uppercase()));
        } else {
            // Not escaped: visible ASCII (`needs_escape`), one byte.
            let _ = self.buf.try_push(char::from(b));
        }
    }
}

enum Part<'a> {
    Plain(&'a str),
    Text(Text<'a>),
}

impl Part<'_> {
    fn len(&self) -> usize {
        match self {
            Part::Plain(s) => s.len(),
            Part::Text(t) => t.bytes().map(|b| if needs_escape(b) { 3 } else { 1 }).sum(),
        }
    }
}

fn needs_escape(b: u8) -> bool {
    matches!(b, b'%' | b',' | b'=' | b';' | b':' | b' ') || !(0x20..=0x7e).contains(&b)
}

/// [`encode_into`] as a value, for the tests.
#[cfg(test)]
pub(crate) fn encode(ctx: &TraceContext<'_>, restarted_from: Option<(TraceId, SpanId)>) -> Option<MemberValue> {
    let mut v = MemberValue::new();
    encode_into(ctx, restarted_from, &mut v).then_some(v)
}

/// Write the member value describing `ctx` for later hops into `v` (empty): false, and nothing
/// written, when W3C alone says everything (128-bit id, accept/deny, no parent, no Jaeger/X-Ray
/// extras, not restarted). Written in place rather than returned: the value is a 260-byte buffer,
/// and in wasm every copy of one is a call out of the module.
pub(crate) fn encode_into(
    ctx: &TraceContext<'_>,
    restarted_from: Option<(TraceId, SpanId)>,
    v: &mut MemberValue,
) -> bool {
    // Most requests have nothing W3C cannot say: answer that before building anything (the span
    // field, the 256-byte buffer), since this runs on every request the gateway translates.
    if !needed(ctx, restarted_from) {
        return false;
    }
    // The fields made of ids and flags, written as bytes at fixed-size steps and checked as UTF-8
    // once: pushed field by field as `str`s, each id was its own UTF-8 check and copy (728
    // instructions natively for `s` and `p`, against 285 this way, callgrind).
    // Each step of a fixed size ([`AsciiBuf::put`]): no step is a `memcpy` call.
    let mut head = AsciiBuf::<HEAD_MAX>::new();
    head.put(b"s:");
    head.put(&ctx.span_id.to_hex());
    if ctx.id_width == IdWidth::Bits64 && ctx.trace_id.fits_64() {
        head.put(b";w:64");
    }
    match ctx.sampling {
        Sampling::Defer => head.put(b";m:d"),
        Sampling::Debug => head.put(b";m:x"),
        Sampling::Accept | Sampling::Deny => {}
    }
    if let Some(p) = ctx.parent_span_id {
        head.put(b";p:");
        head.put(&p.to_hex());
    }
    if ctx.jaeger_flags != 0 {
        head.put(b";j:");
        let mut hex = [0u8; 2];
        crate::id::encode_hex(&[ctx.jaeger_flags], &mut hex);
        head.put(&hex);
    }
    if let Some((t, s)) = restarted_from {
        head.put(b";o:");
        head.put(&t.to_hex());
        head.put(b"-");
        head.put(&s.to_hex());
    }
    // At most `HEAD_MAX` (< `MAX_VALUE`) ASCII bytes: always valid, and always fits.
    let _ = v.buf.try_push_str(head.as_str());
    if let Some(l) = ctx.xray.lineage {
        v.field("xl", &[Part::Text(l)]);
    }
    if let Some(s) = ctx.xray.self_ {
        v.field("xs", &[Part::Text(s)]);
    }
    for (k, val) in ctx.xray.extra.fields() {
        v.field("xe", &[Part::Text(k), Part::Plain(":"), Part::Text(val)]);
    }
    if let Some(c) = ctx.instana_correlation {
        v.field("ic", &[Part::Text(c)]);
    }
    v.len() > S_LEN || v.lost > 0
}

/// Length of the `s` field (`s:` and 16 digits), which every member starts with.
const S_LEN: usize = 2 + 16;

/// Longest run of the fields [`encode_into`] makes from ids and flags: `s`, then `;w:64`, `;m:x`,
/// `;p:{16}`, `;j:{2}` and `;o:{32}-{16}`. Below [`MAX_VALUE`], so they are never lost.
const HEAD_MAX: usize = S_LEN + 5 + 4 + (3 + 16) + (3 + 2) + (3 + 32 + 1 + 16);
const _: () = assert!(HEAD_MAX < MAX_VALUE);

/// True when [`encode_into`] writes a field after `s`: the conditions of its fields, in its order.
#[inline(never)]
pub(crate) fn needed(ctx: &TraceContext<'_>, restarted_from: Option<(TraceId, SpanId)>) -> bool {
    (ctx.id_width == IdWidth::Bits64 && ctx.trace_id.fits_64())
        || matches!(ctx.sampling, Sampling::Defer | Sampling::Debug)
        || ctx.parent_span_id.is_some()
        || ctx.jaeger_flags != 0
        || restarted_from.is_some()
        || !ctx.xray.is_empty()
        || ctx.instana_correlation.is_some()
}

/// What a member says about the trace it travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Decoded {
    /// Incoming ids that a restart replaced.
    pub(crate) restarted_from: Option<(TraceId, SpanId)>,
}

/// Apply the member `value` (found in `ctx.tracestate`) to `ctx`: trace-level fields always, per-hop
/// fields only when `s` matches `ctx.span_id`. Unknown fields are ignored (a newer tracebridge may add
/// some); a malformed member changes nothing.
pub(crate) fn apply<'a>(ctx: &mut TraceContext<'a>, value: &'a str) -> Decoded {
    let mut decoded = Decoded::default();
    let mut same_hop = false;
    let mut next = *ctx;
    for field in swar::split_str(value, b';') {
        let Some((name, v)) = swar::split_once_byte(field, b':') else { return Decoded::default() };
        match name {
            "s" => same_hop = SpanId::from_hex(v.as_bytes()).is_ok_and(|s| s == ctx.span_id),
            "w" if v == "64" && ctx.trace_id.fits_64() => next.id_width = IdWidth::Bits64,
            "o" => {
                let parsed = swar::split_once_byte(v, b'-').and_then(|(t, s)| {
                    Some((TraceId::from_hex(t.as_bytes()).ok()?, SpanId::from_hex(s.as_bytes()).ok()?))
                });
                decoded.restarted_from = parsed;
            }
            _ if !same_hop => {}
            // W3C can only say 0/1: defer rides on 0, debug on 1; anything else is stale.
            "m" if v == "d" && !ctx.trace_flags.is_sampled() => next.sampling = Sampling::Defer,
            "m" if v == "x" && ctx.trace_flags.is_sampled() => next.sampling = Sampling::Debug,
            "p" => next.parent_span_id = SpanId::from_hex(v.as_bytes()).ok(),
            "j" => {
                let mut b = [0u8; 1];
                if decode_hex_exact(v.as_bytes(), &mut b).is_ok() {
                    let [j] = b;
                    // A debug bit travels only as it came: without sampled (see `jaeger`).
                    next.jaeger_flags = j & !crate::jaeger::FLAG_SAMPLED;
                }
            }
            "xl" => next.xray.lineage = Some(Text::Escaped(v)),
            "xs" => next.xray.self_ = Some(Text::Escaped(v)),
            // The fields stay in the member; `XRayExtra::Member` finds them again.
            "xe" => next.xray.extra = XRayExtra::Member(value),
            "ic" => next.instana_correlation = Some(Text::Escaped(v)),
            _ => {}
        }
    }
    *ctx = next;
    decoded
}

/// Clears the per-format extras that a member would carry (used before applying one).
pub(crate) fn clear_extras(ctx: &mut TraceContext<'_>) {
    ctx.xray = XRayFields::default();
    ctx.jaeger_flags = 0;
    ctx.instana_correlation = None;
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::tracestate::is_valid_value;
    use std::string::String;

    fn ids() -> (TraceId, SpanId) {
        let t = TraceId::from_bytes([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let s = SpanId::from_bytes([9; 8]);
        match (t, s) {
            (Some(t), Some(s)) => (t, s),
            _ => unreachable!(),
        }
    }

    #[test]
    fn nothing_to_carry_writes_nothing() {
        let (t, s) = ids();
        let ctx = TraceContext::new(t, s).with_sampling(Sampling::Accept);
        assert!(encode(&ctx, None).is_none());
    }

    /// `needed` answers before `encode` builds anything: each field alone must still be written.
    #[test]
    fn every_field_alone_is_written() {
        let (t, s) = ids();
        let base = TraceContext::new(t, s).with_sampling(Sampling::Accept);
        let x = |f: fn(&mut TraceContext<'static>)| {
            let mut c = base;
            f(&mut c);
            c
        };
        let one_field: [(TraceContext<'static>, &str); 8] = [
            (x(|c| c.id_width = IdWidth::Bits64), "w:64"),
            (x(|c| c.sampling = Sampling::Defer), "m:d"),
            (x(|c| c.sampling = Sampling::Debug), "m:x"),
            (x(|c| c.parent_span_id = SpanId::from_bytes([7; 8])), "p:0707070707070707"),
            (x(|c| c.jaeger_flags = 0x08), "j:08"),
            (x(|c| c.xray.lineage = Some(Text::Raw("a:1"))), "xl:a%3A1"),
            (x(|c| c.xray.self_ = Some(Text::Raw("1-a"))), "xs:1-a"),
            (x(|c| c.instana_correlation = Some(Text::Raw("c"))), "ic:c"),
        ];
        for (ctx, field) in one_field {
            let v = encode(&ctx, None).map(|v| String::from(v.as_str()));
            assert_eq!(v.as_deref(), Some(&*std::format!("s:0909090909090909;{field}")));
        }
        let mut extra = base;
        extra.xray.extra = XRayExtra::Header("Root=1-x;Foo=b");
        assert!(encode(&extra, None).is_some_and(|v| v.as_str().ends_with(";xe:Foo:b")));
        assert!(encode(&base, Some((t, s))).is_some_and(|v| v.as_str().contains(";o:")));
    }

    #[test]
    fn round_trip_through_member() {
        let (t, s) = ids();
        let mut ctx = TraceContext::new(t, s).with_sampling(Sampling::Defer);
        ctx.id_width = IdWidth::Bits64;
        ctx.parent_span_id = SpanId::from_bytes([7; 8]);
        ctx.jaeger_flags = 0x08;
        ctx.xray.lineage = Some(Text::Raw("a87bd80c:1|68fd508a:5"));
        ctx.xray.extra = XRayExtra::Header("Root=1-x;Foo=a=b,c:d");
        let Some(v) = encode(&ctx, Some((t, s))) else { unreachable!() };
        assert!(is_valid_value(v.as_str()), "{}", v.as_str());
        assert_eq!(v.lost, 0);
        // What a later hop sees: only the W3C fields, plus the member.
        let mut back = TraceContext::new(t, s).with_sampling(Sampling::Deny);
        let d = apply(&mut back, v.as_str());
        assert_eq!(d.restarted_from, Some((t, s)));
        assert_eq!(back.sampling, Sampling::Defer);
        assert_eq!(back.id_width, IdWidth::Bits64);
        assert_eq!(back.parent_span_id, ctx.parent_span_id);
        assert_eq!(back.jaeger_flags, 0x08);
        let lineage: [u8; 21] = *b"a87bd80c:1|68fd508a:5";
        assert!(back.xray.lineage.is_some_and(|l| l.bytes().eq(lineage)));
        let val: [u8; 7] = *b"a=b,c:d";
        assert!(back.xray.extra.fields().next().is_some_and(|(_, v)| v.bytes().eq(val)));
    }

    #[test]
    fn stale_member_keeps_only_trace_level_fields() {
        let (t, s) = ids();
        let mut ctx = TraceContext::new(t, s).with_sampling(Sampling::Debug);
        ctx.id_width = IdWidth::Bits64;
        let Some(v) = encode(&ctx, None) else { unreachable!() };
        let other = SpanId::from_bytes([1; 8]).unwrap_or(s);
        let mut back = TraceContext::new(t, other).with_sampling(Sampling::Accept);
        apply(&mut back, v.as_str());
        assert_eq!((back.sampling, back.id_width), (Sampling::Accept, IdWidth::Bits64));
    }

    #[test]
    fn overlong_fields_are_counted_not_truncated() {
        let (t, s) = ids();
        let long: String = "L".repeat(300);
        let mut ctx = TraceContext::new(t, s).with_sampling(Sampling::Defer);
        ctx.xray.lineage = Some(Text::Raw(&long));
        let Some(v) = encode(&ctx, None) else { unreachable!() };
        assert_eq!((v.lost, v.as_str().len() <= MAX_VALUE), (1, true));
        assert!(is_valid_value(v.as_str()));
    }
}
