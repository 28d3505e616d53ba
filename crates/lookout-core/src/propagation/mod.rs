//! Outgoing propagation: what a call made inside a request carries, and the
//! span it is.
//!
//! Every outgoing call is its own span ([`OutgoingCall`]): a fresh span id,
//! which is the parent id the callee sees in `sentry-trace` and
//! `traceparent`, so two calls from one request never carry the same parent
//! (W3C Trace Context, "parent-id"; Sentry developer docs, "Trace
//! Propagation"). When the request is sampled the span is recorded as an
//! `http.client` child of the request's transaction and ends with the
//! response. The headers: `sentry-trace` (that span, the request's
//! decision), `baggage` (the application's own outgoing members, then the
//! request's frozen DSC; a caller's third-party members are never
//! forwarded) and, when enabled, W3C `traceparent` with the caller's
//! `tracestate`. Only URLs matching `LOOKOUT_TRACE_PROPAGATION_TARGETS` get
//! them.

mod call;
mod headers;

use std::sync::Arc;

use lookout_scope::RequestContext;

pub use call::{MANUAL_ORIGIN, OutgoingCall, inject_headers};
pub use headers::OutgoingHeaders;
pub(crate) use headers::headers_for;

use crate::engine::{Engine, Shared};

/// The `server-timing` value linking a browser's page load to this trace.
pub(crate) fn server_timing(ctx: &RequestContext, engine: &Shared) -> String {
    // The browser continues from this request's own span.
    let out = headers::headers_for(ctx, engine, ctx.trace().span_id, None);
    let mut value = format!("sentry-trace;desc=\"{}\"", out.sentry_trace);
    if let Some(baggage) = out.baggage {
        // Percent-encoded baggage has no `"` or `\`; nothing to escape.
        value.push_str(", baggage;desc=\"");
        value.push_str(&baggage);
        value.push('"');
    }
    value
}

/// The engine that began `ctx`'s request (the global one for contexts that
/// lookout-core did not create).
pub(crate) fn engine_of(ctx: &RequestContext) -> Arc<Shared> {
    ctx.owner::<Shared>()
        .unwrap_or_else(|| Arc::clone(&Engine::global().engine))
}
