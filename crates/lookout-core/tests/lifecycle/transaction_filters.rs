//! SPEC-NOTES "Transaction filters": ignored status codes and
//! `before_send_transaction`, after lookout filled the transaction and
//! before scrubbing; a dropped transaction is an `event_processor` discard.

use http::StatusCode;
use lookout_core::testing::TestLookout;
use lookout_core::{RequestHead, ResponseHead};
use lookout_policy::Overrides;
use sentry_core::protocol::EnvelopeItem;
use sentry_core::protocol::client_report::{Category, Reason};

use crate::support::{headers, outgoing_headers, request};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";

/// The `(category, reason) -> quantity` of every client report captured.
fn discarded(test: &TestLookout) -> Vec<(Category, Reason, u64)> {
    let mut out = Vec::new();
    for envelope in test.envelopes() {
        for item in envelope.items() {
            if let EnvelopeItem::ClientReport(report) = item {
                let json = serde_json::to_value(report).unwrap();
                for d in json["discarded_events"].as_array().unwrap() {
                    let category: Category = serde_json::from_value(d["category"].clone()).unwrap();
                    let reason: Reason = serde_json::from_value(d["reason"].clone()).unwrap();
                    out.push((category, reason, d["quantity"].as_u64().unwrap()));
                }
            }
        }
    }
    out
}

/// One sampled request answered `status`, with one child span and one
/// outgoing call inside; returns the call's `sentry-trace`.
fn answered(test: &TestLookout, status: StatusCode) -> String {
    let h = headers(&[("sentry-trace", &format!("{TRACE}-a8c2d5f4e3b21907-1"))]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/wp-login.php", &h));
    let sentry_trace = in_flight.context().enter(|| {
        outgoing_headers("http://inventory.internal/", None)
            .expect("a propagation target")
            .sentry_trace
    });
    in_flight.finish(&ResponseHead::new(status)).body.complete();
    sentry_trace
}

#[test]
fn a_transaction_of_an_ignored_status_is_not_sent_and_is_an_event_processor_discard() {
    let test = TestLookout::new();
    let sentry_trace = answered(&test, StatusCode::NOT_FOUND);
    // The request keeps its decision for propagation.
    assert!(sentry_trace.ends_with("-1"), "{sentry_trace}");
    assert!(test.transactions().is_empty(), "a 404 sends no transaction");
    assert_eq!(test.engine().stats().dropped.event_processor, 1);

    // Kept: a status outside the default set.
    for kept in [
        StatusCode::OK,
        StatusCode::NOT_MODIFIED,
        StatusCode::BAD_REQUEST,
        StatusCode::INTERNAL_SERVER_ERROR,
    ] {
        answered(&test, kept);
    }
    assert_eq!(test.transactions().len(), 4);
    // A redirect in the default set is not.
    answered(&test, StatusCode::FOUND);
    assert_eq!(test.transactions().len(), 4);
    assert_eq!(test.engine().stats().dropped.event_processor, 2);

    // Client reports ride on a later envelope: one more request.
    request(
        &test,
        "GET",
        "/x",
        None,
        &headers(&[]),
        StatusCode::OK,
        None,
    );
    test.flush();
    let discarded = discarded(&test);
    let count = |category| {
        discarded
            .iter()
            .filter(|(c, r, _)| *c == category && *r == Reason::EventProcessor)
            .map(|(_, _, n)| n)
            .sum::<u64>()
    };
    assert_eq!(count(Category::Transaction), 2, "{discarded:?}");
    // Each had its outgoing call's span and its root span.
    assert_eq!(count(Category::Span), 4, "{discarded:?}");
}

#[test]
fn an_empty_ignore_list_keeps_every_transaction() {
    let test = TestLookout::from_vars([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")]).unwrap();
    answered(&test, StatusCode::NOT_FOUND);
    answered(&test, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(test.transactions().len(), 2);
    assert_eq!(test.engine().stats().dropped.event_processor, 0);
}

#[test]
fn a_custom_ignore_list_replaces_the_default() {
    let test = TestLookout::from_vars([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "500-503")]).unwrap();
    answered(&test, StatusCode::NOT_FOUND);
    answered(&test, StatusCode::BAD_GATEWAY);
    let names: Vec<_> = test
        .transactions()
        .iter()
        .map(|tx| tx.tags["http.status_code"].clone())
        .collect();
    assert_eq!(names, ["404"], "the 404 is kept, the 502 is not");
}

fn with_overrides(overrides: Overrides) -> TestLookout {
    let settings = overrides
        .resolve([
            ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
            ("SENTRY_ENVIRONMENT", "test"),
            ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
        ])
        .unwrap();
    TestLookout::with_settings(settings, |builder| builder)
}

#[test]
fn before_send_transaction_sees_the_filled_transaction_before_the_scrubber() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    let test = with_overrides(Overrides::new().before_send_transaction(move |mut tx| {
        // lookout filled it already: the request's tags are there.
        record.lock().unwrap().push((
            tx.tags.get("request_id").cloned(),
            tx.tags.get("http.status_code").cloned(),
        ));
        tx.name = Some("renamed".into());
        // The scrubber runs after this callback.
        tx.tags.insert("password".into(), "hunter2".into());
        Some(tx)
    }));
    request(
        &test,
        "GET",
        "/users/7",
        Some("/users/{id}"),
        &headers(&[("x-request-id", "req-42")]),
        StatusCode::OK,
        None,
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [(Some("req-42".to_owned()), Some("200".to_owned()))]);
    let tx = &test.transactions()[0];
    assert_eq!(tx.name.as_deref(), Some("renamed"));
    assert_eq!(tx.tags["password"], lookout_policy::FILTERED);
}

#[test]
fn before_send_transaction_may_drop_it_and_the_drop_is_counted() {
    let test = with_overrides(Overrides::new().before_send_transaction(|tx| {
        (tx.name.as_deref() != Some("GET /internal/poll")).then_some(tx)
    }));
    request(
        &test,
        "GET",
        "/internal/poll",
        Some("/internal/poll"),
        &headers(&[]),
        StatusCode::OK,
        None,
    );
    request(
        &test,
        "GET",
        "/users/7",
        Some("/users/{id}"),
        &headers(&[]),
        StatusCode::OK,
        None,
    );
    let names: Vec<_> = test.transactions().into_iter().map(|tx| tx.name).collect();
    assert_eq!(names, [Some("GET /users/{id}".to_owned())]);
    assert_eq!(test.engine().stats().dropped.event_processor, 1);
    // Ignored status codes are checked first: the callback never sees a 404.
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&calls);
    let test = with_overrides(Overrides::new().before_send_transaction(move |tx| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(tx)
    }));
    request(
        &test,
        "GET",
        "/missing",
        None,
        &headers(&[]),
        StatusCode::NOT_FOUND,
        None,
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 0);
}
