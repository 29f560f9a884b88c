//! AWS X-Ray: `X-Amzn-Trace-Id`.
//!
//! Header: `X-Amzn-Trace-Id`
//! ([X-Ray concepts, "Tracing header"](https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader)).
//!
//! ```text
//! X-Amzn-Trace-Id = field *( OWS ";" OWS field ) [ OWS ";" ]   ; fields in any order
//! field           = key OWS "=" OWS value
//! key             = 1*( VCHAR except ";" "=" )      ; case-sensitive
//! value           = 1*( VCHAR except ";" )
//! ```
//!
//! | key       | value                       | model                                              |
//! |-----------|-----------------------------|----------------------------------------------------|
//! | `Root`    | `1-{8 hex}-{24 hex}`        | [`TraceContext::trace_id`]: the 8 + 24 digits      |
//! | `Parent`  | 16 hex                      | [`TraceContext::span_id`]                          |
//! | `Sampled` | `1`, `0`, `?`               | Accept, Deny, Defer (absent: Defer)                |
//! | `Lineage` | opaque (Lambda recursion)   | [`XRayFields::lineage`], as received               |
//! | `Self`    | opaque (added by ALB)       | [`XRayFields::self_`], as received                 |
//! | other     | opaque                      | [`XRayFields::extra`], in order, up to [`XRAY_MAX_EXTRA_FIELDS`] |
//!
//! Decisions:
//! - **Keys are case-sensitive.** The docs only ever spell them `Root`, `Parent`, `Sampled`, `Self`,
//!   `Lineage`, and the AWS SDKs (e.g. aws-xray-sdk-java `TraceHeader.fromString`) and the
//!   OpenTelemetry AWS propagators compare them exactly; no AWS producer writes another case. A
//!   `root=` is therefore an unknown key, and the header then lacks its `Root`.
//! - **Hex is lowercase**, as every AWS producer writes it; the OpenTelemetry AWS propagators
//!   decode the ids with their lowercase-only W3C id parsers.
//! - **Root version must be `1`**, the only version the docs define.
//! - **A missing `Parent` is an error** ([`Error::XRayMissingParent`]): a header from the first
//!   X-Ray-integrated service may carry only `Root` and `Sampled`, but then there is no span to
//!   continue. The OpenTelemetry AWS propagators do the same (a context without a span id is invalid
//!   and dropped). A load balancer at the edge sends exactly that (`Root` only): with
//!   `on_missing: new-root` the [`Translator`](crate::Translator) starts the new root *in that trace*
//!   ([`root_without_parent`]), so the trace stays joined with the load balancer's logs.
//! - **Optional whitespace** (space, tab) is allowed around fields, `;` and `=`, as the AWS SDKs trim
//!   it; not inside keys or values. One trailing `;` is allowed (interop: the X-Ray SDKs accept it and
//!   some proxies append it, e.g. `Root=…;Parent=…;Sampled=1;`); other empty fields (`;;`, a leading
//!   `;`) are [`Error::XRayField`].
//! - **Nothing is dropped silently**: `Lineage`, `Self` and up to [`XRAY_MAX_EXTRA_FIELDS`] unknown
//!   fields are kept for the round trip; one more is [`Error::XRayTooManyFields`]. A key given twice
//!   is [`Error::XRayDuplicateKey`].
//!
//! Trace id mapping: the X-Ray trace id is `1-{epoch}-{unique}`, 32 bits of Unix time and 96 random
//! bits; concatenated they are the 128-bit [`TraceId`]. A trace id from another format is written
//! as-is, its first 32 bits becoming the "epoch": X-Ray accepts W3C-format trace ids, which need not
//! carry a time ([X-Ray trace ID format](https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids)).
//! A 64-bit B3/Jaeger id therefore becomes `1-00000000-{8 zero digits}{16 digits}`, and translating
//! back to a 64-bit format gives the same id.

use arrayvec::ArrayVec;

use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::id::{ascii_str, HexError, SpanId, TraceId};
use crate::xray_fields::{Text, XRayExtra, XRayFields, XRAY_MAX_EXTRA_FIELDS};
use crate::Error;

/// Header name.
pub const HEADER: &str = "x-amzn-trace-id";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[HEADER];

use crate::xray_fields::{KNOWN_KEYS, LINEAGE, PARENT, ROOT, SAMPLED, SELF};

/// Parse an `X-Amzn-Trace-Id` value. The context borrows `Lineage`, `Self` and unknown fields from
/// `value`; its id width is 128 bits and it has no tracestate.
///
/// ```
/// use tracebridge::{xray, Sampling};
///
/// let ctx = xray::parse(b"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1")?;
/// assert_eq!(&ctx.trace_id.to_hex(), b"5759e988bd862e3fe1be46a994272793");
/// assert_eq!(ctx.sampling, Sampling::Accept);
/// // Lineage has no counterpart elsewhere; it is kept and written back.
/// assert_eq!(
///     xray::encode(&ctx).as_str(),
///     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1"
/// );
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn parse(value: &[u8]) -> Result<TraceContext<'_>, Error> {
    parse_into(value, &mut None).map(|ctx| *ctx)
}

/// [`parse`], the context built in `out` (a few hundred bytes: not copied on the way to the
/// translator, [`Read`]).
fn parse_into<'a, 'o>(value: &'a [u8], out: &'o mut impl Slot<'a>) -> Result<&'o mut TraceContext<'a>, Error> {
    let f = fields(value)?;
    let trace_id = f.root.ok_or(Error::XRayMissingRoot)?;
    let span_id = f.parent.ok_or(Error::XRayMissingParent)?;
    let ctx = out.put(trace_id, span_id);
    ctx.set_sampling(f.sampled.unwrap_or(Sampling::Defer));
    ctx.xray = f.xray;
    Ok(ctx)
}

/// A header with a valid `Root` but no `Parent`, as an AWS load balancer adds at the edge
/// ([ALB request tracing](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html)):
/// no span to continue, so [`parse`] refuses it ([`Error::XRayMissingParent`]), but a new root can
/// keep its trace id so the trace stays joined with the load balancer's logs. Returns the trace id,
/// the decision (`Sampled`, absent = defer) and the other X-Ray fields; `None` for any other header.
///
/// ```
/// use tracebridge::{xray, Sampling};
///
/// let (id, sampling, _) = xray::root_without_parent(b"Root=1-67891233-abcdef012345678912345678").unwrap_or_else(|| unreachable!());
/// assert_eq!((id.to_string().as_str(), sampling), ("67891233abcdef012345678912345678", Sampling::Defer));
/// assert!(xray::root_without_parent(b"Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8").is_none());
/// ```
pub fn root_without_parent(value: &[u8]) -> Option<(TraceId, Sampling, XRayFields<'_>)> {
    let f = fields(value).ok()?;
    match (f.root, f.parent) {
        (Some(root), None) => Some((root, f.sampled.unwrap_or(Sampling::Defer), f.xray)),
        _ => None,
    }
}

/// The fields of a header, each checked; which are required is the caller's business.
struct Fields<'a> {
    root: Option<TraceId>,
    parent: Option<SpanId>,
    sampled: Option<Sampling>,
    xray: XRayFields<'a>,
}

fn fields(value: &[u8]) -> Result<Fields<'_>, Error> {
    // The header as AWS SDKs and load balancers write it is read where its fields must be; anything
    // else, and any error (so that it is the one the general reading gives), field by field.
    if let Some(f) = fixed_fields(value) {
        return Ok(f);
    }
    split_fields(value)
}

/// `Root=1-{8}-{24};Parent={16}` and that with `;Sampled={c}`, nothing more: the fields at their
/// places, no scan. Checked parts are hex digits and a sampling character, never `;`, `=` or
/// whitespace, so a value that reads here is read the same by [`split_fields`].
fn fixed_fields(value: &[u8]) -> Option<Fields<'_>> {
    const HEAD: usize = "Root=1-5759e988-bd862e3fe1be46a994272793".len();
    const PARENT_AT: usize = HEAD + ";Parent=".len();
    const END: usize = PARENT_AT + 16;
    let sampled = match value.get(END..)? {
        [] => None,
        [b';', b'S', b'a', b'm', b'p', b'l', b'e', b'd', b'=', c] => {
            Some(parse_sampled(core::slice::from_ref(c)).ok()?)
        }
        _ => return None,
    };
    let (b"Root=", root) = value.get(..HEAD)?.split_first_chunk::<5>()? else { return None };
    let (b";Parent=", parent) = value.get(HEAD..END)?.split_first_chunk::<8>()? else { return None };
    let root = parse_root(root).ok()?;
    let parent = SpanId::from_hex(parent).ok()?;
    Some(Fields { root: Some(root), parent: Some(parent), sampled, xray: XRayFields::default() })
}

/// Every field, each checked: the general reading. Out of line and cold, so that the fixed reading
/// stays small in the instruction cache.
#[cold]
#[inline(never)]
fn split_fields(value: &[u8]) -> Result<Fields<'_>, Error> {
    let text = carrier::visible_ascii_or_tab(value)?;
    let mut root = None;
    let mut parent = None;
    let mut sampled = None;
    let mut xray = XRayFields::default();
    // Unknown keys seen, for the duplicate check; the fields themselves stay in `text`.
    let mut extras = [""; XRAY_MAX_EXTRA_FIELDS];
    let mut n_extras = 0;
    // interop: one trailing `;` (module docs).
    let body = trim(text);
    let body = body.strip_suffix(';').unwrap_or(body);
    let mut rest = Some(body);
    while let Some(remaining) = rest {
        let (field, next) = match crate::swar::split_once_byte(remaining, b';') {
            Some((field, next)) => (field, Some(next)),
            None => (remaining, None),
        };
        rest = next;
        let (key, value) = crate::swar::split_once_byte(field, b'=').ok_or(Error::XRayField)?;
        let (key, value) = (trim(key), trim(value));
        if key.is_empty() || !key.bytes().all(is_key_byte) {
            return Err(Error::XRayField);
        }
        match key {
            ROOT => set_once(&mut root, parse_root(value.as_bytes())?)?,
            PARENT => set_once(&mut parent, SpanId::from_hex(value.as_bytes()).map_err(|_| Error::XRayParent)?)?,
            SAMPLED => set_once(&mut sampled, parse_sampled(value.as_bytes())?)?,
            LINEAGE => set_once(&mut xray.lineage, opaque(value)?)?,
            SELF => set_once(&mut xray.self_, opaque(value)?)?,
            _ => {
                opaque(value)?;
                if extras.get(..n_extras).unwrap_or_default().contains(&key) {
                    return Err(Error::XRayDuplicateKey);
                }
                let slot = extras.get_mut(n_extras).ok_or(Error::XRayTooManyFields)?;
                *slot = key;
                n_extras += 1;
                xray.extra = XRayExtra::Header(text);
            }
        }
    }
    Ok(Fields { root, parent, sampled, xray })
}

/// Without the spaces and tabs around it: bytes, not `char`s (the text is ASCII).
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::XRayDuplicateKey);
    }
    *slot = Some(value);
    Ok(())
}

/// A key byte: visible ASCII except `;` and `=`.
fn is_key_byte(b: u8) -> bool {
    is_value_byte(b) && b != b'='
}

/// A value byte: visible ASCII except `;` (no space: OWS around values is trimmed, none inside).
fn is_value_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && b != b';'
}

fn opaque(value: &str) -> Result<Text<'_>, Error> {
    if value.is_empty() || !value.bytes().all(is_value_byte) {
        return Err(Error::XRayField);
    }
    Ok(Text::Raw(value))
}

/// `1-{8 hex}-{24 hex}` → the 32 digits as one trace id.
fn parse_root(value: &[u8]) -> Result<TraceId, Error> {
    let Some((head, unique)) = value.split_first_chunk::<11>() else {
        return Err(Error::XRayRoot);
    };
    let [version, d0, e0, e1, e2, e3, e4, e5, e6, e7, d1] = *head;
    // The docs define version 1 only.
    if version != b'1' || d0 != b'-' || d1 != b'-' || unique.len() != 24 {
        return Err(Error::XRayRoot);
    }
    let mut hex = [0u8; 32];
    let (epoch, rest) = hex.split_at_mut(8);
    epoch.copy_from_slice(&[e0, e1, e2, e3, e4, e5, e6, e7]);
    rest.copy_from_slice(unique);
    TraceId::from_hex(&hex).map_err(|e| match e {
        HexError::Zero => Error::XRayRootZero,
        _ => Error::XRayRoot,
    })
}

fn parse_sampled(value: &[u8]) -> Result<Sampling, Error> {
    match value {
        b"1" => Ok(Sampling::Accept),
        b"0" => Ok(Sampling::Deny),
        // `?`: the sampling decision is requested from downstream.
        b"?" => Ok(Sampling::Defer),
        _ => Err(Error::XRaySampled),
    }
}

/// An encoded `X-Amzn-Trace-Id` value in a fixed buffer.
#[derive(Clone)]
pub struct Encoded {
    /// Not zeroed when made: most values are the 74 bytes of the fixed fields, in 1 KiB.
    buf: ArrayVec<u8, { Encoded::LEN }>,
}

impl Encoded {
    /// Capacity: [`carrier::MAX_VALUE_LEN`], so that whatever is written is read back by a hop with
    /// the same limit.
    pub const LEN: usize = carrier::MAX_VALUE_LEN;

    /// The value.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.buf)
    }

    /// The value as bytes (ASCII), for [`Injector::set_bytes`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Append one byte; false when full.
    fn push(&mut self, b: u8) -> bool {
        self.buf.try_push(b).is_ok()
    }

    /// Append `;key=value` whole or not at all.
    fn push_field(&mut self, key: Text<'_>, value: Text<'_>) -> Field {
        let mark = self.buf.len();
        let mut valid = true;
        let mut room = self.push(b';');
        let mut n = 0;
        for b in key.bytes() {
            valid &= is_key_byte(b);
            n += 1;
            room = room && self.push(b);
        }
        valid &= n > 0;
        room = room && self.push(b'=');
        n = 0;
        for b in value.bytes() {
            valid &= is_value_byte(b);
            n += 1;
            room = room && self.push(b);
        }
        valid &= n > 0;
        if valid && room {
            return Field::Written;
        }
        self.buf.truncate(mark);
        if valid {
            Field::NoRoom
        } else {
            Field::Invalid
        }
    }
}

enum Field {
    Written,
    Invalid,
    NoRoom,
}

/// `Root=1-{8}-{24};Parent={16};Sampled={1}` with the places of the ids and the decision held.
const FIXED_FIELDS: &[u8; 74] = b"Root=1-........-........................;Parent=................;Sampled=.";

/// The `X-Amzn-Trace-Id` value for `ctx`:
/// `Root=1-{8}-{24};Parent={16};Sampled={1|0|?}` (Debug writes `1`, Defer `?`), then `Lineage`,
/// `Self` and the unknown fields in order, `Text::Escaped` values unescaped.
///
/// Each optional field is written whole or not at all, so the value is never truncated or invalid:
/// a field that is not visible ASCII without `;` (possible only for text that was carried escaped
/// through tracestate), whose key is empty, known or repeated, is left out; once a field does not fit
/// in [`Encoded::LEN`] bytes, it and every field after it are left out.
///
/// ```
/// use tracebridge::{xray, Sampling, SpanId, TraceContext, TraceId};
///
/// // A W3C id is kept bit for bit: its first 8 digits become the "epoch" part.
/// let ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?)
///     .with_sampling(Sampling::Deny);
/// assert_eq!(xray::encode(&ctx).as_str(), "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=0");
/// # Ok::<(), tracebridge::id::HexError>(())
/// ```
pub fn encode(ctx: &TraceContext<'_>) -> Encoded {
    let mut out = Encoded { buf: ArrayVec::new() };
    encode_into(ctx, &mut out);
    out
}

/// [`encode`] into `out` (empty), where the caller keeps it: an `Encoded` is its 1 KiB buffer, and
/// returned from a function with two returns it was copied whole, used bytes or not (a `memcpy` of
/// 124 of the 800 instructions of an inject).
fn encode_into(ctx: &TraceContext<'_>, out: &mut Encoded) {
    // The fixed fields, 74 bytes, written at their places: a byte at a time (with a check for room
    // per byte) they were most of this function.
    let mut head = *FIXED_FIELDS;
    let (trace_id, span_id) = (ctx.trace_id.to_hex(), ctx.span_id.to_hex());
    let (epoch, unique) = trace_id.split_at(8);
    // Constant places of constant lengths: each copy is a few moves.
    for (at, digits) in [(7..15, epoch), (16..40, unique), (48..64, span_id.as_slice())] {
        if let Some(dst) = head.get_mut(at).filter(|dst| dst.len() == digits.len()) {
            dst.copy_from_slice(digits);
        }
    }
    if let Some(s) = head.last_mut() {
        *s = match ctx.sampling {
            Sampling::Accept | Sampling::Debug => b'1',
            Sampling::Deny => b'0',
            Sampling::Defer => b'?',
        };
    }
    // 74 bytes in 1 KiB: always fits.
    let _ = out.buf.try_extend_from_slice(&head);
    if ctx.xray.is_empty() {
        return;
    }

    let fixed = [(LINEAGE, ctx.xray.lineage), (SELF, ctx.xray.self_)];
    let fixed = fixed.into_iter().filter_map(|(k, v)| Some((Text::Raw(k), v?)));
    let extras = ctx.xray.extra.fields().enumerate().filter_map(|(i, (k, v))| {
        let known = KNOWN_KEYS.iter().any(|n| k.bytes().eq(n.bytes()));
        let repeated = ctx.xray.extra.fields().take(i).any(|(p, _)| p.bytes().eq(k.bytes()));
        (!known && !repeated).then_some((k, v))
    });
    for (k, v) in fixed.chain(extras) {
        if let Field::NoRoom = out.push_field(k, v) {
            break;
        }
    }
}

/// The X-Ray context of `headers`: `Ok(None)` when there is no `X-Amzn-Trace-Id`.
///
/// ```
/// use tracebridge::xray;
///
/// // The header name matches in any case; keys may come in any order.
/// let headers = [("X-Amzn-Trace-Id", "Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793")];
/// let ctx = xray::extract(&headers[..])?.and_then(|p| p.context().copied());
/// assert_eq!(ctx.map(|c| c.span_id.to_hex()), Some(*b"53995c3f42cd8ad8"));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    carrier::read_single(headers, HEADER, Error::XRayDuplicate, out, parse_into)
}

/// Write `X-Amzn-Trace-Id` for `ctx` (see [`encode`]).
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    let mut value = Encoded { buf: ArrayVec::new() };
    encode_into(ctx, &mut value);
    headers.set_bytes(HEADER, value.as_bytes());
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::context::XRAY_MAX_EXTRA_FIELDS;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    const DOC: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    fn round(v: &str) -> Result<String, Error> {
        parse(v.as_bytes()).map(|c| encode(&c).as_str().to_string())
    }

    fn err(v: &str) -> Option<Error> {
        parse(v.as_bytes()).err()
    }

    #[test]
    fn docs_example() {
        let c = parse(DOC.as_bytes());
        assert_eq!(
            c.map(|c| (c.trace_id.to_string(), c.span_id.to_string(), c.sampling, c.xray.is_empty())),
            Ok(("5759e988bd862e3fe1be46a994272793".into(), "53995c3f42cd8ad8".into(), Sampling::Accept, true))
        );
        assert_eq!(round(DOC), Ok(DOC.into()));
    }

    #[test]
    fn order_whitespace_and_sampling() {
        assert_eq!(
            round(" Sampled = 0 ;\tParent=53995c3f42cd8ad8 ; Root=1-5759e988-bd862e3fe1be46a994272793 "),
            Ok("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0".into())
        );
        let p = |v: &str| parse(v.as_bytes()).map(|c| c.sampling);
        assert_eq!(p("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"), Ok(Sampling::Defer));
        assert_eq!(
            p("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?"),
            Ok(Sampling::Defer)
        );
        assert_eq!(
            err("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=2"),
            Some(Error::XRaySampled)
        );
        assert_eq!(
            err("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled="),
            Some(Error::XRaySampled)
        );
    }

    #[test]
    fn lineage_self_and_extras_round_trip() {
        let v = "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;\
                 Parent=53995c3f42cd8ad8;Lineage=a87bd80c:1|68fd508a:5;Foo=bar;Baz=q=x";
        assert_eq!(
            round(v),
            Ok("Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=?;\
                Lineage=a87bd80c:1|68fd508a:5;Self=1-67891234-12456789abcdef012345678;Foo=bar;Baz=q=x"
                .into())
        );
        let c = parse(v.as_bytes());
        assert_eq!(c.map(|c| c.xray.extra.fields().nth(1)), Ok(Some((Text::Raw("Baz"), Text::Raw("q=x")))));
    }

    #[test]
    fn invalid() {
        let r = "Root=1-5759e988-bd862e3fe1be46a994272793";
        let p = "Parent=53995c3f42cd8ad8";
        assert_eq!(err(p), Some(Error::XRayMissingRoot));
        assert_eq!(err(r), Some(Error::XRayMissingParent));
        assert_eq!(err(&[r, ";Sampled=1"].concat()), Some(Error::XRayMissingParent));
        assert_eq!(err(""), Some(Error::XRayField));
        // interop: one trailing `;` is valid (with OWS around it too), two are not.
        assert_eq!(err(&[r, ";", p, ";"].concat()), None);
        assert_eq!(err(&[r, ";", p, " ; "].concat()), None);
        assert_eq!(err(&[r, ";", p, ";;"].concat()), Some(Error::XRayField));
        assert_eq!(err(&[";", r, ";", p].concat()), Some(Error::XRayField));
        assert_eq!(err(";"), Some(Error::XRayField));
        assert_eq!(err(&[r, ";;", p].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";Foo"].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";=x"].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";Foo="].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";Foo=a b"].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";F o=a"].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";Lineage="].concat()), Some(Error::XRayField));
        assert_eq!(err(&[r, ";", p, ";", p].concat()), Some(Error::XRayDuplicateKey));
        assert_eq!(err(&[r, ";", p, ";Self=a;Self=a"].concat()), Some(Error::XRayDuplicateKey));
        assert_eq!(err(&[r, ";", p, ";a=1;a=2"].concat()), Some(Error::XRayDuplicateKey));
        assert_eq!(err(&[r, ";", p, ";\x7f=1"].concat()), Some(Error::NotAscii));
        assert_eq!(err(&[p, ";Root=2-5759e988-bd862e3fe1be46a994272793"].concat()), Some(Error::XRayRoot));
        assert_eq!(err(&[p, ";Root=1-5759e988-bd862e3fe1be46a99427279"].concat()), Some(Error::XRayRoot));
        assert_eq!(err(&[p, ";Root=1-5759e988bd862e3fe1be46a994272793"].concat()), Some(Error::XRayRoot));
        assert_eq!(err(&[p, ";Root=1-5759E988-bd862e3fe1be46a994272793"].concat()), Some(Error::XRayRoot));
        assert_eq!(err(&[p, ";Root=1-00000000-000000000000000000000000"].concat()), Some(Error::XRayRootZero));
        assert_eq!(err(&[r, ";Parent=0000000000000000"].concat()), Some(Error::XRayParent));
        assert_eq!(err(&[r, ";Parent=53995C3F42CD8AD8"].concat()), Some(Error::XRayParent));
        // Keys are case-sensitive: `root` is an unknown field, so Root is missing.
        assert_eq!(err(&["root=1-5759e988-bd862e3fe1be46a994272793;", p].concat()), Some(Error::XRayMissingRoot));
    }

    #[test]
    fn too_many_fields() {
        let base = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";
        let mut v = String::from(base);
        for i in 0..XRAY_MAX_EXTRA_FIELDS {
            v.push_str(&std::format!(";k{i}=v"));
        }
        assert_eq!(round(&v).map(|s| s.matches(";k").count()), Ok(XRAY_MAX_EXTRA_FIELDS));
        v.push_str(";k8=v");
        assert_eq!(err(&v), Some(Error::XRayTooManyFields));
    }

    fn ctx() -> Option<TraceContext<'static>> {
        Some(TraceContext::new(
            TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736").ok()?,
            SpanId::from_hex(b"00f067aa0ba902b7").ok()?,
        ))
    }

    #[test]
    fn w3c_id_and_debug() {
        let Some(c) = ctx() else { return };
        let c = c.with_sampling(Sampling::Debug);
        assert_eq!(encode(&c).as_str(), "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1");
    }

    #[test]
    fn escaped_and_invalid_texts() {
        let Some(mut c) = ctx() else { return };
        c.xray.lineage = Some(Text::Escaped("a%3Bb")); // unescapes to `a;b`: left out
        c.xray.self_ = Some(Text::Escaped("x%3Dy%25")); // `x=y%`
                                                        // Root (known), key `k=`, k=1, `k` again, an empty value, a space, last=ok.
        c.xray.extra = XRayExtra::Member("xe:Root:1;xe:k%3D:1;xe:k:1;xe:%6B:2;xe:e:;xe:z:%20;xe:last:ok");
        let e = encode(&c);
        assert_eq!(
            e.as_str(),
            "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=?;Self=x=y%;k=1;last=ok"
        );
        assert!(parse(e.as_str().as_bytes()).is_ok());
    }

    #[test]
    fn overflow_drops_the_rest_never_truncates() {
        let Some(mut c) = ctx() else { return };
        let big = "x".repeat(600);
        c.xray.lineage = Some(Text::Raw("L"));
        let extra = std::format!("a={big};b={big};c=small");
        c.xray.extra = XRayExtra::Header(&extra);
        let e = encode(&c);
        assert!(e.as_str().ends_with(&[";Lineage=L;a=", &big].concat()));
        assert!(!e.as_str().contains(";b=") && !e.as_str().contains(";c="));
        assert!(parse(e.as_str().as_bytes()).is_ok());
    }

    #[test]
    fn extract_and_inject() {
        let h = [("X-Amzn-Trace-Id", DOC), ("x-amzn-trace-id", DOC)];
        assert_eq!(extract(&h[..]), Err(Error::XRayDuplicate));
        assert_eq!(extract(&h[..0]), Ok(None));
        let mut out: Vec<(String, String)> = Vec::new();
        if let Ok(Some(Propagation::Context(c))) = extract(&h[..1]) {
            inject(&c, &mut out);
        }
        assert_eq!(out, [("x-amzn-trace-id".to_string(), DOC.to_string())]);
    }

    type Extras = Vec<(String, String)>;

    fn arb_parts() -> impl Strategy<Value = ([u8; 16], [u8; 8], Sampling, Option<String>, Option<String>, Extras)> {
        let value = "[!-:<-~]{1,24}";
        let extras = proptest::collection::vec(("[!-:<>-~]{1,12}", value), 0..=XRAY_MAX_EXTRA_FIELDS).prop_map(|v| {
            let mut seen: Vec<String> = Vec::new();
            v.into_iter()
                .filter(|(k, _)| {
                    let fresh = !KNOWN_KEYS.contains(&k.as_str()) && !seen.contains(k);
                    seen.push(k.clone());
                    fresh
                })
                .collect::<Extras>()
        });
        (
            any::<[u8; 16]>(),
            any::<[u8; 8]>(),
            prop_oneof![Just(Sampling::Deny), Just(Sampling::Accept), Just(Sampling::Defer)],
            proptest::option::of(value),
            proptest::option::of(value),
            extras,
        )
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(parts in arb_parts()) {
            let (t, s, sampling, lineage, self_, extras) = &parts;
            let (Some(t), Some(s)) = (TraceId::from_bytes(*t), SpanId::from_bytes(*s)) else { return Ok(()) };
            let mut ctx = TraceContext::new(t, s).with_sampling(*sampling);
            ctx.xray.lineage = lineage.as_deref().map(Text::Raw);
            ctx.xray.self_ = self_.as_deref().map(Text::Raw);
            let extra: Vec<String> = extras.iter().map(|(k, v)| std::format!("{k}={v}")).collect();
            let extra = extra.join(";");
            ctx.xray.extra = XRayExtra::Header(&extra);
            let e = encode(&ctx);
            prop_assert_eq!(parse(e.as_str().as_bytes()), Ok(ctx));
        }

        /// The fixed places read what the general reading does, on every written header a byte away
        /// from valid (and unchanged).
        #[test]
        fn fixed_places_read_as_the_split_does(t in any::<[u8; 16]>(), s in any::<[u8; 8]>(), sampling in prop_oneof![Just(Sampling::Deny), Just(Sampling::Accept), Just(Sampling::Defer)], at in any::<usize>(), b in prop_oneof![Just(b';'), Just(b'='), Just(b' '), Just(b'0'), Just(b'?'), any::<u8>()], change in any::<bool>()) {
            let (Some(t), Some(s)) = (TraceId::from_bytes(t), SpanId::from_bytes(s)) else { return Ok(()) };
            let ctx = TraceContext::new(t, s).with_sampling(sampling);
            let mut v = encode(&ctx).as_str().as_bytes().to_vec();
            let at = at % v.len();
            if let (true, Some(slot)) = (change, v.get_mut(at)) {
                *slot = b;
            }
            // The header, and the header without its `Sampled` field (as load balancers write it).
            for v in [&v[..], v.get(..64).unwrap_or_default()] {
                let fixed = fixed_fields(v).map(|f| (f.root, f.parent, f.sampled, f.xray));
                let split = split_fields(v).map(|f| (f.root, f.parent, f.sampled, f.xray)).ok();
                if fixed.is_some() {
                    prop_assert_eq!(fixed, split);
                }
                prop_assert_eq!(fields(v).map(|f| (f.root, f.parent, f.sampled, f.xray)).ok(), split);
                // Unchanged, every header this crate writes without extra fields reads at the fixed places.
                if !change {
                    prop_assert!(fixed.is_some());
                }
            }
        }

        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&v);
        }

        #[test]
        fn parse_near_the_grammar(fields in proptest::collection::vec((
            prop_oneof![Just("Root"), Just("Parent"), Just("Sampled"), Just("Self"), Just("Lineage"), Just("k"), Just("root")],
            prop_oneof![
                Just("1-5759e988-bd862e3fe1be46a994272793".to_string()),
                Just("53995c3f42cd8ad8".to_string()),
                "[0-9a-f1?=-]{0,36}",
            ],
            "[ ]{0,1}",
        ), 0..8)) {
            let v = fields.iter().map(|(k, v, ws)| std::format!("{ws}{k}{ws}={v}")).collect::<Vec<_>>().join(";");
            // Whatever parses is written back in a form that parses to the same context.
            if let Ok(c) = parse(v.as_bytes()) {
                let e = encode(&c);
                prop_assert_eq!(parse(e.as_str().as_bytes()), Ok(c));
            }
        }
    }
}
