//! [`OutgoingCall`]: one call made inside a request: its span, and the
//! headers that carry the trace to the callee.

use std::time::SystemTime;

use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use lookout_headers::SpanId;
use sentry_core::protocol::{SpanStatus, Value};

use super::OutgoingHeaders;
use super::headers::headers_for;
use crate::head::names;

/// The `origin` of spans started through this API directly (the `reqwest`
/// integration says `auto.http.reqwest`).
pub const MANUAL_ORIGIN: &str = "manual";

/// One outgoing call made inside a request.
///
/// It is its own span: a fresh span id, which is the parent id the callee
/// sees in `sentry-trace` and `traceparent` (two calls never share one).
/// When the request is sampled the span is recorded as an `http.client`
/// child of the request's current span (its transaction, or a span inside
/// it) with `http.request.method`, `url.full` (denylisted query values
/// filtered when sent), `server.address` and `server.port`; it ends with
/// [`finish`](Self::finish) (status and `http.response.status_code` from the
/// response), [`fail`](Self::fail) (`internal_error`: no response) or, when
/// dropped first, as `cancelled`. Unsampled, nothing is recorded but the call
/// still gets its own span id and carries the decision (`-0`, flags `00`).
///
/// For any client (hyper, ureq, a queue producer); reqwest users add
/// lookout's `reqwest-middleware` integration instead.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, OutgoingCall, RequestHead};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// in_flight.context().enter(|| {
///     let first = OutgoingCall::start("GET", "http://inventory.internal/items?page=2", None).unwrap();
///     let second = OutgoingCall::start("POST", "http://billing.internal/charge", None).unwrap();
///     let (a, b) = (first.headers().unwrap(), second.headers().unwrap());
///     assert_ne!(a.sentry_trace, b.sentry_trace, "a parent id per call");
///     first.finish(StatusCode::OK);
///     second.fail();
/// });
/// assert!(OutgoingCall::start("GET", "http://x/", None).is_none(), "outside a request");
/// # drop(in_flight);
/// ```
#[must_use = "finish the call with its response status (dropping it ends the span as cancelled)"]
pub struct OutgoingCall {
    headers: Option<OutgoingHeaders>,
    span_id: SpanId,
    span: Option<sentry_core::Span>,
}

impl std::fmt::Debug for OutgoingCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingCall")
            .field("span_id", &self.span_id)
            .field("recorded", &self.span.is_some())
            .field("headers", &self.headers)
            .finish()
    }
}

impl OutgoingCall {
    /// Starts the call `method url` from the current request; `None`
    /// outside a request. `existing_baggage` is the outgoing request's own
    /// `baggage` (the Sentry members are appended to it).
    ///
    /// A URL that does not match the propagation targets gets no headers
    /// ([`headers`](Self::headers) is `None`), but its span is recorded all
    /// the same when the request is sampled.
    pub fn start(method: &str, url: &str, existing_baggage: Option<&str>) -> Option<Self> {
        let ctx = lookout_scope::current()?;
        let engine = super::engine_of(&ctx);
        let span_id = SpanId::random();
        let span = if ctx.trace().sampled {
            record(&ctx, method, url, span_id)
        } else {
            None
        };
        let headers = engine
            .targets
            .matches(url)
            .then(|| headers_for(&ctx, &engine, span_id, existing_baggage));
        Some(Self {
            headers,
            span_id,
            span,
        })
    }

    /// The headers to send, when the URL is a propagation target.
    pub fn headers(&self) -> Option<&OutgoingHeaders> {
        self.headers.as_ref()
    }

    /// The call's span id: the parent id the callee sees.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// Whether the span is recorded (the request is sampled).
    pub fn is_recorded(&self) -> bool {
        self.span.is_some()
    }

    /// Names the client on the recorded span (`sentry.origin`, e.g.
    /// `auto.http.reqwest`; default [`MANUAL_ORIGIN`]).
    pub fn set_origin(&self, origin: &str) {
        if let Some(span) = &self.span {
            span.set_data("sentry.origin", Value::from(origin));
        }
    }

    /// Adds the headers to an outgoing `http::HeaderMap` (replacing any
    /// trace headers it had; its own `baggage` was given to
    /// [`start`](Self::start)).
    pub fn inject(&self, headers: &mut HeaderMap) {
        let Some(out) = &self.headers else {
            return;
        };
        for (name, value) in out.iter() {
            // Every value was written by lookout-headers: visible ASCII.
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }

    /// The callee answered with `status`: the span ends with its status.
    pub fn finish(mut self, status: StatusCode) {
        if let Some(span) = self.span.take() {
            span.set_data("http.response.status_code", Value::from(status.as_u16()));
            span.set_status(lookout_classify::span_status(status));
            span.finish();
        }
    }

    /// The call got no response (connection refused, timeout, ...): the
    /// span ends as `internal_error`.
    pub fn fail(mut self) {
        if let Some(span) = self.span.take() {
            span.set_status(SpanStatus::InternalError);
            span.finish();
        }
    }
}

impl Drop for OutgoingCall {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            span.set_status(SpanStatus::Cancelled);
            span.finish();
        }
    }
}

/// Starts the `http.client` span of a sampled request's call.
fn record(
    ctx: &lookout_scope::RequestContext,
    method: &str,
    url: &str,
    span_id: SpanId,
) -> Option<sentry_core::Span> {
    let hub = ctx.hub()?;
    let parent = hub.configure_scope(|scope| scope.get_span())?;
    let uri = url.parse::<http::Uri>().ok();
    // The description names the URL without its query or fragment.
    let bare = url.split(['?', '#']).next().unwrap_or(url);
    let span = parent.start_child_with_details(
        "http.client",
        &format!("{method} {bare}"),
        span_id.into(),
        SystemTime::now(),
    );
    span.set_data("http.request.method", Value::from(method));
    span.set_data("url.full", Value::from(url));
    span.set_data("sentry.origin", Value::from(MANUAL_ORIGIN));
    if let Some(uri) = &uri {
        if let Some(host) = uri.host() {
            span.set_data("server.address", Value::from(host));
        }
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        if let Some(port) = port {
            span.set_data("server.port", Value::from(port));
        }
    }
    Some(span)
}

/// Starts an [`OutgoingCall`] for `method url` and adds its headers to an
/// outgoing `http::HeaderMap`, keeping the map's own `baggage` members.
/// `None` outside a request. Finish the returned call with the response.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, RequestHead, inject_headers};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// let mut outgoing = HeaderMap::new();
/// let call = in_flight.context().enter(|| inject_headers("GET", "http://svc/", &mut outgoing)).unwrap();
/// assert!(outgoing.contains_key("sentry-trace"));
/// assert!(outgoing.contains_key("traceparent"));
/// call.finish(StatusCode::OK);
/// # drop(in_flight);
/// ```
pub fn inject_headers(method: &str, url: &str, headers: &mut HeaderMap) -> Option<OutgoingCall> {
    let mut existing = String::new();
    for value in headers.get_all(names::BAGGAGE) {
        if let Ok(value) = value.to_str() {
            if !existing.is_empty() {
                existing.push(',');
            }
            existing.push_str(value);
        }
    }
    let call = OutgoingCall::start(method, url, (!existing.is_empty()).then_some(&*existing))?;
    call.inject(headers);
    Some(call)
}
