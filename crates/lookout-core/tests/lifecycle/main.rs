//! The request lifecycle end to end, through the capture helper: every
//! envelope below went through lookout's delivery pipeline and was parsed back
//! with sentry-types.

mod logs;
mod metrics;
mod request_bodies;
mod span_context;
mod support;
mod transaction_filters;

use http::{HeaderMap, StatusCode};
use lookout_core::testing::TestLookout;
use lookout_core::{OrgCheck, RequestHead, ResponseHead, TraceOrigin};
use lookout_headers::{DscView, SentryTrace, TraceId};
use lookout_scope::User;
use sentry_core::protocol::{EnvelopeItem, SpanStatus};
use support::{
    ServiceError, TransactionExt, answer_ok, envelope_dsc, headers, outgoing_headers, request,
};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

/// An event captured by the handler of a sampled request belongs to the
/// request's transaction: its trace context is the transaction's own span
/// (same trace, span id and `http.server` op), not a context of its own.
#[test]
fn an_event_in_a_sampled_request_carries_its_transactions_span() {
    let test = TestLookout::new();
    let h = headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}-1"))]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/users/7", &h).with_route("/users/{id}"));
    let span_id = in_flight.context().trace().span_id.to_string();
    in_flight.context().enter(|| {
        sentry_core::Hub::current().capture_message("inside", sentry_core::Level::Warning)
    });
    answer_ok(in_flight);

    let envelopes = test.envelopes();
    let (_, tx) = support::only_transaction(&envelopes);
    assert_eq!(tx.contexts_trace().span_id.to_string(), span_id);
    let event = envelopes
        .iter()
        .flat_map(|e| e.items())
        .find_map(|item| match item {
            EnvelopeItem::Event(event) => Some(event),
            _ => None,
        })
        .expect("the handler's event");
    let trace = support::trace_of(event);
    assert_eq!(trace.trace_id.to_string(), TRACE);
    assert_eq!(trace.span_id.to_string(), span_id);
    assert_eq!(trace.op.as_deref(), Some("http.server"));
}

#[test]
fn continues_a_sampled_sentry_trace_and_keeps_the_callers_dsc_frozen() {
    let test = TestLookout::new();
    let baggage = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=frontend,\
                   sentry-sample_rate=0.5,sentry-sample_rand=0.250000,sentry-sampled=true,\
                   sentry-release=web%401.0,sentry-environment=prod,sentry-org_id=4711,other=x";
    let h = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
        ("baggage", baggage),
    ]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/users/7", &h).with_route("/users/{id}"));
    assert_eq!(in_flight.trace_origin(), TraceOrigin::SentryTrace);
    assert!(in_flight.sampled());
    let ctx = in_flight.context().clone();
    // Identifying the user later changes nothing in the frozen DSC.
    ctx.identify(User::id("42").role("admin"));
    let out = ctx.enter(|| outgoing_headers("http://svc/", None)).unwrap();
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    finished.body.complete();

    let expected = DscView::from_baggage([baggage]).to_owned();
    assert_eq!(
        DscView::from_baggage([out.baggage.as_deref().unwrap()]).to_owned(),
        expected
    );
    assert!(
        !out.baggage.unwrap().contains("other=x"),
        "third-party members are not forwarded"
    );

    let envelopes = test.envelopes();
    let (tx_envelope, tx) = support::only_transaction(&envelopes);
    assert_eq!(tx.contexts_trace().trace_id.to_string(), TRACE);
    assert_eq!(
        tx.contexts_trace()
            .parent_span_id
            .map(|s| s.to_string())
            .as_deref(),
        Some(PARENT)
    );
    assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"));
    let dsc = envelope_dsc(tx_envelope).expect("transaction envelope carries the DSC");
    assert_eq!(dsc["public_key"], "frontend");
    assert_eq!(dsc["sample_rate"], "0.5");
    assert_eq!(dsc["sample_rand"], "0.250000");
    assert_eq!(dsc["release"], "web@1.0");
    assert_eq!(dsc["org_id"], "4711");
}

#[test]
fn an_unsampled_parent_is_inherited_and_its_error_events_still_carry_the_dsc() {
    let test = TestLookout::new();
    let h = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-0")),
        (
            "baggage",
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.1,sentry-sampled=false,sentry-public_key=k",
        ),
    ]);
    let finished = request(
        &test,
        "GET",
        "/fail",
        Some("/fail"),
        &h,
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
    );
    assert!(finished.event_id.is_some());
    let envelopes = test.envelopes();
    assert!(test.transactions().is_empty(), "unsampled: no transaction");
    let event_envelope = envelopes
        .iter()
        .find(|e| e.event().is_some())
        .expect("the 500 was captured");
    let dsc = envelope_dsc(event_envelope).expect("error events carry the DSC too");
    assert_eq!(dsc["trace_id"], TRACE);
    assert_eq!(dsc["sampled"], "false");
    assert_eq!(dsc["sample_rate"], "0.1");
    let event = event_envelope.event().unwrap();
    assert_eq!(support::trace_of(event).trace_id.to_string(), TRACE);
}

#[test]
fn a_deferred_parent_is_decided_here_with_sample_rand_from_the_trace() {
    for (rate, sampled) in [("1.0", true), ("0.0", false)] {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", rate)]).unwrap();
        let h = headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}"))]);
        let in_flight = test.engine().begin(&RequestHead::new("GET", "/", &h));
        assert_eq!(in_flight.context().trace().trace_id.to_string(), TRACE);
        assert_eq!(in_flight.sampled(), sampled, "rate {rate}");
        answer_ok(in_flight);
        assert_eq!(test.transactions().len(), usize::from(sampled));
    }
}

#[test]
fn traceparent_only_requests_continue_the_w3c_trace_and_pass_tracestate_on() {
    let test = TestLookout::new();
    let h = headers(&[
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03",
        ),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/hop", &h).with_route("/hop"));
    assert_eq!(in_flight.trace_origin(), TraceOrigin::TraceParent);
    let trace = in_flight.context().trace();
    assert_eq!(
        trace.trace_id.to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(
        trace.parent_span_id.unwrap().to_string(),
        "b7ad6b7169203331"
    );
    assert!(trace.sampled, "the sampled flag is inherited");
    let out = in_flight
        .context()
        .enter(|| outgoing_headers("http://next/", None))
        .unwrap();
    let traceparent = out.traceparent.unwrap();
    assert!(traceparent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
    assert!(
        traceparent.ends_with("-03"),
        "sampled + random flag as received: {traceparent}"
    );
    assert_eq!(
        out.tracestate.as_deref(),
        Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    );
    answer_ok(in_flight);
}

#[test]
fn malformed_trace_headers_start_a_new_trace_and_the_request_is_served() {
    let test = TestLookout::new();
    let malformed = [
        vec![(
            "sentry-trace",
            "771A43A4192642F0B136D5159A501700-A8C2D5F4E3B21907-1",
        )],
        vec![("sentry-trace", "not-a-trace")],
        vec![(
            "sentry-trace",
            "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-2",
        )],
        vec![(
            "sentry-trace",
            "bad, 771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1",
        )],
        vec![(
            "traceparent",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )],
        vec![(
            "traceparent",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        )],
        vec![
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203332-01",
            ),
        ],
        vec![("baggage", "%%%,===,;;;")],
    ];
    for pairs in malformed {
        let h = headers(&pairs);
        let in_flight = test.engine().begin(&RequestHead::new("GET", "/", &h));
        assert_eq!(in_flight.trace_origin(), TraceOrigin::New, "{pairs:?}");
        assert_ne!(in_flight.context().trace().trace_id.to_string(), TRACE);
        let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
        assert_eq!(finished.headers.request_id.len(), 36);
        finished.body.complete();
    }
}

#[test]
fn the_org_check_and_strict_continuation_follow_the_truth_table() {
    // (incoming org, our org, strict, continued)
    let rows = [
        (Some("1"), Some("1"), false, true),
        (Some("1"), Some("1"), true, true),
        (Some("1"), Some("2"), false, false),
        (Some("1"), Some("2"), true, false),
        (Some("1"), None, false, true),
        (Some("1"), None, true, false),
        (None, Some("1"), false, true),
        (None, Some("1"), true, false),
        (None, None, false, true),
        (None, None, true, true),
    ];
    for (incoming, ours, strict, continued) in rows {
        let lookout = lookout_core::Engine::builder()
            .org_check(OrgCheck {
                org_id: ours.map(str::to_owned),
                strict,
            })
            .build();
        let baggage = incoming.map_or_else(String::new, |org| format!("sentry-org_id={org}"));
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
            ("baggage", &baggage),
        ]);
        let in_flight = lookout.begin(&RequestHead::new("GET", "/", &h));
        let row = format!("incoming={incoming:?} ours={ours:?} strict={strict}");
        assert_eq!(in_flight.trace_origin().is_continued(), continued, "{row}");
        assert_eq!(
            in_flight.context().trace().trace_id.to_string() == TRACE,
            continued,
            "{row}"
        );
        answer_ok(in_flight);
    }
}

#[test]
fn a_head_of_trace_dsc_is_complete_frozen_and_the_same_everywhere() {
    let test = TestLookout::from_vars([
        ("SENTRY_RELEASE", "api@1.4.2"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
    ])
    .unwrap();
    let h = HeaderMap::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/users/7", &h).with_route("/users/{id}"));
    let ctx = in_flight.context().clone();
    let first = ctx.enter(|| outgoing_headers("http://a/", None)).unwrap();
    ctx.identify(User::id("7").email("x@example.com"));
    let second = ctx
        .enter(|| outgoing_headers("http://b/", Some("app=1")))
        .unwrap();
    in_flight
        .finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR))
        .body
        .complete();

    let dsc = DscView::from_baggage([first.baggage.as_deref().unwrap()]).to_owned();
    assert_eq!(dsc.trace_id, Some(ctx.trace().trace_id));
    assert_eq!(
        dsc.public_key.as_deref(),
        Some("5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1")
    );
    assert_eq!(dsc.sample_rate, Some(1.0));
    assert!(dsc.sample_rand.is_some_and(|r| (0.0..1.0).contains(&r)));
    assert_eq!(dsc.sampled, Some(true));
    assert_eq!(dsc.release.as_deref(), Some("api@1.4.2"));
    assert_eq!(dsc.environment.as_deref(), Some("test"));
    assert_eq!(dsc.transaction.as_deref(), Some("GET /users/{id}"));
    assert_eq!(dsc.org_id.as_deref(), Some("4711"));
    let again = DscView::from_baggage([second.baggage.as_deref().unwrap()]).to_owned();
    assert_eq!(again, dsc, "frozen: identifying the user changed nothing");
    assert!(second.baggage.unwrap().starts_with("app=1,"));

    // Both envelopes (error event and transaction) carry that same DSC.
    let envelopes: Vec<_> = test
        .envelopes()
        .into_iter()
        .filter(|e| {
            e.items()
                .any(|i| matches!(i, EnvelopeItem::Event(_) | EnvelopeItem::Transaction(_)))
        })
        .collect();
    assert_eq!(envelopes.len(), 2, "the error event and the transaction");
    for envelope in &envelopes {
        let header = envelope_dsc(envelope).expect("DSC on every envelope");
        assert_eq!(header["trace_id"], dsc.trace_id.unwrap().to_string());
        assert_eq!(header["transaction"], "GET /users/{id}");
        assert_eq!(header["release"], "api@1.4.2");
        assert_eq!(header["sampled"], "true");
    }
}

#[test]
fn a_raw_url_never_names_the_transaction_in_the_dsc() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/secret/42", &HeaderMap::new()));
    let out = in_flight
        .context()
        .enter(|| outgoing_headers("http://a/", None))
        .unwrap();
    assert!(!out.baggage.unwrap().contains("sentry-transaction"));
    answer_ok(in_flight);
    let tx = &test.transactions()[0];
    assert_eq!(tx.name.as_deref(), Some("GET /secret/42"), "source url");
}

#[test]
fn every_event_of_a_request_carries_its_tags_sampled_or_not() {
    for rate in ["1.0", "0.0"] {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", rate)]).unwrap();
        let h = headers(&[("x-request-id", "req-abc.1")]);
        let in_flight = test
            .engine()
            .begin(&RequestHead::new("POST", "/orders/9", &h).with_route("/orders/{id}"));
        in_flight.context().identify(User::id("u1").role("admin"));
        let error = ServiceError::new("database is down");
        in_flight
            .finish(&ResponseHead::new(StatusCode::SERVICE_UNAVAILABLE).with_error(&error))
            .body
            .complete();
        let events = test.events();
        assert_eq!(events.len(), 1, "rate {rate}");
        let event = &events[0];
        assert_eq!(event.tags["request_id"], "req-abc.1");
        assert_eq!(event.tags["http.route"], "/orders/{id}");
        assert_eq!(event.tags["http.request.method"], "POST");
        assert_eq!(event.tags["authenticated"], "true");
        assert_eq!(event.tags["user_role"], "admin");
        assert_eq!(event.transaction.as_deref(), Some("POST /orders/{id}"));
        assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("u1"));
        let crumb = event.breadcrumbs.last().expect("the request breadcrumb");
        assert!(
            crumb
                .message
                .as_deref()
                .unwrap()
                .starts_with("POST /orders/{id} -> 503 in "),
            "{crumb:?}"
        );
    }
}

/// The classifier's verdict for a 4xx is a log (see `logs.rs`); the request
/// breadcrumb is on whatever the request captures later.
#[test]
fn a_4xx_is_a_log_not_an_event_and_later_events_see_the_request_breadcrumb() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/items/1", &HeaderMap::new()).with_route("/items/{id}"));
    let ctx = in_flight.context().clone();
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::NOT_FOUND));
    assert!(finished.event_id.is_none());
    assert!(!finished.decision.as_ref().unwrap().is_capture());
    // An event captured later in the same request (while the body streams) sees it.
    ctx.enter(|| sentry_core::capture_message("late", sentry_core::Level::Warning));
    finished.body.complete();
    let events = test.events();
    assert_eq!(events.len(), 1, "only the manual message");
    let crumb = events[0].breadcrumbs.last().unwrap();
    assert_eq!(
        crumb.message.as_deref().map(|m| m.split(" in ").next()),
        Some(Some("GET /items/{id} -> 404"))
    );
    let logs = test.logs();
    assert_eq!(logs.len(), 1, "the 404's own log");
    assert_eq!(logs[0].body, "GET /items/{id} -> 404");
}

#[test]
fn a_panic_is_captured_as_unhandled_with_error_type_panic() {
    let test = TestLookout::new();
    let finished = request(
        &test,
        "GET",
        "/panic",
        Some("/panic"),
        &HeaderMap::new(),
        StatusCode::INTERNAL_SERVER_ERROR,
        Some("boom"),
    );
    assert!(finished.event_id.is_some());
    let events = test.events();
    let event = &events[0];
    assert_eq!(event.tags["error_type"], "panic");
    let mechanism = event
        .exception
        .values
        .last()
        .unwrap()
        .mechanism
        .as_ref()
        .unwrap();
    assert_eq!(mechanism.handled, Some(false));
}

#[test]
fn the_transaction_ends_when_the_body_ends_not_when_headers_are_sent() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/stream", &HeaderMap::new()).with_route("/stream"));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    assert!(
        test.transactions().is_empty(),
        "headers sent, body still streaming"
    );
    finished.body.complete();
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    let trace = transactions[0].contexts_trace();
    assert_eq!(trace.status, Some(SpanStatus::Ok));
    assert_eq!(trace.op.as_deref(), Some("http.server"));
    assert_eq!(trace.origin.as_deref(), Some("auto.http.lookout"));
}

#[test]
fn a_dropped_request_or_body_ends_as_cancelled() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/slow", &HeaderMap::new()));
    drop(in_flight);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/slow", &HeaderMap::new()));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    drop(finished.body);
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 2);
    for tx in transactions {
        assert_eq!(tx.contexts_trace().status, Some(SpanStatus::Cancelled));
    }
}

#[test]
fn request_ids_are_accepted_when_valid_and_regenerated_otherwise() {
    let test = TestLookout::new();
    for (incoming, kept) in [
        ("req-1.a:b_C", true),
        ("has space", false),
        ("line\r\nbreak", false),
        (&*"x".repeat(200), false),
        (&*"y".repeat(128), true),
    ] {
        let mut h = HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(incoming) {
            h.insert("x-request-id", value);
        }
        let finished = request(&test, "GET", "/", None, &h, StatusCode::OK, None);
        assert_eq!(
            finished.headers.request_id.as_str() == incoming,
            kept,
            "{incoming:?}"
        );
        assert!(lookout_headers::RequestId::validate(&finished.headers.request_id).is_ok());
    }
}

#[test]
fn server_timing_links_the_page_load_when_enabled() {
    let test = TestLookout::from_vars([("LOOKOUT_SERVER_TIMING", "true")]).unwrap();
    let finished = request(
        &test,
        "GET",
        "/",
        Some("/"),
        &HeaderMap::new(),
        StatusCode::OK,
        None,
    );
    let timing = finished.headers.server_timing.clone().expect("enabled");
    assert!(timing.starts_with("sentry-trace;desc=\""), "{timing}");
    assert!(
        timing.contains(", baggage;desc=\"sentry-trace_id="),
        "{timing}"
    );
    let off = TestLookout::new();
    assert!(
        request(
            &off,
            "GET",
            "/",
            None,
            &HeaderMap::new(),
            StatusCode::OK,
            None
        )
        .headers
        .server_timing
        .is_none()
    );
}

#[test]
fn outgoing_propagation_honours_the_targets() {
    let test = TestLookout::from_vars([(
        "LOOKOUT_TRACE_PROPAGATION_TARGETS",
        "^http://inventory\\.internal/",
    )])
    .unwrap();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    in_flight.context().enter(|| {
        assert!(outgoing_headers("http://inventory.internal/items", None).is_some());
        assert!(outgoing_headers("https://thirdparty.example/", None).is_none());
    });
    let out = in_flight
        .context()
        .enter(|| outgoing_headers("http://inventory.internal/", None))
        .unwrap();
    let trace = SentryTrace::parse(&out.sentry_trace).unwrap();
    assert_eq!(trace.trace_id, Some(in_flight.context().trace().trace_id));
    assert_ne!(
        trace.parent_span_id,
        Some(in_flight.context().trace().span_id),
        "the call's own span is the callee's parent, not the request's"
    );
    answer_ok(in_flight);
}

#[test]
fn sessions_follow_the_verdicts_when_a_release_is_set() {
    let test = TestLookout::from_vars([("SENTRY_RELEASE", "api@2.0.0")]).unwrap();
    request(
        &test,
        "GET",
        "/",
        Some("/"),
        &HeaderMap::new(),
        StatusCode::OK,
        None,
    );
    request(
        &test,
        "GET",
        "/fail",
        Some("/fail"),
        &HeaderMap::new(),
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
    );
    request(
        &test,
        "GET",
        "/panic",
        Some("/panic"),
        &HeaderMap::new(),
        StatusCode::INTERNAL_SERVER_ERROR,
        Some("boom"),
    );
    // Request-mode sessions are aggregated and sent on flush.
    let envelopes = test.envelopes();
    let aggregates: Vec<_> = envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::SessionAggregates(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert!(!aggregates.is_empty(), "a sessions envelope was sent");
    let (mut exited, mut errored, mut crashed) = (0, 0, 0);
    for aggregate in &aggregates {
        assert_eq!(aggregate.attributes.release, "api@2.0.0");
        for item in &aggregate.aggregates {
            exited += item.exited;
            errored += item.errored;
            crashed += item.crashed;
        }
    }
    assert_eq!((exited, errored, crashed), (1, 1, 1));
}

#[test]
fn a_burst_of_3000_errors_is_delivered_in_full() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    for _ in 0..3000 {
        request(
            &test,
            "GET",
            "/fail",
            Some("/fail"),
            &HeaderMap::new(),
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
        );
    }
    assert_eq!(test.events().len(), 3000);
    assert_eq!(test.delivery().stats().queue_dropped(), 0);
}

#[test]
fn trace_ids_are_unique_per_new_trace() {
    let test = TestLookout::new();
    let a = test
        .engine()
        .begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    let b = test
        .engine()
        .begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    assert_ne!(a.context().trace().trace_id, b.context().trace().trace_id);
    assert_ne!(a.context().trace().trace_id, TraceId::default());
    answer_ok(a);
    answer_ok(b);
}

#[test]
fn a_typed_error_behind_a_trait_object_is_named_by_its_concrete_type() {
    use lookout_core::TypedError;
    use std::sync::Arc;

    let test = TestLookout::new();
    let error: Arc<dyn TypedError> = Arc::new(ServiceError::new("database is down"));
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/orders", &HeaderMap::new()).with_route("/orders"));
    in_flight
        .finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR).with_typed_error(&*error))
        .body
        .complete();
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "unhandled");
    assert_eq!(
        events[0].tags["error.rust_type"],
        "lifecycle::support::ServiceError"
    );
    let top = events[0].exception.values.last().unwrap();
    assert_eq!(top.ty, "ServiceError");
}

#[test]
fn transactions_are_scrubbed_like_events() {
    let test = TestLookout::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/login", &HeaderMap::new()).with_route("/login"));
    in_flight.context().enter(|| {
        sentry_core::configure_scope(|scope| {
            scope.set_extra("password", "hunter2".into());
            scope.set_tag("api_key", "sk-live-123");
        });
    });
    answer_ok(in_flight);
    let transactions = test.transactions();
    let tx = &transactions[0];
    assert_eq!(tx.extra.get("password"), Some(&"[Filtered]".into()));
    assert_eq!(
        tx.tags.get("api_key").map(String::as_str),
        Some("[Filtered]")
    );
}

#[test]
fn our_org_id_comes_from_the_dsn_host_through_the_settings() {
    // TEST_DSN is `...@o4711.ingest.sentry.io/7`.
    let test = TestLookout::new();
    for (incoming, continued) in [("4711", true), ("999", false)] {
        let h = headers(&[
            ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
            ("baggage", &format!("sentry-org_id={incoming}")),
        ]);
        let in_flight = test.engine().begin(&RequestHead::new("GET", "/", &h));
        assert_eq!(
            in_flight.trace_origin().is_continued(),
            continued,
            "{incoming}"
        );
        answer_ok(in_flight);
    }
    let strict = TestLookout::from_vars([("SENTRY_STRICT_TRACE_CONTINUATION", "true")]).unwrap();
    let h = headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}-1"))]);
    let in_flight = strict.engine().begin(&RequestHead::new("GET", "/", &h));
    assert!(
        !in_flight.trace_origin().is_continued(),
        "strict: a caller without org id"
    );
    answer_ok(in_flight);
}

/// A message captured inside a request carries the capture site's frames
/// (`SENTRY_ATTACH_STACKTRACE`, on by default) and the runtime contexts;
/// `SENTRY_ATTACH_STACKTRACE=false` leaves the frames out (issue 29).
#[test]
fn a_message_has_the_capture_sites_frames_unless_attach_stacktrace_is_off() {
    #[inline(never)]
    fn report_cache_miss() {
        sentry_core::Hub::current().capture_message("cache miss", sentry_core::Level::Warning);
    }
    for (vars, attached) in [
        (vec![], true),
        (vec![("SENTRY_ATTACH_STACKTRACE", "false")], false),
    ] {
        let test = TestLookout::from_vars(vars).unwrap();
        let in_flight = test
            .engine()
            .begin(&RequestHead::new("GET", "/users/7", &headers(&[])).with_route("/users/{id}"));
        in_flight.context().enter(report_cache_miss);
        answer_ok(in_flight);
        let events = test.events();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        let stack = event
            .threads
            .values
            .iter()
            .find_map(|t| t.stacktrace.as_ref());
        assert_eq!(stack.is_some(), attached, "{:?}", event.threads);
        if let Some(stack) = stack {
            let newest_in_app = stack.frames.iter().rev().find(|f| f.in_app == Some(true));
            assert!(
                newest_in_app
                    .and_then(|f| f.function.as_deref())
                    .is_some_and(|f| f.contains("report_cache_miss")),
                "{:?}",
                stack
                    .frames
                    .iter()
                    .map(|f| (&f.function, f.in_app))
                    .collect::<Vec<_>>()
            );
        }
        for context in ["os", "rust", "app"] {
            assert!(event.contexts.contains_key(context), "{context}");
        }
        assert!(event.server_name.is_some());
    }
}
