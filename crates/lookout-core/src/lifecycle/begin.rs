//! [`Engine::begin`]: request id, trace continuation, sampling, the
//! request's context and, when sampled, its transaction.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::Method;
use lookout_headers::SpanId;
use lookout_scope::{RequestContext, RequestTrace};
use sentry_core::{TransactionContext, TransactionOrSpan};

use super::in_flight::InFlight;
use super::request_info::RequestInfo;
use super::span_context;
use crate::continuation::Continuation;
use crate::engine::{Engine, Shared, with_transaction_name};
use crate::head::{Headers, RequestHead, names};
use crate::toolkit::route::set_source;

impl Engine {
    /// Starts the lifecycle of one request: request id, trace continuation,
    /// sampling decision, the request's context (and Hub, when a client is
    /// bound) and, when sampled, its transaction.
    ///
    /// Bind [`InFlight::context`] to the handler's future (and to the
    /// response body), then call [`InFlight::finish`] with the response.
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::{Engine, RequestHead, ResponseHead};
    ///
    /// let lookout = Engine::builder().build();
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-request-id", "abc-123".parse().unwrap());
    /// headers.insert("sentry-trace", "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1".parse().unwrap());
    ///
    /// let in_flight = lookout.begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
    /// assert_eq!(in_flight.context().request_id(), "abc-123");
    /// assert!(in_flight.trace_origin().is_continued());
    ///
    /// let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
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
        let origin = continuation.origin;
        let (ctx, decision) = open_context(
            engine,
            request_id,
            continuation,
            &method,
            true,
            sampling_route,
        );

        let mut request = None;
        let mut transaction = None;
        if ctx.hub().is_some() {
            // Owned copies only when something may be sent: the disabled path
            // stays at the request context's one allocation.
            if let Some(route) = head.route() {
                ctx.set_route(route);
            }
            request = Some(RequestInfo::new(head.path(), head.query()));
            // For the request's events: kept as text in the context's own
            // allocation, built into request data only when one is captured.
            super::request_data::keep_head(&ctx, head);
            if decision.sampled {
                if delivery_saturated(engine) {
                    shed_transaction(engine);
                } else {
                    transaction = Some(start_transaction(&ctx, head, &method));
                }
            }
        }
        InFlight {
            engine: Arc::clone(engine),
            ctx,
            method,
            started,
            started_at: SystemTime::now(),
            request,
            transaction,
            origin,
            route_known: head.route().is_some(),
            finished: false,
        }
    }
}

/// The context of a unit of work (a request, a background job): its trace
/// continued from `continuation` or started here, the sampling decision, its
/// own Hub when a client is bound, the frozen DSC and the caller's
/// `tracestate`. `method` is what sampling rules see; the context records
/// it only for requests (`http_method`).
pub(crate) fn open_context(
    engine: &Arc<Shared>,
    request_id: lookout_headers::RequestId,
    continuation: Continuation,
    method: &Method,
    http_method: bool,
    sampling_route: &str,
) -> (RequestContext, lookout_policy::SamplingDecision) {
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
        .method(if http_method { method.as_str() } else { "" })
        .owner(Arc::clone(engine) as Arc<dyn std::any::Any + Send + Sync>);
    if let Some(pii) = engine.pii {
        builder = builder.pii(pii);
    }
    if let Some(hub) = &engine.hub {
        builder = builder.parent_hub(Arc::clone(hub));
    }
    if let Some(dsc) = continuation.dsc {
        builder = builder.frozen_dsc(dsc);
    } else if let Some(members) = continuation.dsc_members {
        builder = builder.incoming_dsc(members);
    }
    if let Some(tracestate) = continuation.tracestate {
        builder = builder.tracestate(tracestate);
    }
    (builder.build(), decision)
}

/// Whether the send queue is at a bound now, so that a transaction would be
/// dropped as it arrives (one atomic load).
fn delivery_saturated(engine: &Shared) -> bool {
    engine
        .attached
        .get()
        .is_some_and(|attached| attached.stats.saturated())
}

/// A sampled request while the send queue is full: its transaction is not
/// recorded, since the queue would drop it (and the work of building it is
/// what a saturated service can least afford). The decision stays sampled:
/// the response, outgoing calls and events still carry it, so the rest of
/// the trace is kept. Counted and reported as the queue's own drop would
/// be: `queue_full` in the stats, a `queue_overflow` client report for one
/// transaction and its span.
fn shed_transaction(engine: &Shared) {
    if let Some(attached) = engine.attached.get() {
        attached.stats.transaction_shed();
    }
}

fn start_transaction<H: Headers + ?Sized>(
    ctx: &RequestContext,
    head: &RequestHead<'_, H>,
    method: &Method,
) -> sentry_core::Transaction {
    let trace = ctx.trace();
    // Named once, when the name is final: here for a template known now
    // (built on the stack: sentry-core copies it); else when one is learned,
    // or `METHOD /path` when the request ends without one. No raw-path name
    // is built only to be replaced. Ids given up front: the builder would
    // draw random ones, then replace them. The op is left empty here and
    // written when the transaction is sent (`span_context`), like its origin
    // and data.
    let with_name = |name: &str| {
        TransactionContext::new_with_details(
            name,
            span_context::OP_UNTIL_SENT,
            trace.trace_id.into(),
            Some(trace.span_id.into()),
            trace.parent_span_id.map(Into::into),
        )
    };
    let mut tx_ctx = match head.route() {
        Some(route) => with_transaction_name(method.as_str(), route, with_name),
        None => with_name(""),
    };
    tx_ctx.set_sampled(Some(true));
    let hub = ctx.hub().cloned().unwrap_or_else(sentry_core::Hub::current);
    let transaction = hub.start_transaction(tx_ctx);
    // The source is written once the name is final: here for a template
    // known now, else when a route is learned or the request ends without
    // one (`url`), so a late route does not write it twice.
    if head.route().is_some() {
        set_source(&transaction, "route");
    }
    transaction.set_request(super::request_data::for_transaction(head, method));
    let span: TransactionOrSpan = transaction.clone().into();
    // The span gives events captured in the request their trace context.
    // (lookout never sets a `trace` context on a scope, so none overrides it.)
    hub.configure_scope(|scope| scope.set_span(Some(span)));
    transaction
}
