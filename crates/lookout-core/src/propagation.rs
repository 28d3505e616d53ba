//! Outgoing propagation: the headers a request made inside a handler carries.
//!
//! `sentry-trace` (this request's span, its decision), `baggage` (the
//! application's own outgoing members, then the request's frozen DSC; a
//! caller's third-party members are never forwarded) and, when enabled, W3C
//! `traceparent` with the caller's `tracestate`. Only URLs matching
//! `LOOKOUT_TRACE_PROPAGATION_TARGETS` get them.

use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use lookout_headers::{SentryTrace, write_baggage};
use lookout_scope::RequestContext;

use crate::engine::{Engine, Shared};
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

/// The headers for an outgoing request to `url` from the current request, or
/// `None` outside a request or when `url` is not a propagation target.
///
/// `existing_baggage` is the outgoing request's own `baggage` (if the
/// application set one); the Sentry members are appended to it.
///
/// ```
/// use lookout_core::{Engine, RequestHead, outgoing_headers};
///
/// let lookout = Engine::builder().build();
/// let headers = http::HeaderMap::new();
/// let in_flight = lookout.begin(&RequestHead::new("GET", "/", &headers));
/// let out = in_flight.context().enter(|| outgoing_headers("http://inventory.internal/items", Some("app=1")))
///     .expect("inside a request");
/// assert!(out.baggage.unwrap().starts_with("app=1,sentry-trace_id="));
/// assert!(out.sentry_trace.starts_with(&in_flight.context().trace().trace_id.to_string()));
/// assert!(outgoing_headers("http://x", None).is_none(), "outside a request");
/// ```
pub fn outgoing_headers(url: &str, existing_baggage: Option<&str>) -> Option<OutgoingHeaders> {
    let ctx = lookout_scope::current()?;
    let engine = engine_of(&ctx);
    if !engine.targets.matches(url) {
        return None;
    }
    Some(headers_for(&ctx, &engine, existing_baggage))
}

/// Adds the trace headers for `url` to an outgoing `http::HeaderMap`, keeping
/// its own `baggage` members. Returns whether anything was added.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::{Engine, RequestHead, inject_headers};
///
/// let lookout = Engine::builder().build();
/// let in_flight = lookout.begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// let mut outgoing = HeaderMap::new();
/// assert!(in_flight.context().enter(|| inject_headers("http://svc/", &mut outgoing)));
/// assert!(outgoing.contains_key("sentry-trace"));
/// assert!(outgoing.contains_key("traceparent"));
/// ```
pub fn inject_headers(url: &str, headers: &mut HeaderMap) -> bool {
    let existing: Vec<String> = headers
        .get_all(names::BAGGAGE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let existing = (!existing.is_empty()).then(|| existing.join(","));
    let Some(out) = outgoing_headers(url, existing.as_deref()) else {
        return false;
    };
    for (name, value) in out.iter() {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    true
}

pub(crate) fn headers_for(
    ctx: &RequestContext,
    engine: &Shared,
    existing_baggage: Option<&str>,
) -> OutgoingHeaders {
    let trace = ctx.trace();
    let sentry_trace = SentryTrace {
        trace_id: Some(trace.trace_id),
        parent_span_id: Some(trace.span_id),
        sampled: Some(trace.sampled),
    }
    .to_string();
    let dsc = crate::dsc::frozen(ctx, engine);
    let baggage = write_baggage(existing_baggage, &dsc);
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

/// The `server-timing` value linking a browser's page load to this trace.
pub(crate) fn server_timing(ctx: &RequestContext, engine: &Shared) -> String {
    let out = headers_for(ctx, engine, None);
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
