//! [`OutgoingHeaders`]: the trace headers of one outgoing call.

use lookout_headers::{SentryTrace, SpanId, write_baggage};
use lookout_scope::RequestContext;

use crate::engine::Shared;
use crate::head::names;
use crate::lifecycle::traceparent_for;

/// The trace headers for one outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingHeaders {
    /// `sentry-trace`.
    pub sentry_trace: String,
    /// `baggage`: the application's members, then the Sentry members.
    pub baggage: Option<String>,
    /// `traceparent`, when W3C propagation is on.
    pub traceparent: Option<String>,
    /// `tracestate` received from the caller, passed on with `traceparent`.
    pub tracestate: Option<String>,
}

impl OutgoingHeaders {
    /// `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            Some((names::SENTRY_TRACE, self.sentry_trace.as_str())),
            self.baggage.as_deref().map(|v| (names::BAGGAGE, v)),
            self.traceparent.as_deref().map(|v| (names::TRACEPARENT, v)),
            self.tracestate.as_deref().map(|v| (names::TRACESTATE, v)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The headers for a call whose span is `span_id` (the parent the callee
/// sees), from `ctx`'s request.
pub(crate) fn headers_for(
    ctx: &RequestContext,
    engine: &Shared,
    span_id: SpanId,
    existing_baggage: Option<&str>,
) -> OutgoingHeaders {
    let mut trace = ctx.trace();
    trace.span_id = span_id;
    let sentry_trace = SentryTrace {
        trace_id: Some(trace.trace_id),
        parent_span_id: Some(span_id),
        sampled: Some(trace.sampled),
    }
    .to_string();
    let dsc = crate::dsc::frozen(ctx, engine);
    let baggage = write_baggage(existing_baggage, dsc);
    let (traceparent, tracestate) = if engine.propagate_traceparent {
        (
            Some(traceparent_for(&trace).to_string()),
            ctx.tracestate().map(str::to_owned),
        )
    } else {
        (None, None)
    };
    OutgoingHeaders {
        sentry_trace,
        baggage: (!baggage.is_empty()).then_some(baggage),
        traceparent,
        tracestate,
    }
}
