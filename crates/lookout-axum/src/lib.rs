//! lookout-axum instruments an axum (or any tower/hyper) service with one
//! layer: every request continues its caller's Sentry trace, gets a request
//! id, carries the signed-in user, and is classified when it fails (typed
//! errors and panics included). It translates axum's types to
//! [`lookout_core`] and holds no policy of its own.
//!
//! # Example
//!
//! ```
//! use axum::body::Body;
//! use axum::extract::Path;
//! use axum::http::{Request, StatusCode};
//! use axum::response::{IntoResponse, Response};
//! use axum::{Router, routing::get};
//! use lookout_axum::{CurrentRequest, Reported, User};
//! use tower::ServiceExt;
//!
//! #[derive(Debug)]
//! struct DbError;
//! impl std::fmt::Display for DbError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("database unavailable")
//!     }
//! }
//! impl std::error::Error for DbError {}
//! impl IntoResponse for DbError {
//!     fn into_response(self) -> Response {
//!         // Same response as without lookout; the layer now sees the error.
//!         Reported::new(self).attach(StatusCode::SERVICE_UNAVAILABLE)
//!     }
//! }
//!
//! async fn user(current: CurrentRequest, Path(id): Path<u64>) -> Result<String, DbError> {
//!     current.identify(User::id(id).role("member"));
//!     if id == 0 {
//!         return Err(DbError);
//!     }
//!     Ok(format!("user {id}, request {}", current.request_id()))
//! }
//!
//! async fn panic_handler() -> &'static str {
//!     panic!("boom")
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // In a service: `let _guard = lookout::init()?;` first (the facade
//!     // reads SENTRY_DSN and friends); without it nothing is sent and
//!     // requests still get ids and traces.
//!     let app = Router::new()
//!         .route("/users/{id}", get(user))
//!         .route("/panic", get(panic_handler))
//!         .layer(lookout_axum::layer()); // after the routes
//!
//!     // Serve it as usual, stopping on SIGINT or SIGTERM so that the guard
//!     // of `lookout::init` delivers what is queued:
//!     // let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//!     // axum::serve(listener, app).with_graceful_shutdown(lookout::shutdown_signal()).await?;
//!     let request = Request::get("/users/7")
//!         .header("x-request-id", "req-42")
//!         .body(Body::empty())?;
//!     let response = app.clone().oneshot(request).await?;
//!     assert_eq!(response.status(), StatusCode::OK);
//!     assert_eq!(response.headers()["x-request-id"], "req-42");
//!
//!     // A panic is caught, captured and answered with a 500.
//!     let response = app.oneshot(Request::get("/panic").body(Body::empty())?).await?;
//!     assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//!     assert!(response.headers().contains_key("x-request-id"));
//!     Ok(())
//! }
//! ```
//!
//! # Where to put the layer
//!
//! - **`Router::layer`, after every route** (as above; recommended). The
//!   layer runs after routing, so it sees the route template (`MatchedPath`)
//!   from the start: transactions are named `GET /users/{id}`, the
//!   `http.route` tag is set and sampling rules by route apply. The router's
//!   fallback (404s) is covered too. Routes added *after* `.layer(..)` are
//!   not covered (that is how axum layers work).
//! - **`Router::route_layer`**: like the above, but requests that match no
//!   route (404, 405) are not seen at all.
//! - **Around the whole app from outside** (`LookoutLayer::layer(router)`,
//!   `ServiceBuilder` around a `Router`, outside `NormalizePath`): the layer
//!   runs before routing and cannot see the template when the request
//!   begins. It still learns it afterwards when anything of lookout runs
//!   inside routing: a [`CurrentRequest`] extractor, or a second
//!   `.layer(lookout_axum::layer())` on the Router (it notices the outer one
//!   and only reports the route). Without either, transactions are named
//!   after the raw path (source `url`) and sampling rules see the path.
//!
//! Two lookout layers on one request never instrument it twice: the inner
//! one passes the request through. The same holds for a lookout-instrumented
//! service called in-process (`oneshot`) from inside a request: it is part
//! of that request.
//!
//! # Errors, panics and bodies
//!
//! - A handler's typed error reaches the classifiers through [`Reported`]
//!   (see the `AppError` pattern there). Plain responses are classified by
//!   status: 5xx captured, 4xx one `warn` Sentry Log on the request's trace.
//! - A panic in the inner service is caught, captured with
//!   `error_type=panic` and answered with an empty `500`; the server keeps
//!   serving. Turn it off with [`LookoutLayer::catch_panics`].
//! - The request's context stays bound while the response body is polled;
//!   the transaction ends when the body ends (or as `cancelled` when it is
//!   dropped early).
//! - An `Err` from the inner service (axum routers never return one) sends
//!   no response: the request ends as cancelled and the error is passed on.
//!
//! # Status route (for operators)
//!
//! [`status_router`] answers `GET /lookout/status` with lookout's
//! configuration (environment, release, DSN host and project id, never its
//! keys; sample rates; delivery mode; each with where it came from) and the
//! delivery counters, as JSON. It is opt in: merge it where only operators
//! reach it.
//!
//! ```
//! let app: axum::Router = axum::Router::new()
//!     .merge(lookout_axum::status_router())
//!     .layer(lookout_axum::layer());
//! # let _ = app;
//! ```
//!
//! # The same shape on every framework
//!
//! lookout-axum, lookout-actix and lookout-warp name the same things alike,
//! each in the file of the same name: [`LookoutLayer`] (`layer.rs`; the
//! configuration: [`layer()`], `new`, `catch_panics`), [`Lookout<S>`](Lookout)
//! (`service.rs`; `get_ref`, `get_mut`, `into_inner`), [`ResponseFuture`]
//! (`future.rs`), [`CurrentRequest`] and [`NotInstrumented`]
//! (`current_request.rs`), [`Reported<E>`](Reported) (`reported.rs`; `new`,
//! `get_ref`, `into_inner`, `attach`), the status route (`status.rs`) and
//! [`ORIGIN`]. On axum nothing differs: `Lookout<S>` is lookout-core's
//! [`HttpService`](lookout_core::toolkit::HttpService) with axum's request
//! parts, and [`ResponseBody`] is lookout-core's.
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89).

mod current_request;
mod future;
mod layer;
mod reported;
mod service;
mod status;

pub use current_request::{CurrentRequest, NotInstrumented};
pub use future::ResponseFuture;
pub use layer::{LookoutLayer, ORIGIN, layer};
pub use lookout_core::User;
pub use lookout_core::toolkit::ResponseBody;
pub use reported::Reported;
pub use service::Lookout;
pub use status::{status_router, status_router_with};
