//! The tracing integration through the capture helper: the subscriber
//! `lookout::init` installs (built with `lookout::subscriber::tracing_layers`), set as
//! the thread's default only for the test, over a `TestLookout` whose
//! client lives on a Hub of its own.

mod axum;
mod buffer;
mod db;
mod logs;
mod support;

use http::StatusCode;
use lookout::User;
use lookout::testing::TestLookout;
use sentry_core::protocol::{Context, Event, Level};
use support::{block_on, serve, subscriber};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

fn trace_of(event: &Event<'_>) -> sentry_core::protocol::TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => (**trace).clone(),
        other => panic!("no trace context: {other:?}"),
    }
}

fn crumbs(event: &Event<'_>) -> Vec<String> {
    event
        .breadcrumbs
        .values
        .iter()
        .filter_map(|crumb| crumb.message.clone())
        .collect()
}

#[test]
fn an_error_log_in_a_request_becomes_an_event_with_its_user_trace_and_request_id() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    let (request_id, trace, ()) = tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/orders/{id}", StatusCode::OK, async {
            lookout::identify(User::id("42").role("admin")).expect("inside the request");
            tracing::error!(order = 7, "payment provider refused the charge");
        }))
    });

    let events = test.events();
    assert_eq!(
        events.len(),
        1,
        "the 200 itself captures nothing: {events:?}"
    );
    let event = &events[0];
    assert_eq!(event.level, Level::Error);
    assert_eq!(
        event.message.as_deref(),
        Some("payment provider refused the charge")
    );
    assert_eq!(
        event.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("42")
    );
    assert_eq!(event.tags["request_id"], request_id);
    assert_eq!(event.tags["user_role"], "admin");
    let event_trace = trace_of(event);
    assert_eq!(event_trace.trace_id.to_string(), trace.trace_id.to_string());
    assert_eq!(event_trace.span_id.to_string(), trace.span_id.to_string());
}

#[test]
fn info_and_warn_become_breadcrumbs_of_their_own_request_only() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        block_on(async {
            // Interleaved on one thread: every await hands over to the other.
            let a = serve(&test, "/a", StatusCode::OK, async {
                tracing::info!("a: loaded cart");
                tokio::task::yield_now().await;
                tracing::warn!("a: stock low");
                tokio::task::yield_now().await;
                tracing::debug!("a: debug is ignored");
                tracing::error!("a failed");
            });
            let b = serve(&test, "/b", StatusCode::OK, async {
                tracing::info!("b: loaded profile");
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                tracing::error!("b failed");
            });
            tokio::join!(a, b);
        });
    });

    let events = test.events();
    let find = |message: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .unwrap_or_else(|| panic!("no event {message:?} in {events:?}"))
    };
    let a = crumbs(find("a failed"));
    let b = crumbs(find("b failed"));
    assert!(a.contains(&"a: loaded cart".to_owned()), "{a:?}");
    assert!(a.contains(&"a: stock low".to_owned()), "{a:?}");
    assert!(!a.iter().any(|m| m.starts_with("b:")), "{a:?}");
    assert!(!a.iter().any(|m| m.contains("debug")), "{a:?}");
    assert!(b.contains(&"b: loaded profile".to_owned()), "{b:?}");
    assert!(!b.iter().any(|m| m.starts_with("a:")), "{b:?}");
    assert!(
        !b.iter().any(|m| m.contains("failed")),
        "an event is not its own breadcrumb: {b:?}"
    );
}

#[test]
fn lookouts_own_lines_never_become_breadcrumbs_or_events() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/c", StatusCode::OK, async {
            tracing::info!(target: "lookout::console", "lookout event error \"boom\"");
            tracing::error!(target: "lookout::spotlight", "Spotlight is down");
            tracing::error!("handler failed");
        }))
    });
    let events = test.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].message.as_deref(), Some("handler failed"));
    assert!(crumbs(&events[0]).is_empty(), "{:?}", crumbs(&events[0]));
}

#[tracing::instrument]
pub(crate) async fn load_user(id: u64) -> u64 {
    tokio::task::yield_now().await;
    tracing::info!("querying");
    id
}

#[test]
fn an_instrumented_function_in_a_sampled_request_is_a_child_span_of_its_transaction() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    let (_, trace, loaded) = tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/users/{id}", StatusCode::OK, load_user(7)))
    });
    assert_eq!(loaded, 7);

    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1, "one request, one transaction");
    let tx = &transactions[0];
    assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"));
    let tx_trace = match tx.contexts.get("trace") {
        Some(Context::Trace(trace)) => (**trace).clone(),
        other => panic!("no trace context: {other:?}"),
    };
    assert_eq!(tx_trace.span_id.to_string(), trace.span_id.to_string());
    // Only the instrumented function: the request span is the transaction.
    assert_eq!(tx.spans.len(), 1, "{:?}", tx.spans);
    let span = &tx.spans[0];
    assert_eq!(span.description.as_deref(), Some("load_user"));
    // As sentry-python's `@trace`: op `function`, not `tracing::load_user`.
    assert_eq!(span.op.as_deref(), Some("function"));
    assert_eq!(span.parent_span_id, Some(tx_trace.span_id));
    assert_eq!(span.trace_id, tx_trace.trace_id);
    assert!(span.timestamp.is_some(), "the span finished");
    assert_eq!(span.data.get("id"), Some(&serde_json::json!(7)));
}

#[tracing::instrument(fields(sentry.op = "db.query"))]
pub(crate) async fn query_orders(id: u64) -> u64 {
    tokio::task::yield_now().await;
    id
}

/// A span that names its op keeps it.
#[test]
fn an_instrumented_function_keeps_the_op_it_names() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(
            &test,
            "/orders/{id}",
            StatusCode::OK,
            query_orders(3),
        ))
    });
    let transactions = test.transactions();
    let span = &transactions[0].spans[0];
    assert_eq!(span.description.as_deref(), Some("query_orders"));
    assert_eq!(span.op.as_deref(), Some("db.query"));
}

#[test]
fn breadcrumbs_from_inside_an_instrumented_function_stay_on_the_request() {
    let test = TestLookout::new();
    let (subscriber, _logs) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/users/{id}", StatusCode::OK, async {
            load_user(7).await;
            tracing::error!("rendering failed");
        }))
    });
    let events = test.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let crumbs = crumbs(&events[0]);
    assert!(crumbs.contains(&"querying".to_owned()), "{crumbs:?}");
}

/// Unsampled, the instrumented function records no span and nothing starts
/// a transaction; the same request sampled, under the same subscriber, does
/// record the function's span (so the emptiness is the decision's, not a
/// subscriber that records nothing), and the unsampled request's lines
/// still run inside the request.
#[test]
fn an_unsampled_request_records_no_spans_and_starts_no_transaction() {
    let sampled = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1")]).unwrap();
    let (wired, _logs) = subscriber(&sampled);
    tracing::subscriber::with_default(wired, || {
        block_on(serve(&sampled, "/users/{id}", StatusCode::OK, load_user(7)));
    });
    let transactions = sampled.transactions();
    assert_eq!(transactions.len(), 1, "sampled: {transactions:?}");
    let spans: Vec<_> = transactions[0]
        .spans
        .iter()
        .map(|span| span.description.clone().unwrap_or_default())
        .collect();
    assert_eq!(spans, ["load_user"], "sampled, the function is a span");

    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    let (wired, logs) = subscriber(&test);
    let (request_id, _, _) = tracing::subscriber::with_default(wired, || {
        let served = block_on(serve(&test, "/users/{id}", StatusCode::OK, load_user(7)));
        // Outside any request: no transaction of its own either.
        block_on(load_user(8));
        served
    });
    assert!(test.transactions().is_empty(), "{:?}", test.transactions());
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|line| line.contains("querying") && line.contains(&request_id)),
        "the function ran inside the unsampled request: {lines:?}"
    );
}

#[test]
fn json_log_lines_in_a_request_carry_request_id_and_trace_id() {
    // The `test` environment's profile writes JSON lines.
    let test = TestLookout::new();
    assert_eq!(test.settings().log_format.value, lookout::LogFormat::Json);
    let (subscriber, logs) = subscriber(&test);
    let (request_id, trace, _) = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside any request");
        block_on(serve(&test, "/users/{id}", StatusCode::OK, load_user(1)))
    });

    let lines = logs.lines();
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let querying = parsed
        .iter()
        .find(|line| line["fields"]["message"] == "querying")
        .unwrap_or_else(|| panic!("no `querying` line in {lines:?}"));
    let request_span = &querying["spans"][0];
    assert_eq!(request_span["name"], "request");
    assert_eq!(request_span["request_id"], request_id.as_str());
    assert_eq!(request_span["trace_id"], trace.trace_id.to_string());
    assert_eq!(querying["span"]["name"], "load_user", "the innermost span");
    let outside = parsed
        .iter()
        .find(|line| line["fields"]["message"] == "outside any request")
        .expect("the line outside the request");
    assert!(
        outside
            .get("spans")
            .is_none_or(|spans| spans.as_array().is_some_and(Vec::is_empty))
    );
}

#[test]
fn human_log_lines_in_a_request_carry_request_id_and_trace_id() {
    let test = TestLookout::from_vars([("LOOKOUT_LOG_FORMAT", "human")]).unwrap();
    let (subscriber, logs) = subscriber(&test);
    let (request_id, trace, ()) = tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/health", StatusCode::OK, async {
            tracing::warn!(disk = "sda", "disk almost full");
        }))
    });
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|line| line.contains("disk almost full"))
        .unwrap_or_else(|| panic!("no line in {lines:?}"));
    assert!(line.contains(&format!("request_id={request_id}")), "{line}");
    assert!(
        line.contains(&format!("trace_id={}", trace.trace_id)),
        "{line}"
    );
    assert!(line.contains("WARN"), "{line}");
    assert!(
        !line.contains('\u{1b}'),
        "no colours in a captured writer: {line}"
    );
}

/// A line logged while only the request's context is bound (no `tracing`
/// span at all) is written with the request's ids: lookout's fmt layer reads
/// them from the context.
#[test]
fn log_lines_carry_the_request_from_its_context_without_any_span() {
    for format in ["human", "json"] {
        let test = TestLookout::from_vars([("LOOKOUT_LOG_FORMAT", format)]).unwrap();
        let (subscriber, logs) = subscriber(&test);
        let (request_id, trace_id) = tracing::subscriber::with_default(subscriber, || {
            let headers = http::HeaderMap::new();
            let in_flight = test
                .engine()
                .begin(&lookout::engine::RequestHead::new("POST", "/pay", &headers));
            let ctx = in_flight.context().clone();
            ctx.enter(|| tracing::warn!("card declined"));
            tracing::warn!("after the request");
            in_flight
                .finish(&lookout::engine::ResponseHead::new(StatusCode::OK))
                .body
                .complete();
            (
                ctx.request_id().to_owned(),
                ctx.trace().trace_id.to_string(),
            )
        });
        let lines = logs.lines();
        let inside = lines
            .iter()
            .find(|line| line.contains("card declined"))
            .unwrap_or_else(|| panic!("no line in {lines:?}"));
        let outside = lines
            .iter()
            .find(|line| line.contains("after the request"))
            .unwrap_or_else(|| panic!("no line in {lines:?}"));
        if format == "human" {
            let request =
                format!("request{{request_id={request_id} trace_id={trace_id} method=POST}}:");
            assert!(inside.contains(&request), "{inside}");
            assert!(!outside.contains("request{"), "{outside}");
        } else {
            let inside: serde_json::Value = serde_json::from_str(inside).unwrap();
            let request = serde_json::json!({
                "name": "request",
                "request_id": request_id,
                "trace_id": trace_id,
                "method": "POST",
            });
            assert_eq!(
                inside["spans"],
                serde_json::json!([request.clone()]),
                "{inside}"
            );
            assert_eq!(inside["span"], request, "{inside}");
            assert_eq!(inside["level"], "WARN", "{inside}");
            assert_eq!(inside["fields"]["message"], "card declined", "{inside}");
            let outside: serde_json::Value = serde_json::from_str(outside).unwrap();
            assert!(outside.get("spans").is_none(), "{outside}");
        }
    }
}

/// A line logged inside a job (a context without an HTTP method) carries
/// the job's ids and no empty `method`.
#[test]
fn log_lines_inside_a_job_have_no_empty_method() {
    for format in ["human", "json"] {
        let test = TestLookout::from_vars([("LOOKOUT_LOG_FORMAT", format)]).unwrap();
        let (subscriber, logs) = subscriber(&test);
        tracing::subscriber::with_default(subscriber, || {
            block_on(
                lookout::job::Job::new("send-welcome-email")
                    .engine(test.engine())
                    .run(async {
                        tracing::warn!("smtp slow");
                        Ok::<(), std::io::Error>(())
                    }),
            )
            .unwrap();
        });
        let lines = logs.lines();
        let line = lines
            .iter()
            .find(|line| line.contains("smtp slow"))
            .unwrap_or_else(|| panic!("no line in {lines:?}"));
        assert!(line.contains("request_id"), "{format}: {line}");
        assert!(!line.contains("method"), "{format}: {line}");
    }
}

/// Under lookout's own subscriber the request span is created only for a
/// sampled request (its database spans find it through it), so an unsampled
/// request pays no span registry, filter or field formatting for it.
#[test]
fn lookouts_subscriber_leaves_the_request_span_off_unless_sampled() {
    let unsampled = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    let (quiet, _logs) = subscriber(&unsampled);
    let headers = http::HeaderMap::new();
    let in_flight = unsampled
        .engine()
        .begin(&lookout::engine::RequestHead::new("GET", "/", &headers));
    tracing::subscriber::with_default(quiet, || {
        assert!(in_flight.tracing_span().is_disabled());
        let ctx = in_flight.context().clone();
        assert!(ctx.enter(|| in_flight.tracing_span()).is_disabled());
    });
    let test = TestLookout::new();
    let (sampling, _logs) = subscriber(&test);
    let in_flight = test
        .engine()
        .begin(&lookout::engine::RequestHead::new("GET", "/", &headers));
    tracing::subscriber::with_default(sampling, || {
        // Outside its request (no request at hand) it stays off.
        assert!(in_flight.tracing_span().is_disabled());
        let ctx = in_flight.context().clone();
        assert!(!ctx.enter(|| in_flight.tracing_span()).is_disabled());
    });
    // A subscriber of the application's own that enables the target still
    // gets it, for its own fmt layer.
    let own = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::sink)
            .with_filter(lookout::TracingOptions::new().filter("warn").env_filter()),
    );
    tracing::subscriber::with_default(own, || {
        assert!(!in_flight.tracing_span().is_disabled());
    });
}

/// A filter that turns the request span back on in lookout's own fmt layer
/// does not write the request twice.
#[test]
fn a_filter_naming_the_request_span_still_writes_the_request_once() {
    let test = TestLookout::from_vars([("LOOKOUT_LOG_FORMAT", "human")]).unwrap();
    let buffer = buffer::Buffer::default();
    let layers = lookout::subscriber::tracing_layers(
        test.settings(),
        lookout::TracingOptions::new()
            .filter("info,lookout::request=info")
            .writer(buffer.clone()),
    );
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/health", StatusCode::OK, async {
            tracing::warn!("disk almost full");
        }))
    });
    let lines = buffer.lines();
    let line = lines
        .iter()
        .find(|line| line.contains("disk almost full"))
        .unwrap_or_else(|| panic!("no line in {lines:?}"));
    assert_eq!(line.matches("request{").count(), 1, "{line}");
}

#[test]
fn levels_are_configurable() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let test = TestLookout::new();
    let subscriber = tracing_subscriber::registry().with(lookout::subscriber::sentry_layer(
        &lookout::TracingOptions::new()
            .event_level(tracing::Level::WARN)
            .breadcrumb_level(None),
    ));
    tracing::subscriber::with_default(subscriber, || {
        block_on(serve(&test, "/x", StatusCode::OK, async {
            tracing::info!("not a breadcrumb now");
            tracing::warn!("a warning event");
        }))
    });
    let events = test.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].level, Level::Warning);
    assert!(crumbs(&events[0]).is_empty());
}
