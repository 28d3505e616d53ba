//! Allocation budget of the adapter: what a request through
//! `LookoutLayer::layer(warp::service(routes))` (what `lookout_warp::serve`
//! runs) allocates beyond bare warp and beyond lookout-core's own lifecycle,
//! next to what lookout adds on axum for the same route (counts are
//! deterministic; times are for the `overhead` benchmark).

use axum::extract::Path;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use lookout_core::testing::{TEST_DSN, WiredEngine};
use lookout_core::{Engine, RequestHead, ResponseHead};
use tower::ServiceExt;
use tower_layer::Layer;
use warp::Filter;

/// An engine with production settings and `vars`, discarding what it sends.
fn wired(vars: &[(&str, &str)]) -> Engine {
    let production = [
        ("SENTRY_DSN", TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
    ];
    WiredEngine::discarding(production.iter().chain(vars).copied())
        .unwrap()
        .engine
}

fn engine(rate: &str) -> Engine {
    wired(&[("SENTRY_TRACES_SAMPLE_RATE", rate)])
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

/// Allocations per request through `service`, its body read to the end.
fn through<S, B>(rt: &tokio::runtime::Runtime, service: &S) -> u64
where
    S: tower::Service<Request<String>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    per_call(&mut || {
        rt.block_on(async {
            let request = Request::get("/users/42").body(String::new()).unwrap();
            let response = service.clone().oneshot(request).await.unwrap();
            std::hint::black_box(response.into_body().collect().await.unwrap());
        });
    })
}

struct Shares {
    /// lookout-core's lifecycle alone, the route known at `begin`.
    core: u64,
    /// What lookout adds to bare warp.
    warp: u64,
    /// What lookout adds to bare axum.
    axum: u64,
}

fn shares(rate: &str) -> Shares {
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

    let bare = warp::path!("users" / u32).map(|id: u32| format!("user {id}"));
    let named = warp::path!("users" / u32)
        .and(lookout_warp::route("/users/{id}"))
        .map(|id: u32| format!("user {id}"));
    let bare_warp = through(&rt, &warp::service(bare));
    let layer = lookout_warp::LookoutLayer::new(lookout.clone());
    let with_warp = through(&rt, &layer.layer(warp::service(named)));

    async fn user(Path(id): Path<u32>) -> String {
        format!("user {id}")
    }
    let router = axum::Router::new().route("/users/{id}", axum::routing::get(user));
    let bare_axum = through(&rt, &router);
    let layered = router.layer(lookout_axum::LookoutLayer::new(lookout));
    let with_axum = through(&rt, &layered);

    println!(
        "traces rate {rate}: core {core}; warp {bare_warp} -> {with_warp}; axum {bare_axum} -> {with_axum}"
    );
    assert!(
        with_warp > bare_warp && with_axum > bare_axum,
        "the counter counts"
    );
    Shares {
        core,
        warp: with_warp - bare_warp,
        axum: with_axum - bare_axum,
    }
}

/// Unsampled, the adapter's share over lookout-core is at most 4: the
/// `RouteLearner` in the request's extensions (the extension map and its
/// entry), the learned template (an `Arc<str>`; axum's `MatchedPath` gives
/// it at `begin`, where the disabled path does not copy it), and the
/// `x-request-id` header value. warp makes a middleware pay nothing of its
/// own (axum re-boxes a layered route and its future), so lookout adds less
/// on warp than on axum. Fails if the adapter starts copying the request
/// (headers, URI) or boxing futures or bodies.
#[test]
fn unsampled_lookout_adds_no_more_on_warp_than_on_axum() {
    let shares = shares("0.0");
    let adapter = shares.warp - shares.core;
    assert!(adapter <= 4, "the adapter allocates {adapter} per request");
    assert!(
        shares.warp <= shares.axum,
        "lookout adds {} on warp, {} on axum",
        shares.warp,
        shares.axum
    );
}

/// Sampled, the route is learned after the transaction started (warp knows
/// it only inside its filters), so the transaction is named twice: the raw
/// path at `begin`, then the template (the name and its copy, 2 more than a
/// template known at `begin`; its source is written once, when the name is
/// final). The adapter's share is at most 6, and lookout still adds no more
/// on warp than on axum. Fails if the source were written at `begin` and
/// again when the route is learned (4 more).
#[test]
fn sampled_lookout_adds_no_more_on_warp_than_on_axum() {
    let shares = shares("1.0");
    let adapter = shares.warp - shares.core;
    assert!(adapter <= 6, "the adapter allocates {adapter} per request");
    assert!(
        shares.warp <= shares.axum,
        "lookout adds {} on warp, {} on axum",
        shares.warp,
        shares.axum
    );
}

/// An engine recording request bodies up to `size`
/// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`), unsampled.
fn engine_recording(size: &str) -> Engine {
    wired(&[
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("LOOKOUT_MAX_REQUEST_BODY_SIZE", size),
    ])
}

/// Request bodies on warp: a POST whose handler reads its small JSON body
/// (`warp::body::bytes()`) and captures nothing pays at most four
/// allocations more than with `never`, as on axum (lookout-core's three for
/// the record, and the body wrapper); a GET pays none.
#[test]
fn recording_a_read_request_body_costs_at_most_four_allocations() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let routes = || {
        let post = warp::post()
            .and(warp::path!("orders"))
            .and(warp::body::bytes())
            .map(|body: bytes::Bytes| body.len().to_string());
        let get = warp::get().and(warp::path!("orders")).map(|| "ok");
        post.or(get)
    };
    let per_request = |size: &str, method: &str| {
        let service =
            lookout_warp::LookoutLayer::new(engine_recording(size)).layer(warp::service(routes()));
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
                    .body(body.to_owned())
                    .unwrap();
                let response = service.clone().oneshot(request).await.unwrap();
                std::hint::black_box(response.into_body().collect().await.unwrap());
            });
        })
    };
    let (post_never, post_medium) = (per_request("never", "POST"), per_request("medium", "POST"));
    let (get_never, get_medium) = (per_request("never", "GET"), per_request("medium", "GET"));
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
