//! [`InFlight`]: one request between `begin` and `finish`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::Method;
use lookout_classify::Outcome;
use lookout_headers::TraceParent;
use lookout_scope::EventHealth;
use lookout_scope::{RequestContext, RequestTrace, ResponseSummary};

use super::request_info::RequestInfo;
use super::{BodyEnd, Finished, ResponseHeaders};
use crate::continuation::TraceOrigin;
use crate::engine::Shared;
use crate::engine::transaction_name;
use crate::head::{HandlerError, ResponseHead};
use crate::sessions::Ended;
use crate::toolkit::route::{name_after_route, set_source};
use crate::toolkit::{CurrentRequest, RouteLearner};

/// A request in flight; see [`Engine::begin`](crate::Engine::begin).
///
/// Dropping it without [`finish`](InFlight::finish) means the request was
/// dropped (client gone, timeout): its transaction ends as `cancelled`.
#[must_use = "call finish() with the response, or the request counts as cancelled"]
pub struct InFlight {
    pub(super) engine: Arc<Shared>,
    pub(super) ctx: RequestContext,
    pub(super) method: Method,
    pub(super) started: Instant,
    /// When it began, for its release-health session's minute.
    pub(super) started_at: SystemTime,
    pub(super) request: Option<RequestInfo>,
    pub(super) transaction: Option<sentry_core::Transaction>,
    pub(super) origin: TraceOrigin,
    /// Whether `begin` knew the route template (otherwise it may be learned).
    pub(super) route_known: bool,
    pub(super) finished: bool,
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

impl InFlight {
    /// The request's context: bind it to the handler and the response body.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// The request as handlers see it ([`CurrentRequest`]).
    pub fn current(&self) -> CurrentRequest {
        CurrentRequest::from_context(self.ctx.clone())
    }

    /// Where the request's trace came from.
    pub fn trace_origin(&self) -> crate::TraceOrigin {
        self.origin
    }

    /// Whether the request's trace is sampled.
    pub fn sampled(&self) -> bool {
        self.ctx.trace().sampled
    }

    /// When `begin` did not know the route template (the middleware runs
    /// before routing), the handle through which code inside routing tells
    /// it: adapters put it in the request's extensions. `None` when the route
    /// is known already.
    pub fn route_learner(&self) -> Option<RouteLearner> {
        (!self.route_known).then(|| RouteLearner::new(self.ctx.clone(), self.transaction.clone()))
    }

    /// A `tracing` span for the request (target `lookout::request`)
    /// carrying `request_id`, `trace_id` and `method`, so every log line
    /// inside the request has them in a fmt layer of your own. The adapters
    /// enter it around the handler; lookout's own subscriber leaves it off
    /// (its log lines read the ids from the request's context), so there it
    /// is a disabled span that costs one atomic load.
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

    /// Ends the request's handling with what happened: the status, the
    /// handler's typed error and the panic, all on `response`. Classifies
    /// the outcome (capturing an event, recording one log, or nothing),
    /// records the request breadcrumb and session, sets the transaction
    /// status and returns the response headers and the body-end handle.
    ///
    /// The route is the one `begin` saw, else the one a [`RouteLearner`]
    /// learned (applied when it was learned), else the one on `response`.
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::{Engine, RequestHead, ResponseHead};
    ///
    /// let engine = Engine::builder().build();
    /// let in_flight = engine.begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    /// let error = std::io::Error::other("upstream refused");
    /// let finished = in_flight.finish(&ResponseHead::new(StatusCode::BAD_GATEWAY).with_typed_error(&error));
    /// finished.body.complete();
    /// ```
    pub fn finish(mut self, response: &ResponseHead<'_>) -> Finished {
        self.finished = true;
        let status = response.status();
        if self.ctx.route().is_none()
            && self.ctx.hub().is_some()
            && let Some(route) = response.route()
        {
            self.ctx.set_route(route);
            if let Some(tx) = &self.transaction {
                name_after_route(tx, self.method.as_str(), route);
            }
        }
        self.name_after_url_unless_routed();
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
            match response.error() {
                Some(HandlerError::Dyn(error)) => outcome = outcome.with_error_dyn(error),
                Some(HandlerError::Typed(error)) => {
                    outcome = super::typed_error::attach(error, outcome);
                }
                None => {}
            }
            let panic = response.panic();
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
                && let Some(mut event) = lookout_classify::event(&outcome, &decided)
            {
                // Frames where it happened: the panic site, or where the
                // typed error became the response (taken then for a 5xx).
                let frames = match (panic, response.error()) {
                    (Some(_), _) => crate::stacktrace::take_panic(),
                    (None, Some(HandlerError::Typed(error))) => {
                        crate::stacktrace::take_reported(error)
                    }
                    _ => None,
                };
                crate::stacktrace::attach_to_exception(&mut event, frames);
                event_id = Some(crate::stacktrace::own_capture(|| {
                    self.ctx.enter(|| hub.capture_event(event))
                }));
            }
            if decided.is_log() {
                crate::logs::record_outcome(&self.engine, &self.ctx, hub, &outcome, &decided);
            }
            if let Some(sessions) = &self.engine.sessions {
                // An event captured above already marked the request errored.
                let ended = match (panic, self.ctx.event_health()) {
                    (Some(_), _) | (None, EventHealth::Crashed) => Ended::Crashed,
                    (None, EventHealth::Errored) => Ended::Errored,
                    (None, _) => Ended::Exited,
                };
                sessions.record(self.started_at, ended);
            }
            if let Some(tx) = &self.transaction {
                // With its status, its trace context says the response's
                // status code (`span_context`, from the response above).
                tx.set_status(lookout_classify::span_status(status));
            }
            decision = Some(decided);
        }
        let headers = ResponseHeaders::new(
            self.ctx.request_id_owned(),
            self.engine
                .server_timing
                .then(|| crate::propagation::server_timing(&self.ctx, &self.engine)),
        );
        Finished {
            headers,
            decision,
            event_id,
            body: BodyEnd::new(self.ctx.clone(), self.transaction.take()),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.name_after_url_unless_routed();
        if let Some(tx) = self.transaction.take() {
            tx.set_status(lookout_classify::dropped_span_status());
            self.ctx.enter(|| tx.finish());
        }
        if let Some(sessions) = &self.engine.sessions
            && self.ctx.hub().is_some()
        {
            sessions.record(self.started_at, Ended::Abnormal);
        }
    }
}

impl InFlight {
    /// No template named the transaction by its end: it is named after the
    /// raw path now (it started unnamed), source `url`.
    fn name_after_url_unless_routed(&self) {
        if let Some(tx) = &self.transaction
            && self.ctx.route().is_none()
        {
            if let Some(request) = &self.request {
                tx.set_name(&transaction_name(self.method.as_str(), request.path()));
            }
            set_source(tx, "url");
        }
    }
}

/// The `traceparent` we send downstream for this request.
pub(crate) fn traceparent_for(trace: &RequestTrace) -> TraceParent {
    TraceParent::new(trace.trace_id, trace.span_id, trace.sampled)
        .with_random_trace_id(trace.w3c_random)
}
