//! Allocation budget of the adapter itself: what a request through
//! `Router::layer(LookoutLayer)` allocates beyond bare axum and beyond
//! lookout-core's own lifecycle (counts are deterministic; times are for the
//! `overhead` benchmark).
//!
//! The adapter's share is at most 6 allocations, sampled or not: two come
//! from axum wrapping a layered route (the boxed service clone and the boxed
//! future), one from axum boxing the wrapped response body, one for the
//! `x-request-id` header value.

use axum::body::Body;
use axum::extract::Path;
use axum::{Router, routing::get};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use lookout_core::testing::WiredEngine;
use lookout_core::{Engine, RequestHead, ResponseHead};
use tower::ServiceExt;

/// An engine with production settings and `vars`, discarding what it sends.
fn wired(vars: &[(&str, &str)]) -> Engine {
    let production = [
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
    ];
    WiredEngine::discarding(production.iter().chain(vars).copied())
        .unwrap()
        .engine
}

fn engine(rate: &str) -> Engine {
    wired(&[("SENTRY_TRACES_SAMPLE_RATE", rate)])
}

async fn user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

fn per_call(f: &mut dyn FnMut()) -> u64 {
    for _ in 0..20 {
        f();
    }
    allocation_counter::measure(|| {
        for _ in 0..100 {
            f();
        }
    })
    .count_total
        / 100
}

fn adapter_share(rate: &str) -> (u64, u64, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let lookout = engine(rate);
    let headers = HeaderMap::new();
    let core = per_call(&mut || {
        let in_flight = lookout
            .begin(&RequestHead::new("GET", "/users/42", &headers).with_route("/users/{id}"));
        in_flight.context().enter(|| ());
        let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
        std::hint::black_box(&finished.headers);
        finished.body.complete();
    });
    let bare = Router::new().route("/users/{id}", get(user));
    let layered = bare
        .clone()
        .layer(lookout_axum::LookoutLayer::new(lookout.clone()));
    let run = |app: &Router| {
        per_call(&mut || {
            rt.block_on(async {
                let request = Request::get("/users/42").body(Body::empty()).unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                std::hint::black_box(response.into_body().collect().await.unwrap());
            });
        })
    };
    (run(&bare), run(&layered), core)
}

#[test]
fn the_adapter_adds_at_most_six_allocations_to_lookout_cores_own() {
    for rate in ["0.0", "1.0"] {
        let (bare, layered, core) = adapter_share(rate);
        let adapter = layered - bare - core;
        println!(
            "traces rate {rate}: bare axum {bare}, with lookout {layered}, core {core}, adapter {adapter}"
        );
        assert!(
            adapter <= 6,
            "rate {rate}: the adapter allocates {adapter} per request"
        );
        assert!(layered > bare, "the counter counts");
    }
}

fn engine_recording(size: &str) -> Engine {
    wired(&[
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("LOOKOUT_MAX_REQUEST_BODY_SIZE", size),
    ])
}

/// Allocations per request of `app` for `method` with a small JSON body
/// the handler reads (`Bytes`).
fn per_request(app: &Router, method: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    per_call(&mut || {
        rt.block_on(async {
            let body = if method == "POST" {
                r#"{"item":"book"}"#
            } else {
                ""
            };
            let request = Request::builder()
                .method(method)
                .uri("/orders")
                .header("content-type", "application/json")
                .header("content-length", body.len())
                .body(Body::from(body))
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            std::hint::black_box(response.into_body().collect().await.unwrap());
        });
    })
}

/// Request bodies (`LOOKOUT_MAX_REQUEST_BODY_SIZE`) on axum: a POST whose
/// handler reads its body, and captures nothing, pays at most four
/// allocations more than with `never` (axum boxing the wrapped body, and
/// lookout-core's three for the record); a request without a body pays none.
#[test]
fn recording_a_read_request_body_costs_at_most_four_allocations() {
    let app = |size| {
        Router::new()
            .route(
                "/orders",
                get(|| async { "ok" })
                    .post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .layer(lookout_axum::LookoutLayer::new(engine_recording(size)))
    };
    let (never, medium) = (app("never"), app("medium"));
    let (post_never, post_medium) = (per_request(&never, "POST"), per_request(&medium, "POST"));
    let (get_never, get_medium) = (per_request(&never, "GET"), per_request(&medium, "GET"));
    println!("POST: {post_never} never, {post_medium} medium; GET: {get_never} / {get_medium}");
    assert!(post_medium > post_never, "the counter sees the recording");
    assert!(
        post_medium - post_never <= 4,
        "{post_medium} vs {post_never}"
    );
    assert_eq!(
        get_medium, get_never,
        "a request without a body is not wrapped"
    );
}
