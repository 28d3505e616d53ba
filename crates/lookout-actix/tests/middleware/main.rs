//! The middleware end to end over in-process requests (`actix_web::test`),
//! with lookout-core's capture standing in for Sentry. What every framework
//! must do alike is in the workspace's scenario suite (`tests/scenarios`);
//! these are the actix-specific paths: errors returned as `Err` by
//! middleware, actix's own error type on responses, bodies actix never
//! polls or takes whole, nesting, the origin.

use std::future::Future;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, ResponseError, test, web};
use futures_util::FutureExt as _;
use lookout_actix::{CurrentRequest, LookoutLayer, Reported};
use lookout_classify::{Classifiers, by_type};
use lookout_core::testing::TestLookout;
use sentry_core::protocol::{Context as SentryContext, SpanStatus, Transaction};

fn run<F: Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

fn test_lookout() -> TestLookout {
    // Every transaction is kept, the 401s and 404s whose names and
    // statuses these tests check included.
    let settings = TestLookout::from_vars([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")])
        .unwrap()
        .settings()
        .clone();
    TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(by_type::<DbError>("database")))
    })
}

fn status_of(tx: &Transaction<'_>) -> Option<SpanStatus> {
    match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.status,
        _ => None,
    }
}

fn origin_of(tx: &Transaction<'_>) -> Option<String> {
    match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.origin.clone(),
        _ => None,
    }
}

fn request_id<B>(response: &ServiceResponse<B>) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("x-request-id on the response")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A typed application error with a source; answers 503.
#[derive(Debug)]
struct DbError(std::io::Error);

impl DbError {
    fn refused() -> Self {
        Self(std::io::Error::other("connection refused"))
    }
}

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

impl ResponseError for DbError {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn users(current: CurrentRequest, _id: web::Path<u32>) -> String {
    current.request_id().to_owned()
}

/// Without the route template the middleware would name transactions after
/// the raw path (`GET /users/42`); without the actix origin they would say
/// lookout-core's default.
#[test]
fn transactions_are_named_after_the_route_template() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .service(web::resource("/users/{id}").route(web::get().to(users)))
                .service(
                    web::scope("/api/{version}")
                        .route("/items/{id}", web::get().to(|| async { "item" })),
                )
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/users/42?expand=1")
                .to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = request_id(&response);
        assert_eq!(
            test::read_body(response).await,
            id.as_bytes(),
            "CurrentRequest sees the same id"
        );
        for (uri, status) in [("/api/v2/items/7", 200), ("/nope/9", 404)] {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
            assert_eq!(response.status().as_u16(), status, "{uri}");
            test::read_body(response).await;
        }
        let response = test::call_service(
            &app,
            test::TestRequest::post().uri("/users/42").to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(response.headers().contains_key("x-request-id"));
    });
    let mut named: Vec<_> = test
        .transactions()
        .iter()
        .map(|tx| {
            assert_eq!(origin_of(tx).as_deref(), Some(lookout_actix::ORIGIN));
            (
                tx.name.clone().unwrap_or_default(),
                tx.tags["transaction.source"].clone(),
            )
        })
        .collect();
    named.sort();
    let expected = [
        ("GET /api/{version}/items/{id}", "route"),
        // No resource matched: named after the path, as lookout-axum names one.
        ("GET /nope/9", "url"),
        ("GET /users/{id}", "route"),
        ("POST /users/{id}", "route"),
    ];
    assert_eq!(
        named,
        expected.map(|(name, source)| (name.to_owned(), source.to_owned()))
    );
}

/// Without `Reported`, actix keeps the error as a `dyn ResponseError`: the
/// event would not name `DbError` and the `by_type` rule would not match.
#[test]
fn a_reported_error_is_classified_by_its_type_and_the_response_is_kept() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/db",
                    web::get().to(|| async { Err::<String, _>(Reported::new(DbError::refused())) }),
                )
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/db").to_request()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(
            test::read_body(response).await,
            "database unavailable",
            "DbError's own response"
        );
    });
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "database");
    assert_eq!(events[0].tags["http.route"], "/db");
    let types: Vec<_> = events[0]
        .exception
        .values
        .iter()
        .map(|e| e.ty.as_str())
        .collect();
    assert!(types.contains(&"DbError"), "{types:?}");
}

/// Authentication middleware inside lookout failing the request with `Err`.
async fn deny(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match request.headers().get("authorization").map(|v| v.as_bytes()) {
        Some(b"db") => Err(Reported::new(DbError::refused()).into()),
        Some(_) => next.call(request).await,
        None => Err(actix_web::error::ErrorUnauthorized("no token")),
    }
}

/// An `Err` passes lookout unchanged (actix and outer middleware see the
/// same error) but is classified, by type when reported, and its response
/// gets `x-request-id`: without the response mapper the header would be
/// missing, without reading `Err` the 503 would not be captured.
#[test]
fn an_err_from_middleware_inside_is_classified_and_its_response_gets_the_request_id() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route("/private", web::get().to(|| async { "secret" }))
                .wrap(from_fn(deny))
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let request = test::TestRequest::get()
            .uri("/private")
            .insert_header(("authorization", "db"))
            .insert_header(("x-request-id", "req-db"))
            .to_request();
        let error = test::try_call_service(&app, request)
            .await
            .err()
            .expect("an error");
        assert!(
            Reported::<DbError>::find(&error).is_some(),
            "still the reported error"
        );
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get("x-request-id").unwrap(), "req-db");

        let request = test::TestRequest::get().uri("/private").to_request();
        let error = test::try_call_service(&app, request)
            .await
            .err()
            .expect("an error");
        assert!(
            error
                .as_error::<actix_web::error::InternalError<&str>>()
                .is_some(),
            "actix's own error, untouched"
        );
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("x-request-id"));
    });
    let events = test.events();
    assert_eq!(events.len(), 1, "the 401 is a breadcrumb, the 503 an event");
    assert_eq!(events[0].tags["error_type"], "database");
    assert_eq!(events[0].tags["request_id"], "req-db");
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 2);
    let mut statuses: Vec<_> = transactions
        .iter()
        .map(|tx| format!("{:?}", status_of(tx)))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        ["Some(Unauthenticated)", "Some(Unavailable)"],
        "the errors' statuses end the transactions"
    );
}

/// Without handing the response's `actix_web::Error` to `finish`, the event
/// would be a bare "500" with no exception.
#[test]
fn actix_errors_on_responses_reach_the_event_through_dyn_error() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/boom",
                    web::get().to(|| async {
                        Err::<String, _>(actix_web::error::ErrorInternalServerError("boom"))
                    }),
                )
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/boom").to_request()).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    });
    let events = test.events();
    assert_eq!(events.len(), 1);
    let exception = events[0].exception.values.last().expect("an exception");
    assert_eq!(exception.value.as_deref(), Some("boom"));
    // actix's errors hide their cause's type (`InternalError<&str>` shows
    // as its cause): the message is what the event can name.
    assert!(!exception.ty.is_empty());
}

/// `attach` leaves the typed error on a response built by hand.
#[test]
fn attach_reports_the_error_of_a_hand_built_response() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/built",
                    web::get().to(|| async {
                        Reported::new(DbError::refused())
                            .attach(HttpResponse::BadGateway().body("later"))
                    }),
                )
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/built").to_request()).await;
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(test::read_body(response).await, "later");
    });
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "database");
}

/// With `catch_panics(false)` the panic is left to whoever is outside: not
/// captured here, and the request ends as cancelled.
#[test]
fn with_catch_panics_off_a_panic_unwinds_and_the_request_is_cancelled() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/panic",
                    web::get().to(|| async {
                        if true {
                            panic!("left to the outside");
                        }
                        "unreachable"
                    }),
                )
                .wrap(LookoutLayer::new(test.engine().clone()).catch_panics(false)),
        )
        .await;
        let call = app.call(test::TestRequest::get().uri("/panic").to_request());
        let unwound = std::panic::AssertUnwindSafe(call).catch_unwind().await;
        assert!(unwound.is_err(), "the panic went through");
    });
    assert!(test.events().is_empty());
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(status_of(&transactions[0]), Some(SpanStatus::Cancelled));
}

/// Bodies actix never polls must end the transaction when the response is
/// built: an empty one (never polled), and one an outer middleware boxes
/// (actix takes its bytes whole). Without that they would end as cancelled
/// when the response is dropped unread.
#[test]
fn bodies_actix_never_polls_end_the_transaction_as_ok() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/empty",
                    web::get().to(|| async { HttpResponse::NoContent().finish() }),
                )
                .route("/text", web::get().to(|| async { "whole" }))
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/empty").to_request()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        drop(response);

        let boxed = test::init_service(
            App::new()
                .route("/text", web::get().to(|| async { "whole" }))
                .wrap(LookoutLayer::new(test.engine().clone()))
                .wrap_fn(|request, service| {
                    service
                        .call(request)
                        .map(|response| response.map(ServiceResponse::map_into_boxed_body))
                }),
        )
        .await;
        let response =
            test::call_service(&boxed, test::TestRequest::get().uri("/text").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        drop(response);
    });
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 2);
    for tx in &transactions {
        assert_eq!(status_of(tx), Some(SpanStatus::Ok), "{:?}", tx.name);
    }
}

/// A second lookout middleware (on a scope, inside the app's) passes the
/// request through: one transaction, not two.
#[test]
fn nested_middlewares_instrument_a_request_once() {
    let test = test_lookout();
    run(async {
        let app = test::init_service(
            App::new()
                .service(
                    web::scope("/api")
                        .route("/users/{id}", web::get().to(users))
                        .wrap(LookoutLayer::new(test.engine().clone())),
                )
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        let response = test::call_service(
            &app,
            test::TestRequest::get().uri("/api/users/1").to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = request_id(&response);
        assert_eq!(test::read_body(response).await, id.as_bytes());
    });
    let transactions = test.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].name.as_deref(), Some("GET /api/users/{id}"));
}

/// Extracting `CurrentRequest` with no lookout middleware in front answers
/// a 500 that says what is missing; `Option<CurrentRequest>` is `None`.
#[test]
fn current_request_without_lookout_is_a_500_that_names_what_is_missing() {
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/me",
                    web::get().to(|current: CurrentRequest| async move {
                        current.request_id().to_owned()
                    }),
                )
                .route(
                    "/maybe",
                    web::get().to(|current: Option<CurrentRequest>| async move {
                        format!("{}", current.is_some())
                    }),
                ),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/me").to_request()).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = test::read_body(response).await;
        let body = std::str::from_utf8(&body).unwrap();
        assert!(body.contains("lookout_actix::layer()"), "{body}");
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/maybe").to_request()).await;
        assert_eq!(test::read_body(response).await, "false");
    });
}

/// An engine built with an origin of its own keeps it.
/// `LookoutLayer::new(engine)` names transactions `auto.http.actix`, as
/// `layer()` does, unless the engine was given an origin of its own.
#[test]
fn transactions_say_the_adapters_origin_or_the_engines_own() {
    let plain = TestLookout::new();
    let settings = TestLookout::new().settings().clone();
    let custom = TestLookout::with_settings(settings, |builder| builder.origin("auto.http.custom"));
    run(async {
        for test in [&plain, &custom] {
            let app = test::init_service(
                App::new()
                    .route("/", web::get().to(|| async { "hi" }))
                    .wrap(LookoutLayer::new(test.engine().clone())),
            )
            .await;
            test::call_and_read_body(&app, test::TestRequest::get().uri("/").to_request()).await;
        }
    });
    assert_eq!(
        origin_of(&plain.transactions()[0]).as_deref(),
        Some(lookout_actix::ORIGIN)
    );
    assert_eq!(
        origin_of(&custom.transactions()[0]).as_deref(),
        Some("auto.http.custom"),
        "an explicit origin is kept"
    );
}

/// The template is read from the response after routing; before that,
/// whatever needs it looks it up. Without the look-up the handler's own
/// event would have no `http.route`; without it on the `Err` path (no
/// response, so no request to read) the 503 would be named after its path;
/// without matching before `begin` when sampling depends on the route, the
/// ignored template would be sampled.
#[test]
fn the_route_reaches_handler_events_errors_and_route_sampling() {
    let settings = lookout_policy::Settings::from_vars([
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
        ("LOOKOUT_IGNORED_ROUTES", "/internal/{name}"),
    ])
    .unwrap();
    let test = TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(by_type::<DbError>("database")))
    });
    run(async {
        let app = test::init_service(
            App::new()
                .route(
                    "/notes/{id}",
                    web::get().to(|| async {
                        sentry_core::capture_message("inside", sentry_core::Level::Info);
                        "noted"
                    }),
                )
                .service(
                    web::resource("/private/{id}")
                        .route(web::get().to(|| async { "secret" }))
                        .wrap(from_fn(deny)),
                )
                .route("/internal/{name}", web::get().to(|| async { "quiet" }))
                .wrap(LookoutLayer::new(test.engine().clone())),
        )
        .await;
        for uri in ["/notes/1", "/internal/jobs"] {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            test::read_body(response).await;
        }
        let request = test::TestRequest::get()
            .uri("/private/2")
            .insert_header(("authorization", "db"))
            .to_request();
        let error = test::try_call_service(&app, request).await.err();
        assert!(error.is_some(), "the middleware's Err");
    });
    let mut routes: Vec<_> = test
        .events()
        .iter()
        .map(|e| e.tags.get("http.route").cloned().unwrap_or_default())
        .collect();
    routes.sort();
    assert_eq!(routes, ["/notes/{id}", "/private/{id}"]);
    let mut named: Vec<_> = test
        .transactions()
        .iter()
        .map(|tx| tx.name.clone().unwrap_or_default())
        .collect();
    named.sort();
    assert_eq!(
        named,
        ["GET /notes/{id}", "GET /private/{id}"],
        "the ignored template is not sampled"
    );
}
