//! A small JSON reader for the configuration, shared by every door (feature `json`): the text becomes
//! a [`Value`], and [`Config::from_json`](crate::translate::Config::from_json) reads the
//! configuration from that.
//!
//! Why not serde_json, nor serde at all: serde_json's deserializer was half of the npm package's
//! wasm (≈ 180 KiB against a 100 KiB budget) and a third of the Envoy filter's, mostly float parsing
//! and printing the configuration never needs. A serde `Deserializer` of our own was smaller, but
//! serde instantiates every field's visitor for it: in the Envoy filter the configuration code was
//! still 47 KB of 228 KB. Read into a `Value` once, the configuration is checked by plain functions,
//! compiled once.
//!
//! This reader handles exactly JSON (RFC 8259: objects, arrays, strings with every escape, integers,
//! `true`/`false`/`null`), refuses numbers with a fraction or exponent (no configuration key takes
//! one) and nesting deeper than [`MAX_DEPTH`], and tracks the key path so that every error reads
//! `tracestate.max_len: <what was wrong>`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The deepest nesting of arrays and objects read: configurations are two levels deep, and the
/// reader recurses, so hostile input must not take the stack.
pub const MAX_DEPTH: usize = 32;

/// A JSON value. Numbers are integers only (see the [module](self) docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// An integer in `i64`'s range.
    Int(i64),
    /// A string, escapes decoded.
    Str(String),
    /// An array.
    List(Vec<Value>),
    /// An object's members in the order written (a key may repeat; the reader of the object decides).
    Map(Vec<(String, Value)>),
}

impl Value {
    /// What this value is, for an error message: `string "x"`, `integer `5``, `array`, ….
    pub fn found(&self) -> Found<'_> {
        Found(self)
    }
}

/// [`Value::found`]: a value described as serde describes an unexpected one.
pub struct Found<'a>(&'a Value);

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "boolean `{b}`"),
            Value::Int(n) => write!(f, "integer `{n}`"),
            Value::Str(s) => write!(f, "string \"{s}\""),
            Value::List(_) => f.write_str("array"),
            Value::Map(_) => f.write_str("object"),
        }
    }
}

/// Parse JSON `text` into a [`Value`].
///
/// ```
/// use tracebridge::json::{parse, Value};
/// assert_eq!(parse(r#" {"a": [1, "\u0062"]} "#).ok(),
///     Some(Value::Map(vec![("a".into(), Value::List(vec![Value::Int(1), Value::Str("b".into())]))])));
/// assert!(parse("{} x").is_err_and(|e| e.to_string().starts_with("not JSON: trailing")));
/// assert!(parse(r#"{"id_width": 1.5}"#).is_err_and(|e| e.to_string().starts_with("id_width: a number with")));
/// ```
pub fn parse(text: &str) -> Result<Value, Error> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let value = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.syntax("trailing characters after the configuration"));
    }
    Ok(value)
}

/// A configuration error: what was wrong, naming the key (or the byte offset of a syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Innermost key first.
    path: Vec<String>,
    msg: String,
}

impl Error {
    /// An error with message `msg` (its key named later, by [`Error::at`]).
    pub fn new(msg: impl fmt::Display) -> Self {
        Error { path: Vec::new(), msg: msg.to_string() }
    }

    /// `invalid type: <found>, expected <expected>`, as serde words it.
    pub fn invalid_type(found: &Value, expected: &str) -> Self {
        Self::new(format_args!("invalid type: {}, expected {expected}", found.found()))
    }

    /// `invalid value: <found>, expected <expected>`, as serde words it.
    pub fn invalid_value(found: &Value, expected: &str) -> Self {
        Self::new(format_args!("invalid value: {}, expected {expected}", found.found()))
    }

    /// `unknown variant `x`, expected one of `a`, `b``, as serde words it.
    pub fn unknown_variant(name: &str, expected: &[&str]) -> Self {
        Self::new(format_args!("unknown variant `{name}`, expected {}", OneOf(expected)))
    }

    /// The same error, inside the value of key `key`.
    #[must_use]
    pub fn at(mut self, key: &str) -> Self {
        self.path.push(key.to_string());
        self
    }
}

/// Mark `key` as given in an object whose known keys are `keys` (`seen`: one flag per key, in that
/// order): `<key>: given twice` when it was already. JSON leaves repeated names to the reader
/// (RFC 8259 §4), and taking either value would drop the other without a word. A key not in `keys`
/// is left to the caller.
///
/// ```
/// use tracebridge::json::refuse_repeat;
/// let mut seen = [false; 2];
/// assert!(refuse_repeat(&["a", "b"], &mut seen, "b").is_ok());
/// assert!(refuse_repeat(&["a", "b"], &mut seen, "x").is_ok());
/// assert_eq!(refuse_repeat(&["a", "b"], &mut seen, "b").map_err(|e| e.to_string()), Err("b: given twice".into()));
/// ```
pub fn refuse_repeat(keys: &[&str], seen: &mut [bool], key: &str) -> Result<(), Error> {
    let before = keys.iter().position(|k| *k == key).and_then(|i| seen.get_mut(i)).map(|s| core::mem::replace(s, true));
    match before {
        Some(true) => Err(Error::new("given twice").at(key)),
        _ => Ok(()),
    }
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

/// serde's wording of a list of names: `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
struct OneOf<'a>(&'a [&'a str]);
impl fmt::Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("nothing"),
            [a] => write!(f, "`{a}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            names => {
                f.write_str("one of ")?;
                for (i, n) in names.iter().enumerate() {
                    write!(f, "{}`{n}`", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
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
        Error::new(format_args!("not JSON: {what} at byte {}", self.i))
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.i += usize::from(found);
        found
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, Error> {
        if self.s.get(self.i..self.i + word.len()) != Some(word) {
            return Err(self.syntax("unexpected character"));
        }
        self.i += word.len();
        Ok(value)
    }

    /// The value that starts next, `depth` arrays and objects in.
    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => Err(self.syntax("expected a value")),
        }
    }

    fn integer(&mut self) -> Result<Value, Error> {
        let start = self.i;
        self.i += 1;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        if let Some(b'.' | b'e' | b'E') = self.s.get(self.i) {
            return Err(Error::new("a number with a fraction or exponent: only integers are used"));
        }
        let text = core::str::from_utf8(self.s.get(start..self.i).unwrap_or_default()).unwrap_or_default();
        text.parse::<i64>().map(Value::Int).map_err(|_| self.syntax("bad or too large a number"))
    }

    /// Past `{` or `[`: false at the closing bracket, else past the separator before the next item.
    fn next_item(&mut self, close: u8, first: bool) -> Result<bool, Error> {
        if self.eat(close) {
            return Ok(false);
        }
        if !first && !self.eat(b',') {
            return Err(self.syntax(if close == b'}' { "expected `,` or `}`" } else { "expected `,` or `]`" }));
        }
        Ok(true)
    }

    fn deeper(&mut self, depth: usize) -> Result<(), Error> {
        self.i += 1;
        if depth > MAX_DEPTH {
            return Err(self.syntax("nested too deeply"));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        self.deeper(depth)?;
        let mut items = Vec::new();
        while self.next_item(b']', items.is_empty())? {
            items.push(self.value(depth)?);
        }
        Ok(Value::List(items))
    }

    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        self.deeper(depth)?;
        let mut members = Vec::new();
        while self.next_item(b'}', members.is_empty())? {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a key"));
            }
            let key = self.string()?;
            if !self.eat(b':') {
                return Err(self.syntax("expected `:`"));
            }
            match self.value(depth) {
                Ok(value) => members.push((key, value)),
                Err(e) => return Err(e.at(&key)),
            }
        }
        Ok(Value::Map(members))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self.s.get(self.i..self.i + 4).ok_or_else(|| self.syntax("short \\u escape"))?;
        let mut n = 0;
        for &d in digits {
            let v = char::from(d).to_digit(16).ok_or_else(|| self.syntax("bad \\u escape"))?;
            n = n << 4 | v;
        }
        self.i += 4;
        Ok(n)
    }

    /// A string; the opening quote is next.
    fn string(&mut self) -> Result<String, Error> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let run_start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let run = self.s.get(run_start..self.i).unwrap_or_default();
            out.push_str(core::str::from_utf8(run).map_err(|_| self.syntax("invalid UTF-8"))?);
            let at = self.s.get(self.i).copied();
            self.i += 1;
            let c = match at {
                Some(b'"') => return Ok(out),
                Some(b'\\') => self.escape()?,
                _ => return Err(self.syntax("unterminated string")),
            };
            out.push(c);
        }
    }

    /// The character of the escape after a `\`.
    fn escape(&mut self) -> Result<char, Error> {
        let esc = self.s.get(self.i).copied();
        self.i += 1;
        Ok(match esc {
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
                let code = if (0xd800..0xdc00).contains(&hi) && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                    self.i += 2;
                    let lo = self.hex4()?;
                    // A high surrogate without its low half is not a character (RFC 8259 §7):
                    // U+FFFD, as for a lone one (found by fuzzing: the sum overflowed).
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
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use alloc::vec;

    fn msg(json: &str) -> String {
        parse(json).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn reads_every_kind_of_value() {
        let v = parse(" {\"a\": [true, false, null, -5, 0, \"x\\n\\u00e9\\\"\"], \"b\": {}, \"a\": []} ");
        let s = |t: &str| Value::Str(t.into());
        let list = vec![Value::Bool(true), Value::Bool(false), Value::Null, Value::Int(-5), Value::Int(0), s("x\né\"")];
        let want =
            vec![("a".into(), Value::List(list)), ("b".into(), Value::Map(vec![])), ("a".into(), Value::List(vec![]))];
        assert_eq!(v, Ok(Value::Map(want)));
        assert_eq!(parse("\"a\\u0062\""), Ok(s("ab")));
        assert_eq!(parse("9223372036854775807"), Ok(Value::Int(i64::MAX)));
    }

    #[test]
    fn syntax_errors_say_where() {
        assert!(msg("{} x").starts_with("not JSON: trailing"));
        assert!(msg(r#"{"a" 1}"#).starts_with("not JSON: expected `:` at byte 5"));
        assert!(msg(r#"{"a": [1 2]}"#).starts_with("a: not JSON: expected `,` or `]`"));
        assert!(msg(r#"{"a": {"b": [1,]}}"#).starts_with("a.b: not JSON: expected a value"));
        assert!(msg(r#"{"a": 1.5}"#).starts_with("a: a number with a fraction or exponent"));
        assert!(msg("[1e3]").starts_with("a number with a fraction or exponent"));
        assert!(msg("9223372036854775808").starts_with("not JSON: bad or too large a number"));
        assert!(msg("\"\\x\"").starts_with("not JSON: bad escape"));
        assert!(msg("\"\\u12g4\"").starts_with("not JSON: bad \\u escape"));
        assert!(msg("\"abc").starts_with("not JSON: unterminated string"));
        assert!(msg("\"a\u{1}\"").starts_with("not JSON: unterminated string"));
        assert!(msg("tru").starts_with("not JSON: unexpected character"));
        assert!(msg("").starts_with("not JSON: expected a value"));
        assert!(msg("[").starts_with("not JSON: expected a value"));
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(msg(&deep).starts_with("not JSON: nested too deeply"));
        assert!(msg(&"[".repeat(1_000_000)).starts_with("not JSON: nested too deeply"));
    }

    #[test]
    fn surrogate_escapes() {
        let s = |t: &str| Ok(Value::Str(t.into()));
        // A pair is one character; a high half followed by anything else is U+FFFD (the fuzzer found
        // the sum overflowing), as is a lone half.
        assert_eq!(parse(r#""\uD83D\uDE00""#), s("\u{1f600}"));
        assert_eq!(parse(r#""\uD8DD\uD8DD""#), s("\u{fffd}"));
        assert_eq!(parse(r#""\uDE00x""#), s("\u{fffd}x"));
    }

    #[test]
    fn names_are_listed_as_serde_lists_them() {
        let e = |names: &[&str]| Error::unknown_variant("x", names).to_string();
        assert_eq!(e(&["a"]), "unknown variant `x`, expected `a`");
        assert_eq!(e(&["a", "b"]), "unknown variant `x`, expected `a` or `b`");
        assert_eq!(e(&["a", "b", "c"]), "unknown variant `x`, expected one of `a`, `b`, `c`");
        let typed = Error::invalid_type(&Value::List(vec![]), "a boolean").at("b").at("a");
        assert_eq!(typed.to_string(), "a.b: invalid type: array, expected a boolean");
    }
}
