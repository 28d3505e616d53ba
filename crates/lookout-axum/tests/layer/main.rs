//! The layer end to end over in-process requests (`tower::ServiceExt::oneshot`),
//! with lookout-core's capture standing in for Sentry.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use http_body_util::BodyExt;
use lookout_axum::{CurrentRequest, LookoutLayer, Reported};
use lookout_classify::{Classifiers, by_type};
use lookout_core::testing::TestLookout;
use sentry_core::protocol::{Context as SentryContext, SpanStatus, Transaction};
use tower::ServiceExt;
use tower_layer::Layer;

fn test_lookout() -> TestLookout {
    // Every transaction is kept, the 404s whose names these tests check included.
    let settings = TestLookout::from_vars([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")])
        .unwrap()
        .settings()
        .clone();
    TestLookout::with_settings(settings, |builder| {
        builder
            .origin(lookout_axum::ORIGIN)
            .classifiers(Classifiers::default().with(by_type::<DbError>("database")))
    })
}

fn layer(test: &TestLookout) -> LookoutLayer {
    LookoutLayer::new(test.engine().clone())
}

async fn send(app: &Router, request: Request) -> Response {
    app.clone().oneshot(request).await.unwrap()
}

fn get_req(uri: &str) -> Request {
    Request::get(uri).body(Body::empty()).unwrap()
}

async fn body_text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn status_of(tx: &Transaction<'_>) -> Option<SpanStatus> {
    match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.status,
        _ => None,
    }
}

/// A typed application error with a source.
#[derive(Debug)]
struct DbError(std::io::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database unavailable")
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[derive(Debug)]
enum AppError {
    Db(DbError),
    Unknown(std::fmt::Error),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("app error")
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Db(e) => Some(e),
            AppError::Unknown(e) => Some(e),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unknown(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Reported::new(self).attach((status, "sorry"))
    }
}

async fn users(current: CurrentRequest) -> String {
    current.request_id().to_owned()
}

fn app(test: &TestLookout) -> Router {
    Router::new()
        .route("/users/{id}", get(users))
        .route("/plain/{id}", get(|| async { "plain" }))
        .route(
            "/db",
            get(|| async { Err::<(), _>(AppError::Db(DbError(std::io::Error::other("refused")))) }),
        )
        .route(
            "/unknown",
            get(|| async { Err::<(), _>(AppError::Unknown(std::fmt::Error)) }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler exploded");
                }
                "unreachable"
            }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .layer(layer(test))
}

#[tokio::test]
async fn transactions_are_named_after_the_route_template() {
    let test = test_lookout();
    let response = send(&app(&test), get_req("/users/42?expand=1")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body_text(response).await,
        id,
        "CurrentRequest sees the same id"
    );
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].name.as_deref(), Some("GET /users/{id}"));
    assert_eq!(transactions[0].tags["transaction.source"], "route");
    assert_eq!(status_of(&transactions[0]), Some(SpanStatus::Ok));
}

/// A lookout layer inside another (around the whole router from outside,
/// and on the Router): the inner one passes the request through and only
/// reports the route. Learning the route from a `CurrentRequest` extractor
/// is the scenario `a_middleware_outside_routing_learns_the_route_from_inside`.
#[tokio::test]
async fn nested_middlewares_instrument_a_request_once() {
    let test = test_lookout();
    let router = Router::new().route("/plain/{id}", get(|| async { "plain" }));
    // Outside routing alone, a handler without lookout extractors: the raw path names it.
    let outside = layer(&test).layer(router.clone());
    let response = outside.oneshot(get_req("/plain/2")).await.unwrap();
    drop(body_text_any(response).await);
    // With a second lookout layer inside routing, that one reports the route.
    let both = layer(&test).layer(router.layer(layer(&test)));
    let response = both.oneshot(get_req("/plain/3")).await.unwrap();
    drop(body_text_any(response).await);

    let mut names: Vec<_> = test
        .transactions()
        .into_iter()
        .map(|tx| tx.name.unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["GET /plain/2", "GET /plain/{id}"],
        "one transaction per request, never two"
    );
}

async fn body_text_any<B>(response: http::Response<B>) -> Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn a_reported_error_is_classified_by_its_type_and_the_response_is_kept() {
    let test = test_lookout();
    let app = app(&test);
    let response = send(&app, get_req("/db")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_text(response).await, "sorry");
    let response = send(&app, get_req("/unknown")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let events = test.events();
    assert_eq!(events.len(), 2);
    let db = events
        .iter()
        .find(|e| e.tags["error_type"] == "database")
        .unwrap();
    assert_eq!(db.tags["http.route"], "/db");
    let unknown = events
        .iter()
        .find(|e| e.tags["error_type"] == "unhandled")
        .unwrap();
    assert!(
        unknown.tags["error.rust_type"].ends_with("::AppError"),
        "the concrete type: {:?}",
        unknown.tags["error.rust_type"]
    );
    assert_eq!(unknown.exception.values.last().unwrap().ty, "AppError");
}

#[tokio::test]
async fn a_cloneable_error_keeps_its_own_response_through_reported() {
    #[derive(Debug, Clone)]
    struct Teapot;
    impl std::fmt::Display for Teapot {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("teapot")
        }
    }
    impl std::error::Error for Teapot {}
    impl IntoResponse for Teapot {
        fn into_response(self) -> Response {
            (StatusCode::BAD_GATEWAY, "brewing").into_response()
        }
    }
    let settings = TestLookout::new().settings().clone();
    let test = TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(by_type::<Teapot>("teapot")))
    });
    let app = Router::new()
        .route(
            "/brew",
            get(|| async {
                let result: Result<(), Reported<Teapot>> = Err(Teapot.into());
                result
            }),
        )
        .layer(layer(&test));
    let response = send(&app, get_req("/brew")).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(body_text(response).await, "brewing");
    assert_eq!(test.events()[0].tags["error_type"], "teapot");
}

#[tokio::test]
async fn a_panic_before_the_handler_is_caught_and_captured() {
    #[derive(Clone)]
    struct PanicsInCall;
    impl tower_service::Service<Request> for PanicsInCall {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request) -> Self::Future {
            panic!("in call")
        }
    }
    let test = test_lookout();
    let svc = layer(&test).layer(PanicsInCall);
    let response = svc.oneshot(get_req("/x")).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(test.events()[0].tags["error_type"], "panic");
}

#[tokio::test]
async fn current_request_without_lookout_is_a_500_that_names_what_is_missing() {
    let app: Router = Router::new().route("/", get(users));
    let response = send(&app, get_req("/")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_text(response).await.contains("lookout_axum::layer()"));
    let optional: Router = Router::new().route(
        "/",
        get(|current: Option<CurrentRequest>| async move { current.is_none().to_string() }),
    );
    assert_eq!(body_text(send(&optional, get_req("/")).await).await, "true");
}

#[tokio::test]
async fn works_on_plain_tower_services() {
    let test = test_lookout();
    let svc = tower::service_fn(|_req: http::Request<String>| async {
        Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(
            "ok",
        ))))
    });
    let svc = layer(&test).layer(svc);
    let response = svc
        .oneshot(http::Request::get("/raw?q=1").body(String::new()).unwrap())
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(body_text_any(response).await, "ok");
    assert_eq!(test.transactions()[0].name.as_deref(), Some("GET /raw"));
}

/// `LookoutLayer::new(engine)` names transactions `auto.http.axum`, as
/// `layer()` does, unless the engine was given an origin of its own.
#[tokio::test]
async fn transactions_say_the_adapters_origin_or_the_engines_own() {
    let trace_origin = |tx: &Transaction<'_>| match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.origin.clone(),
        _ => None,
    };
    let plain = TestLookout::new();
    let app: Router = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(LookoutLayer::new(plain.engine().clone()));
    drop(body_text(send(&app, get_req("/")).await).await);
    let transactions = plain.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(
        trace_origin(&transactions[0]).as_deref(),
        Some(lookout_axum::ORIGIN)
    );

    let custom = TestLookout::with_settings(TestLookout::new().settings().clone(), |builder| {
        builder.origin("auto.http.gateway")
    });
    let app: Router = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(LookoutLayer::new(custom.engine().clone()));
    drop(body_text(send(&app, get_req("/")).await).await);
    assert_eq!(
        trace_origin(&custom.transactions()[0]).as_deref(),
        Some("auto.http.gateway"),
        "an explicit origin is kept"
    );
}
