//! The fields only X-Ray has (`Lineage`, `Self`, unknown keys), as the model carries them: a leaf
//! module, so that the model ([`crate::context`]), our tracestate member ([`crate::ext`]) and the
//! X-Ray format ([`crate::xray`]) all build on it without depending on each other.

use crate::id::decode_hex_exact;

pub(crate) const ROOT: &str = "Root";
pub(crate) const PARENT: &str = "Parent";
pub(crate) const SAMPLED: &str = "Sampled";
pub(crate) const LINEAGE: &str = "Lineage";
pub(crate) const SELF: &str = "Self";
/// The keys with a meaning; every other key is an unknown field kept as [`XRayExtra`].
pub(crate) const KNOWN_KEYS: [&str; 5] = [ROOT, PARENT, SAMPLED, LINEAGE, SELF];

/// Text the model carries for one format without interpreting it. It is either exactly as it arrived
/// in that format's header (`Raw`) or as it was carried in tracebridge's tracestate member, where `%`,
/// `,`, `;` and `=` are percent-encoded (`Escaped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Text<'a> {
    /// As received in the format's own header.
    Raw(&'a str),
    /// Percent-encoded as in tracebridge's tracestate member.
    Escaped(&'a str),
}

impl<'a> Text<'a> {
    /// The text as the format's own header writes it, one byte at a time (unescaping if needed).
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let (s, escaped) = match *self {
            Text::Raw(s) => (s, false),
            Text::Escaped(s) => (s, true),
        };
        Unescape::new(s.as_bytes(), escaped)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        match self {
            Text::Raw(s) | Text::Escaped(s) => s.is_empty(),
        }
    }
}

/// How many unknown X-Ray fields are carried; more is an error
/// ([`Error::XRayTooManyFields`](crate::Error::XRayTooManyFields)), never a silent drop.
pub const XRAY_MAX_EXTRA_FIELDS: usize = 8;

/// Where the unknown X-Ray fields are, without copying them out: the context stays small.
#[derive(Debug, Clone, Copy, Eq, Hash, Default)]
pub enum XRayExtra<'a> {
    /// None.
    #[default]
    None,
    /// The `X-Amzn-Trace-Id` value they arrived in: its fields other than the known keys
    /// (`Root`, `Parent`, `Sampled`, `Lineage`, `Self`), as received.
    Header(&'a str),
    /// tracebridge's tracestate member: its `xe:{key}:{value}` fields, percent-encoded.
    Member(&'a str),
}

impl<'a> XRayExtra<'a> {
    /// The unknown fields in order, as `(key, value)`.
    ///
    /// ```
    /// use tracebridge::context::{Text, XRayExtra};
    ///
    /// let extra = XRayExtra::Header("Root=1-5759e988-bd862e3fe1be46a994272793;Foo=bar");
    /// assert!(extra.fields().eq([(Text::Raw("Foo"), Text::Raw("bar"))]));
    /// ```
    pub fn fields(self) -> impl Iterator<Item = (Text<'a>, Text<'a>)> + 'a {
        let (src, member) = match self {
            XRayExtra::None => ("", false),
            XRayExtra::Header(s) => (s, false),
            XRayExtra::Member(s) => (s, true),
        };
        // `split_terminator`: nothing for an empty `src` (`XRayExtra::None`), where `split` gives one
        // empty field to look at; a trailing empty field is no field either way.
        src.split_terminator(';').filter_map(move |field| {
            if member {
                let (k, v) = field.strip_prefix("xe:")?.split_once(':')?;
                Some((Text::Escaped(k), Text::Escaped(v)))
            } else {
                let (k, v) = field.split_once('=')?;
                let (k, v) = (k.trim_matches([' ', '\t']), v.trim_matches([' ', '\t']));
                (!KNOWN_KEYS.contains(&k)).then_some((Text::Raw(k), Text::Raw(v)))
            }
        })
    }

    /// True when there are no unknown fields.
    #[inline]
    pub fn is_empty(self) -> bool {
        // `None` (every context not read from X-Ray) answers without a call: asked on every request
        // that writes our tracestate member.
        matches!(self, XRayExtra::None) || self.has_no_fields()
    }

    #[inline(never)]
    fn has_no_fields(self) -> bool {
        self.fields().next().is_none()
    }
}

/// Equal when the fields are, wherever they are kept.
impl PartialEq for XRayExtra<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.fields().eq(other.fields())
    }
}

/// The X-Ray fields that have no counterpart in other formats, kept for an exact round trip
/// ([X-Ray tracing header](https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XRayFields<'a> {
    /// `Lineage=…` (Lambda recursion detection), as received.
    pub lineage: Option<Text<'a>>,
    /// `Self=…` (added by load balancers), as received.
    pub self_: Option<Text<'a>>,
    /// Unknown `key=value` fields, in order.
    pub extra: XRayExtra<'a>,
}

impl XRayFields<'_> {
    /// True when there is nothing to carry.
    pub fn is_empty(&self) -> bool {
        self.lineage.is_none() && self.self_.is_none() && self.extra.is_empty()
    }
}

/// Percent-decoding iterator over bytes (`%XX` → byte) when `escaped`, plain bytes otherwise.
pub(crate) struct Unescape<'a> {
    src: &'a [u8],
    escaped: bool,
}

impl<'a> Unescape<'a> {
    pub(crate) fn new(src: &'a [u8], escaped: bool) -> Self {
        Unescape { src, escaped }
    }
}

impl Iterator for Unescape<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.src.split_first()?;
        if self.escaped && first == b'%' {
            if let [h, l, tail @ ..] = rest {
                let mut b = [0u8; 1];
                if decode_hex_exact(&[h.to_ascii_lowercase(), l.to_ascii_lowercase()], &mut b).is_ok() {
                    self.src = tail;
                    let [b] = b;
                    return Some(b);
                }
            }
        }
        self.src = rest;
        Some(first)
    }
}
