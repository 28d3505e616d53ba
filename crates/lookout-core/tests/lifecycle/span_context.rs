//! The trace context of a request's transaction, on the transaction and on
//! the events captured under it: op, origin and the data
//! `http.request.method`, `sentry.source`, `http.response.status_code`, as
//! they stand when each is captured.

use http::{HeaderMap, StatusCode};
use lookout_core::testing::TestLookout;
use lookout_core::{RequestHead, ResponseHead};
use sentry_core::protocol::{Event, TraceContext, Value};

use crate::support::{TransactionExt, trace_of};

fn capture(ctx: &lookout_core::RequestContext, message: &str) {
    ctx.enter(|| sentry_core::Hub::current().capture_message(message, sentry_core::Level::Error));
}

fn event<'a>(events: &'a [Event<'static>], message: &str) -> &'a Event<'static> {
    events
        .iter()
        .find(|e| e.message.as_deref() == Some(message))
        .unwrap_or_else(|| panic!("no event {message:?}"))
}

/// The data keys and values of a trace context, sorted.
fn data(trace: &TraceContext) -> Vec<(String, Value)> {
    trace
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn pairs(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn a_routed_request_says_its_method_and_source_and_once_answered_its_status_code() {
    let test = TestLookout::new();
    let engine = test.engine().for_adapter("auto.http.test");
    let in_flight = engine
        .begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()).with_route("/users/{id}"));
    capture(in_flight.context(), "in the handler");
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR));
    capture(finished.body.context(), "while the body streams");
    finished.body.complete();

    let handler = pairs(&[
        ("http.request.method", Value::from("GET")),
        ("sentry.source", Value::from("route")),
    ]);
    let answered = pairs(&[
        ("http.request.method", Value::from("GET")),
        ("http.response.status_code", Value::from(500)),
        ("sentry.source", Value::from("route")),
    ]);
    let events = test.events();
    let tx = test.transactions()[0].contexts_trace();
    for (trace, want) in [
        (trace_of(event(&events, "in the handler")), &handler),
        (
            trace_of(event(&events, "while the body streams")),
            &answered,
        ),
        (tx.clone(), &answered),
    ] {
        assert_eq!(trace.span_id, tx.span_id);
        assert_eq!(trace.op.as_deref(), Some("http.server"));
        assert_eq!(trace.origin.as_deref(), Some("auto.http.test"));
        assert_eq!(&data(&trace), want);
    }
    // The classified event is captured before the transaction has its status.
    let classified = events
        .iter()
        .find(|e| {
            !matches!(
                e.message.as_deref(),
                Some("in the handler" | "while the body streams")
            )
        })
        .map(trace_of)
        .expect("the 500 is captured");
    assert_eq!(classified.status, None);
    assert_eq!(data(&classified), handler);
}

#[test]
fn without_a_route_the_source_is_url_once_the_request_is_answered() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/things", &HeaderMap::new()));
    capture(in_flight.context(), "in the handler");
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    capture(finished.body.context(), "while the body streams");
    finished.body.complete();

    let events = test.events();
    let handler = trace_of(event(&events, "in the handler"));
    assert_eq!(
        data(&handler),
        pairs(&[("http.request.method", Value::from("POST"))])
    );
    let answered = pairs(&[
        ("http.request.method", Value::from("POST")),
        ("http.response.status_code", Value::from(200)),
        ("sentry.source", Value::from("url")),
    ]);
    assert_eq!(
        data(&trace_of(event(&events, "while the body streams"))),
        answered
    );
    assert_eq!(data(&test.transactions()[0].contexts_trace()), answered);
}

#[test]
fn a_dropped_request_has_its_source_and_no_status_code() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/slow", &HeaderMap::new()));
    let ctx = in_flight.context().clone();
    drop(in_flight);
    capture(&ctx, "after the drop");
    drop(ctx);

    let want = pairs(&[
        ("http.request.method", Value::from("GET")),
        ("sentry.source", Value::from("url")),
    ]);
    assert_eq!(
        data(&trace_of(event(&test.events(), "after the drop"))),
        want
    );
    assert_eq!(data(&test.transactions()[0].contexts_trace()), want);
}

/// What the application puts on the request's transaction itself stays, on
/// the transaction and on the request's events.
#[test]
fn the_applications_own_data_op_and_origin_are_kept() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()).with_route("/users/{id}"));
    in_flight.context().enter(|| {
        let span = sentry_core::configure_scope(|scope| scope.get_span()).expect("sampled");
        span.set_data("app.tenant", Value::from("acme"));
        if let sentry_core::TransactionOrSpan::Transaction(tx) = &span {
            tx.set_origin("manual");
            tx.set_op("http.server.custom");
        }
    });
    capture(in_flight.context(), "in the handler");
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();

    let traces = [
        trace_of(event(&test.events(), "in the handler")),
        test.transactions()[0].contexts_trace(),
    ];
    for trace in traces {
        assert_eq!(trace.origin.as_deref(), Some("manual"));
        assert_eq!(trace.op.as_deref(), Some("http.server.custom"));
        assert_eq!(trace.data["app.tenant"], "acme");
        assert_eq!(trace.data["http.request.method"], "GET");
    }
}

/// An unsampled request has no transaction: its events' trace context is
/// the request's, without a transaction's op, origin or data.
#[test]
fn an_unsampled_requests_events_get_no_transaction_fields() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()).with_route("/users/{id}"));
    capture(in_flight.context(), "in the handler");
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    let trace = trace_of(event(&test.events(), "in the handler"));
    assert_eq!((trace.op, trace.origin), (None, None));
    assert!(trace.data.is_empty());
}
