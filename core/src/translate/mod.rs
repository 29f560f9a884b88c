//! The translation policy: which formats to read and in what order, what to do on conflict or
//! absence, and which formats to write.
//!
//! One [`Config`] — the same JSON shape for the Envoy filter, the npm package and Rust — builds a
//! [`Translator`]. Its decisions, where the specs leave them open:
//!
//! - **Precedence** is the `extract` list, and the first format with a valid *context* wins. (The
//!   OpenTelemetry composite propagators let the *last* one win, which surprises users.) Every other
//!   valid context is compared with it: a different trace id is a [`Status::Conflict`], never merged.
//!   A B3 decision without ids (`b3: 0`) is used only when no format carried a context.
//! - **Sampling** maps by the table on [`Sampling`](crate::Sampling): W3C has no *defer*, so it writes `sampled=0` and
//!   our tracestate member remembers *defer* (and *debug*) for later legacy hops.
//! - **Trust at the edge** ([`Trust`]): continue the incoming trace, restart it (a new root whose
//!   tracestate member `o:` names the old ids, so they can be linked), or ignore it (its headers are
//!   removed and `on_missing` applies). `drop_forced_sampling` turns a client's sampled/debug
//!   decision into *defer*.
//! - **tracestate** lines are combined, our member is added or refreshed at the front, members are
//!   dropped by the W3C rules when limits are exceeded (first those over 128 characters, then from the
//!   end), and an empty tracestate header is never written. A tracestate travels only with the
//!   traceparent it came with: when the W3C context is not the one continued, it is replaced.
//! - **X-Ray ids**: an X-Ray trace id's first 32 bits are an epoch. A W3C or B3 id written as X-Ray is
//!   kept bit for bit (`1-{first 8 hex}-{last 24 hex}`), never changed; X-Ray accepts such ids
//!   ([AWS: W3C trace IDs](https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids)).
//! - **Width**: a 64-bit B3/Jaeger trace id is written as W3C left-padded with zeros, and our member
//!   (`w:64`) lets a later B3/Jaeger hop write 16 digits again. `id_width: 64` truncates 128-bit ids
//!   for legacy services that need it, and says so in [`Report::trace_id_truncated`].
//! - **Untouched**: when the outcome is [`Outcome::PassThrough`] nothing is written or removed, and
//!   the format a context came from is not rewritten unless the context changed.

mod config;
#[cfg(feature = "json")]
mod from_json;
mod plan;
mod report;
#[cfg(feature = "serde")]
mod serde_impls;
#[cfg(test)]
mod tests;
mod translator;

pub use config::{
    Config, ConfigError, FormatList, MemberKey, OnConflict, OnMissing, RootSampling, TracestateConfig, Trust,
    WidthPolicy, MAX_MEMBER_KEY,
};
#[cfg(feature = "json")]
pub use from_json::ConfigKeysSeen;
pub use plan::Plan;
pub use report::{Inspection, Outcome, Report, RootReason, Status};
#[cfg(feature = "serde")]
pub use serde_impls::ConfigSeed;
pub(crate) use translator::compose_tracestate;
pub use translator::Translator;

/// How many formats: the size of every per-format table.
const N: usize = crate::format::Format::COUNT;
