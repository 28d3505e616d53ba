//! Allocation budget of the adapter itself: what a request through
//! `App::wrap(Lookout)` allocates beyond bare actix-web and beyond
//! lookout-core's own lifecycle (counts are deterministic; times are for
//! the `overhead` benchmark).
//!
//! The adapter's share is at most 3 allocations, sampled or not: two in
//! actix's `match_pattern()` (it walks the resource map and builds the
//! template as a `String`; sentry-actix pays the same), one for the
//! `x-request-id` header value (`http` 0.2 copies it).

use actix_web::{App, test, web};
use http::{HeaderMap, StatusCode};
use lookout_core::testing::WiredEngine;
use lookout_core::{Engine, RequestHead, ResponseHead};

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

async fn user(id: web::Path<u32>) -> String {
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
    let system = actix_web::rt::System::new();
    let bare = system.block_on(test::init_service(
        App::new().route("/users/{id}", web::get().to(user)),
    ));
    let layered = system.block_on(test::init_service(
        App::new()
            .route("/users/{id}", web::get().to(user))
            .wrap(lookout_actix::LookoutLayer::new(lookout.clone())),
    ));
    // The test request is built outside the count: both variants pay it alike.
    let bare = per_call(&mut || {
        system.block_on(async {
            let request = test::TestRequest::get().uri("/users/42").to_request();
            std::hint::black_box(test::call_and_read_body(&bare, request).await);
        });
    });
    let layered = per_call(&mut || {
        system.block_on(async {
            let request = test::TestRequest::get().uri("/users/42").to_request();
            std::hint::black_box(test::call_and_read_body(&layered, request).await);
        });
    });
    (bare, layered, core)
}

#[test]
fn the_adapter_adds_at_most_three_allocations_to_lookout_cores_own() {
    for rate in ["0.0", "1.0"] {
        let (bare, layered, core) = adapter_share(rate);
        let adapter = layered - bare - core;
        println!(
            "traces rate {rate}: bare actix {bare}, with lookout {layered}, core {core}, adapter {adapter}"
        );
        assert!(
            adapter <= 3,
            "rate {rate}: the adapter allocates {adapter} per request"
        );
        assert!(layered > bare, "the counter counts");
    }
}

/// An engine recording request bodies up to `size`
/// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`), unsampled.
fn engine_recording(size: &str) -> Engine {
    wired(&[
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("LOOKOUT_MAX_REQUEST_BODY_SIZE", size),
    ])
}

/// Request bodies on actix-web: a POST whose handler reads its small JSON
/// body (`web::Bytes`) and captures nothing pays at most four allocations
/// more than with `never` (lookout-core's three for the record, and the
/// payload wrapper); a GET pays none.
#[test]
fn recording_a_read_request_body_costs_at_most_four_allocations() {
    let system = actix_web::rt::System::new();
    let app = |size: &str| {
        system.block_on(test::init_service(
            App::new()
                .route(
                    "/orders",
                    web::post().to(|body: web::Bytes| async move { body.len().to_string() }),
                )
                .route("/orders", web::get().to(|| async { "ok" }))
                .wrap(lookout_actix::LookoutLayer::new(engine_recording(size))),
        ))
    };
    let (never, medium) = (app("never"), app("medium"));
    let per_request = |app: &_, post: bool| {
        per_call(&mut || {
            system.block_on(async {
                let request = if post {
                    test::TestRequest::post()
                        .uri("/orders")
                        .insert_header(("content-type", "application/json"))
                        .set_payload(r#"{"item":"book"}"#)
                        .to_request()
                } else {
                    test::TestRequest::get().uri("/orders").to_request()
                };
                std::hint::black_box(test::call_and_read_body(app, request).await);
            });
        })
    };
    let (post_never, post_medium) = (per_request(&never, true), per_request(&medium, true));
    let (get_never, get_medium) = (per_request(&never, false), per_request(&medium, false));
    println!("POST: {post_never} never, {post_medium} medium; GET: {get_never} / {get_medium}");
    assert!(post_medium > post_never, "the counter sees the recording");
    assert!(
        post_medium - post_never <= 4,
        "{post_medium} vs {post_never}"
    );
    assert_eq!(
        get_medium, get_never,
        "a request without a body records nothing"
    );
}
