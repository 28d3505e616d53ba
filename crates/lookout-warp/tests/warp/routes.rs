//! Route names, the current request and the origin.

use lookout_core::testing::TestLookout;
use lookout_warp::CurrentRequest;
use warp::Filter;

use crate::{get, origin_of, test_lookout};

#[tokio::test]
async fn transactions_are_named_after_the_route_template() {
    // The 404's transaction is kept to check its name.
    let test = test_lookout(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")]);
    let users = warp::path!("users" / u32)
        .and(warp::get())
        .and(lookout_warp::route("/users/{id}"))
        .map(|id: u32| format!("user {id}"));
    let plain = warp::path!("plain").map(|| "plain");
    let app = users.or(plain);
    assert_eq!(get(&test, app, "/users/7?token=secret").await.0, 200);
    assert_eq!(get(&test, app, "/plain?token=secret").await.0, 200);
    assert_eq!(get(&test, app, "/nope?token=secret").await.0, 404);
    let mut named: Vec<(String, String)> = test
        .transactions()
        .iter()
        .map(|tx| {
            (
                tx.name.clone().unwrap_or_default(),
                tx.tags["transaction.source"].clone(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            ("GET /nope".to_owned(), "url".to_owned()),
            ("GET /plain".to_owned(), "url".to_owned()),
            ("GET /users/{id}".to_owned(), "route".to_owned()),
        ],
        "named by route where a route filter ran, never with the query"
    );
}

/// The first template a request learns names it: a branch that learned one
/// and then rejected is where `route` must not sit (see its docs).
#[tokio::test]
async fn the_first_route_learned_wins() {
    let test = test_lookout(&[]);
    let app = warp::path!("a")
        .and(lookout_warp::route("/a"))
        .and(lookout_warp::route("/b"))
        .map(|| "a");
    assert_eq!(get(&test, app, "/a").await.0, 200);
    assert_eq!(test.transactions()[0].name.as_deref(), Some("GET /a"));
}

#[tokio::test]
async fn transactions_say_the_adapters_origin_or_the_engines_own() {
    let test = test_lookout(&[]);
    // Through `wrap` and warp's own test client, and a filter that never
    // rejects (`Infallible`), as `warp::serve` takes too.
    let app = crate::layer(&test).wrap(warp::any().map(|| "ok"));
    let response = warp::test::request().path("/").reply(&app).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(
        origin_of(&test.transactions()[0]).as_deref(),
        Some(lookout_warp::ORIGIN)
    );
    assert_eq!(lookout_warp::ORIGIN, "auto.http.warp");

    let settings = TestLookout::new().settings().clone();
    let custom = TestLookout::with_settings(settings, |builder| builder.origin("auto.http.custom"));
    let app = crate::layer(&custom).wrap(warp::any().map(|| "ok"));
    warp::test::request().path("/").reply(&app).await;
    assert_eq!(
        origin_of(&custom.transactions()[0]).as_deref(),
        Some("auto.http.custom"),
        "an explicit origin is kept"
    );
}

#[tokio::test]
async fn current_request_without_lookout_is_a_500_that_names_what_is_missing() {
    let app = warp::path!("me")
        .and(lookout_warp::current())
        .map(|current: CurrentRequest| current.request_id().to_owned());
    let response = warp::test::request().path("/me").reply(&app).await;
    assert_eq!(response.status(), 500);
    let body = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(body.contains("lookout_warp::serve(routes)"), "{body}");
    // `route` outside lookout does nothing and never rejects.
    let named = warp::path!("x").and(lookout_warp::route("/x")).map(|| "x");
    assert_eq!(
        warp::test::request()
            .path("/x")
            .reply(&named)
            .await
            .status(),
        200
    );
    let optional = warp::any().map(|| CurrentRequest::get().is_none().to_string());
    assert_eq!(warp::test::request().reply(&optional).await.body(), "true");
}

/// Release health: each request is a session of its own (request mode),
/// ended errored when it captured an event.
#[tokio::test]
async fn each_request_is_a_session() {
    let test = test_lookout(&[("SENTRY_RELEASE", "shop@1.0.0")]);
    let app = warp::path!("ok")
        .map(|| "ok")
        .or(warp::path!("fail").map(|| warp::http::StatusCode::INTERNAL_SERVER_ERROR));
    for path in ["/ok", "/ok", "/fail"] {
        get(&test, app, path).await;
    }
    assert!(test.flush());
    let mut exited = 0;
    let mut errored = 0;
    for envelope in test.envelopes() {
        for item in envelope.items() {
            if let sentry_core::protocol::EnvelopeItem::SessionAggregates(aggregates) = item {
                for bucket in &aggregates.aggregates {
                    exited += bucket.exited;
                    errored += bucket.errored;
                }
            }
        }
    }
    assert_eq!((exited, errored), (2, 1), "one session per request");
}
