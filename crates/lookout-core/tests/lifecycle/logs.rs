//! Sentry Logs through the lifecycle: the log a failure the classifiers do
//! not capture leaves, the request's attributes on every log captured
//! inside it, the settings that switch them, batching and delivery.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use lookout_classify::{Classifiers, Outcome, Verdict};
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Capture, TestLookout, WiredEngine};
use lookout_core::{RequestHead, ResponseHead};
use lookout_policy::{LogLevel, Settings};
use lookout_scope::User;
use sentry_core::protocol::{EnvelopeItem, ItemContainer, Log, Value};

use crate::support::headers;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

fn attribute(log: &Log, key: &str) -> Option<Value> {
    log.attributes.get(key).map(|a| a.0.clone())
}

fn a_log(body: &str) -> Log {
    Log {
        level: LogLevel::Info,
        body: body.into(),
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes: Default::default(),
    }
}

/// `GET /items/1` (route `/items/{id}`) answered `status` on `test`'s engine.
fn items(test: &TestLookout, status: StatusCode) {
    let h = HeaderMap::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/items/1", &h).with_route("/items/{id}"));
    in_flight.finish(&ResponseHead::new(status)).body.complete();
}

/// Fails if the 404's verdict were "ignore" (no log) or "capture" (an event).
#[test]
fn a_4xx_leaves_one_warn_log_on_the_requests_trace_and_no_event() {
    let test = TestLookout::new();
    let h = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
        ("x-request-id", "req-404"),
    ]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/items/1", &h).with_route("/items/{id}"));
    let span = in_flight.context().trace().span_id.to_string();
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::NOT_FOUND));
    assert!(finished.event_id.is_none());
    assert!(finished.decision.as_ref().unwrap().is_log());
    finished.body.complete();

    assert!(test.events().is_empty(), "a 404 is not an event");
    let logs = test.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Warn);
    assert_eq!(log.body, "GET /items/{id} -> 404");
    assert_eq!(log.trace_id.map(|t| t.to_string()).as_deref(), Some(TRACE));
    assert_eq!(
        attribute(log, "http.response.status_code"),
        Some(404.into())
    );
    assert_eq!(attribute(log, "http.route"), Some("/items/{id}".into()));
    assert_eq!(attribute(log, "http.request.method"), Some("GET".into()));
    assert_eq!(attribute(log, "request_id"), Some("req-404".into()));
    assert_eq!(attribute(log, "error_type"), Some("http_status".into()));
    // The transaction's span (sampled) is the parent.
    assert_eq!(
        attribute(log, "sentry.trace.parent_span_id"),
        Some(span.into())
    );
    assert_eq!(attribute(log, "sentry.environment"), Some("test".into()));
    assert_eq!(
        attribute(log, "sentry.origin"),
        Some("auto.http.lookout".into())
    );
    let json = serde_json::to_value(log).unwrap();
    assert_eq!(json["severity_number"], 13);
}

#[test]
fn the_log_carries_the_error_type_a_classifier_named_and_its_level() {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "test"),
    ])
    .unwrap();
    let test = TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(|o: &Outcome<'_>| {
            (o.status() == StatusCode::UNAUTHORIZED)
                .then(|| Verdict::log(LogLevel::Info).error_type("login_failed"))
        }))
    });
    items(&test, StatusCode::UNAUTHORIZED);
    let logs = test.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].level, LogLevel::Info);
    assert_eq!(
        attribute(&logs[0], "error_type"),
        Some("login_failed".into())
    );
}

#[test]
fn a_failure_a_classifier_ignores_and_a_success_leave_no_log() {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "test"),
    ])
    .unwrap();
    let test =
        TestLookout::with_settings(settings, |builder| {
            builder.classifiers(Classifiers::default().with(|o: &Outcome<'_>| {
                (o.status() == StatusCode::NOT_FOUND).then(Verdict::ignore)
            }))
        });
    items(&test, StatusCode::NOT_FOUND);
    items(&test, StatusCode::OK);
    assert!(test.logs().is_empty());
    assert!(test.events().is_empty());
}

#[test]
fn logs_switched_off_or_below_the_level_are_not_sent() {
    let off = TestLookout::from_vars([("SENTRY_ENABLE_LOGS", "false")]).unwrap();
    items(&off, StatusCode::NOT_FOUND);
    let h = HeaderMap::new();
    let in_flight = off.engine().begin(&RequestHead::new("GET", "/", &h));
    in_flight.context().enter(|| {
        // The switch is the client's too: the tracing integration reads it.
        #[allow(deprecated)]
        let enabled = sentry_core::Hub::current()
            .client()
            .is_some_and(|c| c.options().enable_logs);
        assert!(!enabled);
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    assert!(off.logs().is_empty());
    assert!(
        off.envelopes().iter().all(|e| e
            .items()
            .all(|i| !matches!(i, EnvelopeItem::ItemContainer(ItemContainer::Logs(_))))),
        "no log item at all"
    );

    // `error`: a 404 (warn) is not sent, a 5xx kept from capture (error) is.
    let errors_only = TestLookout::from_vars([("LOOKOUT_LOGS_LEVEL", "error")]).unwrap();
    items(&errors_only, StatusCode::NOT_FOUND);
    assert!(errors_only.logs().is_empty());
    let settings = Settings::from_vars([
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("LOOKOUT_LOGS_LEVEL", "error"),
    ])
    .unwrap();
    let excluded = TestLookout::with_settings(settings, |builder| {
        builder.classifiers(
            Classifiers::default()
                .status_codes(lookout_classify::StatusCodes::default().exclude(503..=503)),
        )
    });
    items(&excluded, StatusCode::SERVICE_UNAVAILABLE);
    let logs = excluded.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].level, LogLevel::Error);
    assert_eq!(logs[0].body, "GET /items/{id} -> 503");
}

/// A log captured inside an unsampled request (by any code: here the Hub
/// directly) has the request's trace, ids and user, and goes through the
/// same scrubbing as events.
#[test]
fn a_log_inside_an_unsampled_request_has_its_trace_user_and_no_secrets() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    let h = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-0")),
        ("x-request-id", "req-unsampled"),
    ]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/login", &h).with_route("/login"));
    let span = in_flight.context().trace().span_id.to_string();
    assert!(!in_flight.sampled());
    in_flight.context().enter(|| {
        lookout_scope::identify(User::id("u-7").email("ada@example.com")).unwrap();
        let mut log = a_log("signed in");
        log.attributes.insert("password".into(), "hunter2".into());
        log.attributes.insert("token".into(), "t0k3n".into());
        log.attributes
            .insert("authorization".into(), "Bearer abc".into());
        log.attributes.insert("attempt".into(), 2.into());
        sentry_core::Hub::current().capture_log(log);
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    assert!(test.transactions().is_empty(), "unsampled");
    let logs = test.logs();
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.trace_id.map(|t| t.to_string()).as_deref(), Some(TRACE));
    assert_eq!(
        attribute(log, "sentry.trace.parent_span_id"),
        Some(span.into())
    );
    assert_eq!(attribute(log, "request_id"), Some("req-unsampled".into()));
    assert_eq!(attribute(log, "http.route"), Some("/login".into()));
    assert_eq!(attribute(log, "http.request.method"), Some("POST".into()));
    assert_eq!(attribute(log, "user.id"), Some("u-7".into()));
    assert_eq!(attribute(log, "user.email"), None, "PII is off");
    for key in ["password", "token", "authorization"] {
        assert_eq!(attribute(log, key), Some("[Filtered]".into()), "{key}");
    }
    assert_eq!(attribute(log, "attempt"), Some(2.into()));
    let json = serde_json::to_value(log).unwrap();
    assert_eq!(json["attributes"]["attempt"]["type"], "integer");
    assert_eq!(json["severity_number"], 9, "filled in for an info log");
}

#[test]
fn a_batch_of_logs_gets_no_requests_dsc() {
    let test = TestLookout::new();
    let h = headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}-1"))]);
    let in_flight = test.engine().begin(&RequestHead::new("GET", "/", &h));
    // Flushing inside the request: the batch is delivered while it is current.
    in_flight.context().enter(|| {
        sentry_core::Hub::current().capture_log(a_log("inside"));
        test.flush();
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    let envelopes = test.envelopes();
    let with_logs: Vec<_> = envelopes
        .iter()
        .filter(|e| {
            e.items()
                .any(|i| matches!(i, EnvelopeItem::ItemContainer(ItemContainer::Logs(_))))
        })
        .collect();
    assert_eq!(with_logs.len(), 1);
    let header = serde_json::to_value(with_logs[0].headers()).unwrap();
    assert!(header.get("trace").is_none(), "{header}");
}

/// A capture and the engine and client over it, without [`TestLookout`]'s
/// flushing accessors: what was delivered is what the batcher sent itself.
fn wired(vars: &[(&str, &str)]) -> (WiredEngine, Capture) {
    let mut all = vec![
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "test"),
    ];
    all.extend_from_slice(vars);
    let settings = Settings::from_vars(all).unwrap();
    let capture = Capture::new();
    let delivery = Delivery::send().with_transport(Arc::new(capture.clone()));
    (WiredEngine::new(&settings, delivery, |b| b), capture)
}

fn log_envelopes(capture: &Capture) -> Vec<usize> {
    capture
        .envelopes()
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.len()),
            _ => None,
        })
        .collect()
}

#[test]
fn logs_go_in_batches_of_at_most_100_and_the_rest_at_close() {
    let (bulk, capture) = wired(&[]);
    let h = HeaderMap::new();
    let in_flight = bulk.engine.begin(&RequestHead::new("GET", "/bulk", &h));
    in_flight.context().enter(|| {
        for n in 0..150 {
            sentry_core::Hub::current().capture_log(a_log(&format!("line {n}")));
        }
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    // The first 100 went as one envelope at once (the queue hands them to the
    // transport without waiting for a flush); the other 50 wait for the
    // batcher's interval or the client's close.
    bulk.client.flush(Some(Duration::from_secs(5)));
    let sent = log_envelopes(&capture);
    assert!(sent.iter().all(|&n| n <= 100), "{sent:?}");
    assert_eq!(sent.iter().sum::<usize>(), 150, "{sent:?}");
    assert!(sent.len() <= 2, "{sent:?}");

    let (few, capture) = wired(&[]);
    let in_flight = few.engine.begin(&RequestHead::new("GET", "/few", &h));
    in_flight.context().enter(|| {
        for n in 0..3 {
            sentry_core::Hub::current().capture_log(a_log(&format!("line {n}")));
        }
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    let started = std::time::Instant::now();
    assert!(log_envelopes(&capture).is_empty(), "batched, not sent yet");
    assert!(few.client.close(Some(Duration::from_secs(5))));
    assert_eq!(log_envelopes(&capture), [3], "sent when the client closed");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "by the close, not the batcher's 5 s interval"
    );
}

#[test]
fn console_delivery_prints_one_line_per_log() {
    let settings = Settings::from_vars([("SENTRY_ENVIRONMENT", "development")]).unwrap();
    let (sink, lines) = lookout_core::collecting_console();
    let wired = WiredEngine::new(&settings, Delivery::console().with_console(sink), |b| b);
    let h = headers(&[("x-request-id", "req-console")]);
    let in_flight = wired
        .engine
        .begin(&RequestHead::new("GET", "/items/1", &h).with_route("/items/{id}"));
    in_flight
        .finish(&ResponseHead::new(StatusCode::NOT_FOUND))
        .body
        .complete();
    assert!(wired.client.flush(Some(Duration::from_secs(5))));
    let lines = lines.lock().unwrap().clone();
    let logs: Vec<_> = lines
        .iter()
        .filter(|l| l.starts_with("lookout log "))
        .collect();
    assert_eq!(logs.len(), 1, "{lines:?}");
    assert!(
        logs[0].starts_with(
            "lookout log warn \"GET /items/{id} -> 404\" request_id=req-console trace_id="
        ),
        "{}",
        logs[0]
    );
}
