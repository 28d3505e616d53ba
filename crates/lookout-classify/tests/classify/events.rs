//! Decisions to Sentry data: exception chain, mechanism, tags, request, logs.

use std::time::Duration;

use http::{Method, StatusCode};
use lookout_classify::{
    Classifiers, Level, LogLevel, Outcome, Verdict, by_type, event, log, severity_number,
};
use sentry_core::protocol::{Exception, Value};

use crate::support::{DEEP, DbTimeout, Invalid, UPSTREAM_503};

static GET: Method = Method::GET;

fn outcome(status: u16) -> Outcome<'static> {
    Outcome::new(&GET, "/users/7", StatusCode::from_u16(status).unwrap())
        .with_route("/users/{id}")
        .with_query("token=abc&page=2")
        .with_origin("https://api.example.com")
        .with_latency(Duration::from_millis(250))
}

fn summary(exceptions: &[Exception]) -> Vec<(&str, Option<&str>, Option<&str>)> {
    exceptions
        .iter()
        .map(|e| (e.ty.as_str(), e.module.as_deref(), e.value.as_deref()))
        .collect()
}

#[test]
fn exception_chain_is_innermost_first() {
    let outcome = outcome(500).with_error(&DEEP);
    let event = event(&outcome, &Classifiers::default().decide(&outcome)).unwrap();
    let exceptions = &event.exception.values;
    assert_eq!(
        summary(exceptions),
        [
            ("DbTimeout", None, Some("database timed out after 500 ms")),
            ("RepoError", None, Some("loading the user failed")),
            ("ServiceError", None, Some("user service failed")),
            (
                "HandlerError",
                Some("classify::support"),
                Some("GET /users/{id} failed")
            ),
        ]
    );
    // Only the top-level (last) exception carries the mechanism; nobody named this
    // error, so it is unhandled.
    assert!(exceptions[..3].iter().all(|e| e.mechanism.is_none()));
    let mechanism = exceptions[3].mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.ty.as_str(), mechanism.handled),
        ("lookout", Some(false))
    );
    assert_eq!(event.level, Level::Error);
}

#[test]
fn named_error_is_handled_with_tags_and_fingerprint() {
    let classifiers = Classifiers::default().with(
        by_type::<DbTimeout>("db_timeout")
            .level(Level::Warning)
            .fingerprint(["db-timeout"]),
    );
    let outcome = outcome(504).with_error(&DEEP);
    let event = event(&outcome, &classifiers.decide(&outcome)).unwrap();

    assert_eq!(event.level, Level::Warning);
    assert_eq!(event.fingerprint.as_ref(), ["db-timeout"]);
    let top = event.exception.values.last().unwrap();
    assert_eq!(top.mechanism.as_ref().unwrap().handled, Some(true));
    let tags: Vec<(&str, &str)> = event
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tags,
        [
            ("error_type", "db_timeout"),
            ("http.route", "/users/{id}"),
            ("http.status_code", "504")
        ]
    );
}

#[test]
fn built_in_tags_win_over_extra_tags() {
    let classifiers = Classifiers::default().with(|_: &Outcome<'_>| {
        Some(
            Verdict::capture(Level::Error)
                .error_type("mine")
                .tag("error_type", "spoofed")
                .tag("http.status_code", "200")
                .tag("region", "eu"),
        )
    });
    let outcome = outcome(500);
    let event = event(&outcome, &classifiers.decide(&outcome)).unwrap();
    assert_eq!(event.tags["error_type"], "mine");
    assert_eq!(event.tags["http.status_code"], "500");
    assert_eq!(event.tags["region"], "eu");
}

#[test]
fn panic_event() {
    let outcome = outcome(500).with_panic("index out of bounds: the len is 0");
    let event = event(&outcome, &Classifiers::default().decide(&outcome)).unwrap();
    assert_eq!(
        summary(&event.exception.values),
        [("panic", None, Some("index out of bounds: the len is 0"))]
    );
    let mechanism = event.exception.values[0].mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.ty.as_str(), mechanism.handled),
        ("panic", Some(false))
    );
    assert_eq!(event.tags["error_type"], "panic");
}

#[test]
fn bare_status_event_has_a_message() {
    let outcome = outcome(503);
    let event = event(&outcome, &Classifiers::default().decide(&outcome)).unwrap();
    assert!(event.exception.values.is_empty());
    assert_eq!(
        event.message.as_deref(),
        Some("503 Service Unavailable on GET /users/{id}")
    );
    assert_eq!(event.tags["error_type"], "http_status");
    assert_eq!(event.extra["http.latency_ms"], Value::from(250.0));
}

#[test]
fn request_carries_method_url_query_and_route() {
    let outcome = outcome(500);
    let captured = event(&outcome, &Classifiers::default().decide(&outcome)).unwrap();
    let request = captured.request.unwrap();
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert_eq!(
        request.url.unwrap().as_str(),
        "https://api.example.com/users/7"
    );
    // Raw: lookout-policy scrubs `token` before sending.
    assert_eq!(request.query_string.as_deref(), Some("token=abc&page=2"));
    assert_eq!(request.env["PATH_INFO"], "/users/7");
    assert_eq!(request.env["ROUTE"], "/users/{id}");

    let bare = Outcome::new(&GET, "/x", StatusCode::INTERNAL_SERVER_ERROR);
    let request = event(&bare, &Classifiers::default().decide(&bare))
        .unwrap()
        .request
        .unwrap();
    assert_eq!((request.url, request.query_string), (None, None));
    assert_eq!(request.env["PATH_INFO"], "/x");
    assert!(!request.env.contains_key("ROUTE"));
}

#[test]
fn event_serializes_as_sentry_expects() {
    let outcome = outcome(502).with_error(&UPSTREAM_503);
    let event = event(&outcome, &Classifiers::default().decide(&outcome)).unwrap();
    let json = sentry_core::protocol::value::to_value(&event).unwrap();
    // `error` is the protocol's default level and is left out.
    assert_eq!(json.get("level"), None);
    assert_eq!(json["exception"]["values"][0]["type"], "UpstreamError");
    assert_eq!(
        json["exception"]["values"][0]["mechanism"]["handled"],
        false
    );
    assert_eq!(
        json["tags"]["error.rust_type"],
        "classify::support::UpstreamError"
    );
    assert_eq!(json["request"]["query_string"], "token=abc&page=2");
}

#[test]
fn only_captures_become_events_and_only_logs_become_logs() {
    let classifiers = Classifiers::default();
    let ok = outcome(200);
    let not_found = outcome(404);
    let failed = outcome(500);
    for (outcome, is_event, is_log) in [
        (ok, false, false),
        (not_found, false, true),
        (failed, true, false),
    ] {
        let decision = classifiers.decide(&outcome);
        assert_eq!(
            event(&outcome, &decision).is_some(),
            is_event,
            "{}",
            outcome.status()
        );
        assert_eq!(
            log(&outcome, &decision).is_some(),
            is_log,
            "{}",
            outcome.status()
        );
    }
}

#[test]
fn log_contents() {
    let bad_request = outcome(400).with_error(&Invalid);
    let classifiers = Classifiers::default().with(by_type::<Invalid>("validation"));
    let logged = log(&bad_request, &classifiers.decide(&bad_request)).unwrap();
    assert_eq!(logged.level, LogLevel::Warn);
    assert_eq!(logged.body, "GET /users/{id} -> 400");
    let json = serde_json::to_value(&logged).unwrap();
    assert_eq!(json["severity_number"], 13);
    let attribute = |key: &str| json["attributes"][key].clone();
    assert_eq!(attribute("http.request.method")["value"], "GET");
    assert_eq!(attribute("http.response.status_code")["value"], 400);
    assert_eq!(attribute("http.response.status_code")["type"], "integer");
    assert_eq!(attribute("http.route")["value"], "/users/{id}");
    assert_eq!(attribute("url.path")["value"], "/users/7");
    assert_eq!(attribute("error_type")["value"], "validation");
    assert_eq!(attribute("http.latency_ms")["value"], 250.0);
    assert_eq!(attribute("http.latency_ms")["type"], "double");
    // The query may hold secrets and is never part of a log.
    assert!(!json.to_string().contains("token"), "{json}");

    // Without a route template the body names the path.
    let unrouted = Outcome::new(&GET, "/no/such/page", StatusCode::NOT_FOUND);
    let log_unrouted = log(&unrouted, &Classifiers::default().decide(&unrouted)).unwrap();
    assert_eq!(log_unrouted.body, "GET /no/such/page -> 404");
    assert!(!log_unrouted.attributes.contains_key("http.route"));

    // A 5xx a rule keeps from capture is an error log, with the rule's extra tags.
    let skipped = Classifiers::default().with(by_type::<Invalid>("validation").skip_capture());
    let outcome = outcome(502).with_error(&Invalid);
    let log_502 = log(&outcome, &skipped.decide(&outcome)).unwrap();
    assert_eq!(log_502.level, LogLevel::Error);
    let tagged = Classifiers::default()
        .with(|_: &Outcome<'_>| Some(Verdict::log(LogLevel::Info).tag("tenant", "acme")));
    let log_tagged = log(&not_found_at("/x"), &tagged.decide(&not_found_at("/x"))).unwrap();
    assert_eq!(log_tagged.level, LogLevel::Info);
    assert_eq!(log_tagged.attributes["tenant"].0, "acme");
}

fn not_found_at(path: &'static str) -> Outcome<'static> {
    Outcome::new(&GET, path, StatusCode::NOT_FOUND)
}

#[test]
fn severity_numbers_follow_opentelemetry() {
    for (level, number) in [
        (LogLevel::Trace, 1),
        (LogLevel::Debug, 5),
        (LogLevel::Info, 9),
        (LogLevel::Warn, 13),
        (LogLevel::Error, 17),
        (LogLevel::Fatal, 21),
    ] {
        assert_eq!(
            serde_json::to_value(severity_number(level)).unwrap(),
            number
        );
    }
}
