//! Rejections, typed errors through `recover`, panics.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use lookout_warp::Reported;
use sentry_core::protocol::SpanStatus;
use tower::ServiceExt;
use tower_layer::Layer;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::{DbError, get, layer, status_of, test_lookout};

#[derive(Debug)]
struct Unexpected;

impl warp::reject::Reject for Unexpected {}

#[tokio::test]
async fn an_unhandled_rejection_answered_500_is_captured_and_a_404_is_not() {
    let test = test_lookout(&[]);
    let app = warp::path!("unhandled")
        .and(lookout_warp::route("/unhandled"))
        .and_then(|| async { Err::<String, Rejection>(warp::reject::custom(Unexpected)) });
    let (status, request_id, body) = get(&test, app, "/unhandled").await;
    assert_eq!(status, 500);
    assert!(request_id.is_some());
    assert!(body.contains("Unexpected"), "warp's own answer: {body}");
    let (status, request_id, _) = get(&test, app, "/elsewhere").await;
    assert_eq!(status, 404);
    assert!(request_id.is_some());
    let events = test.events();
    assert_eq!(events.len(), 1, "the 500, not the 404");
    assert_eq!(events[0].tags["http.route"], "/unhandled");
}

async fn answer(rejection: Rejection) -> Result<impl Reply, Rejection> {
    match rejection.find::<Reported<DbError>>() {
        Some(reported) => Ok(reported.attach(warp::reply::with_status(
            reported.get_ref().to_string(),
            StatusCode::SERVICE_UNAVAILABLE,
        ))),
        None => Err(rejection),
    }
}

#[tokio::test]
async fn a_reported_error_is_classified_by_its_type_and_the_response_is_kept() {
    let test = test_lookout(&[]);
    let app = warp::path!("db")
        .and(lookout_warp::route("/db"))
        .and_then(|| async { Err::<String, Rejection>(Reported::new(DbError::new()).reject()) })
        .recover(answer);
    let (status, _, body) = get(&test, app, "/db").await;
    assert_eq!(status, 503);
    assert_eq!(body, "database unavailable");
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "database");
    let types: Vec<&str> = events[0]
        .exception
        .values
        .iter()
        .map(|e| e.ty.as_str())
        .collect();
    assert!(types.contains(&"DbError"), "{types:?}");
}

#[derive(Debug, Clone)]
struct Teapot;

impl std::fmt::Display for Teapot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("teapot")
    }
}

impl std::error::Error for Teapot {}

impl Reply for Teapot {
    fn into_response(self) -> warp::reply::Response {
        warp::reply::with_status("short and stout", StatusCode::IM_A_TEAPOT).into_response()
    }
}

#[tokio::test]
async fn a_cloneable_error_keeps_its_own_response_through_reported() {
    let test = test_lookout(&[]);
    let settings = test.settings().clone();
    let test = lookout_core::testing::TestLookout::with_settings(settings, |builder| {
        builder.classifiers(
            lookout_classify::Classifiers::default()
                .with(lookout_classify::by_type::<Teapot>("teapot").capture()),
        )
    });
    let app = warp::path!("brew").map(|| Err::<&str, _>(Reported::new(Teapot)));
    let (status, _, body) = get(&test, app, "/brew").await;
    assert_eq!(status, 418);
    assert_eq!(body, "short and stout");
    let events = test.events();
    assert_eq!(events.len(), 1, "the 4xx is captured by its type's rule");
    assert_eq!(events[0].tags["error_type"], "teapot");
}

#[tokio::test]
async fn a_panic_before_the_handler_is_caught_and_captured() {
    let test = test_lookout(&[]);
    let exploding = warp::any().map(|| -> u32 { panic!("filter exploded") });
    let app = warp::path!("boom")
        .and(exploding)
        .map(|n: u32| n.to_string());
    let (status, request_id, body) = get(&test, app, "/boom").await;
    assert_eq!(status, 500);
    assert!(request_id.is_some());
    assert_eq!(body, "");
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "panic");
    assert_eq!(
        events[0].exception.values.last().unwrap().value.as_deref(),
        Some("filter exploded")
    );
}

#[tokio::test]
async fn with_catch_panics_off_a_panic_unwinds_and_the_request_is_cancelled() {
    let test = test_lookout(&[]);
    let app = warp::any().map(|| -> &'static str { panic!("not ours to catch") });
    let service = layer(&test).catch_panics(false).layer(warp::service(app));
    let request = http::Request::get("/").body(String::new()).unwrap();
    let outcome = AssertUnwindSafe(service.oneshot(request))
        .catch_unwind()
        .await;
    assert!(outcome.is_err(), "the panic reached the caller");
    assert!(test.events().is_empty(), "not captured by lookout");
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(status_of(&transactions[0]), Some(SpanStatus::Cancelled));
}
