//! The translator's policy for an SDK that starts its own spans (OpenTelemetry's Rust propagator, the
//! npm package's OpenTelemetry adapter): [`Translator::remote`] is the remote parent to continue,
//! [`Translator::inject_span`] writes a span's context in every configured format. Both doors call
//! these, so the policy lives once, next to the [`Translator`]'s own.
//!
//! - **Extract** applies the configured policy: precedence is the `extract` list; `trust: restart` or
//!   `ignore`, and `on_conflict: new-root` or `pass-through` when headers name different traces, give
//!   `None` so the SDK starts a new root; `drop_forced_sampling` turns sampled/debug into *defer*. A B3
//!   decision without ids (`b3: 0`) is not a span context. What W3C cannot say (B3 *defer*/*debug*, a
//!   64-bit id, Jaeger flags, X-Ray `Lineage`/`Self`) rides in our tracestate member, exactly as the
//!   translator writes it, so passing the remote context on loses nothing.
//! - **Trace flags**: the sampled bit and W3C Level 2's `random` bit
//!   ([§3.2.2.5.2](https://www.w3.org/TR/trace-context-2/#random-trace-id-flag)) — the trace id is kept,
//!   so it is still random; reserved bits are not passed to a service that starts spans (it sets them
//!   to zero, §3.2.2.5.3).
//! - **Inject** writes every configured format for the span; while the span id is the one our member
//!   describes (an unchanged remote context), the member's *defer*/*debug*/parent apply, and its
//!   trace-level fields (the 64-bit width) always do. `id_width` applies to B3 and Jaeger.

use crate::carrier::{Extractor, Injector};
use crate::context::{Sampling, TraceContext, TraceFlags};
use crate::datadog_fields;
use crate::ext;
use crate::format::Format;
use crate::id::{IdWidth, SpanId, TraceId};
use crate::tracestate::{self, TraceState, TraceStateBuf};
use crate::translate::{OnConflict, Translator, Trust, WidthPolicy};

/// The remote parent an SDK continues: the chosen context after the policy, and the tracestate to
/// attach to it (the incoming one with our member refreshed at the front).
#[derive(Debug, Clone)]
pub struct Remote<'a> {
    /// Ids, sampling (after `drop_forced_sampling`), trace flags (sampled and random only).
    pub context: TraceContext<'a>,
    /// The tracestate to attach (empty: none).
    pub tracestate: TraceStateBuf,
}

/// A span's context as an SDK holds it, to write with [`Translator::inject_span`].
#[derive(Debug, Clone, Copy)]
pub struct SpanContext<'a> {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id (the next hop's parent).
    pub span_id: SpanId,
    /// W3C trace-flags: sampled, and Level 2's random; other bits are written as zero.
    pub trace_flags: TraceFlags,
    /// The span's tracestate, our member included when it came from [`Translator::remote`].
    pub tracestate: TraceState<'a>,
}

impl Translator {
    /// The remote parent `headers` carry, after the policy (module docs); `None` when the SDK should
    /// start a new root.
    ///
    /// ```
    /// use tracebridge::translate::Config;
    /// use tracebridge::{Sampling, Translator};
    ///
    /// let headers = [("b3", "80f198ee56343ba8-e457b5a2e4d86bd1-d")];
    /// let remote = Translator::default().remote(&headers[..]).unwrap_or_else(|| unreachable!());
    /// assert_eq!(remote.context.sampling, Sampling::Debug);
    /// // W3C cannot say "debug" or "64-bit": our member does, for the hops after.
    /// assert_eq!(remote.tracestate.as_str(), "tracebridge=s:e457b5a2e4d86bd1;w:64;m:x");
    /// let restart = Translator::new(Config { trust: tracebridge::translate::Trust::Restart, ..Config::default() })?;
    /// assert!(restart.remote(&headers[..]).is_none());
    /// # Ok::<(), tracebridge::translate::ConfigError>(())
    /// ```
    pub fn remote<'a, E: Extractor + ?Sized>(&self, headers: &'a E) -> Option<Remote<'a>> {
        let mut tracestate = TraceStateBuf::new();
        let context = self.remote_into(headers, &mut tracestate)?;
        Some(Remote { context, tracestate })
    }

    /// [`remote`](Self::remote) with the tracestate written into `tracestate` (replaced; left empty
    /// when there is none), for a caller that keeps one buffer: a [`Remote`] carries its 4 KiB
    /// buffer by value, and moving it costs more than writing it.
    ///
    /// ```
    /// use tracebridge::tracestate::TraceStateBuf;
    /// use tracebridge::Translator;
    ///
    /// let mut buf = TraceStateBuf::new();
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", "a=1")];
    /// let ctx = Translator::default().remote_into(&headers[..], &mut buf);
    /// assert_eq!(ctx.map(|c| c.span_id.to_hex()), Some(*b"00f067aa0ba902b7"));
    /// assert_eq!(buf.as_str(), "a=1");
    /// ```
    pub fn remote_into<'a, E: Extractor + ?Sized>(
        &self,
        headers: &'a E,
        tracestate: &mut TraceStateBuf,
    ) -> Option<TraceContext<'a>> {
        tracestate.clear();
        // The context is changed where the inspection holds it and moved out once, at the end: a
        // context is a few hundred bytes, and in wasm every copy is a call out of the module.
        let mut ins = crate::translate::Inspection::new();
        self.inspect_into(headers, self.name_filter(headers), &mut ins);
        let cfg = self.config();
        if cfg.trust != Trust::Continue || (ins.conflicts() > 0 && cfg.on_conflict != OnConflict::PreferFirst) {
            return None;
        }
        let (restarted_from, source, datadog_valid) =
            (ins.restarted_from, ins.source, ins.status(Format::Datadog) == crate::translate::Status::Valid);
        let ctx = ins.context.as_mut()?;
        if cfg.drop_forced_sampling && ctx.sampling.is_sampled() {
            ctx.set_sampling(Sampling::Defer);
        }
        // The sampled bit (defer → 0, W3C §3.2.2.5.1) and the random bit (module docs).
        ctx.trace_flags = TraceFlags(ctx.trace_flags.0 & TraceFlags::RANDOM).with_sampled(ctx.sampling.is_sampled());
        let ts = &cfg.tracestate;
        let mut value = ext::MemberValue::new();
        let member = (ts.member && ext::encode_into(ctx, restarted_from, &mut value)).then_some(&value);
        // Datadog read: its `dd=` member goes on with the context (`Translator` module docs).
        let from_datadog = source == Some(Format::Datadog);
        let dd = (datadog_valid || cfg.inject.contains(Format::Datadog))
            .then(|| datadog_fields::encode_member(ctx, ctx.datadog.parent.or(from_datadog.then_some(ctx.span_id))));
        crate::translate::compose_tracestate(
            &ctx.tracestate,
            (ts.key.key(), member.map(|m| m.as_str())),
            dd.as_ref().map(datadog_fields::Member::as_str).filter(|m| !m.is_empty()),
            ts.max_len,
            tracestate,
            &mut None,
        );
        ins.context
    }

    /// Write `span` in every configured `inject` format (module docs). Nothing is removed: an SDK's
    /// carrier for an outgoing request starts empty.
    ///
    /// ```
    /// use tracebridge::propagate::SpanContext;
    /// use tracebridge::translate::{Config, FormatList};
    /// use tracebridge::{Format, SpanId, TraceFlags, TraceId, TraceState, Translator};
    ///
    /// let translator = Translator::new(Config { inject: FormatList::new(&[Format::W3c, Format::B3Single]).map_err(|_| "repeat")?, ..Config::default() }).map_err(|_| "config")?;
    /// let span = SpanContext {
    ///     trace_id: TraceId::from_hex(b"000000000000000080f198ee56343ba8").map_err(|_| "hex")?,
    ///     span_id: SpanId::from_hex(b"e457b5a2e4d86bd1").map_err(|_| "hex")?,
    ///     trace_flags: TraceFlags(1),
    ///     tracestate: TraceState::parse("tracebridge=s:e457b5a2e4d86bd1;w:64;m:x").map_err(|_| "ts")?,
    /// };
    /// let mut out: Vec<(String, String)> = Vec::new();
    /// translator.inject_span(&span, &mut out);
    /// // The member gives B3 its debug flag and 16-digit trace id back.
    /// assert!(out.contains(&("b3".to_string(), "80f198ee56343ba8-e457b5a2e4d86bd1-d".to_string())));
    /// # Ok::<(), &str>(())
    /// ```
    pub fn inject_span<I: Injector + ?Sized>(&self, span: &SpanContext<'_>, headers: &mut I) {
        let cfg = self.config();
        let sampling = if span.trace_flags.is_sampled() { Sampling::Accept } else { Sampling::Deny };
        let mut ctx = TraceContext::new(span.trace_id, span.span_id).with_sampling(sampling);
        ctx.trace_flags = TraceFlags(span.trace_flags.0 & (TraceFlags::SAMPLED | TraceFlags::RANDOM));
        ctx.tracestate = span.tracestate;
        let mut restarted_from = None;
        if let Some(member) = ctx.tracestate.get_key(cfg.tracestate.key.key()) {
            ext::clear_extras(&mut ctx);
            restarted_from = ext::apply(&mut ctx, member).restarted_from;
        }
        if let Some(dd) = ctx.tracestate.get_key(datadog_fields::MEMBER) {
            datadog_fields::apply_member(&mut ctx, dd);
        }
        match cfg.id_width {
            WidthPolicy::Keep => {}
            WidthPolicy::Bits64 => ctx.id_width = IdWidth::Bits64,
            WidthPolicy::Bits128 => ctx.id_width = IdWidth::Bits128,
        }
        for f in cfg.inject.iter() {
            if f == Format::W3c {
                crate::w3c::inject_traceparent(&ctx, headers);
                let mut value = ext::MemberValue::new();
                let member =
                    (cfg.tracestate.member && ext::encode_into(&ctx, restarted_from, &mut value)).then_some(&value);
                // Datadog written too: its `dd=` member (the span is not a Datadog span: `p:` only as carried).
                let dd = cfg
                    .inject
                    .contains(Format::Datadog)
                    .then(|| datadog_fields::encode_member(&ctx, ctx.datadog.parent));
                let mut written = TraceStateBuf::new();
                crate::translate::compose_tracestate(
                    &ctx.tracestate,
                    (cfg.tracestate.key.key(), member.map(|m| m.as_str())),
                    dd.as_ref().map(datadog_fields::Member::as_str).filter(|m| !m.is_empty()),
                    cfg.tracestate.max_len,
                    &mut written,
                    &mut None,
                );
                if !written.as_str().is_empty() {
                    headers.set(tracestate::HEADER, written.as_str());
                }
            } else {
                f.inject(&ctx, headers);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;
    use crate::translate::{Config, FormatList};

    /// What `inject_span` writes for a sampled span with `tracestate` (empty when anything fails).
    fn inject(config: Config, tracestate: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let (Ok(translator), Ok(trace_id), Ok(span_id), Ok(tracestate)) = (
            Translator::new(config),
            TraceId::from_hex(b"000000000000000080f198ee56343ba8"),
            SpanId::from_hex(b"e457b5a2e4d86bd1"),
            TraceState::parse(tracestate),
        ) else {
            return out;
        };
        let span = SpanContext { trace_id, span_id, trace_flags: TraceFlags(1), tracestate };
        translator.inject_span(&span, &mut out);
        out
    }

    fn tracestate(out: &[(String, String)]) -> Option<&str> {
        out.iter().find(|(n, _)| n == "tracestate").map(|(_, v)| v.as_str())
    }

    fn formats(f: &[Format]) -> FormatList {
        FormatList::new(f).unwrap_or(Config::default().inject)
    }

    #[test]
    fn a_plain_span_writes_no_tracestate() {
        let out = inject(Config::default(), "");
        assert_eq!(
            out,
            [("traceparent".to_string(), "00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01".to_string())]
        );
    }

    #[test]
    fn the_member_is_written_when_the_span_has_no_tracestate() {
        // `id_width: 64` is something W3C cannot say: our member says it, though nothing came in.
        let out = inject(Config { id_width: WidthPolicy::Bits64, ..Config::default() }, "");
        assert_eq!(tracestate(&out), Some("tracebridge=s:e457b5a2e4d86bd1;w:64"));
    }

    #[test]
    fn datadogs_member_is_written_when_the_span_has_no_tracestate() {
        let out = inject(Config { inject: formats(&[Format::W3c, Format::Datadog]), ..Config::default() }, "");
        assert!(tracestate(&out).is_some_and(|ts| ts.starts_with("dd=")), "{out:?}");
    }

    #[test]
    fn a_tracestate_goes_on() {
        assert_eq!(tracestate(&inject(Config::default(), "congo=t61rcWkgMzE")), Some("congo=t61rcWkgMzE"));
    }
}
