//! The configuration: the JSON every door shares, checked once by [`Translator::new`].
use core::fmt;

use crate::format::Format;
use crate::tracestate::{self};
use arrayvec::ArrayString;

use super::*;

/// An ordered set of formats (no repeats).
///
/// ```
/// use tracebridge::translate::FormatList;
/// use tracebridge::Format;
///
/// let list = FormatList::new(&[Format::W3c, Format::B3Multi]).map_err(|f| format!("{f} repeated"))?;
/// assert_eq!(list.as_slice(), [Format::W3c, Format::B3Multi]);
/// assert_eq!(FormatList::new(&[Format::W3c, Format::W3c]), Err(Format::W3c));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FormatList {
    pub(super) items: [Format; N],
    pub(super) len: u8,
}

impl FormatList {
    /// Every format, in the default extraction order: w3c, b3-single, b3-multi, jaeger, xray,
    /// grpc-trace-bin, datadog, ot, instana, gcp.
    pub const ALL: FormatList = FormatList { items: Format::ALL, len: N as u8 };
    /// No formats.
    pub const EMPTY: FormatList = FormatList { items: Format::ALL, len: 0 };

    /// The list, in order; `Err` names a repeated format.
    pub fn new(formats: &[Format]) -> Result<Self, Format> {
        let mut list = FormatList::EMPTY;
        for &f in formats {
            list.push(f)?;
        }
        Ok(list)
    }

    pub(super) fn push(&mut self, f: Format) -> Result<(), Format> {
        if self.contains(f) {
            return Err(f);
        }
        let slot = self.items.get_mut(usize::from(self.len)).ok_or(f)?;
        *slot = f;
        self.len += 1;
        Ok(())
    }

    /// The formats in order.
    pub fn as_slice(&self) -> &[Format] {
        self.items.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The formats in order.
    pub fn iter(&self) -> impl Iterator<Item = Format> + '_ {
        self.as_slice().iter().copied()
    }

    /// True when `f` is listed.
    pub fn contains(&self, f: Format) -> bool {
        self.as_slice().contains(&f)
    }

    /// Number of formats.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when no format is listed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for FormatList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Format::name)).finish()
    }
}

/// What to do when no valid context arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnMissing {
    /// Leave the request as it is (counted as missing).
    #[default]
    PassThrough,
    /// Start a new root trace from caller-supplied randomness.
    NewRoot,
}

/// What to do when valid headers name different traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnConflict {
    /// Continue the first valid format in `extract` order; report the others as conflicts.
    #[default]
    PreferFirst,
    /// Start a new root, linked to the first valid context through our tracestate member.
    NewRoot,
    /// Change nothing; report the conflict.
    PassThrough,
}

/// Whether to trust the incoming trace (at the edge of a network, clients are not trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Trust {
    /// Continue it.
    #[default]
    Continue,
    /// Start a new root; our tracestate member keeps the incoming ids (`o:`) for linking.
    Restart,
    /// Remove its headers and act as if nothing arrived (`on_missing` applies).
    Ignore,
}

/// The sampling decision of a root this translator starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RootSampling {
    /// No decision: the services downstream decide (W3C writes `sampled=0`, B3 omits it).
    #[default]
    Defer,
    /// Sampled.
    Accept,
    /// Not sampled.
    Deny,
}

/// The trace id width written in B3 and Jaeger headers (W3C, X-Ray and grpc always carry 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WidthPolicy {
    /// As it arrived (a W3C/X-Ray/grpc id is 128-bit; a 64-bit B3/Jaeger id stays 64-bit).
    #[default]
    Keep,
    /// Always 64 bits: a 128-bit id is truncated to its low 64 bits (reported).
    Bits64,
    /// Always 128 bits: a 64-bit id is left-padded with zeros.
    Bits128,
}

/// Longest configurable tracestate member key.
pub const MAX_MEMBER_KEY: usize = 64;

/// The key of tracebridge's own tracestate member: a valid tracestate key.
///
/// Held as an `ArrayString`, whose text is read without a UTF-8 scan: the key is looked up in every
/// W3C tracestate read and written, and checking it again on each use cost more than the lookup.
///
/// Its tracestate fingerprint is taken once, here: the key is looked up in every W3C read.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberKey {
    text: ArrayString<MAX_MEMBER_KEY>,
    /// [`tracestate::fingerprint`] of `text` (a function of it: equality and hash are unchanged).
    fp: u32,
}

impl MemberKey {
    /// `tracebridge`.
    pub const DEFAULT: &'static str = "tracebridge";

    /// The key, if it is a valid tracestate key of at most [`MAX_MEMBER_KEY`] characters.
    pub fn new(key: &str) -> Option<Self> {
        if !tracestate::is_valid_key(key) {
            return None;
        }
        let text = ArrayString::from(key).ok()?;
        Some(MemberKey { text, fp: tracestate::Key::new(key).fp })
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The key with its fingerprint, to look up or write.
    pub(crate) fn key(&self) -> tracestate::Key<'_> {
        tracestate::Key { text: self.as_str(), fp: self.fp }
    }
}

impl Default for MemberKey {
    fn default() -> Self {
        Self::new(Self::DEFAULT).unwrap_or(MemberKey { text: ArrayString::new(), fp: tracestate::Key::new("").fp })
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// tracestate handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TracestateConfig {
    /// Write our own member when a W3C hop would otherwise lose something a legacy format said.
    pub member: bool,
    /// Its key.
    pub key: MemberKey,
    /// The longest tracestate written, 512..=4096 (W3C: propagate at least 512 characters,
    /// [§3.3.1.5](https://www.w3.org/TR/trace-context/#tracestate-limits)).
    pub max_len: usize,
}

impl Default for TracestateConfig {
    fn default() -> Self {
        TracestateConfig { member: true, key: MemberKey::default(), max_len: 1024 }
    }
}

/// The translator's configuration. Every field has a default; see the module docs for the policy.
///
/// ```
/// use tracebridge::translate::{Config, FormatList, OnMissing, Trust};
/// use tracebridge::Format;
///
/// // At the edge: do not trust clients, always write W3C and B3 multi.
/// let config = Config {
///     inject: FormatList::new(&[Format::W3c, Format::B3Multi]).map_err(|_| "repeat")?,
///     trust: Trust::Restart,
///     on_missing: OnMissing::NewRoot,
///     ..Config::default()
/// };
/// assert!(tracebridge::Translator::new(config).is_ok());
/// # Ok::<(), &str>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Config {
    /// Formats read, in precedence order (first valid wins). Default: all, w3c first.
    pub extract: FormatList,
    /// Formats written. Default: w3c.
    pub inject: FormatList,
    /// Remove the headers of formats that are read but not injected (when a context is continued or
    /// started). Default: false.
    pub remove_other_formats: bool,
    /// Nothing valid arrived. Default: pass through.
    pub on_missing: OnMissing,
    /// Valid headers name different traces. Default: prefer the first.
    pub on_conflict: OnConflict,
    /// Continue, restart or ignore the incoming trace. Default: continue.
    pub trust: Trust,
    /// Turn an incoming sampled/debug decision into *defer*. Default: false.
    pub drop_forced_sampling: bool,
    /// Sampling of a new root. Default: defer.
    pub root_sampling: RootSampling,
    /// Trace id width in B3/Jaeger headers. Default: keep.
    pub id_width: WidthPolicy,
    /// tracestate handling.
    pub tracestate: TracestateConfig,
    /// Carry baggage (W3C `baggage`, Jaeger `uberctx-*`, OT `ot-baggage-*`) from the formats read to
    /// the formats written, with the context; under `trust: ignore` it is removed with the trace.
    /// `false`: baggage headers are neither read, written nor removed. Default: true.
    pub baggage: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            extract: FormatList::ALL,
            inject: FormatList { items: Format::ALL, len: 1 },
            remove_other_formats: false,
            on_missing: OnMissing::default(),
            on_conflict: OnConflict::default(),
            trust: Trust::default(),
            drop_forced_sampling: false,
            root_sampling: RootSampling::default(),
            id_width: WidthPolicy::default(),
            tracestate: TracestateConfig::default(),
            baggage: true,
        }
    }
}

/// A configuration that cannot work. `Display` names the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `extract` is empty.
    EmptyExtract,
    /// `tracestate.max_len` is outside 512..=4096.
    TracestateMaxLen,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::EmptyExtract => "extract: must name at least one format",
            ConfigError::TracestateMaxLen => "tracestate.max_len: must be between 512 and 4096",
        })
    }
}

impl core::error::Error for ConfigError {}
