//! Trace metrics through the lifecycle: the request's trace, span, ids and
//! user on every metric captured inside it, the application's
//! `before_send_metric`, the scrubber, and the envelope they travel in.

use http::StatusCode;
use lookout_core::testing::TestLookout;
use lookout_core::{RequestHead, ResponseHead};
use lookout_policy::Overrides;
use lookout_scope::User;
use sentry_core::protocol::{EnvelopeItem, ItemContainer, Metric, Value};

use crate::support::headers;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

fn attribute(metric: &Metric, key: &str) -> Option<Value> {
    metric.attributes.get(key).map(|a| a.0.clone())
}

/// `GET /orders/7` continued from `flag`'s decision, signed in as `u-7`,
/// counting `orders.lookup` (with a secret attribute) and a `debug.` metric.
fn lookup(test: &TestLookout, flag: &str) -> (String, String) {
    let h = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-{flag}")),
        ("x-request-id", &format!("req-{flag}")),
    ]);
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/orders/7", &h).with_route("/orders/{id}"));
    let ctx = in_flight.context().clone();
    ctx.enter(|| {
        lookout_scope::identify(User::id("u-7").email("ada@example.com")).unwrap();
        sentry_core::metrics::counter("orders.lookup", 1)
            .attribute("api_key", "k-s3cr3t")
            .capture();
        sentry_core::metrics::gauge("debug.cache_size", 3).capture();
    });
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    (ctx.request_id().to_owned(), ctx.trace().span_id.to_string())
}

#[test]
fn a_metric_inside_a_request_carries_its_trace_ids_and_user_sampled_or_not() {
    let settings = Overrides::new()
        .before_send_metric(|metric| (!metric.name.starts_with("debug.")).then_some(metric))
        .resolve([
            ("SENTRY_ENVIRONMENT", "test"),
            ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ])
        .unwrap();
    let test = TestLookout::with_settings(settings, |builder| builder);
    let sampled = lookup(&test, "1");
    let unsampled = lookup(&test, "0");

    let metrics = test.metrics();
    assert_eq!(
        metrics.len(),
        2,
        "the application's callback dropped the debug gauges: {metrics:?}"
    );
    for (metric, (request_id, span)) in metrics.iter().zip([sampled, unsampled]) {
        assert_eq!(metric.name, "orders.lookup");
        assert_eq!(metric.trace_id.to_string(), TRACE, "the caller's trace");
        assert_eq!(metric.span_id.map(|s| s.to_string()), Some(span));
        assert_eq!(attribute(metric, "request_id"), Some(request_id.into()));
        assert_eq!(attribute(metric, "http.route"), Some("/orders/{id}".into()));
        assert_eq!(attribute(metric, "http.request.method"), Some("GET".into()));
        assert_eq!(attribute(metric, "user.id"), Some("u-7".into()));
        assert_eq!(attribute(metric, "user.email"), None, "PII off");
        assert_eq!(attribute(metric, "api_key"), Some("[Filtered]".into()));
        assert_eq!(attribute(metric, "sentry.environment"), Some("test".into()));
    }
    // A batch of metrics spans requests: no request's DSC on its envelope.
    let envelope = test
        .envelopes()
        .into_iter()
        .find(|e| {
            e.items()
                .any(|i| matches!(i, EnvelopeItem::ItemContainer(ItemContainer::Metrics(_))))
        })
        .expect("an envelope of metrics");
    let header = serde_json::to_value(envelope.headers()).unwrap();
    assert!(
        header
            .get("trace")
            .is_none_or(|dsc| dsc.get("transaction").is_none()),
        "{header}"
    );
    let wire: Vec<String> = test
        .envelopes()
        .iter()
        .map(|e| {
            let mut bytes = Vec::new();
            e.to_writer(&mut bytes).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect();
    assert!(wire.iter().all(|e| !e.contains("k-s3cr3t")));
    assert!(wire.iter().any(|e| e.contains("\"type\":\"trace_metric\"")));
}
