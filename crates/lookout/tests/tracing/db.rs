//! Database queries as `db` spans: sqlx's `sqlx::query` events (the real
//! crate, SQLite in memory, whose queries run on a worker thread of their
//! own) and spans with OpenTelemetry's database fields.

use std::sync::Once;

use http::StatusCode;
use lookout::testing::TestLookout;
use sentry_core::protocol::{Context, Span, Transaction};
use sqlx::{Connection as _, Row as _, SqliteConnection};
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::{block_on, serve, subscriber};

/// sqlx-sqlite logs on its worker thread, which a thread's default
/// subscriber does not reach: the queries' tests share one global
/// subscriber, the one `lookout::init` installs, with log lines at `info`
/// (so `RUST_LOG` hides sqlx's DEBUG statements). Which client a span
/// reaches is decided by the request, not by the subscriber.
fn global_subscriber() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let settings = TestLookout::new().settings().clone();
        let layers = lookout::subscriber::tracing_layers(
            &settings,
            lookout::TracingOptions::new()
                .filter("info")
                .writer(std::io::sink),
        );
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers))
            .expect("the only global subscriber of this suite");
    });
}

async fn seeded() -> SqliteConnection {
    let mut db = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("an in-memory database");
    for statement in [
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)",
        "CREATE TABLE order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL)",
        "INSERT INTO orders (id, customer) VALUES (7, 'ada')",
        "INSERT INTO order_lines (order_id, sku, quantity) VALUES (7, 'tea', 2), (7, 'cup', 1)",
    ] {
        sqlx::query(statement)
            .execute(&mut db)
            .await
            .expect(statement);
    }
    db
}

const ORDER: &str = "SELECT id, customer FROM orders WHERE id = ?";
const LINES: &str = "SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku";

/// The handler: the order, then its lines; returns how many lines.
async fn lookup(db: &mut SqliteConnection) -> usize {
    let order = sqlx::query(ORDER)
        .bind(7)
        .fetch_one(&mut *db)
        .await
        .expect("the order");
    assert_eq!(order.get::<String, _>("customer"), "ada");
    sqlx::query(LINES)
        .bind(7)
        .fetch_all(&mut *db)
        .await
        .expect("its lines")
        .len()
}

fn db_spans(transaction: &Transaction<'_>) -> Vec<Span> {
    transaction
        .spans
        .iter()
        .filter(|span| span.op.as_deref() == Some("db"))
        .cloned()
        .collect()
}

fn span_id_of(transaction: &Transaction<'_>) -> sentry_core::protocol::SpanId {
    match transaction.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace.span_id,
        other => panic!("no trace context: {other:?}"),
    }
}

#[test]
fn sqlx_queries_in_a_sampled_request_are_db_spans_of_its_transaction() {
    global_subscriber();
    let test = TestLookout::new();
    let lines = block_on(async {
        // Outside any request: the seeding records nothing.
        let mut db = seeded().await;
        let (_, _, lines) = serve(&test, "/orders/{id}", StatusCode::OK, lookup(&mut db)).await;
        lines
    });
    assert_eq!(lines, 2);

    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let transaction = &transactions[0];
    let spans = db_spans(transaction);
    assert_eq!(spans.len(), 2, "the two queries: {:?}", transaction.spans);
    for (span, (query, returned)) in spans.iter().zip([(ORDER, 1), (LINES, 2)]) {
        assert_eq!(span.description.as_deref(), Some(query));
        assert_eq!(span.parent_span_id, Some(span_id_of(transaction)));
        assert!(span.timestamp.is_some(), "finished");
        assert!(span.start_timestamp <= span.timestamp.unwrap());
        let data = &span.data;
        assert_eq!(data["db.system"], "sqlite");
        assert_eq!(data["db.query.text"], query);
        assert_eq!(data["db.response.returned_rows"], returned);
        // What sqlx says (SQLite's count of the last change, for a SELECT).
        assert!(data["db.response.affected_rows"].is_u64(), "{data:?}");
        assert_eq!(data["sentry.origin"], "auto.db.sqlx");
    }
}

/// An unsampled request records no query, even inside a transaction the
/// application started around it (its Hub inherits that span): the query
/// here is logged on the request's own thread, as sqlx's PostgreSQL and
/// MySQL drivers log theirs.
#[test]
fn an_unsampled_request_records_no_db_span_even_under_an_application_transaction() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    let (subscriber, _lines) = subscriber(&test);
    let mut context = sentry_core::TransactionContext::new("nightly report", "task");
    context.set_sampled(true);
    let outer = test.hub().start_transaction(context);
    test.hub()
        .configure_scope(|scope| scope.set_span(Some(outer.clone().into())));
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/orders/{id}", StatusCode::OK, async {
            tracing::debug!(
                target: "sqlx::query",
                summary = "SELECT 1",
                db.statement = "",
                rows_affected = 0_u64,
                rows_returned = 1_u64,
                elapsed_secs = 0.001,
            );
        }))
    });
    test.hub().configure_scope(|scope| scope.set_span(None));
    outer.finish();
    let transactions = test.transactions();
    assert_eq!(
        transactions.len(),
        1,
        "only the application's: {transactions:?}"
    );
    assert!(
        db_spans(&transactions[0]).is_empty(),
        "{:?}",
        transactions[0].spans
    );
}

/// What lets sqlx skip formatting a query nobody records: its events are
/// enabled inside a sampled request only (the log-line filter is `info`).
#[test]
fn sqlx_events_are_enabled_only_inside_a_sampled_request() {
    let enabled = || tracing::enabled!(target: "sqlx::query", Level::DEBUG);
    for (rate, inside) in [("1.0", true), ("0", false)] {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", rate)]).unwrap();
        let (subscriber, _lines) = subscriber(&test);
        let (outside, seen) = tracing::subscriber::with_default(subscriber, || {
            let outside = enabled();
            let (_, _, seen) = block_on(serve(&test, "/orders/{id}", StatusCode::OK, async {
                enabled()
            }));
            (outside, seen)
        });
        assert!(!outside, "outside any request");
        assert_eq!(seen, inside, "sample rate {rate}");
    }
}

#[tracing::instrument(fields(db.system = "postgresql", db.statement = query))]
async fn old_spelling(query: &'static str) {
    tokio::task::yield_now().await;
}

#[tracing::instrument(fields(db.system.name = "postgresql", db.query.text = tracing::field::Empty))]
async fn new_spelling_recorded_later(query: &'static str) {
    tracing::Span::current().record("db.query.text", query);
    tokio::task::yield_now().await;
}

#[test]
fn spans_with_opentelemetry_database_fields_are_db_spans_named_after_their_query() {
    let test = TestLookout::new();
    let (subscriber, _lines) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/orders/{id}", StatusCode::OK, async {
            old_spelling("SELECT * FROM orders WHERE id = $1").await;
            new_spelling_recorded_later("SELECT * FROM order_lines WHERE order_id = $1").await;
        }))
    });
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    let spans = db_spans(&transactions[0]);
    let described: Vec<(Option<&str>, &serde_json::Value)> = spans
        .iter()
        .map(|span| (span.description.as_deref(), &span.data["db.system"]))
        .collect();
    assert_eq!(
        described,
        [
            (
                Some("SELECT * FROM orders WHERE id = $1"),
                &"postgresql".into()
            ),
            (
                Some("SELECT * FROM order_lines WHERE order_id = $1"),
                &"postgresql".into()
            ),
        ],
        "{:?}",
        transactions[0].spans
    );
    assert_eq!(
        spans[1].data["db.query.text"],
        "SELECT * FROM order_lines WHERE order_id = $1"
    );
}
