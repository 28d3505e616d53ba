//! Allocation budget of the adapter itself: what a request through
//! `App::wrap(Lookout)` allocates beyond bare actix-web and beyond
//! lookout-core's own lifecycle (counts are deterministic; times are for
//! the `overhead` benchmark).
//!
//! The adapter's share is at most 3 allocations, sampled or not: two in
//! actix's `match_pattern()` (it walks the resource map and builds the
//! template as a `String`; sentry-actix pays the same), one for the
//! `x-request-id` header value (`http` 0.2 copies it).

use std::sync::Arc;

use actix_web::{App, test, web};
use http::{HeaderMap, StatusCode};
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Discard, WiredEngine};
use lookout_core::{Engine, RequestHead, ResponseHead};
use lookout_policy::Settings;

fn engine(rate: &str) -> Engine {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", rate),
    ])
    .unwrap();
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
    WiredEngine::new(&settings, delivery, |builder| builder).engine
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
