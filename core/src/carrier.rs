//! Reading and writing headers: two small traits, so every door adapts its own header type once.
//!
//! Header names are matched case-insensitively everywhere (RFC 9110 §5.1); this crate always asks
//! with lowercase names and writes lowercase names (HTTP/2 and HTTP/3 require them).
//! Values are bytes: HTTP allows obs-text, and a parser must see exactly what arrived to reject it.

use core::ops::ControlFlow;

use crate::context::{Read, Slot, TraceContext};
pub use crate::name_filter::NameFilter;
use crate::{lanes, Error};

/// Reads header values by name. More than one value per name is allowed (repeated header lines).
///
/// One required method (the others, for baggage and for listing or gathering names, have defaults), object-safe:
/// `&dyn Extractor` works, so a caller can pick its carrier at run time.
/// Values are handed to a callback rather than returned as an iterator, which is what keeps it
/// `dyn`-compatible without a heap.
///
/// ```
/// // Slices and arrays of pairs are carriers; names match case-insensitively.
/// use core::ops::ControlFlow;
/// use tracebridge::Extractor;
///
/// let headers = [("TraceState", "a=1"), ("tracestate", "b=2")];
/// let carrier: &dyn Extractor = &headers;
/// let mut lines: Vec<&[u8]> = Vec::new();
/// carrier.visit_values("tracestate", &mut |v| {
///     lines.push(v);
///     ControlFlow::Continue(())
/// });
/// assert_eq!(lines, [&b"a=1"[..], &b"b=2"[..]]);
/// ```
pub trait Extractor {
    /// Calls `each` with every value of header `name` (given in lowercase), in the order received,
    /// until it returns [`ControlFlow::Break`].
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>);

    /// Calls `each` with the name and value of every header whose name starts with `prefix` (given in
    /// lowercase, matched case-insensitively), in the order received, until it returns
    /// [`ControlFlow::Break`]. Baggage (`uberctx-{key}`, `ot-baggage-{key}`) is read this way.
    ///
    /// The default visits nothing: a carrier that cannot list its headers carries no such baggage.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("Uberctx-User", "alice"), ("b3", "1"), ("uberctx-tenant", "t1")];
    /// let mut seen: Vec<(&[u8], &[u8])> = Vec::new();
    /// (&headers[..]).visit_prefixed("uberctx-", &mut |n, v| {
    ///     seen.push((n, v));
    ///     ControlFlow::Continue(())
    /// });
    /// assert_eq!(seen, [(&b"Uberctx-User"[..], &b"alice"[..]), (b"uberctx-tenant", b"t1")]);
    /// ```
    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        let _ = (prefix, each);
    }

    /// Calls `each` with the name of every header (in any case; a repeated name may come once or
    /// once per line) and returns `true`; a carrier that cannot list its names returns `false`, the
    /// default. Listing lets the [`Translator`](crate::Translator) rule out, in one pass, the formats
    /// none of whose headers arrived, instead of looking each of their names up: a carrier that
    /// lists a name must also find it with [`visit_values`](Self::visit_values).
    ///
    /// ```
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("B3", "1"), ("accept", "*/*")];
    /// let mut names: Vec<Vec<u8>> = Vec::new();
    /// assert!((&headers[..]).visit_names(&mut |n| names.push(n.to_vec())));
    /// assert_eq!(names, [b"B3".to_vec(), b"accept".to_vec()]);
    /// ```
    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        let _ = each;
        false
    }

    /// The [`NameFilter`] of this carrier's header names, `None` when it cannot list them. The
    /// default builds it from [`visit_names`](Self::visit_names). A carrier that walks its names
    /// anyway while it reads its headers (the Envoy filter's header map) builds the filter in that
    /// pass ([`NameFilter::insert`]) and returns it here: one pass, and no call per name. It must
    /// hold every name [`visit_values`](Self::visit_values) finds.
    ///
    /// ```
    /// use tracebridge::carrier::NameFilter;
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("B3", "1"), ("accept", "*/*")];
    /// let mut names = NameFilter::EMPTY;
    /// names.insert(b"accept");
    /// names.insert(b"b3");
    /// assert_eq!(headers.name_filter(), Some(names));
    /// ```
    fn name_filter(&self) -> Option<NameFilter> {
        let mut filter = NameFilter::EMPTY;
        self.visit_names(&mut |name| filter.insert(name)).then_some(filter)
    }

    /// Offers `out` every header line, in the order received ([`Gathered::offer`]: it keeps those
    /// whose name `wanted` may hold), and returns `true`; `false` when the carrier cannot list its
    /// headers (the default), or when more lines are kept than `out` holds (then `out` is emptied).
    ///
    /// The [`Translator`](crate::Translator) asks with every header name and baggage prefix it can
    /// read, then reads the few lines gathered instead of the carrier: on a request of a dozen
    /// headers, each name looked up in a slice was a scan of all of them. A carrier that finds a
    /// name without a scan (a hash map, the Envoy filter's indexed header map) has no need of it.
    ///
    /// ```
    /// use tracebridge::carrier::{Gathered, NameFilter};
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("B3", "1"), ("accept", "*/*")];
    /// let mut wanted = NameFilter::EMPTY;
    /// wanted.insert(b"b3");
    /// let mut out = Gathered::new();
    /// assert!(headers.gather(&wanted, &mut out));
    /// assert_eq!(out.as_slice(), [(&b"B3"[..], &b"1"[..])]);
    /// ```
    fn gather<'s>(&'s self, wanted: &NameFilter, out: &mut Gathered<'s>) -> bool {
        let _ = (wanted, out);
        false
    }

    /// How many lines carry header `name` (given in lowercase), with the first one's value: how a
    /// format reads a header that must not repeat, on every request.
    ///
    /// The default counts them with [`visit_values`](Self::visit_values), a callback per value. A
    /// carrier with an index of its own can answer with a plain loop (the Envoy filter's header view
    /// does: in V8 the callbacks' layers were a tenth of the code its request ran).
    ///
    /// ```
    /// use tracebridge::carrier::Lines;
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("B3", "1"), ("tracestate", "a=1"), ("tracestate", "b=2")];
    /// assert_eq!(headers.lines("b3"), Lines::One(b"1"));
    /// assert_eq!(headers.lines("tracestate"), Lines::Many(b"a=1"));
    /// assert_eq!(headers.lines("traceparent"), Lines::Absent);
    /// ```
    fn lines<'s>(&'s self, name: &str) -> Lines<'s> {
        let ([value], n, more) = collect::<1, Self>(self, name);
        Lines::of(value, n, more)
    }

    /// For each header of `names` (given in lowercase), how many lines carry it and the first one's
    /// value ([`Lines`]), into the same index of `out`; entries of `out` past `names.len()` are left as
    /// they are. A format carried in several single-valued headers (B3's five `X-B3-*`, Datadog's,
    /// Instana's, OpenTracing's) reads them all with one call.
    ///
    /// The default looks each name up with [`lines`](Self::lines). A slice of pairs,
    /// where every lookup is a scan of all its lines, reads every name in one pass instead.
    ///
    /// ```
    /// use tracebridge::carrier::Lines;
    /// use tracebridge::Extractor;
    ///
    /// let headers = [("X-B3-SpanId", "a2fb4a1d1a96d312"), ("x-b3-sampled", "1"), ("x-b3-sampled", "0")];
    /// let mut out = [Lines::Absent; 3];
    /// headers.lines_of(&["x-b3-traceid", "x-b3-spanid", "x-b3-sampled"], &mut out);
    /// assert_eq!(out, [Lines::Absent, Lines::One(b"a2fb4a1d1a96d312"), Lines::Many(b"1")]);
    /// ```
    fn lines_of<'s>(&'s self, names: &[&str], out: &mut [Lines<'s>]) {
        for (name, slot) in names.iter().zip(out) {
            *slot = self.lines(name);
        }
    }
}

/// How many lines carry a header, with the first one's value: what [`Extractor::lines_of`] reads
/// for each name. A trace header must come in one line at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lines<'s> {
    /// No line.
    #[default]
    Absent,
    /// One line, with this value.
    One(&'s [u8]),
    /// Two or more; the value of the first.
    Many(&'s [u8]),
}

impl<'s> Lines<'s> {
    /// From what [`collect`] of one value found: the value, `n` values kept, and whether there were
    /// `more`.
    fn of(value: &'s [u8], n: usize, more: bool) -> Self {
        match (n, more) {
            (0, _) => Lines::Absent,
            (_, false) => Lines::One(value),
            (_, true) => Lines::Many(value),
        }
    }

    /// With one more line, of value `value`: how a carrier that answers
    /// [`lines`](Extractor::lines) itself counts the lines it finds (it may stop at
    /// [`Many`](Lines::Many)).
    ///
    /// ```
    /// use tracebridge::carrier::Lines;
    ///
    /// assert_eq!(Lines::Absent.and(b"1"), Lines::One(b"1"));
    /// assert_eq!(Lines::One(b"1").and(b"2"), Lines::Many(b"1"));
    /// ```
    #[inline]
    #[must_use]
    pub fn and(self, value: &'s [u8]) -> Self {
        match self {
            Lines::Absent => Lines::One(value),
            Lines::One(first) | Lines::Many(first) => Lines::Many(first),
        }
    }

    /// The one value of a header that must not repeat: `dup` when it does, [`Error::TooLong`] past
    /// [`MAX_VALUE_LEN`].
    #[inline]
    pub(crate) fn single(self, dup: Error) -> Result<Option<&'s [u8]>, Error> {
        match self {
            Lines::Absent => Ok(None),
            Lines::Many(_) => Err(dup),
            Lines::One(v) if v.len() > MAX_VALUE_LEN => Err(Error::TooLong),
            Lines::One(v) => Ok(Some(v)),
        }
    }
}

/// How many header lines a [`Gathered`] holds: every trace header of the ten formats with room for
/// a few baggage lines and names that hit the filter by chance.
const GATHERED: usize = 32;

/// Header lines `(name, value)` copied out of a carrier by [`Extractor::gather`] (at most 32), read
/// as a slice carrier, with the [`NameFilter`] of their names.
#[derive(Debug, Clone, Default)]
pub struct Gathered<'s> {
    lines: arrayvec::ArrayVec<(&'s [u8], &'s [u8]), GATHERED>,
    names: NameFilter,
}

impl<'s> Gathered<'s> {
    /// None yet.
    #[inline]
    pub fn new() -> Self {
        Gathered { lines: arrayvec::ArrayVec::new(), names: NameFilter::EMPTY }
    }

    /// Keep the line if `wanted` may hold its name ([`NameFilter::insert_if_held`]): false only
    /// when it is to be kept and there is no room left.
    #[inline]
    pub fn offer(&mut self, name: &'s [u8], value: &'s [u8], wanted: &NameFilter) -> bool {
        !self.names.insert_if_held(name, wanted) || self.lines.try_push((name, value)).is_ok()
    }

    /// Forget every line.
    #[inline]
    pub fn clear(&mut self) {
        self.lines.clear();
        self.names = NameFilter::EMPTY;
    }

    /// The filter of the names of the lines kept.
    #[inline]
    pub fn names(&self) -> NameFilter {
        self.names
    }

    /// The lines, in the order pushed.
    #[inline]
    pub fn as_slice(&self) -> &[(&'s [u8], &'s [u8])] {
        &self.lines
    }
}

/// True when `name` starts with `prefix` (lowercase), ignoring ASCII case.
pub fn has_prefix(name: &[u8], prefix: &str) -> bool {
    name.get(..prefix.len()).is_some_and(|n| n.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Hands every `(name, value)` of `pairs` whose name starts with `prefix` to `each` until it breaks:
/// the body of most [`Extractor::visit_prefixed`]s.
pub fn visit_each_prefixed<'s>(
    pairs: impl IntoIterator<Item = (&'s [u8], &'s [u8])>,
    prefix: &str,
    each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>,
) {
    for (n, v) in pairs {
        if has_prefix(n, prefix) && each(n, v).is_break() {
            return;
        }
    }
}

/// Hands every value of `values` to `each` until it breaks: the body of most [`Extractor`]s.
///
/// ```
/// use core::ops::ControlFlow;
/// use tracebridge::carrier::{visit_each, Extractor};
///
/// struct OneLine(String);
/// impl Extractor for OneLine {
///     fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
///         visit_each((name == "b3").then_some(self.0.as_bytes()), each);
///     }
/// }
/// let headers = OneLine("1".into());
/// assert!(matches!(tracebridge::b3::single::extract(&headers), Ok(Some(_))));
/// ```
pub fn visit_each<'s>(values: impl IntoIterator<Item = &'s [u8]>, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
    for v in values {
        if each(v).is_break() {
            return;
        }
    }
}

/// The first value of header `name`, if any.
pub fn first<'s, E: Extractor + ?Sized>(headers: &'s E, name: &str) -> Option<&'s [u8]> {
    let mut found = None;
    headers.visit_values(name, &mut |v| {
        found = Some(v);
        ControlFlow::Break(())
    });
    found
}

/// Up to `N` values of header `name`, in order, and whether there were more.
pub(crate) fn collect<'s, const N: usize, E: Extractor + ?Sized>(
    headers: &'s E,
    name: &str,
) -> ([&'s [u8]; N], usize, bool) {
    let mut out: [&[u8]; N] = [&[]; N];
    let (mut n, mut more) = (0usize, false);
    headers.visit_values(name, &mut |v| match out.get_mut(n) {
        Some(slot) => {
            *slot = v;
            n += 1;
            ControlFlow::Continue(())
        }
        None => {
            more = true;
            ControlFlow::Break(())
        }
    });
    (out, n, more)
}

/// Sets and removes headers.
///
/// ```
/// // Your own header type needs `set` and `remove`.
/// use tracebridge::{Injector, SpanId, TraceContext, TraceId};
///
/// #[derive(Default)]
/// struct Headers(Vec<(String, String)>);
/// impl Injector for Headers {
///     fn set(&mut self, name: &str, value: &str) {
///         self.remove(name);
///         self.0.push((name.to_string(), value.to_string()));
///     }
///     fn remove(&mut self, name: &str) {
///         self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
///     }
/// }
///
/// let (Ok(t), Ok(s)) = (TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736"), SpanId::from_hex(b"00f067aa0ba902b7")) else { panic!() };
/// let mut out = Headers::default();
/// tracebridge::jaeger::inject(&TraceContext::new(t, s), &mut out);
/// assert_eq!(out.0, [("uber-trace-id".to_string(), "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:0".to_string())]);
/// ```
pub trait Injector {
    /// Set header `name` (lowercase) to `value`, replacing every existing line of that name.
    fn set(&mut self, name: &str, value: &str);
    /// [`set`](Self::set) with a value core formatted itself into a byte buffer (ASCII: ids,
    /// flags, separators). The default checks it as UTF-8 and calls `set` (and sets nothing if it
    /// were not). A carrier that takes bytes overrides it and skips the check: the Envoy filter's
    /// host call does, and so does [`Plan`](crate::Plan), which keeps what it is given as bytes.
    fn set_bytes(&mut self, name: &str, value: &[u8]) {
        if let Ok(value) = core::str::from_utf8(value) {
            self.set(name, value);
        }
    }
    /// Remove every line of header `name` (lowercase).
    fn remove(&mut self, name: &str);
    /// Whether [`set_bytes`](Self::set_bytes) takes bytes as they are (the carrier overrides it).
    /// The default, `false`, says it checks them as UTF-8 for [`set`](Self::set): then a
    /// [`Plan`](crate::Plan) checks all of its values in one pass and calls `set` with each, rather
    /// than have every value checked on its own (a value of a few dozen bytes is checked mostly a
    /// byte at a time; the five-format request into a `str` carrier: ≈ 550 of its 6 500
    /// instructions). A carrier that overrides `set_bytes` returns `true` and is handed bytes.
    fn takes_bytes(&self) -> bool {
        false
    }
}

/// The longest single trace header value that is parsed at all. Every valid value of the single-line
/// formats is far shorter (X-Ray, the longest, stays under 256 bytes in practice); the limit bounds the
/// work an attacker can cause per header.
pub const MAX_VALUE_LEN: usize = 1024;

/// The one value of a header that must not repeat.
/// `Ok(None)` when absent; `dup` when there are several lines; [`Error::TooLong`] past
/// [`MAX_VALUE_LEN`].
pub(crate) fn single<'a, E: Extractor + ?Sized>(
    headers: &'a E,
    name: &str,
    dup: Error,
) -> Result<Option<&'a [u8]>, Error> {
    headers.lines(name).single(dup)
}

/// [`single`] of each of `names`, read with one [`Extractor::lines_of`]; the errors in the order
/// of `names`.
pub(crate) fn singles<'a, const K: usize, E: Extractor + ?Sized>(
    headers: &'a E,
    names: &[&str; K],
    dup: Error,
) -> Result<[Option<&'a [u8]>; K], Error> {
    let mut lines = [Lines::Absent; K];
    headers.lines_of(names, &mut lines);
    let mut out = [None; K];
    for (o, l) in out.iter_mut().zip(lines) {
        *o = l.single(dup)?;
    }
    Ok(out)
}

/// The context of a format carried in one single-valued header: read it with [`single`], then
/// `parse` it where the caller keeps it (`out`: [`Read`](crate::context::Read)).
pub(crate) fn read_single<'a, E: Extractor + ?Sized, S: Slot<'a>>(
    headers: &'a E,
    name: &str,
    dup: Error,
    out: &mut S,
    parse: impl for<'o> FnOnce(&'a [u8], &'o mut S) -> Result<&'o mut TraceContext<'a>, Error>,
) -> Result<Read, Error> {
    let Some(value) = single(headers, name, dup)? else { return Ok(Read::Absent) };
    parse(value, out)?;
    Ok(Read::Context)
}

/// Optional whitespace (RFC 9110 OWS) trimmed from both ends: proxies may leave it around values.
pub(crate) fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| matches!(b, b' ' | b'\t');
    // What senders write: nothing to trim, told by the two end bytes (the scans below cost ≈ 25
    // instructions a value even when they stop at once).
    if v.first().is_some_and(|b| !ows(b)) && v.last().is_some_and(|b| !ows(b)) {
        return v;
    }
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}

/// The value as `str` when it is all visible ASCII or space (what every trace header allows).
pub(crate) fn visible_ascii(v: &[u8]) -> Result<&str, Error> {
    check_visible_ascii(v)?;
    core::str::from_utf8(v).map_err(|_| Error::NotAscii)
}

/// [`Error::NotAscii`] unless `v` is all visible ASCII or space; for a parser that reads bytes.
pub(crate) fn check_visible_ascii(v: &[u8]) -> Result<(), Error> {
    if lanes::all_bytes(v, |b| b.wrapping_sub(0x20) < 0x5f) {
        Ok(())
    } else {
        Err(Error::NotAscii)
    }
}

/// Like [`visible_ascii`] but also allows horizontal tab (optional whitespace in list headers).
pub(crate) fn visible_ascii_or_tab(v: &[u8]) -> Result<&str, Error> {
    if is_visible_ascii_or_tab(v) {
        core::str::from_utf8(v).map_err(|_| Error::NotAscii)
    } else {
        Err(Error::NotAscii)
    }
}

/// The check of [`visible_ascii_or_tab`] alone, for text that is a `str` already (no UTF-8 check to
/// repeat).
pub(crate) fn is_visible_ascii_or_tab(v: &[u8]) -> bool {
    lanes::all_bytes(v, |b| (b.wrapping_sub(0x20) < 0x5f) | (b == b'\t'))
}

/// `iter` with only `next` of its own, for handing over as `dyn Iterator`: a vtable compiles every
/// method the type overrides, and `FlatMap`'s and `Chain`'s `nth`, `advance_by` and `size_hint`
/// were 3.3 KB of the Envoy filter's `.wasm` that nothing calls.
pub(crate) fn next_only<I: Iterator>(mut iter: I) -> impl Iterator<Item = I::Item> {
    core::iter::from_fn(move || iter.next())
}

/// Header names: lengths first, then the exact bytes (senders mostly write lowercase, HTTP/2 must),
/// and only then the case-insensitive comparison (RFC 9110 §5.1), which most names of the same
/// length fail on their first or last eight bytes with the `0x20` bit set in every byte
/// ([`same_folded_ends`]).
///
/// The lengths' compare inlined into the caller's loop over the headers: most names differ there,
/// and a call per header to learn it was most of a lookup (`perf`, the five-format request). So is
/// the exact compare of a name of 8 to 24 bytes (nearly every trace header's), as its first and last
/// eight bytes and, past 16, the eight between: the call to [`same_name`] was ≈ 36 instructions a
/// name found (B3 multi extract 1 026 → 800 with [`Extractor::lines_of`], OpenTracing's 1 209 →
/// 1 089). The words are compared one by one: as `[u64; 3]`s, equality was a `bcmp` call, and every
/// extract slower.
#[inline(always)]
fn name_eq(a: &[u8], lower: &str) -> bool {
    names_match::<false>(a, lower)
}

/// [`name_eq`], and with `SCREEN` names of 8 to 24 bytes that differ in more than case told apart
/// inline ([`case_apart`]) rather than by the call to [`same_folded`]. Screened in the one pass over
/// a slice that reads several names ([`Extractor::lines_of`]), where names of one length that differ
/// meet (`x-b3-traceid` and `x-b3-sampled`; extract Instana 1 235 → 1 125 instructions, OpenTracing
/// 1 032 → 995, B3 multi 728 → 722); not in a lookup of one name, where it made the code around it
/// compile worse (extract W3C, Jaeger and X-Ray 35 to 64 instructions slower).
#[inline(always)]
fn names_match<const SCREEN: bool>(a: &[u8], lower: &str) -> bool {
    let b = lower.as_bytes();
    if a.len() != b.len() {
        return false;
    }
    let folded = |x, y| (!SCREEN || case_apart(x, y)) && same_folded(a, b);
    match (ends(a), ends(b)) {
        (Some(x), Some(y)) if a.len() <= 16 => x == y || folded(x, y),
        (Some(x), Some(y)) if a.len() <= 24 => (x == y && middle(a) == middle(b)) || folded(x, y),
        _ => same_name(a, b),
    }
}

/// Whether the first and last eight bytes of two names differ at most in the `0x20` bit of each
/// byte (the one bit that tells a letter's cases apart): only then can the names be equal ignoring
/// case, and the out-of-line [`same_folded`] is called. Names of one length that differ
/// (`x-b3-traceid` and `x-b3-sampled`, `content-type` and `x-request-id`) are told apart inline.
#[inline(always)]
const fn case_apart((x, y): (u64, u64), (p, q): (u64, u64)) -> bool {
    const NOT_CASE: u64 = !0x2020_2020_2020_2020;
    ((x ^ p) | (y ^ q)) & NOT_CASE == 0
}

/// Bytes 8 to 16 of a name of 16 bytes or more: with [`ends`], all of a name of up to 24 bytes.
#[inline(always)]
fn middle(s: &[u8]) -> Option<u64> {
    s.get(8..)?.first_chunk::<8>().map(|w| u64::from_le_bytes(*w))
}

/// The first and the last eight bytes of a name of eight bytes or more (overlapping when shorter
/// than 16): for names of 8 to 16 bytes, all of them.
#[inline(always)]
fn ends(s: &[u8]) -> Option<(u64, u64)> {
    Some((u64::from_le_bytes(*s.first_chunk::<8>()?), u64::from_le_bytes(*s.last_chunk::<8>()?)))
}

/// Names of the same length whose bytes differ: equal ignoring ASCII case?
fn same_folded(a: &[u8], b: &[u8]) -> bool {
    same_folded_ends(a, b) && a.eq_ignore_ascii_case(b)
}

/// [`name_eq`] of names of the same length.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    same_bytes(a, b) || same_folded(a, b)
}

/// Whether the first and the last eight bytes could be equal ignoring ASCII case (shorter names:
/// yes), by [`case_apart`]: a letter and its other case differ in the `0x20` bit alone, so names
/// equal ignoring case pass. Names of a request that share
/// a length mostly differ there, at the start (`x-b3-traceid`, `x-b3-sampled`, `content-type`,
/// `x-request-id`) or at the end (`ot-tracer-traceid`, `ot-tracer-sampled`): two compares instead of
/// the byte loop up to the first difference.
fn same_folded_ends(a: &[u8], b: &[u8]) -> bool {
    match (ends(a), ends(b)) {
        (Some(x), Some(y)) => case_apart(x, y),
        _ => true,
    }
}

/// Equal slices of equal length (the caller compared the lengths), eight bytes per compare: header
/// names are short, and a `memcmp` call costs more than the comparison. In a name of eight bytes or
/// more, the bytes past the last whole word are compared as the name's last eight bytes, overlapping
/// the word before, not one by one: `uber-trace-id` took 45 instructions, most of them its last five
/// bytes (`benches/instructions.py`: extract Jaeger 751 → 731, B3 multi 1 425 → 1 383, X-Ray 680 →
/// 648). Shorter names keep the byte loop: as two overlapping halves, or `==` (a `memcmp` call),
/// they made the five-format request 380 instructions slower.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| c.try_into().map_or(0, u64::from_le_bytes);
    let last = |c: &[u8]| c.last_chunk::<8>().map(|w| u64::from_le_bytes(*w));
    (&mut x).zip(&mut y).all(|(p, q)| word(p) == word(q))
        && (x.remainder().is_empty()
            || if a.len() >= 8 {
                last(a) == last(b)
            } else {
                x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
            })
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>> Extractor for [(N, V)] {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        visit_each(self.iter().filter(|(n, _)| name_eq(n.as_ref(), name)).map(|(_, v)| v.as_ref()), each);
    }

    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        visit_each_prefixed(self.iter().map(|(n, v)| (n.as_ref(), v.as_ref())), prefix, each);
    }

    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        self.iter().for_each(|(n, _)| each(n.as_ref()));
        true
    }

    /// In one loop, without a call per name.
    fn name_filter(&self) -> Option<NameFilter> {
        let mut filter = NameFilter::EMPTY;
        self.iter().for_each(|(n, _)| filter.insert(n.as_ref()));
        Some(filter)
    }

    fn gather<'s>(&'s self, wanted: &NameFilter, out: &mut Gathered<'s>) -> bool {
        for (n, v) in self {
            if !out.offer(n.as_ref(), v.as_ref(), wanted) {
                out.clear();
                return false;
            }
        }
        true
    }

    /// In one pass over the lines, not a scan per name.
    #[inline(always)]
    fn lines_of<'s>(&'s self, names: &[&str], out: &mut [Lines<'s>]) {
        out.iter_mut().zip(names).for_each(|(slot, _)| *slot = Lines::Absent);
        for (n, v) in self {
            let n = n.as_ref();
            for (name, slot) in names.iter().zip(out.iter_mut()) {
                if names_match::<true>(n, name) {
                    *slot = slot.and(v.as_ref());
                }
            }
        }
    }
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>, const K: usize> Extractor for [(N, V); K] {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        self.as_slice().visit_values(name, each);
    }

    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        self.as_slice().visit_prefixed(prefix, each);
    }

    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        self.as_slice().visit_names(each)
    }

    fn name_filter(&self) -> Option<NameFilter> {
        self.as_slice().name_filter()
    }

    fn gather<'s>(&'s self, wanted: &NameFilter, out: &mut Gathered<'s>) -> bool {
        self.as_slice().gather(wanted, out)
    }

    fn lines_of<'s>(&'s self, names: &[&str], out: &mut [Lines<'s>]) {
        self.as_slice().lines_of(names, out);
    }
}

impl<E: Extractor + ?Sized> Extractor for &E {
    fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
        (**self).visit_values(name, each);
    }

    fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
        (**self).visit_prefixed(prefix, each);
    }

    fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
        (**self).visit_names(each)
    }

    fn name_filter(&self) -> Option<NameFilter> {
        (**self).name_filter()
    }

    fn gather<'s>(&'s self, wanted: &NameFilter, out: &mut Gathered<'s>) -> bool {
        (**self).gather(wanted, out)
    }

    fn lines_of<'s>(&'s self, names: &[&str], out: &mut [Lines<'s>]) {
        (**self).lines_of(names, out);
    }
}

#[cfg(feature = "alloc")]
mod vec {
    use super::{name_eq, Extractor, Injector};
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use core::ops::ControlFlow;

    impl<N: AsRef<[u8]>, V: AsRef<[u8]>> Extractor for Vec<(N, V)> {
        fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
            self.as_slice().visit_values(name, each);
        }

        fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
            self.as_slice().visit_prefixed(prefix, each);
        }

        fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
            self.as_slice().visit_names(each)
        }

        fn name_filter(&self) -> Option<super::NameFilter> {
            self.as_slice().name_filter()
        }

        fn gather<'s>(&'s self, wanted: &super::NameFilter, out: &mut super::Gathered<'s>) -> bool {
            self.as_slice().gather(wanted, out)
        }

        fn lines_of<'s>(&'s self, names: &[&str], out: &mut [super::Lines<'s>]) {
            self.as_slice().lines_of(names, out);
        }
    }

    /// `set` replaces the first line of that name in place (keeping header order) and removes the rest.
    /// Values may be `String` or bytes (`Vec<u8>`, as proxies hold them).
    impl<V: for<'s> From<&'s str> + AsRef<[u8]>> Injector for Vec<(String, V)> {
        fn set(&mut self, name: &str, value: &str) {
            let mut seen = false;
            self.retain_mut(|(n, v)| {
                if !name_eq(n.as_bytes(), name) {
                    return true;
                }
                if seen {
                    return false;
                }
                seen = true;
                *v = V::from(value);
                true
            });
            if !seen {
                self.push((name.to_string(), V::from(value)));
            }
        }

        fn remove(&mut self, name: &str) {
            self.retain(|(n, _)| !name_eq(n.as_bytes(), name));
        }
    }
}

#[cfg(feature = "http")]
mod http_impl {
    use super::{visit_each, Extractor, Injector};
    use core::ops::ControlFlow;
    use http::header::{HeaderMap, HeaderName, HeaderValue};

    impl<T> Extractor for HeaderMap<T>
    where
        T: AsRef<[u8]>,
    {
        fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
            // `HeaderMap` stores names lowercase and looks them up case-insensitively.
            visit_each(self.get_all(name).into_iter().map(AsRef::as_ref), each);
        }

        fn visit_prefixed<'s>(&'s self, prefix: &str, each: &mut dyn FnMut(&'s [u8], &'s [u8]) -> ControlFlow<()>) {
            super::visit_each_prefixed(self.iter().map(|(n, v)| (n.as_str().as_bytes(), v.as_ref())), prefix, each);
        }

        fn visit_names(&self, each: &mut dyn FnMut(&[u8])) -> bool {
            self.keys().for_each(|n| each(n.as_str().as_bytes()));
            true
        }
    }

    impl Injector for HeaderMap {
        fn set(&mut self, name: &str, value: &str) {
            // Every value this crate writes is visible ASCII and every name a valid token, so these
            // conversions cannot fail; if they ever did, nothing is written rather than a bad header.
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                self.insert(n, v);
            }
        }

        /// `HeaderValue` takes bytes (and checks them itself): no UTF-8 check before it. Core's own
        /// values are ASCII, which `from_bytes` and `from_str` accept alike.
        fn set_bytes(&mut self, name: &str, value: &[u8]) {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
                self.insert(n, v);
            }
        }

        fn takes_bytes(&self) -> bool {
            true
        }

        fn remove(&mut self, name: &str) {
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                self.remove(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_equal_ignoring_ascii_case_only() {
        let yes = [
            ("x-b3-traceid", "x-b3-traceid"),
            ("X-B3-TraceId", "x-b3-traceid"),
            ("B3", "b3"),
            ("TRACEPARENT", "traceparent"),
        ];
        for (a, b) in yes {
            assert!(name_eq(a.as_bytes(), b), "{a} {b}");
        }
        // Same lengths, different in the first eight bytes, after them, or only under the 0x20 fold
        // (`@`/`` ` ``, `_`/DEL, `[`/`{` are not case pairs).
        let no: [(&[u8], &str); 10] = [
            (b"x-b3-sampled", "x-b3-traceid"),
            (b"X-INSTANA-S", "x-instana-t"),
            (b"OT-Tracer-Sampled", "ot-tracer-traceid"),
            (b"content-type", "x-b3-traceid"),
            (b"traceparenx", "traceparent"),
            (b"ab", "ac"),
            (b"x-b3-tr@ce", "x-b3-tr`ce"),
            (b"x-b3_trace", "x-b3\x7ftrace"),
            (b"[-b3-trace", "{-b3-trace"),
            (b"x-b3-trac[", "x-b3-trac{"),
        ];
        for (a, b) in no {
            assert!(!name_eq(a, b), "{b}");
        }
    }

    proptest::proptest! {
        /// The word compares say what `==` says, for every length and wherever the slices differ
        /// (names from a small alphabet, so that equal and almost equal pairs are common).
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(proptest::sample::select(b"ab-".to_vec()), 0..40),
            flip in proptest::option::of(0usize..40),
        ) {
            let mut b = a.clone();
            if let Some(byte) = flip.and_then(|i| b.get_mut(i)) {
                *byte ^= 0x01;
            }
            proptest::prop_assert_eq!(same_bytes(&a, &b), a == b);
        }
    }

    proptest::proptest! {
        /// `name_eq` is `eq_ignore_ascii_case` against a lowercase name, at every length (each of
        /// its paths: under 8 bytes, 8 to 16 and 17 to 24 inline, longer), for names that differ only in case,
        /// in one byte, or in a byte that the `0x20` fold hides (`[`/`{`, `@`/`` ` ``); so is the
        /// screened match of the one pass.
        #[test]
        fn name_eq_ignores_ascii_case_only(
            lower in proptest::collection::vec(proptest::sample::select(b"ab-{`".to_vec()), 0..30),
            upper in proptest::collection::vec(proptest::bool::ANY, 30),
            change in proptest::option::of((0usize..30, proptest::sample::select(b"aAbB-[@\x7f_".to_vec()))),
        ) {
            let name = core::str::from_utf8(&lower).unwrap_or_default();
            let mut a: std::vec::Vec<u8> = lower.iter().zip(&upper).map(|(&c, &u)| if u { c.to_ascii_uppercase() } else { c }).collect();
            if let Some(byte) = change.and_then(|(i, c)| a.get_mut(i).map(|b| (b, c))) {
                *byte.0 = byte.1;
            }
            let want = a.eq_ignore_ascii_case(name.as_bytes());
            proptest::prop_assert_eq!(name_eq(&a, name), want);
            proptest::prop_assert_eq!(names_match::<true>(&a, name), want, "screened");
        }

        /// A slice's one pass reads what a lookup of each name reads (the trait's default, through a
        /// carrier that only looks names up), names repeated or in any case among the lines.
        #[test]
        fn lines_of_a_slice_are_the_lookups(
            lines in proptest::collection::vec(
                (proptest::sample::select(std::vec!["x-b3-traceid", "X-B3-TraceId", "x-b3-sampled", "x-b3-spanid", "b3", "B3", "other"]),
                 proptest::sample::select(std::vec!["1", "2", "3"])),
                0..8,
            ),
        ) {
            struct Lookups<'h>(&'h [(&'h str, &'h str)]);
            impl Extractor for Lookups<'_> {
                fn visit_values<'s>(&'s self, name: &str, each: &mut dyn FnMut(&'s [u8]) -> ControlFlow<()>) {
                    self.0.visit_values(name, each);
                }
            }
            let names = ["x-b3-traceid", "b3", "x-b3-sampled", "x-b3-flags"];
            let (mut one_pass, mut looked_up) = ([Lines::Absent; 5], [Lines::Absent; 5]);
            let lookups = Lookups(&lines);
            lines.lines_of(&names, &mut one_pass);
            lookups.lines_of(&names, &mut looked_up);
            proptest::prop_assert_eq!(one_pass, looked_up);
        }
    }

    #[test]
    fn names_match_case_insensitively_and_repeat() {
        let h = [("TraceState", "a=1"), ("x", "y"), ("tracestate", "b=2")];
        let (got, n, more) = collect::<4, _>(&h[..], "tracestate");
        assert_eq!((got.get(..n), more), (Some(&[&b"a=1"[..], b"b=2"][..]), false));
        assert!(collect::<1, _>(&h[..], "tracestate").2);
        assert_eq!(first(&h[..], "x"), Some(&b"y"[..]));
        assert_eq!(single(&h[..], "tracestate", Error::TraceparentDuplicate), Err(Error::TraceparentDuplicate));
        assert_eq!(single(&h[..], "x", Error::TraceparentDuplicate), Ok(Some(&b"y"[..])));
        assert_eq!(single(&h[..], "z", Error::TraceparentDuplicate), Ok(None));
    }

    /// A carrier with only `set` gets `set_bytes` through it, and nothing for bytes that are not
    /// UTF-8 (core never hands any over; if it did, no header with them is written).
    #[test]
    fn set_bytes_defaults_to_a_checked_set() {
        struct Last(Option<(&'static str, usize)>);
        impl Injector for Last {
            fn set(&mut self, name: &str, value: &str) {
                self.0 = Some((if name == "a" { "a" } else { "?" }, value.len()));
            }
            fn remove(&mut self, _: &str) {}
        }
        let mut c = Last(None);
        c.set_bytes("a", b"00-ab");
        assert_eq!(c.0, Some(("a", 5)));
        let mut c = Last(None);
        c.set_bytes("a", &[0xff, b'x']);
        assert_eq!(c.0, None);
    }

    #[test]
    fn too_long_is_refused_before_parsing() {
        let long = [b'a'; MAX_VALUE_LEN + 1];
        let h = [("b3", &long[..])];
        assert_eq!(single(&h[..], "b3", Error::B3Duplicate), Err(Error::TooLong));
    }

    #[test]
    fn every_format_refuses_an_oversized_value() {
        // Every header read through `single` (all but tracestate, which has its own limits in
        // `tracestate`): a value one byte over the limit is TooLong whatever it holds; at the limit it
        // is parsed (and here fails for what it is), except by grpc-trace-bin, whose own limit
        // (`grpc::MAX_ENCODED_LEN`) is lower.
        let long = [b'0'; MAX_VALUE_LEN + 1];
        let (limit, _) = long.split_at(MAX_VALUE_LEN);
        for f in crate::Format::ALL {
            for &h in f.headers().iter().filter(|&&h| h != crate::tracestate::HEADER) {
                let over = [(h, &long[..])];
                assert_eq!(f.extract(&over[..]).err(), Some(Error::TooLong), "{h}");
                let at = [(h, limit)];
                let parsed = f.extract(&at[..]).err();
                assert_eq!(parsed == Some(Error::TooLong), f == crate::Format::GrpcTraceBin, "{h}: {parsed:?}");
            }
        }
    }

    #[test]
    fn ows_trim() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        // Whitespace at one end only, inside only, none, and no bytes at all.
        assert_eq!(trim_ows(b"a b\t"), b"a b");
        assert_eq!(trim_ows(b"\ta b"), b"a b");
        assert_eq!(trim_ows(b"a \t b"), b"a \t b");
        assert_eq!(trim_ows(b"x"), b"x");
        assert_eq!(trim_ows(b""), b"");
    }
}
