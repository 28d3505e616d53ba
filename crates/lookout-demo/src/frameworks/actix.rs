//! The demo service on actix-web 4.
//!
//! What lookout asks of an actix-web service, all visible below:
//! - `.wrap(lookout::actix::layer())` as the last `.wrap`;
//! - `CurrentRequest::identify` once authentication knows the user;
//! - handlers that fail with `Reported<E>` (for `E: ResponseError`), so the
//!   classifiers see the error by type;
//! - `lookout::engine::inject_headers` on outgoing calls (in [`crate::routes::hop`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::web::{self, Bytes, Json};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpServer, ResponseError};
use futures_util::FutureExt as _;
use lookout::actix::{CurrentRequest, Reported};
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
    let listener = listener.into_std()?;
    // Built in a statement of its own: the builder (not `Send`) must not
    // live across the `.await`.
    let server = HttpServer::new(move || application(app.clone()))
        .listen(listener)?
        // The demo's own signal handling (or the tour) says when to stop;
        // requests in flight then finish.
        .disable_signals()
        .shutdown_signal(shutdown)
        .run();
    server.await
}

/// The routes, then the middleware: the last `.wrap` is the outermost.
fn application(
    app: App,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let journal = app.journal.clone().unwrap_or_default();
    actix_web::App::new()
        .app_data(web::Data::new(app.client.clone()))
        .app_data(web::Data::new(journal))
        .app_data(web::Data::new(app.orders.clone()))
        .service(web::resource("/health").get(health))
        .service(web::resource("/users/{id}").get(user))
        .service(web::resource("/items/{id}").get(item))
        .service(web::resource("/orders/{id}").get(order))
        .service(web::resource("/fail").get(fail).post(fail_posted))
        .service(web::resource("/upstream").get(upstream))
        .service(web::resource("/panic").get(panic))
        .service(web::resource("/slow").get(slow))
        .service(web::resource("/hop").post(hop))
        .service(web::resource("/jobs/welcome").post(welcome_job))
        .configure(|config| {
            if app.lookout {
                // lookout's operator endpoint: GET /lookout/status.
                config.service(lookout::actix::status_resource());
            }
        })
        .wrap(Condition::new(app.journal.is_some(), from_fn(record)))
        .wrap(from_fn(authenticate))
        // lookout: request ids, traces, users, classification, panics.
        .wrap(Condition::new(app.lookout, lookout::actix::layer()))
        // --plain answers a panic with 500 too, without lookout.
        .wrap(Condition::new(!app.lookout, from_fn(plain_catch_panic)))
}

/// Who signed in, for handlers (`GET /users/{id}` shows it).
#[derive(Clone, Debug)]
struct SignedIn(String);

/// The demo authentication, on every route: a `Bearer demo-<uid>` token
/// signs in `<uid>`, and lookout is told who it is.
async fn authenticate(
    current: Option<CurrentRequest>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let authorization = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(user) = demo_user(authorization) {
        let id = user.id.clone().unwrap_or_default();
        if let Some(current) = current {
            current.identify(user);
        }
        request.extensions_mut().insert(SignedIn(id));
    }
    next.call(request).await
}

/// The tour's journal: what lookout holds for this request, taken before
/// the handler runs (a panicking handler is recorded too).
async fn record(
    journal: web::Data<Journal>,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    journal.record_current(request.method().as_str(), request.path());
    let response = next.call(request).await?;
    journal.record_status(response.status().as_u16());
    Ok(response)
}

async fn plain_catch_panic(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match AssertUnwindSafe(next.call(request)).catch_unwind().await {
        Ok(answered) => answered,
        Err(_) => Err(actix_web::error::InternalError::from_response(
            "the handler panicked",
            HttpResponse::InternalServerError().finish(),
        )
        .into()),
    }
}

/// The demo's errors as actix responses: the same statuses, bodies and
/// content types as on every framework. Handlers fail with `Reported<E>`, which answers as
/// `E` does and keeps `E` visible to lookout's classifiers (with `--plain`
/// nobody reads it).
impl ResponseError for NotFound {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body(self.to_string())
    }
}

impl ResponseError for ServiceError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::InternalServerError()
            .content_type(ContentType::plaintext())
            .body("internal error")
    }
}

impl ResponseError for UpstreamError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_GATEWAY
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::BadGateway()
            .content_type(ContentType::plaintext())
            .body("upstream failed")
    }
}

async fn welcome_job(request: HttpRequest) -> HttpResponse {
    let query = Some(request.query_string()).filter(|q| !q.is_empty());
    HttpResponse::Accepted()
        .content_type(ContentType::plaintext())
        .body(routes::welcome_job(query))
}

async fn health() -> &'static str {
    routes::HEALTH_BODY
}

async fn user(request: HttpRequest, id: web::Path<String>) -> Json<Value> {
    let extensions = request.extensions();
    let viewer = extensions.get::<SignedIn>().map(|SignedIn(id)| id.as_str());
    Json(routes::user(&id, viewer))
}

async fn order(
    orders: web::Data<routes::Orders>,
    id: web::Path<String>,
) -> Result<Json<Value>, Reported<NotFound>> {
    Ok(orders.lookup(&id).await.map(Json)?)
}

async fn item(id: web::Path<String>) -> Result<Json<Value>, Reported<NotFound>> {
    Ok(routes::item(&id).map(Json)?)
}

async fn fail() -> Result<Json<Value>, Reported<ServiceError>> {
    Ok(routes::fail().map(Json)?)
}

async fn fail_posted(body: Bytes) -> Result<Json<Value>, Reported<ServiceError>> {
    Ok(routes::fail_posted(&body).map(Json)?)
}

async fn upstream() -> Result<Json<Value>, Reported<UpstreamError>> {
    Ok(routes::upstream().map(Json)?)
}

async fn panic() -> &'static str {
    routes::panic()
}

async fn slow(request: HttpRequest) -> String {
    let query = Some(request.query_string()).filter(|q| !q.is_empty());
    let duration = routes::slow_duration(query);
    tokio::time::sleep(duration).await;
    format!("slept {} ms", duration.as_millis())
}

async fn hop(
    client: web::Data<reqwest_middleware::ClientWithMiddleware>,
    body: Bytes,
) -> Result<&'static str, actix_web::Error> {
    let calls = routes::hop_calls(&body).map_err(actix_web::error::ErrorBadRequest)?;
    routes::hop(&client, &calls).await.map_err(Reported::new)?;
    Ok("ok")
}
