//! Database queries and metrics (issue 27), on every framework: the
//! scenario app's `GET /orders/{id}` runs two sqlx queries on an in-memory
//! SQLite database (the real crate; SQLite runs them on a worker thread of
//! its own) and counts `orders.lookup`, under the tracing layers
//! `lookout::init` installs.

use serde_json::Value;

use crate::app::{LINES_QUERY, ORDER_QUERY};
use crate::fixture::{Fixture, trace_of};
use crate::harness::Harness;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

fn attribute(metric: &sentry_types::protocol::v7::Metric, key: &str) -> Option<Value> {
    metric.attributes.get(key).map(|a| a.0.clone())
}

/// The metrics of the request `request_id` (after a flush).
fn metrics_of(fx: &Fixture, request_id: &str) -> Vec<sentry_types::protocol::v7::Metric> {
    fx.flush();
    fx.receiver
        .metrics()
        .into_iter()
        .filter(|m| attribute(m, "request_id").as_ref().and_then(Value::as_str) == Some(request_id))
        .collect()
}

/// A sampled lookup: its transaction has one `db` span per query, in order,
/// children of the request's span, with the statement, `db.system=sqlite`,
/// rows and origin; its `orders.lookup` counter is on the request's trace
/// and span with its ids and user.
pub async fn an_order_lookup_is_two_db_spans_and_a_metric_on_the_requests_trace<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/orders/7",
            &[("sentry-trace", format!("{TRACE}-{PARENT}-1").as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    let order = reply.json();
    assert_eq!(order["customer"], "ada");
    assert_eq!(order["lines"].as_array().map(Vec::len), Some(2));
    let request_id = reply.request_id.expect("an x-request-id");

    let transactions = fx.transactions();
    let (transaction, _) = transactions
        .iter()
        .find(|(t, _)| t.tags.get("request_id") == Some(&request_id))
        .unwrap_or_else(|| panic!("{}: no transaction: {transactions:?}", H::NAME));
    assert_eq!(transaction.name.as_deref(), Some("GET /orders/{id}"));
    let server_span = trace_of(&transaction.contexts).span_id;
    let db: Vec<_> = transaction
        .spans
        .iter()
        .filter(|s| s.op.as_deref() == Some("db"))
        .collect();
    assert_eq!(db.len(), 2, "{}: {:?}", H::NAME, transaction.spans);
    for (span, (query, rows)) in db.iter().zip([(ORDER_QUERY, 1), (LINES_QUERY, 2)]) {
        assert_eq!(span.description.as_deref(), Some(query), "{}", H::NAME);
        assert_eq!(span.parent_span_id, Some(server_span), "{}", H::NAME);
        assert_eq!(span.trace_id.to_string(), TRACE);
        assert_eq!(span.data["db.system"], "sqlite", "{}", H::NAME);
        assert_eq!(span.data["db.query.text"], query);
        assert_eq!(span.data["db.response.returned_rows"], rows);
        assert!(span.data["db.response.affected_rows"].is_u64());
        assert_eq!(span.data["sentry.origin"], "auto.db.sqlx");
        assert!(
            span.timestamp
                .is_some_and(|end| span.start_timestamp <= end)
        );
    }

    let metrics = metrics_of(&fx, &request_id);
    assert_eq!(metrics.len(), 1, "{}: {metrics:?}", H::NAME);
    let metric = &metrics[0];
    assert_eq!(metric.name, "orders.lookup");
    assert_eq!(metric.value, 1.0);
    assert_eq!(metric.trace_id.to_string(), TRACE);
    assert_eq!(metric.span_id, Some(server_span), "{}", H::NAME);
    assert_eq!(attribute(metric, "http.route"), Some("/orders/{id}".into()));
    assert_eq!(attribute(metric, "http.request.method"), Some("GET".into()));
    assert_eq!(attribute(metric, "order.found"), Some(true.into()));
    assert_eq!(attribute(metric, "sentry.environment"), Some("test".into()));
}

/// An unsampled lookup sends no transaction and so no span; its metric
/// still carries the caller's trace and the request's ids.
pub async fn an_unsampled_order_lookup_records_no_span_and_keeps_its_metric<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/orders/7",
            &[("sentry-trace", format!("{TRACE}-{PARENT}-0").as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    let request_id = reply.request_id.expect("an x-request-id");
    assert!(fx.transactions().is_empty(), "{}", H::NAME);
    let metrics = metrics_of(&fx, &request_id);
    assert_eq!(metrics.len(), 1, "{}: {metrics:?}", H::NAME);
    assert_eq!(metrics[0].trace_id.to_string(), TRACE);
    assert_eq!(
        attribute(&metrics[0], "http.route"),
        Some("/orders/{id}".into())
    );
}

/// Sentry answers a metrics envelope with 429 and `trace_metric` limited:
/// later metrics are dropped (reported as `ratelimit_backoff`), errors
/// still go.
pub async fn a_429_for_trace_metrics_stops_metrics_but_not_errors<H: Harness>() {
    // Unsampled: no transaction envelope comes between the metrics and events.
    let fx = Fixture::start::<H>(&[("SENTRY_TRACES_SAMPLE_RATE", "0")]).await;
    fx.receiver.rate_limit_next("60:trace_metric:organization");
    assert_eq!(fx.get("/orders/7", &[]).await.status, 200);
    fx.flush();
    assert!(
        fx.receiver.envelopes().is_empty(),
        "{}: the metrics envelope was refused",
        H::NAME
    );
    assert_eq!(fx.get("/orders/7", &[]).await.status, 200);
    fx.flush();
    // An event goes, with the client report of what was dropped.
    assert_eq!(fx.get("/db", &[]).await.status, 503);
    assert_eq!(fx.events().len(), 1, "{}: errors are not limited", H::NAME);
    assert!(fx.receiver.metrics().is_empty(), "{}: metrics are", H::NAME);
    let dropped: u64 = fx
        .receiver
        .discarded()
        .into_iter()
        .filter(|(reason, category, _)| reason == "ratelimit_backoff" && category == "trace_metric")
        .map(|(_, _, quantity)| quantity)
        .sum();
    assert_eq!(dropped, 1, "{}: {:?}", H::NAME, fx.receiver.discarded());
}
