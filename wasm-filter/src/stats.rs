//! Counter names.
//!
//! Envoy files proxy-wasm metrics under the `wasmcustom.` scope: `tracebridge.requests` reads
//! `wasmcustom.tracebridge.requests` in `/stats` and `tracebridge_requests` in
//! `/stats/prometheus`. Prometheus names allow only `[a-zA-Z0-9_:]` (Envoy would rewrite the rest), so
//! format names are written with `_` (`b3_single`) and the names stay the same in both views.

use tracebridge::Format;

/// Every request the filter saw.
pub const REQUESTS: &str = "tracebridge.requests";
/// Requests where no configured format held a valid context.
pub const MISSING: &str = "tracebridge.missing";
/// Requests whose valid formats disagreed about the trace.
pub const CONFLICTS: &str = "tracebridge.conflicts";
/// Requests for which a new root context was generated (or would have been, in shadow mode).
pub const ROOTS: &str = "tracebridge.roots";
/// Requests evaluated in shadow mode whose headers would have changed.
pub const SHADOW: &str = "tracebridge.shadow";

/// The per-format counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerFormat {
    /// The format's headers held a valid context.
    Extracted,
    /// The format's headers were present but malformed.
    Invalid,
    /// The format's headers were written.
    Injected,
}

impl PerFormat {
    /// All kinds.
    pub const ALL: [PerFormat; 3] = [PerFormat::Extracted, PerFormat::Invalid, PerFormat::Injected];

    const fn word(self) -> &'static str {
        match self {
            PerFormat::Extracted => "extracted",
            PerFormat::Invalid => "invalid",
            PerFormat::Injected => "injected",
        }
    }

    /// `tracebridge.<kind>.<format>`, e.g. `tracebridge.extracted.b3_single`.
    pub fn name(self, format: Format) -> String {
        format!("tracebridge.{}.{}", self.word(), format.name().replace('-', "_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prometheus_safe() {
        let mut all = vec![REQUESTS.to_string(), MISSING.into(), CONFLICTS.into(), ROOTS.into(), SHADOW.into()];
        for kind in PerFormat::ALL {
            all.extend(Format::ALL.iter().map(|&f| kind.name(f)));
        }
        for n in &all {
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'), "{n}");
        }
        assert_eq!(PerFormat::Extracted.name(Format::GrpcTraceBin), "tracebridge.extracted.grpc_trace_bin");
    }
}
