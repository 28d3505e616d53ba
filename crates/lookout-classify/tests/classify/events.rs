//! Decisions to Sentry data: exception chain, mechanism, tags, request, breadcrumbs.

use std::time::Duration;

use http::{Method, StatusCode};
use lookout_classify::{Classifiers, Level, Outcome, Verdict, breadcrumb, by_type, event};
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
fn only_captures_become_events_and_only_breadcrumbs_become_breadcrumbs() {
    let classifiers = Classifiers::default();
    let ok = outcome(200);
    let not_found = outcome(404);
    let failed = outcome(500);
    for (outcome, is_event, is_crumb) in [
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
            breadcrumb(&outcome, &decision).is_some(),
            is_crumb,
            "{}",
            outcome.status()
        );
    }
}

#[test]
fn breadcrumb_contents() {
    let bad_request = outcome(400).with_error(&Invalid);
    let classifiers = Classifiers::default().with(by_type::<Invalid>("validation"));
    let crumb = breadcrumb(&bad_request, &classifiers.decide(&bad_request)).unwrap();
    assert_eq!(crumb.ty, "http");
    assert_eq!(crumb.category.as_deref(), Some("http.server"));
    assert_eq!(crumb.level, Level::Warning);
    assert_eq!(crumb.message.as_deref(), Some("GET /users/{id} 400"));
    assert_eq!(crumb.data["method"], "GET");
    assert_eq!(crumb.data["url"], "/users/7");
    assert_eq!(crumb.data["status_code"], 400);
    assert_eq!(crumb.data["reason"], "Bad Request");
    assert_eq!(crumb.data["http.route"], "/users/{id}");
    assert_eq!(crumb.data["error_type"], "validation");
    // The query may hold secrets and is not needed to follow the trail.
    assert!(
        crumb
            .data
            .values()
            .all(|v| !v.to_string().contains("token"))
    );

    let skipped = Classifiers::default().with(by_type::<Invalid>("validation").skip_capture());
    let outcome = outcome(502).with_error(&Invalid);
    let crumb = breadcrumb(&outcome, &skipped.decide(&outcome)).unwrap();
    assert_eq!(crumb.level, Level::Error);
}
