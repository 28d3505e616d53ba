//! One request between `begin` and the end of its response body.

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use http::Method;
use lookout_classify::{Decision, Outcome};
use lookout_headers::{SpanId, TraceParent};
use lookout_scope::{RequestContext, RequestTrace, ResponseSummary};
use sentry_core::protocol::{SessionStatus, SpanStatus, Value};
use sentry_core::{TransactionContext, TransactionOrSpan};

use crate::continuation::{Continuation, TraceOrigin};
use crate::engine::{Engine, Lookout, transaction_name};
use crate::head::{Headers, RequestHead, ResponseHead, names};

impl Lookout {
    /// Starts the lifecycle of one request: request id, trace continuation,
    /// sampling decision, the request's context (and Hub, when a client is
    /// bound) and, when sampled, its transaction.
    ///
    /// Bind [`InFlight::context`] to the handler's future (and to the
    /// response body), then call [`InFlight::finish`] with the response.
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::{Lookout, RequestHead, ResponseHead};
    ///
    /// let lookout = Lookout::builder().build();
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-request-id", "abc-123".parse().unwrap());
    /// headers.insert("sentry-trace", "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1".parse().unwrap());
    ///
    /// let in_flight = lookout.begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
    /// assert_eq!(in_flight.context().request_id(), "abc-123");
    /// assert!(in_flight.trace_origin().is_continued());
    ///
    /// let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK), None, None);
    /// assert_eq!(finished.headers.request_id.as_str(), "abc-123");
    /// finished.body.complete();
    /// ```
    pub fn begin<H: Headers + ?Sized>(&self, head: &RequestHead<'_, H>) -> InFlight {
        let started = Instant::now();
        let engine = &self.engine;
        let headers = head.headers();
        let request_id = lookout_headers::RequestId::from_header_or_generate(
            headers.values_of(names::REQUEST_ID).next(),
        );
        let continuation = Continuation::from_headers(headers, &engine.org);
        let method = Method::from_bytes(head.method().as_bytes()).unwrap_or_default();
        let sampling_route = head.route().unwrap_or(head.path());
        let decision = engine.sampling.decide(
            &lookout_policy::SamplingRequest::new(continuation.trace_id, method.as_str())
                .route(sampling_route)
                .parent(continuation.parent_sampled, continuation.parent_sample_rate)
                .incoming_sample_rand(continuation.incoming_sample_rand),
        );
        let trace = RequestTrace::new(continuation.trace_id, SpanId::random(), decision.sampled)
            .with_parent(continuation.parent_span_id)
            .with_sampling(decision.sample_rate, decision.sample_rand.as_f64())
            .with_w3c_random(continuation.w3c_random);
        let mut builder = RequestContext::builder(request_id)
            .trace(trace)
            .method(method.as_str())
            .owner(Arc::clone(engine) as Arc<dyn std::any::Any + Send + Sync>);
        if let Some(pii) = engine.pii {
            builder = builder.pii(pii);
        }
        if let Some(hub) = &engine.hub {
            builder = builder.parent_hub(Arc::clone(hub));
        }
        if let Some(dsc) = continuation.dsc {
            builder = builder.frozen_dsc(dsc);
        }
        if let Some(tracestate) = continuation.tracestate {
            builder = builder.tracestate(tracestate);
        }
        let ctx = builder.build();

        let mut request = None;
        let mut transaction = None;
        if let Some(hub) = ctx.hub() {
            // Owned copies only when something may be sent: the disabled path
            // stays at the request context's one allocation.
            if let Some(route) = head.route() {
                ctx.set_route(route);
            }
            request = Some(RequestInfo::new(head.path(), head.query()));
            if decision.sampled {
                transaction = Some(start_transaction(engine, &ctx, head, &method));
            }
            if engine.sessions {
                hub.start_session();
            }
        }
        InFlight {
            engine: Arc::clone(engine),
            ctx,
            method,
            started,
            request,
            transaction,
            origin: continuation.origin,
            finished: false,
        }
    }
}

fn start_transaction<H: Headers + ?Sized>(
    engine: &Engine,
    ctx: &RequestContext,
    head: &RequestHead<'_, H>,
    method: &Method,
) -> sentry_core::Transaction {
    let trace = ctx.trace();
    let (name, source) = match head.route() {
        Some(route) => (transaction_name(method.as_str(), route), "route"),
        None => (transaction_name(method.as_str(), head.path()), "url"),
    };
    // Ids given up front: the builder would draw random ones, then replace them.
    let mut tx_ctx = TransactionContext::new_with_details(
        &name,
        "http.server",
        trace.trace_id.into(),
        Some(trace.span_id.into()),
        trace.parent_span_id.map(Into::into),
    );
    tx_ctx.set_sampled(Some(true));
    let hub = ctx.hub().cloned().unwrap_or_else(sentry_core::Hub::current);
    let transaction = hub.start_transaction(tx_ctx);
    transaction.set_origin(&engine.origin);
    transaction.set_data("http.request.method", Value::from(method.as_str()));
    transaction.set_tag("transaction.source", source);
    {
        let mut data = transaction.data();
        data.set_data("sentry.source".into(), Value::from(source));
    }
    let span: TransactionOrSpan = transaction.clone().into();
    // The span gives events captured in the request their trace context.
    // (lookout never sets a `trace` context on a scope, so none overrides it.)
    hub.configure_scope(|scope| scope.set_span(Some(span)));
    transaction
}

/// Paths and queries up to this many bytes are kept inside [`InFlight`]
/// itself; longer ones take one allocation.
const INLINE_PATH: usize = 80;

/// The path and query (only kept when a client is bound, for classification).
struct RequestInfo {
    text: PathText,
    path_len: usize,
    has_query: bool,
}

/// The bytes of the path and query: inline when short (most are), so a bound
/// client costs no allocation for them.
enum PathText {
    Inline { buf: [u8; INLINE_PATH], len: usize },
    Heap(Box<str>),
}

impl RequestInfo {
    fn new(path: &str, query: Option<&str>) -> Self {
        let query_len = query.map_or(0, str::len);
        let len = path.len() + query_len;
        let text = if len <= INLINE_PATH {
            let mut buf = [0u8; INLINE_PATH];
            buf[..path.len()].copy_from_slice(path.as_bytes());
            buf[path.len()..len].copy_from_slice(query.unwrap_or_default().as_bytes());
            PathText::Inline { buf, len }
        } else {
            let mut text = String::with_capacity(len);
            text.push_str(path);
            text.push_str(query.unwrap_or_default());
            PathText::Heap(text.into_boxed_str())
        };
        Self {
            text,
            path_len: path.len(),
            has_query: query.is_some(),
        }
    }

    fn text(&self) -> &str {
        match &self.text {
            // Two whole `&str`s were copied in: valid UTF-8, split on their
            // boundary only.
            PathText::Inline { buf, len } => std::str::from_utf8(&buf[..*len]).unwrap_or_default(),
            PathText::Heap(text) => text,
        }
    }

    fn path(&self) -> &str {
        self.text().get(..self.path_len).unwrap_or_default()
    }

    fn query(&self) -> Option<&str> {
        self.has_query
            .then(|| self.text().get(self.path_len..).unwrap_or_default())
    }
}

/// A request in flight; see [`Lookout::begin`].
///
/// Dropping it without [`finish`](InFlight::finish) means the request was
/// dropped (client gone, timeout): its transaction ends as `cancelled`.
#[must_use = "call finish() with the response, or the request counts as cancelled"]
pub struct InFlight {
    engine: Arc<Engine>,
    ctx: RequestContext,
    method: Method,
    started: Instant,
    request: Option<RequestInfo>,
    transaction: Option<sentry_core::Transaction>,
    origin: TraceOrigin,
    finished: bool,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("request_id", &self.ctx.request_id())
            .field("trace", &self.ctx.trace())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// What [`InFlight::finish`] decided and what the adapter must do next.
#[derive(Debug)]
#[must_use = "add the headers to the response and complete the body"]
pub struct Finished {
    /// Headers to add to the response.
    pub headers: ResponseHeaders,
    /// What the classifiers decided (`None` when no client is bound: nothing
    /// can be captured, so nothing is classified).
    pub decision: Option<Decision>,
    /// The id of the event captured for this request, if any.
    pub event_id: Option<sentry_core::types::Uuid>,
    /// Ends the transaction when the response body has been sent.
    pub body: BodyEnd,
}

/// Headers core adds to every response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// `x-request-id`: always (validated incoming or generated).
    pub request_id: lookout_headers::RequestId,
    /// `server-timing` with `sentry-trace` and `baggage`, when enabled.
    pub server_timing: Option<String>,
}

impl ResponseHeaders {
    /// `(name, value)` pairs, ready for any framework's header map.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        std::iter::once((names::REQUEST_ID, self.request_id.as_str())).chain(
            self.server_timing
                .as_deref()
                .map(|value| (names::SERVER_TIMING, value)),
        )
    }
}

impl InFlight {
    /// The request's context: bind it to the handler and the response body.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// Where the request's trace came from.
    pub fn trace_origin(&self) -> TraceOrigin {
        self.origin
    }

    /// Whether the request's trace is sampled.
    pub fn sampled(&self) -> bool {
        self.ctx.trace().sampled
    }

    /// A `tracing` span for the request carrying `request_id` and
    /// `trace_id`, so every log line inside the request has them.
    pub fn tracing_span(&self) -> tracing::Span {
        let trace = self.ctx.trace();
        tracing::info_span!(
            target: "lookout::request",
            "request",
            request_id = %self.ctx.request_id(),
            trace_id = %trace.trace_id,
            method = %self.method,
        )
    }

    /// Ends the request's handling: classifies the outcome (capturing an
    /// event, leaving a breadcrumb, or nothing), records the request
    /// breadcrumb and session, sets the transaction status and returns the
    /// response headers and the body-end handle.
    ///
    /// `error` is the handler's typed error (its `source()` chain is
    /// classified); `panic` is the panic message when the handler panicked
    /// (the adapter answers 500).
    pub fn finish(
        self,
        response: &ResponseHead<'_>,
        error: Option<&(dyn Error + 'static)>,
        panic: Option<&str>,
    ) -> Finished {
        self.finish_with(response, error.map(HandlerError::Dyn), panic)
    }

    /// [`finish`](InFlight::finish) with an error whose concrete type is
    /// known ([`TypedError`]), so the event and the `error.rust_type` tag
    /// name that type exactly. Adapters use it for errors that travelled
    /// type-erased (a response extension holding `Arc<dyn TypedError>`).
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::{Lookout, RequestHead, ResponseHead, TypedError};
    ///
    /// let lookout = Lookout::builder().build();
    /// let in_flight = lookout.begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    /// let error: std::sync::Arc<dyn TypedError> = std::sync::Arc::new(std::fmt::Error);
    /// let finished = in_flight.finish_typed(&ResponseHead::new(StatusCode::BAD_GATEWAY), Some(&*error), None);
    /// finished.body.complete();
    /// ```
    pub fn finish_typed(
        self,
        response: &ResponseHead<'_>,
        error: Option<&dyn TypedError>,
        panic: Option<&str>,
    ) -> Finished {
        self.finish_with(response, error.map(HandlerError::Typed), panic)
    }

    fn finish_with(
        mut self,
        response: &ResponseHead<'_>,
        error: Option<HandlerError<'_>>,
        panic: Option<&str>,
    ) -> Finished {
        self.finished = true;
        let status = response.status();
        if let Some(route) = response.route()
            && self.ctx.route().is_none()
            && self.ctx.hub().is_some()
        {
            self.ctx.set_route(route);
            if let Some(tx) = &self.transaction {
                tx.set_name(&transaction_name(self.method.as_str(), route));
                tx.set_tag("transaction.source", "route");
            }
        }
        let mut decision = None;
        let mut event_id = None;
        if let (Some(hub), Some(request)) = (self.ctx.hub(), self.request.as_ref()) {
            let route = self.ctx.route();
            let mut outcome = Outcome::new(&self.method, request.path(), status)
                .with_latency(self.started.elapsed());
            if let Some(route) = route.as_deref() {
                outcome = outcome.with_route(route);
            }
            if let Some(query) = request.query() {
                outcome = outcome.with_query(query);
            }
            match error {
                Some(HandlerError::Dyn(error)) => outcome = outcome.with_error_dyn(error),
                Some(HandlerError::Typed(error)) => outcome = error.attach_to(outcome),
                None => {}
            }
            if let Some(panic) = panic {
                outcome = outcome.with_panic(panic);
            }
            let decided = self.engine.classifiers.decide(&outcome);
            // The request breadcrumb goes on every event captured from now on.
            self.ctx.set_response(ResponseSummary {
                status: status.as_u16(),
                latency: outcome.latency(),
            });
            if decided.is_capture()
                && let Some(event) = lookout_classify::event(&outcome, &decided)
            {
                event_id = Some(self.ctx.enter(|| hub.capture_event(event)));
            }
            if self.engine.sessions {
                if panic.is_some() {
                    hub.end_session_with_status(SessionStatus::Crashed);
                } else {
                    // An event captured above already marked the session errored.
                    hub.end_session();
                }
            }
            if let Some(tx) = &self.transaction {
                tx.set_status(lookout_classify::span_status(status));
                tx.set_data("http.response.status_code", Value::from(status.as_u16()));
            }
            decision = Some(decided);
        }
        let headers = ResponseHeaders {
            request_id: self.ctx.request_id_owned(),
            server_timing: self
                .engine
                .server_timing
                .then(|| crate::propagation::server_timing(&self.ctx, &self.engine)),
        };
        Finished {
            headers,
            decision,
            event_id,
            body: BodyEnd {
                ctx: self.ctx.clone(),
                transaction: self.transaction.take(),
            },
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(tx) = self.transaction.take() {
            tx.set_status(lookout_classify::dropped_span_status());
            self.ctx.enter(|| tx.finish());
        }
        if self.engine.sessions
            && let Some(hub) = self.ctx.hub()
        {
            hub.end_session_with_status(SessionStatus::Abnormal);
        }
    }
}

/// The handler's error as [`InFlight::finish`] or [`InFlight::finish_typed`] got it.
#[derive(Clone, Copy)]
enum HandlerError<'e> {
    Dyn(&'e (dyn Error + 'static)),
    Typed(&'e dyn TypedError),
}

/// An error that still knows its concrete type behind a trait object.
///
/// Every `E: Error + Send + Sync + 'static` is one. An adapter that must carry
/// a handler's error type-erased (axum: in a response extension) keeps an
/// `Arc<dyn TypedError>` and hands it to [`InFlight::finish_typed`]; the
/// classifier then sees the error by its concrete type
/// ([`Outcome::with_error`]), which `&dyn Error` cannot give it.
///
/// ```
/// use lookout_core::TypedError;
///
/// let error: Box<dyn TypedError> = Box::new(std::fmt::Error);
/// assert_eq!(error.type_name(), "core::fmt::Error");
/// ```
pub trait TypedError: Error + Send + Sync + 'static {
    /// `outcome` with this error attached by its concrete type.
    fn attach_to<'a>(&'a self, outcome: Outcome<'a>) -> Outcome<'a>;

    /// The concrete type's name ([`std::any::type_name`]).
    fn type_name(&self) -> &'static str;
}

impl<E: Error + Send + Sync + 'static> TypedError for E {
    fn attach_to<'a>(&'a self, outcome: Outcome<'a>) -> Outcome<'a> {
        outcome.with_error(self)
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<E>()
    }
}

/// Ends the request's transaction when the response body is done.
///
/// Call [`complete`](BodyEnd::complete) when the last byte was sent; dropping
/// it earlier (client gone mid-body) ends the transaction as `cancelled`.
#[derive(Debug)]
#[must_use = "complete() when the body has been sent"]
pub struct BodyEnd {
    ctx: RequestContext,
    transaction: Option<sentry_core::Transaction>,
}

impl BodyEnd {
    /// The request's context (keep it bound while the body streams).
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// The body has been sent in full: the transaction ends now.
    pub fn complete(mut self) {
        if let Some(tx) = self.transaction.take() {
            self.ctx.enter(|| tx.finish());
        }
    }
}

impl Drop for BodyEnd {
    fn drop(&mut self) {
        if let Some(tx) = self.transaction.take() {
            tx.set_status(SpanStatus::Cancelled);
            self.ctx.enter(|| tx.finish());
        }
    }
}

/// The `traceparent` we send downstream for this request.
pub(crate) fn traceparent_for(trace: &RequestTrace) -> TraceParent {
    TraceParent::new(trace.trace_id, trace.span_id, trace.sampled)
        .with_random_trace_id(trace.w3c_random)
}

#[cfg(test)]
mod tests {
    use super::RequestInfo;

    #[test]
    fn short_paths_are_kept_inline_and_long_ones_whole() {
        for (path, query) in [
            ("/users/7", None),
            ("/users/7", Some("a=1&b=%C3%A9")),
            ("/ünïcode/päth", Some("q=ü")),
            ("", Some("")),
        ] {
            let info = RequestInfo::new(path, query);
            assert!(matches!(info.text, super::PathText::Inline { .. }));
            assert_eq!((info.path(), info.query()), (path, query));
        }
        let long_path = "/a".repeat(60);
        let info = RequestInfo::new(&long_path, Some("x=1"));
        assert!(matches!(info.text, super::PathText::Heap(_)));
        assert_eq!(
            (info.path(), info.query()),
            (long_path.as_str(), Some("x=1"))
        );
        let info = RequestInfo::new(&"/é".repeat(40), None);
        assert_eq!(info.path(), "/é".repeat(40));
    }
}
