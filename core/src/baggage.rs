//! Baggage: W3C `baggage` ↔ Jaeger `uberctx-{key}` ↔ OpenTracing `ot-baggage-{key}`.
//!
//! Headers:
//! - `baggage` ([W3C Baggage §3](https://www.w3.org/TR/baggage/#header-content)), read when `w3c` is
//!   extracted and written when it is injected:
//!   ```text
//!   baggage-string = list-member 0*179( OWS "," OWS list-member )
//!   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//!   property       = key OWS "=" OWS value / key OWS
//!   key            = token                                   ; RFC 9110 tchar
//!   value          = *baggage-octet                          ; percent-encoded UTF-8 beyond these
//!   baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//!   ```
//! - `uberctx-{key}: {value}` ([Jaeger: baggage](https://www.jaegertracing.io/docs/1.52/client-libraries/#baggage)),
//!   with `jaeger`: the value URL-encoded as the Jaeger clients write it (Go `url.QueryEscape`, Java
//!   `URLEncoder`, Node `encodeURIComponent`), so it is read with `%XX` and `+` for space, and written
//!   with everything but the RFC 3986 unreserved characters as `%XX` (which all of them read).
//! - `ot-baggage-{key}: {value}` (opentracing/basictracer-go `prefixBaggage`; dd-trace-go reads and
//!   writes it too), with `ot`: the value as is, so it must be visible ASCII.
//!
//! Keys that are header names are case-insensitive and written lowercase (HTTP/2 requires it), so a
//! W3C key `userId` reaches Jaeger and OT as `userid`. W3C properties have no counterpart in Jaeger or
//! OT and travel only between W3C hops.
//!
//! Limits ([W3C Baggage §3.3.1](https://www.w3.org/TR/baggage/#limits)): at most [`MAX_MEMBERS`] (64)
//! list-members and [`MAX_BYTES`] (8192) bytes; "if a platform cannot propagate all baggage, it MUST
//! NOT propagate any partial list-members": members past a limit are dropped whole. The same limits
//! bound what is read from `uberctx-*`/`ot-baggage-*` (counting each entry by its W3C form).
//!
//! Nothing here fails a request: a malformed list-member or header is dropped and counted
//! ([`Collected::dropped`], the first reason in [`Collected::error`]), and the trace context next to
//! it is read as if it were not there. The first entry of a key wins, as for tracestate.

use core::ops::ControlFlow;

use crate::carrier::{self, Extractor, Injector};
use crate::Error;

/// The W3C header.
pub const HEADER: &str = "baggage";
/// Jaeger's prefix.
pub const JAEGER_PREFIX: &str = "uberctx-";
/// OpenTracing's prefix.
pub const OT_PREFIX: &str = "ot-baggage-";
/// At most this many list-members.
pub const MAX_MEMBERS: usize = 64;
/// At most this many bytes of `baggage` (and of each format's baggage headers).
pub const MAX_BYTES: usize = 8192;
/// At most this many `baggage` header lines are read (more: the rest are dropped).
pub const MAX_LINES: usize = 8;

/// Which headers an entry came from, or go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// W3C `baggage`.
    W3c,
    /// Jaeger `uberctx-*`.
    Jaeger,
    /// OpenTracing `ot-baggage-*`.
    Ot,
}

/// One baggage entry, borrowed from the headers it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Where it came from (how `key` and `value` are encoded).
    pub source: Source,
    /// The key (W3C: as received; a header suffix: any case, compared and written lowercase).
    pub key: &'a str,
    /// The value as received (W3C and Jaeger: percent-encoded; OT: as is).
    pub value: &'a str,
    /// W3C properties after the first `;` (empty otherwise).
    pub properties: &'a str,
}

impl<'a> Entry<'a> {
    /// The value's bytes, decoded.
    pub fn decoded(&self) -> impl Iterator<Item = u8> + 'a {
        Decode {
            src: self.value.as_bytes(),
            plus_is_space: self.source == Source::Jaeger,
            raw: self.source == Source::Ot,
        }
    }

    /// The key's bytes as written: lowercase when it was (or goes to) a header name.
    fn key_bytes(&self, lowercase: bool) -> impl Iterator<Item = u8> + 'a {
        let lower = lowercase || self.source != Source::W3c;
        self.key.bytes().map(move |b| if lower { b.to_ascii_lowercase() } else { b })
    }

    fn same_key(&self, other: &Entry<'_>) -> bool {
        if self.source == Source::W3c && other.source == Source::W3c {
            self.key == other.key
        } else {
            self.key.eq_ignore_ascii_case(other.key)
        }
    }

    /// Length of the entry as a W3C list-member.
    fn w3c_len(&self) -> usize {
        let value = if self.source == Source::W3c {
            self.value.len()
        } else {
            self.decoded().map(|b| if is_baggage_octet(b) && b != b'%' { 1 } else { 3 }).sum()
        };
        let props = if self.properties.is_empty() { 0 } else { 1 + properties(self.properties).count() };
        self.key.len() + 1 + value + props
    }
}

/// One W3C property, `key` or `key=value`, without the optional whitespace around it and around
/// its `=` (W3C Baggage §3.3.1: `property = key OWS "=" OWS value`, and OWS is part of neither).
fn property(p: &str) -> (&str, Option<&str>) {
    let p = trim(p);
    match p.split_once('=') {
        Some((k, v)) => (trim(k), Some(trim(v))),
        None => (p, None),
    }
}

/// W3C properties as written: each [`property`] joined by `;`. Passed on as received, a tab inside
/// one reached the written header (found by the fuzzer).
fn properties(props: &str) -> impl Iterator<Item = u8> + '_ {
    props.split(';').enumerate().flat_map(|(i, p)| {
        let (key, value) = property(p);
        let value = value.map(|v| core::iter::once(b'=').chain(v.bytes())).into_iter().flatten();
        (i > 0).then_some(b';').into_iter().chain(key.bytes()).chain(value)
    })
}

/// Percent-decoding (`%XX`), with `+` as space for Jaeger, none for OT.
struct Decode<'a> {
    src: &'a [u8],
    plus_is_space: bool,
    raw: bool,
}

impl Iterator for Decode<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.src.split_first()?;
        self.src = rest;
        if self.raw {
            return Some(b);
        }
        match (b, rest) {
            (b'%', [h, l, tail @ ..]) => match (hex(*h), hex(*l)) {
                (Some(h), Some(l)) => {
                    self.src = tail;
                    Some(h << 4 | l)
                }
                _ => Some(b),
            },
            (b'+', _) if self.plus_is_space => Some(b' '),
            _ => Some(b),
        }
    }
}

fn hex(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        b'A'..=b'F' => Some(d - b'A' + 10),
        _ => None,
    }
}

/// Every `%` is followed by two hex digits.
fn percent_ok(v: &[u8]) -> bool {
    let mut rest = v;
    while let Some(i) = rest.iter().position(|&b| b == b'%') {
        match rest.get(i + 1..i + 3) {
            Some([h, l]) if hex(*h).is_some() && hex(*l).is_some() => rest = rest.get(i + 3..).unwrap_or_default(),
            _ => return false,
        }
    }
    true
}

/// `baggage-octet` (module docs).
const fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// RFC 9110 `tchar`.
const fn is_tchar(b: u8) -> bool {
    matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
        || b.is_ascii_alphanumeric()
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// A W3C list-member, checked: key, value, properties.
fn member(m: &str) -> Option<(&str, &str, &str)> {
    let (kv, props) = match m.split_once(';') {
        Some((kv, p)) => (kv, trim(p)),
        None => (m, ""),
    };
    let (k, v) = kv.split_once('=')?;
    let (k, v) = (trim(k), trim(v));
    if !is_token(k) || !v.bytes().all(is_baggage_octet) || !percent_ok(v.as_bytes()) {
        return None;
    }
    for p in props.split(';') {
        let (pk, pv) = property(p);
        let ok = is_token(pk) && pv.is_none_or(|v| v.bytes().all(is_baggage_octet));
        if !ok && !props.is_empty() {
            return None;
        }
    }
    Some((k, v, props))
}

/// The baggage of one request: up to [`MAX_MEMBERS`] entries, borrowed, in the order read.
#[derive(Debug, Clone, Copy)]
pub struct Collected<'a> {
    entries: [Option<Entry<'a>>; MAX_MEMBERS],
    len: usize,
    bytes: usize,
    /// Entries (list-members, headers) dropped: malformed or over the limits.
    pub dropped: usize,
    /// Why the first was dropped.
    pub error: Option<Error>,
}

impl Default for Collected<'_> {
    fn default() -> Self {
        Collected { entries: [None; MAX_MEMBERS], len: 0, bytes: 0, dropped: 0, error: None }
    }
}

impl<'a> Collected<'a> {
    /// The entries in order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + '_ {
        self.entries.iter().take(self.len).flatten().copied()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn drop_one(&mut self, why: Error) {
        self.dropped += 1;
        self.error = self.error.or(Some(why));
    }

    fn add(&mut self, e: Entry<'a>) {
        if self.entries().any(|x| x.same_key(&e)) {
            return;
        }
        let need = e.w3c_len() + usize::from(self.len > 0);
        if self.len >= MAX_MEMBERS || self.bytes + need > MAX_BYTES {
            return self.drop_one(Error::BaggageLimit);
        }
        if let Some(slot) = self.entries.get_mut(self.len) {
            *slot = Some(e);
            self.len += 1;
            self.bytes += need;
        }
    }

    /// Read the `baggage` lines of `headers`.
    pub fn read_w3c<E: Extractor + ?Sized>(&mut self, headers: &'a E) {
        let mut lines = 0usize;
        let mut over = false;
        let mut seen: [&'a [u8]; MAX_LINES] = [&[]; MAX_LINES];
        headers.visit_values(HEADER, &mut |v| match seen.get_mut(lines) {
            Some(slot) => {
                *slot = v;
                lines += 1;
                ControlFlow::Continue(())
            }
            None => {
                over = true;
                ControlFlow::Break(())
            }
        });
        if over {
            self.drop_one(Error::BaggageLimit);
        }
        for line in seen.into_iter().take(lines) {
            let Ok(line) = carrier::visible_ascii_or_tab(line) else {
                self.drop_one(Error::BaggageMember);
                continue;
            };
            for m in line.split(',') {
                if trim(m).is_empty() {
                    continue;
                }
                match member(m) {
                    Some((key, value, properties)) => self.add(Entry { source: Source::W3c, key, value, properties }),
                    None => self.drop_one(Error::BaggageMember),
                }
            }
        }
    }

    /// Read the `{prefix}{key}` headers of `headers` (Jaeger's or OT's).
    pub fn read_prefixed<E: Extractor + ?Sized>(&mut self, headers: &'a E, source: Source) {
        let prefix = match source {
            Source::Jaeger => JAEGER_PREFIX,
            Source::Ot => OT_PREFIX,
            Source::W3c => return self.read_w3c(headers),
        };
        headers.visit_prefixed(prefix, &mut |name, value| {
            let key = name.get(prefix.len()..).and_then(|k| core::str::from_utf8(k).ok()).filter(|k| is_token(k));
            let value = carrier::visible_ascii(carrier::trim_ows(value)).ok();
            match (key, value) {
                (Some(key), Some(value)) if source == Source::Ot || percent_ok(value.as_bytes()) => {
                    self.add(Entry { source, key, value, properties: "" });
                }
                _ => self.drop_one(Error::BaggageHeader),
            }
            ControlFlow::Continue(())
        });
    }
}

/// Room for the baggage a plan writes.
pub(crate) trait Sink {
    /// Set a header whose name is `prefix` then `key` (lowercased), or `prefix` alone.
    fn set(&mut self, prefix: &str, key: &mut dyn Iterator<Item = u8>, value: &mut dyn Iterator<Item = u8>) -> bool;
}

/// Injectors take baggage through a small buffer (names and values are at most [`MAX_BYTES`]).
pub(crate) struct InjectorSink<'i, I: Injector + ?Sized>(pub(crate) &'i mut I);

impl<I: Injector + ?Sized> Sink for InjectorSink<'_, I> {
    fn set(&mut self, prefix: &str, key: &mut dyn Iterator<Item = u8>, value: &mut dyn Iterator<Item = u8>) -> bool {
        let mut name = [0u8; 2 * 1024];
        let mut n = 0usize;
        for b in prefix.bytes().chain(key) {
            let Some(slot) = name.get_mut(n) else { return false };
            *slot = b;
            n += 1;
        }
        let mut v = [0u8; MAX_BYTES];
        let mut m = 0usize;
        for b in value {
            let Some(slot) = v.get_mut(m) else { return false };
            *slot = b;
            m += 1;
        }
        let (Ok(name), Ok(value)) = (
            core::str::from_utf8(name.get(..n).unwrap_or_default()),
            core::str::from_utf8(v.get(..m).unwrap_or_default()),
        ) else {
            return false;
        };
        self.0.set(name, value);
        true
    }
}

/// Write the entries not from `to` in `to`'s headers (W3C: the whole list, when something is added).
/// Returns how many entries were left out (not writable, or past the limits).
pub(crate) fn write(baggage: &Collected<'_>, to: Source, sink: &mut dyn Sink) -> (usize, Option<Error>) {
    let mut dropped = 0usize;
    let mut error = None;
    let mut lost = |why: Error| {
        dropped += 1;
        error = error.or(Some(why));
    };
    match to {
        Source::W3c => {
            if baggage.entries().all(|e| e.source == Source::W3c) {
                return (0, None);
            }
            let mut len = 0usize;
            let mut count = 0usize;
            let mut keep = [false; MAX_MEMBERS];
            for (e, k) in baggage.entries().zip(keep.iter_mut()) {
                let need = e.w3c_len() + usize::from(count > 0);
                if count < MAX_MEMBERS && len + need <= MAX_BYTES {
                    *k = true;
                    len += need;
                    count += 1;
                } else {
                    lost(Error::BaggageLimit);
                }
            }
            let list = baggage.entries().zip(keep).filter(|(_, k)| *k).enumerate().flat_map(|(i, (e, _))| {
                let comma = (i > 0).then_some(b',');
                let value = W3cValue { entry: e, decoded: e.decoded(), pending: [0; 2], n: 0 };
                let props = (!e.properties.is_empty()).then_some(b';').into_iter().chain(properties(e.properties));
                comma.into_iter().chain(e.key_bytes(false)).chain(core::iter::once(b'=')).chain(value).chain(props)
            });
            if !sink.set(HEADER, &mut core::iter::empty(), &mut carrier::next_only(list)) {
                lost(Error::BaggageLimit);
            }
        }
        Source::Jaeger | Source::Ot => {
            let prefix = if to == Source::Jaeger { JAEGER_PREFIX } else { OT_PREFIX };
            let mut budget = MAX_BYTES;
            for (i, e) in baggage.entries().filter(|e| e.source != to).enumerate() {
                // Keys become header names, which match in any case: W3C's `K` and `k` (two keys)
                // would be one header written twice. The first is kept (found by the fuzzer).
                if baggage.entries().filter(|x| x.source != to).take(i).any(|x| x.key.eq_ignore_ascii_case(e.key)) {
                    lost(Error::BaggageUnwritable);
                    continue;
                }
                // An empty header value is dropped by some carriers and proxies: not written.
                if e.decoded().next().is_none() {
                    lost(Error::BaggageUnwritable);
                    continue;
                }
                let ok = match to {
                    Source::Jaeger => {
                        let need =
                            e.key.len() + e.decoded().map(|b| if is_unreserved(b) { 1 } else { 3 }).sum::<usize>();
                        need <= budget && {
                            budget -= need;
                            sink.set(
                                prefix,
                                &mut e.key_bytes(true),
                                &mut UrlEncode { decoded: e.decoded(), pending: [0; 2], n: 0 },
                            )
                        }
                    }
                    _ => {
                        let writable = e.decoded().all(|b| (0x20..=0x7e).contains(&b))
                            && e.decoded().next() != Some(b' ')
                            && e.decoded().last() != Some(b' ');
                        if !writable {
                            lost(Error::BaggageUnwritable);
                            continue;
                        }
                        let need = e.key.len() + e.decoded().count();
                        need <= budget && {
                            budget -= need;
                            sink.set(prefix, &mut e.key_bytes(true), &mut e.decoded())
                        }
                    }
                };
                if !ok {
                    lost(Error::BaggageLimit);
                }
            }
        }
    }
    (dropped, error)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn hex_pair(b: u8) -> [u8; 2] {
    let h = HEX_UPPER.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
    let l = HEX_UPPER.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
    [h, l]
}

/// A value written for W3C: as received when it came from W3C, else its decoded bytes percent-encoded
/// where they are not `baggage-octet` (and `%` itself).
struct W3cValue<'a, D> {
    entry: Entry<'a>,
    decoded: D,
    pending: [u8; 2],
    n: usize,
}

impl<D: Iterator<Item = u8>> Iterator for W3cValue<'_, D> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        if self.entry.source == Source::W3c {
            let (&b, rest) = self.entry.value.as_bytes().split_first()?;
            self.entry.value = core::str::from_utf8(rest).unwrap_or_default();
            return Some(b);
        }
        if self.n > 0 {
            let [h, l] = self.pending;
            let out = if self.n == 2 { h } else { l };
            self.n -= 1;
            return Some(out);
        }
        let b = self.decoded.next()?;
        if is_baggage_octet(b) && b != b'%' {
            return Some(b);
        }
        self.pending = hex_pair(b);
        self.n = 2;
        Some(b'%')
    }
}

/// A value written for Jaeger: everything but the unreserved characters as `%XX`.
struct UrlEncode<D> {
    decoded: D,
    pending: [u8; 2],
    n: usize,
}

impl<D: Iterator<Item = u8>> Iterator for UrlEncode<D> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        if self.n > 0 {
            let [h, l] = self.pending;
            let out = if self.n == 2 { h } else { l };
            self.n -= 1;
            return Some(out);
        }
        let b = self.decoded.next()?;
        if is_unreserved(b) {
            return Some(b);
        }
        self.pending = hex_pair(b);
        self.n = 2;
        Some(b'%')
    }
}

/// Read the baggage of `headers` from `sources`, in that order (module docs).
///
/// ```
/// use tracebridge::baggage::{self, Source};
///
/// let headers = [("baggage", "userId=alice, bad member, serverNode=DF%2028;ttl=60"), ("uberctx-tenant", "a%2Bb+c")];
/// let got = baggage::collect(&headers[..], &[Source::W3c, Source::Jaeger]);
/// let keys: Vec<&str> = got.entries().map(|e| e.key).collect();
/// assert_eq!(keys, ["userId", "serverNode", "tenant"]);
/// assert_eq!(got.entries().nth(2).map(|e| e.decoded().collect::<Vec<u8>>()), Some(b"a+b c".to_vec()));
/// assert_eq!((got.dropped, got.error), (1, Some(tracebridge::Error::BaggageMember)));
/// ```
pub fn collect<'a, E: Extractor + ?Sized>(headers: &'a E, sources: &[Source]) -> Collected<'a> {
    let mut c = Collected::default();
    for &s in sources {
        c.read_prefixed(headers, s);
    }
    c
}

/// Write `baggage` in `to`'s headers (every entry that did not come from `to`); returns how many
/// were left out and why. For an SDK's carrier; the [`Translator`](crate::Translator) plans the same.
///
/// ```
/// use tracebridge::baggage::{self, Source};
///
/// let headers = [("baggage", "userId=alice%20b,k=v;p=1")];
/// let got = baggage::collect(&headers[..], &[Source::W3c]);
/// let mut out: Vec<(String, String)> = Vec::new();
/// baggage::inject(&got, Source::Jaeger, &mut out);
/// assert_eq!(out, [("uberctx-userid".to_string(), "alice%20b".to_string()), ("uberctx-k".to_string(), "v".to_string())]);
/// ```
pub fn inject<I: Injector + ?Sized>(baggage: &Collected<'_>, to: Source, headers: &mut I) -> (usize, Option<Error>) {
    write(baggage, to, &mut InjectorSink(headers))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn out(c: &Collected<'_>, to: Source) -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = Vec::new();
        inject(c, to, &mut h);
        h
    }

    #[test]
    fn w3c_grammar() {
        let h = [("baggage", " a = 1 ;p1;p2=x , b=%E2%82%AC,,c=, d==, e, =f, g=\"q\", h=%zz, i=j k")];
        let c = collect(&h[..], &[Source::W3c]);
        let got: Vec<(&str, &str, &str)> = c.entries().map(|e| (e.key, e.value, e.properties)).collect();
        assert_eq!(got, [("a", "1", "p1;p2=x"), ("b", "%E2%82%AC", ""), ("c", "", ""), ("d", "=", "")]);
        // e (no `=`), =f (no key), g ("), h (bad %), i (space) are dropped and counted.
        assert_eq!((c.dropped, c.error), (5, Some(Error::BaggageMember)));
        // W3C → Jaeger and OT: decoded, then encoded for each.
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>();
        let j = out(&c, Source::Jaeger);
        // An empty value (c) is not written as a header.
        assert_eq!(j, pairs(&[("uberctx-a", "1"), ("uberctx-b", "%E2%82%AC"), ("uberctx-d", "%3D")]));
        let mut o: Vec<(String, String)> = Vec::new();
        let (lost, why) = inject(&c, Source::Ot, &mut o);
        assert_eq!((lost, why), (2, Some(Error::BaggageUnwritable)));
        assert_eq!(o, pairs(&[("ot-baggage-a", "1"), ("ot-baggage-d", "=")]));
        // W3C → W3C: nothing to add, nothing written.
        assert!(out(&c, Source::W3c).is_empty());
    }

    /// Properties are written without the optional whitespace inside them: a tab there is valid
    /// W3C baggage, but not part of the property, and not a byte we write (found by the fuzzer).
    #[test]
    fn properties_are_written_without_their_ows() {
        let h = [("baggage", "a=1;p1 =\t\tx ;p2\t;p3= y"), ("uberctx-j", "2")];
        let c = collect(&h[..], &[Source::W3c, Source::Jaeger]);
        let written = out(&c, Source::W3c);
        assert_eq!(written, [("baggage".to_string(), "a=1;p1=x;p2;p3=y,j=2".to_string())]);
        // The limit check counts what is written.
        assert_eq!(c.entries().next().map(|e| e.w3c_len()), Some("a=1;p1=x;p2;p3=y".len()));
    }

    #[test]
    fn jaeger_and_ot_to_w3c() {
        let h = [
            ("uberctx-User", "a+b%2Cc"),
            ("ot-baggage-x", "1 2"),
            ("uberctx-", "x"),
            ("UBERCTX-user", "dup"),
            ("uberctx-bad", "%4"),
        ];
        let c = collect(&h[..], &[Source::Jaeger, Source::Ot]);
        assert_eq!(c.entries().count(), 2);
        assert_eq!((c.dropped, c.error), (2, Some(Error::BaggageHeader)));
        assert_eq!(out(&c, Source::W3c), [("baggage".to_string(), "user=a%20b%2Cc,x=1%202".to_string())]);
        assert_eq!(out(&c, Source::Jaeger), [("uberctx-x".to_string(), "1%202".to_string())]);
        assert_eq!(out(&c, Source::Ot), [("ot-baggage-user".to_string(), "a b,c".to_string())]);
    }

    #[test]
    fn w3c_keys_differing_in_case_are_one_header_name() {
        let h = [("baggage", "K24=a,k24=b,x=1")];
        let c = collect(&h[..], &[Source::W3c]);
        assert_eq!(c.entries().count(), 3);
        let mut j: Vec<(String, String)> = Vec::new();
        assert_eq!(inject(&c, Source::Jaeger, &mut j), (1, Some(Error::BaggageUnwritable)));
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(j, pairs(&[("uberctx-k24", "a"), ("uberctx-x", "1")]));
        assert_eq!(out(&c, Source::Ot), pairs(&[("ot-baggage-k24", "a"), ("ot-baggage-x", "1")]));
    }

    #[test]
    fn limits_drop_whole_members() {
        let many: Vec<String> = (0..70).map(|i| std::format!("k{i}=v")).collect();
        let line = many.join(",");
        let h = [("baggage", line.as_str())];
        let c = collect(&h[..], &[Source::W3c]);
        assert_eq!((c.entries().count(), c.dropped, c.error), (64, 6, Some(Error::BaggageLimit)));
        let big = std::format!("a={},b=1", "x".repeat(8190));
        let h = [("baggage", big.as_str())];
        let c = collect(&h[..], &[Source::W3c]);
        assert_eq!((c.entries().count(), c.dropped), (1, 1));
    }

    proptest! {
        #[test]
        fn w3c_value_round_trips_through_jaeger_and_ot(v in proptest::collection::vec(any::<u8>(), 1..40), k in "[a-z][a-z0-9_-]{0,10}") {
            // Any bytes, written for W3C from OT-like raw text are decoded back to the same bytes.
            let w3c: String = v.iter().map(|&b| if is_baggage_octet(b) && b != b'%' { (b as char).to_string() } else { std::format!("%{:02X}", b) }).collect();
            let line = std::format!("{k}={w3c}");
            let h = [("baggage", line.as_str())];
            let c = collect(&h[..], &[Source::W3c]);
            prop_assert_eq!(c.entries().count(), 1);
            let j = out(&c, Source::Jaeger);
            let back = collect(&j, &[Source::Jaeger]);
            let w = out(&back, Source::W3c);
            prop_assert_eq!(w, std::vec![("baggage".to_string(), line.clone())]);
        }

        #[test]
        fn collect_never_panics(lines in proptest::collection::vec(("(baggage|uberctx-[a-z]{0,3}|ot-baggage-[a-zA-Z]{0,3})", "[ -~]{0,60}"), 0..10)) {
            let c = collect(&lines, &[Source::W3c, Source::Jaeger, Source::Ot]);
            for to in [Source::W3c, Source::Jaeger, Source::Ot] {
                for (n, v) in out(&c, to) {
                    prop_assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}: {:?}", n, v);
                }
            }
        }
    }
}
