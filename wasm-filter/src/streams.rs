//! What the filter wrote to a stream's request, and under which plugin (root context), kept from its
//! request headers to its response headers when the configuration writes response headers: a fixed
//! table indexed by context id, so the filter needs neither a hash map nor a `proxy_on_delete`
//! callback per stream (one call into the VM fewer on every request).
//!
//! The host numbers contexts from one counter per VM, and a stream's response headers follow its
//! request headers, so an entry is read soon after it is written. An entry is overwritten only when
//! [`CAPACITY`] newer contexts were created on the same worker in between: then the stream is not
//! found, and the filter leaves it alone (a stream still waiting for its response headers after that
//! many newer ones does not get `response_trace_id_header` or `traceresponse`). Each slot remembers its context id, so a
//! stale slot is never mistaken for another stream's.

use crate::prelude::*;
use tracebridge::{SpanId, TraceId};

/// Slots: streams alive at once per Envoy worker that are tracked exactly.
pub const CAPACITY: usize = 4096;

/// What the filter wrote to a request, for its response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The trace id.
    pub trace_id: TraceId,
    /// The parent span id the upstream received.
    pub span_id: Option<SpanId>,
    /// The trace-flags of the upstream's `traceparent` (sampled, random).
    pub flags: u8,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// The stream's context id (0: empty; the host never uses 0 for a stream).
    context: u32,
    root: u32,
    written: Option<Written>,
}

/// The table.
pub struct Streams {
    slots: Box<[Slot]>,
}

impl Default for Streams {
    fn default() -> Self {
        Streams { slots: vec![Slot::default(); CAPACITY].into_boxed_slice() }
    }
}

impl Streams {
    fn slot(&mut self, context: u32) -> Option<&mut Slot> {
        self.slots.get_mut(context as usize % CAPACITY)
    }

    /// Stream `context` of plugin `root`, and what was written to its request.
    pub fn open(&mut self, context: u32, root: u32, written: Option<Written>) {
        if let Some(s) = self.slot(context) {
            *s = Slot { context, root, written };
        }
    }

    /// The plugin of `context` and what was written to its request, forgetting the stream.
    pub fn close(&mut self, context: u32) -> Option<(u32, Option<Written>)> {
        let s = self.slot(context).filter(|s| s.context == context && context != 0)?;
        let out = (s.root, s.written);
        *s = Slot::default();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_found_until_closed_or_overwritten() {
        let mut t = Streams::default();
        let id = TraceId::from_hex(b"4bf92f3577b34da6a3ce929d0e0e4736").ok().map(|trace_id| Written {
            trace_id,
            span_id: SpanId::from_hex(b"00f067aa0ba902b7").ok(),
            flags: 1,
        });
        t.open(7, 2, id);
        t.open(8, 3, None);
        assert_eq!(t.close(9), None);
        assert_eq!(t.close(7), Some((2, id)));
        assert_eq!(t.close(7), None);
        // A context CAPACITY ids later takes the slot; the older one is no longer found.
        t.open(8 + CAPACITY as u32, 4, None);
        assert_eq!(t.close(8), None);
        assert_eq!(t.close(8 + CAPACITY as u32), Some((4, None)));
        assert_eq!(t.close(0), None);
    }
}
