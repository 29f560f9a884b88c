//! gRPC `grpc-trace-bin`: the OpenCensus binary trace context, carried as gRPC binary metadata.
//!
//! Header: `grpc-trace-bin`. Its value is base64 (RFC 4648 §4, standard alphabet) because the name
//! ends in `-bin`; receivers "MUST accept padded and un-padded values and should emit un-padded
//! values" ([gRPC over HTTP2, Requests](https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests)).
//! The decoded bytes are the OpenCensus
//! [BinaryFormat](https://github.com/census-instrumentation/opencensus-specs/blob/master/encodings/BinaryEncoding.md#trace-context):
//!
//! ```text
//! value          = version-id version-format
//! version-id     = %x00                   ; "General Format": another version is another format
//! version-format = [trace-id] [span-id] [trace-options] [unknown]
//! trace-id       = %x00 16OCTET           ; field 0, not all zeros (required here)
//! span-id        = %x01 8OCTET            ; field 1, not all zeros (required here)
//! trace-options  = %x02 OCTET             ; field 2, bit 0 = sampled, other bits undefined
//! unknown        = %x03-FF *OCTET         ; a later field: parsing stops, the rest is ignored
//! ```
//!
//! We write `00 00 <trace-id> 01 <span-id> 02 <options>`: 29 bytes, 39 base64 characters, unpadded.
//!
//! Decisions, each cited at its branch:
//! - Fields must come in field-id order, each at most once ([`Error::GrpcFieldOrder`]). The spec now
//!   allows any order within one data type version, but every OpenCensus implementation (Java
//!   `BinaryFormatImpl`, Go `propagation.FromBinary`) reads fixed positions and documents "Fields MUST
//!   be encoded using the field id order", so nothing sends another order.
//! - Trace id and span id are "optional" in the spec, but a context without them is not a context;
//!   OpenCensus Java rejects their absence too.
//! - Missing trace-options is options `0`: not sampled, a decision (*deny*), not "no decision". Every
//!   OpenCensus implementation fills an absent field with `TraceOptions.DEFAULT`, which is 0 (Java
//!   `BinaryFormatImpl.fromByteArray`, Go `propagation.FromBinary`), and gRPC's own census filters do
//!   the same; a translator must read the bytes as those peers do. An options byte maps bit 0 set →
//!   accept, clear → deny (see [`Sampling`]).

use crate::base64::{self, Base64Error};
use crate::carrier::{self, Extractor, Injector};
use crate::context::{Propagation, Read, Sampling, Slot, TraceContext};
use crate::id::{IdWidth, SpanId, TraceId};
use crate::Error;

/// Header name.
pub const HEADER: &str = "grpc-trace-bin";
/// Every header this format reads or writes.
pub const HEADERS: &[&str] = &[HEADER];

/// The most decoded bytes accepted: room for the 29 bytes of version 0 and unknown later fields.
pub const MAX_DECODED_LEN: usize = 96;
/// The most base64 characters accepted (`MAX_DECODED_LEN` bytes, padded); longer is
/// [`Error::TooLong`] before decoding.
pub const MAX_ENCODED_LEN: usize = MAX_DECODED_LEN / 3 * 4;

const VERSION: u8 = 0;
const TRACE_ID_FIELD: u8 = 0;
const SPAN_ID_FIELD: u8 = 1;
const TRACE_OPTIONS_FIELD: u8 = 2;
const SAMPLED: u8 = 0x01;

/// A parsed `grpc-trace-bin` value.
///
/// ```
/// use tracebridge::grpc::TraceBin;
/// use tracebridge::Sampling;
///
/// let bin = TraceBin::parse(b"AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE=")?;
/// assert_eq!(&bin.trace_id.to_hex(), b"4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(&bin.span_id.to_hex(), b"00f067aa0ba902b7");
/// assert_eq!(bin.sampling(), Sampling::Accept);
/// // We write base64 without padding; both forms are read.
/// assert_eq!(bin.encode().as_str(), "AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE");
/// # Ok::<(), tracebridge::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceBin {
    /// Field 0.
    pub trace_id: TraceId,
    /// Field 1: the caller's span.
    pub span_id: SpanId,
    /// Field 2 as received; `0` (the OpenCensus `TraceOptions.DEFAULT`) when absent.
    pub trace_options: u8,
}

impl TraceBin {
    /// Length of the binary value we write.
    pub const LEN: usize = 29;

    /// Parse a header value: base64, padded or not, around optional whitespace.
    pub fn parse(value: &[u8]) -> Result<Self, Error> {
        // HTTP strips OWS around field values (RFC 9110 §5.5); a proxy seeing it raw trims it too.
        let value = carrier::visible_ascii(carrier::trim_ows(value))?;
        // PROTOCOL-HTTP2: repeated binary headers "may have their values joined with ','" and must be
        // split before decoding, so a comma means two values.
        if value.contains(',') {
            return Err(Error::GrpcDuplicate);
        }
        if value.len() > MAX_ENCODED_LEN {
            return Err(Error::TooLong);
        }
        let mut buf = [0u8; MAX_DECODED_LEN];
        // Standard alphabet, padded or not (gRPC PROTOCOL-HTTP2).
        let n = base64::decode(value.as_bytes(), &mut buf).map_err(|e| match e {
            Base64Error::Invalid => Error::GrpcBase64,
            Base64Error::TooLong => Error::TooLong,
        })?;
        Self::from_bytes(buf.get(..n).unwrap_or_default())
    }

    /// Parse the decoded binary value.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let Some((&version, mut rest)) = bytes.split_first() else {
            return Err(Error::GrpcTruncated);
        };
        // "General Format": the version selects the whole format; only version 0 is defined, and
        // OpenCensus Java/Go reject any other ("Unsupported version").
        if version != VERSION {
            return Err(Error::GrpcVersion);
        }
        let (mut trace, mut span, mut options) = (None, None, 0);
        // The lowest known field id that may still come.
        let mut next = TRACE_ID_FIELD;
        while let Some((&id, body)) = rest.split_first() {
            if id > TRACE_OPTIONS_FIELD {
                // "Deserialization Rules": read "until the first unknown field_id", not an error.
                break;
            }
            if id < next {
                return Err(Error::GrpcFieldOrder);
            }
            rest = match id {
                TRACE_ID_FIELD => {
                    let (v, r) = body.split_first_chunk::<16>().ok_or(Error::GrpcTruncated)?;
                    trace = Some(*v);
                    r
                }
                SPAN_ID_FIELD => {
                    let (v, r) = body.split_first_chunk::<8>().ok_or(Error::GrpcTruncated)?;
                    span = Some(*v);
                    r
                }
                _ => {
                    let (&v, r) = body.split_first().ok_or(Error::GrpcTruncated)?;
                    options = v;
                    r
                }
            };
            next = id + 1;
        }
        let trace = trace.ok_or(Error::GrpcMissingTraceId)?;
        let span = span.ok_or(Error::GrpcMissingSpanId)?;
        Ok(TraceBin {
            trace_id: TraceId::from_bytes(trace).ok_or(Error::GrpcTraceIdZero)?,
            span_id: SpanId::from_bytes(span).ok_or(Error::GrpcSpanIdZero)?,
            trace_options: options,
        })
    }

    /// The sampling decision: options bit 0 (an absent options field is `0`: deny).
    pub const fn sampling(&self) -> Sampling {
        if self.trace_options & SAMPLED != 0 {
            Sampling::Accept
        } else {
            Sampling::Deny
        }
    }

    /// The value for a context: options `1` when sampled (accept or debug), else `0`; a 64-bit
    /// trace id width writes the low 64 bits (zero-extended, as the binary format is always 16 bytes).
    pub fn from_context(ctx: &TraceContext<'_>) -> Self {
        let trace_id = match ctx.id_width {
            IdWidth::Bits64 => ctx.trace_id.low_64().unwrap_or(ctx.trace_id),
            IdWidth::Bits128 => ctx.trace_id,
        };
        TraceBin { trace_id, span_id: ctx.span_id, trace_options: if ctx.sampling.is_sampled() { SAMPLED } else { 0 } }
    }

    /// The binary value: version 0 and all three fields.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        let (head, rest) = out.split_at_mut(2);
        head.copy_from_slice(&[VERSION, TRACE_ID_FIELD]);
        let (t, rest) = rest.split_at_mut(16);
        t.copy_from_slice(self.trace_id.as_bytes());
        let (id, rest) = rest.split_at_mut(1);
        id.fill(SPAN_ID_FIELD);
        let (s, rest) = rest.split_at_mut(8);
        s.copy_from_slice(self.span_id.as_bytes());
        rest.copy_from_slice(&[TRACE_OPTIONS_FIELD, self.trace_options]);
        out
    }

    /// The header value: [`to_bytes`](Self::to_bytes) in unpadded base64.
    pub fn encode(&self) -> Encoded {
        let mut buf = [0u8; Encoded::LEN];
        // 29 bytes are exactly 39 unpadded characters: the output cannot be short.
        let _ = base64::encode(&self.to_bytes(), &mut buf);
        Encoded { buf }
    }
}

/// A written `grpc-trace-bin` value: 39 base64 characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    buf: [u8; Encoded::LEN],
}

impl Encoded {
    /// Length of the header value.
    pub const LEN: usize = 39;

    /// The header value.
    pub fn as_str(&self) -> &str {
        crate::id::ascii_str(&self.buf)
    }

    /// The header value as bytes (ASCII), for [`Injector::set_bytes`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

impl core::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Encoded").field(&self.as_str()).finish()
    }
}

/// The context in `grpc-trace-bin`: `Ok(None)` when the header is absent.
///
/// ```
/// use tracebridge::grpc;
///
/// let headers = [("grpc-trace-bin", "AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE")];
/// let ctx = grpc::extract(&headers[..])?.and_then(|p| p.context().copied());
/// assert_eq!(ctx.map(|c| c.is_sampled()), Some(true));
/// # Ok::<(), tracebridge::Error>(())
/// ```
pub fn extract<'a, E: Extractor + ?Sized>(headers: &'a E) -> Result<Option<Propagation<'a>>, Error> {
    Read::extract(|out| read_into(headers, out))
}

/// [`extract`], the context written into `out` ([`Read`]).
pub(crate) fn read_into<'a, E: Extractor + ?Sized>(headers: &'a E, out: &mut impl Slot<'a>) -> Result<Read, Error> {
    carrier::read_single(headers, HEADER, Error::GrpcDuplicate, out, parse_into)
}

/// A `grpc-trace-bin` value's context, built in `out`.
fn parse_into<'a, 'o>(value: &[u8], out: &'o mut impl Slot<'a>) -> Result<&'o mut TraceContext<'a>, Error> {
    let tb = TraceBin::parse(value)?;
    let ctx = out.put(tb.trace_id, tb.span_id);
    ctx.set_sampling(tb.sampling());
    Ok(ctx)
}

/// Write `grpc-trace-bin` for `ctx`.
pub fn inject<I: Injector + ?Sized>(ctx: &TraceContext<'_>, headers: &mut I) {
    headers.set_bytes(HEADER, TraceBin::from_context(ctx).encode().as_bytes());
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The spec's example: trace id 4bf92f3577b34da6a3ce929d000e4736, span id 34f067aa0ba902b7, sampled.
    const SPEC: [u8; 29] = [
        0, 0, 75, 249, 47, 53, 119, 179, 77, 166, 163, 206, 146, 157, 0, 14, 71, 54, 1, 52, 240, 103, 170, 11, 169, 2,
        183, 2, 1,
    ];

    fn b64(bytes: &[u8]) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let n = crate::base64::encode(bytes, &mut buf).unwrap_or(0);
        buf.get(..n).unwrap_or_default().to_vec()
    }

    #[test]
    fn spec_example() {
        let tb = TraceBin::from_bytes(&SPEC);
        assert_eq!(tb.map(|t| t.trace_id.to_hex()), Ok(*b"4bf92f3577b34da6a3ce929d000e4736"));
        assert_eq!(tb.map(|t| t.span_id.to_hex()), Ok(*b"34f067aa0ba902b7"));
        assert_eq!(tb.map(|t| t.sampling()), Ok(Sampling::Accept));
        assert_eq!(tb.map(|t| t.to_bytes()), Ok(SPEC));
        assert_eq!(tb.map(|t| t.encode().as_str() == "AABL+S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE"), Ok(true));
    }

    #[test]
    fn padded_and_unpadded() {
        let unpadded = b"AABL+S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE";
        assert_eq!(TraceBin::parse(unpadded), TraceBin::from_bytes(&SPEC));
        assert_eq!(TraceBin::parse(b"AABL+S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE="), TraceBin::from_bytes(&SPEC));
        assert_eq!(TraceBin::parse(b" AABL+S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE\t"), TraceBin::from_bytes(&SPEC));
        assert_eq!(TraceBin::parse(b"AABL-S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE").err(), Some(Error::GrpcBase64));
        assert_eq!(TraceBin::parse(b"AABL S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE").err(), Some(Error::GrpcBase64));
        assert_eq!(TraceBin::parse(b"AABL\x00S81d7NNpqPOkp0ADkc2ATTwZ6oLqQK3AgE").err(), Some(Error::NotAscii));
        assert_eq!(TraceBin::parse(b"AAB,AAB").err(), Some(Error::GrpcDuplicate));
        assert_eq!(TraceBin::parse(&[b'A'; MAX_ENCODED_LEN + 1]).err(), Some(Error::TooLong));
    }

    #[test]
    fn field_rules() {
        let e = |b: &[u8]| TraceBin::from_bytes(b).err();
        assert_eq!(e(&[]), Some(Error::GrpcTruncated));
        assert_eq!(e(&[1]), Some(Error::GrpcVersion));
        assert_eq!(e(&[0]), Some(Error::GrpcMissingTraceId));
        let no_options = SPEC.get(..27).unwrap_or_default();
        // Absent options are 0: not sampled, a decision.
        assert_eq!(TraceBin::from_bytes(no_options).map(|t| (t.trace_options, t.sampling())), Ok((0, Sampling::Deny)));
        assert_eq!(e(SPEC.get(..28).unwrap_or_default()), Some(Error::GrpcTruncated));
        assert_eq!(e(SPEC.get(..26).unwrap_or_default()), Some(Error::GrpcTruncated));
        assert_eq!(e(SPEC.get(..18).unwrap_or_default()), Some(Error::GrpcMissingSpanId));
        let mut unknown = SPEC.to_vec();
        unknown.extend_from_slice(&[3, 9, 9]);
        assert_eq!(TraceBin::from_bytes(&unknown), TraceBin::from_bytes(&SPEC));
        let mut repeated = SPEC.to_vec();
        repeated.extend_from_slice(&[2, 0]);
        assert_eq!(e(&repeated), Some(Error::GrpcFieldOrder));
    }

    #[test]
    fn inject_width_and_sampling() {
        let defer = crate::context::test_context(b"4bf92f3577b34da6a3ce929d0e0e4736", b"00f067aa0ba902b7");
        let ctx = TraceContext { id_width: IdWidth::Bits64, ..defer.with_sampling(Sampling::Debug) };
        let tb = TraceBin::from_context(&ctx);
        assert_eq!(tb.trace_id.to_hex(), *b"0000000000000000a3ce929d0e0e4736");
        assert_eq!(tb.trace_options, 1);
        assert_eq!(TraceBin::from_context(&defer).trace_options, 0);
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(
            t in any::<[u8; 16]>(), s in any::<[u8; 8]>(), sampled in any::<bool>()
        ) {
            if let (Some(trace_id), Some(span_id)) = (TraceId::from_bytes(t), SpanId::from_bytes(s)) {
                let sampling = if sampled { Sampling::Accept } else { Sampling::Deny };
                let ctx = TraceContext::new(trace_id, span_id).with_sampling(sampling);
                let enc = TraceBin::from_context(&ctx).encode();
                let got = TraceBin::parse(enc.as_str().as_bytes());
                prop_assert_eq!(got.map(|t| (t.trace_id, t.span_id, t.sampling())), Ok((trace_id, span_id, sampling)));
            }
        }

        #[test]
        fn parse_never_panics(v in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TraceBin::parse(&v);
            let _ = TraceBin::from_bytes(&v);
            let _ = TraceBin::parse(&b64(&v));
        }

        #[test]
        fn binary_fuzz_near_valid(cut in 0usize..40, tail in proptest::collection::vec(any::<u8>(), 0..12)) {
            let mut v = SPEC.get(..cut.min(29)).unwrap_or_default().to_vec();
            v.extend_from_slice(&tail);
            let _ = TraceBin::parse(&b64(&v));
        }
    }
}
