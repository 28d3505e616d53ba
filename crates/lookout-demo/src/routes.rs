//! What the demo routes do, independent of any framework. Each framework
//! module maps its own request types onto these functions, so every
//! framework serves exactly the same routes:
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200 `ok` |
//! | `GET /users/{id}` | 200 JSON; logs `info` "loading user" (`user_id`) |
//! | `GET /items/{id}` | 404 from [`NotFound`] |
//! | `GET /orders/{id}` | 200 JSON: the order, then its lines, two sqlx queries on the in-memory SQLite database seeded at start ([`Orders`]); counts the metric `orders.lookup`; 404 from [`NotFound`] for an unknown order |
//! | `GET /fail` | 500 from [`ServiceError`] (`error_type=app_service`), any query |
//! | `POST /fail` | reads the body the client sent (JSON or form), then fails as `GET /fail` does; the event carries the body (`request.data`, secrets filtered) |
//! | `GET /upstream` | 502 from [`UpstreamError`] (`error_type=upstream`) |
//! | `GET /panic` | the handler panics; 500 |
//! | `GET /slow?ms=N` | waits N ms (at most 10000), then 200 |
//! | `POST /hop` | the W3C Trace Context test-service contract |
//! | `GET /lookout/status` | 200 JSON: lookout's status (environment and where it came from, release, DSN host and project id, sample rates, delivery mode, delivery counters; never the DSN's keys); 404 with `--plain` |
//! | `POST /jobs/welcome[?fail=1]` | 202; a background job on the request's trace, failing on purpose with `fail=1` |

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::errors::{MailError, NotFound, ServiceError, UpstreamError};

/// The longest `/slow` waits.
pub(crate) const MAX_SLOW_MS: u64 = 10_000;

/// `GET /health`.
pub(crate) const HEALTH_BODY: &str = "ok";

/// `GET /users/{id}`: the user as JSON, and who asked. Logs `info` "loading
/// user" with a `user_id` field: with Sentry Logs on (the default) the line
/// is a log on the request's trace.
pub(crate) fn user(id: &str, signed_in: Option<&str>) -> Value {
    tracing::info!(user_id = %id, "loading user");
    json!({ "id": id, "name": format!("User {id}"), "viewer": signed_in })
}

/// `GET /items/{id}`: no item exists.
pub(crate) fn item(id: &str) -> Result<Value, NotFound> {
    Err(NotFound { id: id.to_owned() })
}

/// The demo's orders: an in-memory SQLite database (sqlx), seeded at start,
/// one connection shared by the requests. lookout records each query as a
/// `db` span of the request's transaction from sqlx's own `tracing` events:
/// nothing here mentions lookout except the metric.
#[derive(Clone, Debug)]
pub(crate) struct Orders {
    db: Arc<tokio::sync::Mutex<sqlx::SqliteConnection>>,
}

/// The two queries of `GET /orders/{id}`, in order.
pub(crate) const ORDER_QUERY: &str = "SELECT id, customer, total_cents FROM orders WHERE id = ?";
pub(crate) const LINES_QUERY: &str =
    "SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku";

impl Orders {
    /// A new in-memory database with orders 17 (ada: two lines) and 42
    /// (bob: one line).
    pub(crate) async fn seeded() -> Result<Self, String> {
        use sqlx::Connection as _;
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .map_err(|e| format!("the orders database: {e}"))?;
        for statement in [
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total_cents INTEGER NOT NULL)",
            "CREATE TABLE order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL)",
            "INSERT INTO orders (id, customer, total_cents) VALUES (17, 'ada', 1250), (42, 'bob', 300)",
            "INSERT INTO order_lines (order_id, sku, quantity) VALUES (17, 'tea', 2), (17, 'cup', 1), (42, 'tea', 1)",
        ] {
            sqlx::query(statement)
                .execute(&mut db)
                .await
                .map_err(|e| format!("seeding the orders database: {e}"))?;
        }
        Ok(Self {
            db: Arc::new(tokio::sync::Mutex::new(db)),
        })
    }

    /// `GET /orders/{id}`: the order ([`ORDER_QUERY`]), then its lines
    /// ([`LINES_QUERY`]). Counts `orders.lookup` (attribute `order.found`):
    /// inside a request the metric carries its trace, ids and user.
    pub(crate) async fn lookup(&self, id: &str) -> Result<Value, NotFound> {
        use sqlx::Row as _;
        let not_found = || NotFound { id: id.to_owned() };
        let key: i64 = id.parse().map_err(|_| not_found())?;
        let mut db = self.db.lock().await;
        let order = sqlx::query(ORDER_QUERY)
            .bind(key)
            .fetch_optional(&mut *db)
            .await
            .ok()
            .flatten();
        lookout::metrics::counter("orders.lookup", 1)
            .attribute("order.found", order.is_some())
            .capture();
        let order = order.ok_or_else(not_found)?;
        let lines = sqlx::query(LINES_QUERY)
            .bind(key)
            .fetch_all(&mut *db)
            .await
            .map_err(|_| not_found())?;
        let lines: Vec<Value> = lines
            .iter()
            .map(|line| {
                json!({
                    "sku": line.get::<String, _>("sku"),
                    "quantity": line.get::<i64, _>("quantity"),
                })
            })
            .collect();
        Ok(json!({
            "id": order.get::<i64, _>("id"),
            "customer": order.get::<String, _>("customer"),
            "total_cents": order.get::<i64, _>("total_cents"),
            "lines": lines,
        }))
    }
}

/// `GET /fail`: the service fails.
pub(crate) fn fail() -> Result<Value, ServiceError> {
    Err(ServiceError::database_down())
}

/// `POST /fail`: the handler reads the body the client sent (a JSON order
/// or a form; lookout records what it read for the event, secrets
/// filtered), then the service fails as [`fail`] does.
pub(crate) fn fail_posted(body: &[u8]) -> Result<Value, ServiceError> {
    tracing::debug!(bytes = body.len(), "order received");
    fail()
}

/// `GET /upstream`: a dependency fails.
pub(crate) fn upstream() -> Result<Value, UpstreamError> {
    Err(UpstreamError {
        service: "inventory".into(),
        detail: "503 Service Unavailable from http://inventory.internal/stock".into(),
    })
}

/// `POST /jobs/welcome[?fail=1]`: enqueues the job `send-welcome-email` on
/// a tokio task. It continues the request's trace (`lookout::job::carry`)
/// and fails with [`MailError`] when the query says `fail=1`. Answered
/// with 202 and this body.
pub(crate) fn welcome_job(query: Option<&str>) -> &'static str {
    let fail = query
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair == "fail=1");
    // Made inside the request (its trace, its engine), run on a task.
    let job = lookout::job::run("send-welcome-email", lookout::job::carry(), async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if fail { Err(MailError) } else { Ok(()) }
    });
    tokio::spawn(job);
    "welcome mail queued"
}

/// `lookout-demo serve --monitor`: the demo cron monitor, one run a minute.
pub(crate) async fn heartbeat_monitor() {
    let monitor = lookout::monitor("demo-heartbeat")
        .interval(1, lookout::monitor::MonitorIntervalUnit::Minute)
        .checkin_margin(1)
        .max_runtime(1);
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        let _ = monitor.run(async { Ok::<_, MailError>(()) }).await;
    }
}

/// `GET /panic`.
pub(crate) fn panic() -> ! {
    panic!("the demo handler panicked on purpose")
}

/// `GET /slow?ms=N`: how long to wait; a missing or invalid `ms` waits 0.
pub(crate) fn slow_duration(query: Option<&str>) -> Duration {
    let ms = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .and_then(|ms| ms.parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_millis(ms.min(MAX_SLOW_MS))
}

/// One element of a `POST /hop` body.
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct HopCall {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) arguments: Value,
}

/// Parses a `POST /hop` body: a JSON array of `{"url": ..., "arguments": [...]}`.
pub(crate) fn hop_calls(body: &[u8]) -> Result<Vec<HopCall>, String> {
    serde_json::from_slice(body).map_err(|e| {
        format!("expected a JSON array of {{\"url\": ..., \"arguments\": [...]}}: {e}")
    })
}

/// Makes the `/hop` calls in order: POST `arguments` as JSON to `url`. The
/// client carries lookout's `reqwest` middleware (unless the demo runs
/// `--plain`): each call is its own `http.client` span with the current
/// request's outgoing trace headers (`sentry-trace`, `baggage`,
/// `traceparent`, `tracestate`), so every callee sees a distinct parent id.
/// Must run inside the request, where lookout knows the current trace.
pub(crate) async fn hop(
    client: &reqwest_middleware::ClientWithMiddleware,
    calls: &[HopCall],
) -> Result<(), UpstreamError> {
    for call in calls {
        let arguments = if call.arguments.is_null() {
            json!([])
        } else {
            call.arguments.clone()
        };
        let response = client
            .post(&call.url)
            .json(&arguments)
            .send()
            .await
            .map_err(|e| UpstreamError {
                service: call.url.clone(),
                detail: e.to_string(),
            })?;
        tracing::info!(url = %call.url, status = %response.status(), "hop call finished");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_is_capped_and_lenient() {
        assert_eq!(slow_duration(Some("ms=250")), Duration::from_millis(250));
        assert_eq!(
            slow_duration(Some("x=1&ms=99999")),
            Duration::from_millis(MAX_SLOW_MS)
        );
        assert_eq!(slow_duration(Some("ms=-3")), Duration::ZERO);
        assert_eq!(slow_duration(None), Duration::ZERO);
    }

    #[test]
    fn hop_bodies_follow_the_w3c_test_service_shape() {
        let calls = hop_calls(
            br#"[{"url": "http://127.0.0.1:1/hop", "arguments": [{"url": "x", "arguments": []}]}]"#,
        )
        .unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].url, "http://127.0.0.1:1/hop");
        assert!(calls[0].arguments.is_array());
        assert!(hop_calls(b"[]").unwrap().is_empty());
        assert!(hop_calls(b"{}").unwrap_err().contains("JSON array"));
    }

    #[test]
    fn typed_routes_fail_with_their_types() {
        assert!(item("7").is_err());
        assert!(fail().unwrap_err().to_string().contains("order"));
        assert!(
            fail_posted(b"{}")
                .unwrap_err()
                .to_string()
                .contains("order")
        );
        assert_eq!(upstream().unwrap_err().service, "inventory");
        assert_eq!(user("7", None)["id"], "7");
    }
}
