//! The same integration through the axum adapter (`lookout::axum`), as an
//! application meets it: a router with the layer, handlers that log.

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::{Router, routing::get};
use http_body_util::BodyExt as _;
use lookout::User;
use lookout::axum::LookoutLayer;
use lookout::testing::TestLookout;
use sentry_core::protocol::Context;
use tower::ServiceExt as _;

use crate::load_user;
use crate::support::{block_on, subscriber};

async fn user(Path(id): Path<u64>) -> String {
    lookout::identify(User::id(id)).expect("inside the request");
    tracing::info!("looking up the profile");
    let loaded = load_user(id).await;
    tracing::error!("profile service timed out");
    loaded.to_string()
}

#[test]
fn a_handlers_logs_and_spans_belong_to_its_request() {
    let test = TestLookout::new();
    let app = Router::new()
        .route("/users/{id}", get(user))
        .layer(LookoutLayer::new(test.engine().clone()));
    let (subscriber, logs) = subscriber(&test);
    let (request_id, body) = tracing::subscriber::with_default(subscriber, || {
        block_on(async {
            let request = Request::get("/users/7").body(Body::empty()).unwrap();
            let response = app.oneshot(request).await.unwrap();
            let request_id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (request_id, String::from_utf8(body.to_vec()).unwrap())
        })
    });
    assert_eq!(body, "7");

    let events = test.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.message.as_deref(), Some("profile service timed out"));
    assert_eq!(event.tags["request_id"], request_id);
    assert_eq!(event.user.as_ref().and_then(|u| u.id.as_deref()), Some("7"));
    assert!(
        event
            .breadcrumbs
            .values
            .iter()
            .any(|c| c.message.as_deref() == Some("looking up the profile"))
    );

    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"));
    let Some(Context::Trace(tx_trace)) = tx.contexts.get("trace") else {
        panic!("transaction without trace context");
    };
    let Some(Context::Trace(event_trace)) = event.contexts.get("trace") else {
        panic!("event without trace context");
    };
    assert_eq!(event_trace.trace_id, tx_trace.trace_id);
    let span = tx
        .spans
        .iter()
        .find(|s| s.description.as_deref() == Some("load_user"))
        .unwrap_or_else(|| panic!("no load_user span in {:?}", tx.spans));
    assert_eq!(span.parent_span_id, Some(tx_trace.span_id));

    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l.contains("profile service timed out"))
        .unwrap_or_else(|| panic!("no line in {lines:?}"));
    assert!(line.contains(&request_id), "{line}");
    assert!(line.contains(&tx_trace.trace_id.to_string()), "{line}");
}
