//! The demo service on axum.
//!
//! What lookout asks of an axum service, all visible below:
//! - `.layer(lookout_axum::layer())` after the routes;
//! - `CurrentRequest::identify` once authentication knows the user;
//! - errors that implement `IntoResponse` through `Reported::attach`, so the
//!   classifiers see them by type;
//! - `lookout::engine::inject_headers` on outgoing calls (in [`crate::routes::hop`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::FutureExt as _;
use lookout::axum::{CurrentRequest, Reported};
use serde_json::Value;
use tokio::net::TcpListener;

use super::App;
use crate::auth::demo_user;
use crate::errors::{NotFound, ServiceError, UpstreamError};
use crate::journal::Journal;
use crate::routes;

pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes, then the middleware: the last `.layer` is the outermost.
pub(crate) fn router(app: App) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/users/{id}", get(user))
        .route("/items/{id}", get(item))
        .route("/orders/{id}", get(order).with_state(app.orders.clone()))
        .route("/fail", get(fail).post(fail_posted))
        .route("/upstream", get(upstream))
        .route("/panic", get(panic))
        .route("/slow", get(slow))
        .route("/hop", post(hop))
        .route("/jobs/welcome", post(welcome_job))
        .with_state(app.client.clone());
    if app.lookout {
        // lookout's operator endpoint: GET /lookout/status.
        router = router.merge(lookout::axum::status_router());
    }
    if let Some(journal) = app.journal {
        router = router.layer(middleware::from_fn_with_state(journal, record));
    }
    router = router.layer(middleware::from_fn(authenticate));
    if app.lookout {
        // lookout: request ids, traces, users, classification, panics.
        router.layer(lookout::axum::layer())
    } else {
        // --plain answers a panic with 500 too, without lookout.
        router.layer(middleware::from_fn(plain_catch_panic))
    }
}

/// Who signed in, for handlers (`GET /users/{id}` shows it).
#[derive(Clone, Debug)]
struct SignedIn(String);

/// The demo authentication, on every route: a `Bearer demo-<uid>` token
/// signs in `<uid>`, and lookout is told who it is.
async fn authenticate(
    current: Option<CurrentRequest>,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(user) = demo_user(authorization) {
        let id = user.id.clone().unwrap_or_default();
        if let Some(current) = current {
            current.identify(user);
        }
        request.extensions_mut().insert(SignedIn(id));
    }
    next.run(request).await
}

/// The tour's journal: what lookout holds for this request, taken before
/// the handler runs (a panicking handler is recorded too).
async fn record(State(journal): State<Journal>, request: Request, next: Next) -> Response {
    journal.record_current(request.method().as_str(), request.uri().path());
    let response = next.run(request).await;
    journal.record_status(response.status().as_u16());
    response
}

async fn plain_catch_panic(request: Request, next: Next) -> Response {
    AssertUnwindSafe(next.run(request))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The demo's errors as axum responses. `Reported::attach` keeps the typed
/// error on the response for lookout's classifiers; the response itself is
/// what it would be without lookout (with `--plain` nobody reads it).
#[derive(Debug)]
enum AppError {
    NotFound(NotFound),
    Service(ServiceError),
    Upstream(UpstreamError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound(e) => {
                let body = e.to_string();
                Reported::new(e).attach((StatusCode::NOT_FOUND, body))
            }
            AppError::Service(e) => {
                Reported::new(e).attach((StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
            }
            AppError::Upstream(e) => {
                Reported::new(e).attach((StatusCode::BAD_GATEWAY, "upstream failed"))
            }
        }
    }
}

async fn welcome_job(RawQuery(query): RawQuery) -> (StatusCode, &'static str) {
    (StatusCode::ACCEPTED, routes::welcome_job(query.as_deref()))
}

async fn health() -> &'static str {
    routes::HEALTH_BODY
}

async fn user(Path(id): Path<String>, signed_in: Option<Extension<SignedIn>>) -> Json<Value> {
    let viewer = signed_in
        .as_ref()
        .map(|Extension(SignedIn(id))| id.as_str());
    Json(routes::user(&id, viewer))
}

async fn item(Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    routes::item(&id).map(Json).map_err(AppError::NotFound)
}

async fn order(
    State(orders): State<routes::Orders>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    orders
        .lookup(&id)
        .await
        .map(Json)
        .map_err(AppError::NotFound)
}

async fn fail() -> Result<Json<Value>, AppError> {
    routes::fail().map(Json).map_err(AppError::Service)
}

async fn fail_posted(body: Bytes) -> Result<Json<Value>, AppError> {
    routes::fail_posted(&body)
        .map(Json)
        .map_err(AppError::Service)
}

async fn upstream() -> Result<Json<Value>, AppError> {
    routes::upstream().map(Json).map_err(AppError::Upstream)
}

async fn panic() -> &'static str {
    routes::panic()
}

async fn slow(RawQuery(query): RawQuery) -> String {
    let duration = routes::slow_duration(query.as_deref());
    tokio::time::sleep(duration).await;
    format!("slept {} ms", duration.as_millis())
}

async fn hop(
    State(client): State<reqwest_middleware::ClientWithMiddleware>,
    body: Bytes,
) -> Result<&'static str, Response> {
    let calls =
        routes::hop_calls(&body).map_err(|e| (StatusCode::BAD_REQUEST, e).into_response())?;
    routes::hop(&client, &calls)
        .await
        .map_err(|e| AppError::Upstream(e).into_response())?;
    Ok("ok")
}
