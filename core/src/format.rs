//! The formats, by name, with one dispatch point for extract and inject.

use core::fmt;

use crate::carrier::{Extractor, Injector};
use crate::context::{Propagation, Read, Slot, TraceContext};
use crate::{b3, datadog, gcp, grpc, instana, jaeger, ot, w3c, xray, Error, SpanId, TraceId};

/// The registry: every format, once. Adding a format is a module (its header names, `extract`,
/// `inject`) and one line here; every door (the translator, the CLI, the Envoy filter's stats, the npm
/// package) reads [`Format::ALL`], [`Format::name`] and [`Format::headers`] and picks it up.
///
/// Each line: variant, config name, doc, the module's header list, the module's reader (the headers,
/// a slot for a warning and one for the context, to a [`Read`]), and the module's `inject`.
macro_rules! formats {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $headers:expr, $read:expr, $inject:path; )*) => {
        /// A trace header format.
        ///
        /// ```
        /// use tracebridge::Format;
        ///
        /// let f: Format = "b3-single".parse()?;
        /// assert_eq!(f, Format::B3Single);
        /// assert_eq!(f.headers(), ["b3"]);
        /// assert_eq!(Format::from_name("xray").map(Format::name), Some("xray"));
        /// assert_eq!(Format::ALL.len(), Format::COUNT);
        /// # Ok::<(), tracebridge::format::UnknownFormat>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Format {
            $( $(#[$doc])* $variant, )*
        }

        impl Format {
            /// Every format, in the default extraction order.
            pub const ALL: [Format; Self::COUNT] = [$( Format::$variant, )*];
            /// How many formats there are.
            pub const COUNT: usize = [$( $name, )*].len();
            /// Every format's name, in [`ALL`](Self::ALL) order.
            pub const NAMES: [&'static str; Self::COUNT] = [$( $name, )*];

            /// The name used in configuration, JSON output and stats, e.g. `b3-single`.
            pub const fn name(self) -> &'static str {
                match self { $( Format::$variant => $name, )* }
            }

            /// Every header name (lowercase) this format reads or writes.
            pub const fn headers(self) -> &'static [&'static str] {
                match self { $( Format::$variant => $headers, )* }
            }

            /// The [`NameFilter`](crate::name_filter::NameFilter) bits of [`headers`](Self::headers).
            /// From a table: a `match` copied each arm's 32 bytes out on its own, ten times over in
            /// the `.wasm`.
            // In bounds: `self as usize` is below `COUNT`, the table's length.
            #[allow(clippy::indexing_slicing)]
            pub(crate) const fn name_mask(self) -> crate::name_filter::Bits {
                const MASKS: [crate::name_filter::Bits; Format::COUNT] = [$( crate::name_filter::mask($headers), )*];
                MASKS[self as usize]
            }

            /// Read this format from `headers`: `Ok(None)` when its headers are absent.
            ///
            /// ```
            /// use tracebridge::Format;
            ///
            /// let headers = [("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1")];
            /// let found = Format::Jaeger.extract(&headers[..])?;
            /// let ctx = found.and_then(|e| e.propagation.context().copied());
            /// assert_eq!(ctx.map(|c| c.span_id.to_hex()), Some(*b"00f067aa0ba902b7"));
            /// assert_eq!(Format::W3c.extract(&headers[..])?, None);
            /// # Ok::<(), tracebridge::Error>(())
            /// ```
            pub fn extract<'a, E: Extractor + ?Sized>(self, headers: &'a E) -> Result<Option<Extracted<'a>>, Error> {
                // The reader builds the context in the result itself ([`ExtractSlot`]): moved
                // out of a slot of its own after, the copy was a quarter of a B3 single extract's
                // time (`perf`: its wide loads waited for the reader's small stores). In a loop of
                // extracts: X-Ray 48 → 38 ns, Jaeger 46 → 36 ns.
                let (mut result, mut spare, mut warning) = (Ok(None), None, None);
                let read = self.read(headers, &mut warning, &mut ExtractSlot { result: &mut result, spare: &mut spare });
                match read {
                    Err(e) => result = Err(e),
                    Ok(Read::Absent) => result = Ok(None),
                    Ok(Read::SamplingOnly(s)) => {
                        result = Ok(Some(Extracted { propagation: Propagation::SamplingOnly(s), warning }));
                    }
                    Ok(Read::Context) => {
                        if let Ok(Some(x)) = &mut result {
                            x.warning = warning;
                        }
                    }
                }
                result
            }

            /// [`extract`](Self::extract) for the translator: a context is written into `out` (where
            /// the caller keeps it: [`Read`]), the warning into `warning`. `out` means something only
            /// when the result is [`Read::Context`]; a reader that fails may have written part of one.
            // Not inlined: each of the ten arms inlines its format's reader, and inlined into the
            // translator's loop over the formats they made one function too large for V8 to compile
            // well (the Envoy filter's request ran ≈ 200 instructions slower, measured).
            #[inline(never)]
            pub(crate) fn read<'a, E: Extractor + ?Sized, S: Slot<'a>>(
                self,
                headers: &'a E,
                warning: &mut Option<Error>,
                out: &mut S,
            ) -> Result<Read, Error> {
                match self { $( Format::$variant => ($read)(headers, warning, out), )* }
            }

            /// Write this format's headers for `ctx` (W3C: `traceparent`, and `tracestate` when the
            /// context has one).
            ///
            /// ```
            /// use tracebridge::{Format, SpanId, TraceContext, TraceId};
            ///
            /// let ctx = TraceContext::new(TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736")?, SpanId::from_hex(b"00f067aa0ba902b7")?);
            /// let mut headers: Vec<(String, String)> = Vec::new();
            /// Format::XRay.inject(&ctx, &mut headers);
            /// assert_eq!(headers[0].0, "x-amzn-trace-id");
            /// // No decision yet: X-Ray says `Sampled=?`.
            /// assert_eq!(headers[0].1, "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=?");
            /// # Ok::<(), tracebridge::id::HexError>(())
            /// ```
            pub fn inject<I: Injector + ?Sized>(self, ctx: &TraceContext<'_>, headers: &mut I) {
                match self { $( Format::$variant => $inject(ctx, headers), )* }
            }
        }
    };
}

formats! {
    /// W3C Trace Context: `traceparent` + `tracestate`.
    W3c = "w3c", w3c::HEADERS, |h, w, out| w3c::read_into(h, w, out), w3c::inject;
    /// Zipkin B3 single header: `b3`.
    B3Single = "b3-single", b3::single::HEADERS, |h, _, out| b3::single::read_into(h, out), b3::single::inject;
    /// Zipkin B3 multiple headers: `X-B3-*`.
    B3Multi = "b3-multi", b3::multi::HEADERS, |h, _, out| b3::multi::read_into(h, out), b3::multi::inject;
    /// Jaeger: `uber-trace-id`.
    Jaeger = "jaeger", jaeger::HEADERS, |h, _, out| jaeger::read_into(h, out), jaeger::inject;
    /// AWS X-Ray: `X-Amzn-Trace-Id`.
    XRay = "xray", xray::HEADERS, |h, _, out| xray::read_into(h, out), xray::inject;
    /// gRPC / OpenCensus binary: `grpc-trace-bin`.
    GrpcTraceBin = "grpc-trace-bin", grpc::HEADERS, |h, _, out| grpc::read_into(h, out), grpc::inject;
    /// Datadog: `x-datadog-trace-id`, `x-datadog-parent-id`, `x-datadog-sampling-priority`, `x-datadog-origin`, `x-datadog-tags`.
    Datadog = "datadog", datadog::HEADERS, |h, w, out| datadog::read_into(h, w, out), datadog::inject;
    /// OpenTracing basic tracers: `ot-tracer-*`.
    Ot = "ot", ot::HEADERS, |h, _, out| ot::read_into(h, out), ot::inject;
    /// Instana: `X-INSTANA-T`, `X-INSTANA-S`, `X-INSTANA-L`.
    Instana = "instana", instana::HEADERS, |h, _, out| instana::read_into(h, out), instana::inject;
    // Last: a Google Cloud load balancer adds its header to every request, even one that carries
    // an application's context in another format (README, "Precedence").
    /// Google Cloud: `X-Cloud-Trace-Context`.
    Gcp = "gcp", gcp::HEADERS, |h, _, out| gcp::read_into(h, out), gcp::inject;
}

/// What a format's headers held: the propagation, and a non-fatal problem (a dropped invalid
/// `tracestate` next to a valid `traceparent`, dropped `x-datadog-tags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted<'a> {
    /// The context or decision.
    pub propagation: Propagation<'a>,
    /// A part that was dropped, and why.
    pub warning: Option<Error>,
}

/// [`Format::extract`]'s [`Slot`]: the context goes into the result being returned.
struct ExtractSlot<'r, 'a> {
    result: &'r mut Result<Option<Extracted<'a>>, Error>,
    /// Not used: [`put`](Slot::put) has just made `result` a context, but an answer for a result
    /// that is not one has to exist, and this crate does not panic.
    spare: &'r mut Option<TraceContext<'a>>,
}

impl<'a> Slot<'a> for ExtractSlot<'_, 'a> {
    #[inline(always)]
    fn put(&mut self, trace_id: TraceId, span_id: SpanId) -> &mut TraceContext<'a> {
        let ctx = TraceContext::new(trace_id, span_id);
        *self.result = Ok(Some(Extracted { propagation: Propagation::Context(ctx), warning: None }));
        match self.result {
            Ok(Some(Extracted { propagation: Propagation::Context(c), .. })) => c,
            _ => self.spare.insert(ctx),
        }
    }
}

impl Format {
    /// The format with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Position in [`ALL`](Self::ALL), for per-format tables.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(UnknownFormat)
    }
}

/// A format name that is not one of [`Format::ALL`]'s names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownFormat;

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown format: expected one of ")?;
        for (i, name) in Format::NAMES.iter().enumerate() {
            f.write_str(if i == 0 { "" } else { ", " })?;
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownFormat {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_all() {
        for (i, f) in Format::ALL.into_iter().enumerate() {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(f.index(), i);
        }
        assert_eq!(Format::from_name("W3C"), None);
    }
}
