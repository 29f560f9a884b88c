//! A small JSON reader for the configuration, shared by the doors that run as wasm (the Envoy filter
//! and the npm package); feature `json`.
//!
//! Why not serde_json: its deserializer was half of the npm package's wasm (≈ 180 KiB against a
//! 100 KiB budget) and a third of the Envoy filter's, mostly float parsing and printing the
//! configuration never needs. This reader handles exactly JSON (RFC 8259: objects,
//! arrays, strings with every escape, integers, `true`/`false`/`null`), refuses numbers with a
//! fraction or exponent (no configuration key takes one), and tracks the key path so that every error
//! reads `tracestate.max_len: <what was wrong>`. Output still uses serde_json's serializer (small).

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor};

/// Deserialize `T` from JSON `text`; errors name the key (see [`ConfigSeed`](crate::translate::ConfigSeed)).
///
/// ```
/// let config: tracebridge::Config = tracebridge::json::from_str(r#"{"inject": ["b3-multi"]}"#)?;
/// assert_eq!(config.inject.as_slice(), [tracebridge::Format::B3Multi]);
/// let err = tracebridge::json::from_str::<tracebridge::Config>(r#"{"trust": "maybe"}"#).err();
/// assert!(err.is_some_and(|e| e.to_string().starts_with("trust: unknown variant `maybe`")));
/// # Ok::<(), tracebridge::json::Error>(())
/// ```
pub fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<T, Error> {
    from_str_seed(core::marker::PhantomData::<T>, text)
}

/// Deserialize with a seed (e.g. [`ConfigSeed`](crate::translate::ConfigSeed) skipping a door's own
/// keys) from JSON `text`.
pub fn from_str_seed<'de, S: DeserializeSeed<'de>>(seed: S, text: &'de str) -> Result<S::Value, Error> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let value = seed.deserialize(&mut p)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.syntax("trailing characters after the configuration"));
    }
    Ok(value)
}

/// A configuration error: what was wrong, naming the key (or the byte offset of a syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    path: Vec<String>,
    msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.path.iter().rev().enumerate() {
            f.write_str(if i == 0 { "" } else { "." })?;
            f.write_str(k)?;
        }
        if !self.path.is_empty() {
            f.write_str(": ")?;
        }
        f.write_str(&self.msg)
    }
}

impl core::error::Error for Error {}

/// [`Unexpected`] without its float arm, which would pull float printing into the wasm.
struct Found<'a>(Unexpected<'a>);
impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Bool(b) => write!(f, "boolean `{b}`"),
            Unexpected::Unsigned(n) => write!(f, "integer `{n}`"),
            Unexpected::Signed(n) => write!(f, "integer `{n}`"),
            Unexpected::Str(s) => write!(f, "string \"{s}\""),
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Seq => f.write_str("array"),
            Unexpected::Map => f.write_str("object"),
            _ => f.write_str("another kind of value"),
        }
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error { path: Vec::new(), msg: msg.to_string() }
    }
    // Out of line: the default `visit_*` of every visitor type calls these.
    #[inline(never)]
    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!("invalid type: {}, expected {}", Found(unexp), exp))
    }
    #[inline(never)]
    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!("invalid value: {}, expected {}", Found(unexp), exp))
    }
}

enum Token<'de> {
    Map,
    Seq,
    Str(Cow<'de, str>),
    Bool(bool),
    Null,
    Unsigned(u64),
    Signed(i64),
}

struct Parser<'de> {
    s: &'de [u8],
    i: usize,
}

impl<'de> Parser<'de> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn syntax(&self, what: &str) -> Error {
        de::Error::custom(format_args!("not JSON: {what} at byte {}", self.i))
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        match self.s.get(self.i..self.i + word.len()) {
            Some(w) if w == word => {
                self.i += word.len();
                Ok(())
            }
            _ => Err(self.syntax("unexpected character")),
        }
    }

    /// The next value's token; for `{` and `[` the opening bracket is consumed.
    fn scan(&mut self) -> Result<Token<'de>, Error> {
        let token = match self.peek() {
            Some(b'{') => Token::Map,
            Some(b'[') => Token::Seq,
            Some(b'"') => return self.string().map(Token::Str),
            Some(b't') => return self.literal(b"true").map(|()| Token::Bool(true)),
            Some(b'f') => return self.literal(b"false").map(|()| Token::Bool(false)),
            Some(b'n') => return self.literal(b"null").map(|()| Token::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.i += 1;
                while let Some(b'0'..=b'9') = self.s.get(self.i) {
                    self.i += 1;
                }
                if let Some(b'.' | b'e' | b'E') = self.s.get(self.i) {
                    return Err(de::Error::custom("a number with a fraction or exponent: only integers are used"));
                }
                let text = core::str::from_utf8(self.s.get(start..self.i).unwrap_or_default()).unwrap_or_default();
                return match (text.parse::<u64>(), text.parse::<i64>()) {
                    (Ok(n), _) => Ok(Token::Unsigned(n)),
                    (_, Ok(n)) => Ok(Token::Signed(n)),
                    _ => Err(self.syntax("bad or too large a number")),
                };
            }
            _ => return Err(self.syntax("expected a value")),
        };
        self.i += 1;
        Ok(token)
    }

    fn close(&mut self, bracket: u8) -> Result<(), Error> {
        if self.eat(bracket) {
            Ok(())
        } else {
            Err(self.syntax(if bracket == b'}' { "expected `}`" } else { "expected `]`" }))
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self.s.get(self.i..self.i + 4).ok_or_else(|| self.syntax("short \\u escape"))?;
        let text = core::str::from_utf8(digits).map_err(|_| self.syntax("bad \\u escape"))?;
        let n = u32::from_str_radix(text, 16).map_err(|_| self.syntax("bad \\u escape"))?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.syntax("bad \\u escape"));
        }
        self.i += 4;
        Ok(n)
    }

    /// A string; the opening quote is next.
    fn string(&mut self) -> Result<Cow<'de, str>, Error> {
        self.i += 1;
        let start = self.i;
        let mut owned: Option<String> = None;
        loop {
            let run_start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let run = self.s.get(run_start..self.i).unwrap_or_default();
            let run = core::str::from_utf8(run).map_err(|_| self.syntax("invalid UTF-8"))?;
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(
                            core::str::from_utf8(self.s.get(start..self.i - 1).unwrap_or_default()).unwrap_or_default(),
                        ),
                        Some(mut o) => {
                            o.push_str(run);
                            Cow::Owned(o)
                        }
                    });
                }
                Some(b'\\') => {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(run);
                    self.i += 1;
                    let esc = self.s.get(self.i).copied();
                    self.i += 1;
                    let c = match esc {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let code =
                                if (0xd800..0xdc00).contains(&hi) && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    // A high surrogate without its low half is not a character
                                    // (RFC 8259 §7): U+FFFD, as for a lone one (found by fuzzing:
                                    // the sum overflowed).
                                    if (0xdc00..0xe000).contains(&lo) {
                                        0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                    } else {
                                        0xfffd
                                    }
                                } else {
                                    hi
                                };
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(self.syntax("bad escape")),
                    };
                    owned.get_or_insert_with(String::new).push(c);
                }
                _ => return Err(self.syntax("unterminated string")),
            }
        }
    }
}

impl<'de> Deserializer<'de> for &mut Parser<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        // The scanning is not generic: this function is instantiated once per visitor type.
        match self.scan()? {
            Token::Map => {
                let value = v.visit_map(Access { p: &mut *self, first: true, key: String::new() })?;
                self.close(b'}').map(|()| value)
            }
            Token::Seq => {
                let value = v.visit_seq(Access { p: &mut *self, first: true, key: String::new() })?;
                self.close(b']').map(|()| value)
            }
            Token::Str(Cow::Borrowed(s)) => v.visit_borrowed_str(s),
            Token::Str(Cow::Owned(s)) => v.visit_string(s),
            Token::Bool(b) => v.visit_bool(b),
            Token::Null => v.visit_unit(),
            Token::Unsigned(n) => v.visit_u64(n),
            Token::Signed(n) => v.visit_i64(n),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    /// Unit variants are strings (`"new-root"`), as serde_json reads them.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if self.peek() != Some(b'"') {
            return self.deserialize_any(v);
        }
        let s = self.string()?;
        v.visit_enum(IntoDeserializer::<Error>::into_deserializer(s.into_owned()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Access<'p, 'de> {
    p: &'p mut Parser<'de>,
    first: bool,
    key: String,
}

impl Access<'_, '_> {
    /// Past the separator before the next item; false at the closing bracket.
    fn next(&mut self, close: u8) -> Result<bool, Error> {
        if self.p.peek() == Some(close) {
            return Ok(false);
        }
        if !core::mem::take(&mut self.first) && !self.p.eat(b',') {
            return Err(self.p.syntax("expected `,`"));
        }
        Ok(true)
    }
}

/// Core names the key in its own errors (`ConfigSeed`); only this reader's syntax errors need the
/// path added.
fn at(mut e: Error, key: &str) -> Error {
    if e.msg.starts_with("not JSON") {
        e.path.push(key.to_string());
    }
    e
}

impl<'de> MapAccess<'de> for Access<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if !self.next(b'}')? {
            return Ok(None);
        }
        if self.p.peek() != Some(b'"') {
            return Err(self.p.syntax("expected a key"));
        }
        let key = self.p.string()?;
        if !self.p.eat(b':') {
            return Err(self.p.syntax("expected `:`"));
        }
        self.key = key.clone().into_owned();
        let de: de::value::CowStrDeserializer<'_, Error> = key.into_deserializer();
        seed.deserialize(de).map(Some).map_err(|e| at(e, &self.key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        // Core's `ConfigSeed` names the key in every value error.
        seed.deserialize(&mut *self.p)
    }
}

impl<'de> SeqAccess<'de> for Access<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if !self.next(b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.p).map(Some)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::translate::{FormatList, OnMissing, WidthPolicy};
    use crate::{Config, Format};

    fn msg(json: &str) -> String {
        from_str::<Config>(json).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn reads_the_shared_configuration() {
        let json = r#" {"extract": ["b3-multi", "w3c"], "inject": ["w3c"], "on_missing": "new-root",
            "id_width": 64, "tracestate": {"key": "t\u0062", "max_len": 2048, "member": false}} "#;
        let c = from_str::<Config>(json);
        assert!(c.is_ok(), "{c:?}");
        let Ok(c) = c else { return };
        assert_eq!(Ok(c.extract), FormatList::new(&[Format::B3Multi, Format::W3c]));
        assert_eq!(c.on_missing, OnMissing::NewRoot);
        assert_eq!(c.id_width, WidthPolicy::Bits64);
        assert_eq!((c.tracestate.key.as_str(), c.tracestate.max_len, c.tracestate.member), ("tb", 2048, false));
        assert_eq!(from_str::<Config>("{}"), Ok(Config::default()));
    }

    #[test]
    fn errors_name_the_key() {
        assert!(msg(r#"{"tracestate": {"max_len": "x"}}"#).starts_with("tracestate.max_len: invalid type: string"));
        assert!(msg(r#"{"on_missing": "explode"}"#).starts_with("on_missing: unknown variant `explode`"));
        assert!(msg(r#"{"bogus": 1}"#).starts_with("unknown configuration key `bogus`"));
        assert!(msg(r#"{"extract": ["w3c", "w3c"]}"#).starts_with("extract: "));
        assert!(msg(r#"{"id_width": 1.5}"#).starts_with("id_width: a number with a fraction"));
        assert!(msg(r#"{"id_width": 32}"#).starts_with("id_width: invalid value: integer `32`"));
        assert!(msg("{} x").starts_with("not JSON: trailing"));
        assert!(msg(r#"{"a" 1}"#).starts_with("not JSON"));
        // An array is refused as soon as it opens, before the missing `]` is seen.
        assert!(msg(r#"["#).starts_with("invalid type: array, expected a tracebridge configuration object"));
        assert!(msg(r#"{"extract": ["w3c",]}"#).starts_with("extract: not JSON"));
    }

    #[test]
    fn surrogate_escapes() {
        let key = |json: &str| from_str::<Config>(json).map(|c| String::from(c.tracestate.key.as_str()));
        assert_eq!(key(r#"{"tracestate": {"key": "a\u0062"}}"#), Ok(String::from("ab")));
        // A pair is one character, a high half followed by anything else is U+FFFD (the fuzzer
        // found the sum overflowing); neither is a valid tracestate key, so both are refused.
        assert!(msg(r#"{"tracestate": {"key": "\uD83D\uDE00"}}"#).starts_with("tracestate.key"));
        assert!(msg(r#"{"tracestate": {"key": "\uD8DD\uD8DD"}}"#).starts_with("tracestate.key"));
    }
}
