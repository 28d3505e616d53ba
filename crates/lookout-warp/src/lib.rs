//! lookout-warp instruments a warp 0.4 app with one call: every request
//! continues its caller's Sentry trace, gets a request id, carries the
//! signed-in user, and is classified when it fails (typed errors, rejections
//! and panics included). It translates warp's types to [`lookout_core`] and
//! holds no policy of its own.
//!
//! # Example
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_layer::Layer;
//! use warp::{Filter, Rejection, Reply};
//! use lookout_warp::{CurrentRequest, Reported, User};
//!
//! #[derive(Debug)]
//! struct DbError;
//! impl std::fmt::Display for DbError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("database unavailable")
//!     }
//! }
//! impl std::error::Error for DbError {}
//!
//! async fn user(id: u64, current: CurrentRequest) -> Result<String, Rejection> {
//!     current.identify(User::id(id).role("member"));
//!     if id == 0 {
//!         return Err(Reported::new(DbError).reject());
//!     }
//!     Ok(format!("user {id}, request {}", current.request_id()))
//! }
//!
//! // The same response as without lookout; the middleware now sees the error.
//! async fn answer(rejection: Rejection) -> Result<impl Reply, Rejection> {
//!     match rejection.find::<Reported<DbError>>() {
//!         Some(reported) => Ok(reported.attach(StatusCode::SERVICE_UNAVAILABLE)),
//!         None => Err(rejection),
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // In a service: `let _guard = lookout::init()?;` first (the facade
//!     // reads SENTRY_DSN and friends); without it nothing is sent and
//!     // requests still get ids and traces.
//!     let users = warp::path!("users" / u64)
//!         .and(warp::get())
//!         .and(lookout_warp::route("/users/{id}")) // names the transaction
//!         .and(lookout_warp::current())
//!         .and_then(user);
//!     let panics = warp::path!("panic").map(|| -> &'static str { panic!("boom") });
//!     let routes = users.or(panics).recover(answer);
//!
//!     // Serve it, stopping on SIGINT or SIGTERM so that the guard of
//!     // `lookout::init` delivers what is queued:
//!     // `lookout_warp::serve(routes).graceful(lookout::shutdown_signal()).run(([0, 0, 0, 0], 3030)).await?;`
//!     // (or, keeping warp's server: `warp::serve(lookout_warp::wrap(routes))`).
//!     // Here, in process, through the middleware `serve` runs:
//!     let app = lookout_warp::layer().layer(warp::service(routes));
//!     let request = Request::get("/users/7")
//!         .header("x-request-id", "req-42")
//!         .body(String::new())?;
//!     let response = app.clone().oneshot(request).await?;
//!     assert_eq!(response.status(), StatusCode::OK);
//!     assert_eq!(response.headers()["x-request-id"], "req-42");
//!
//!     // A typed error: classified by its type, answered as `answer` says.
//!     let response = app.clone().oneshot(Request::get("/users/0").body(String::new())?).await?;
//!     assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//!
//!     // A panic is caught, captured and answered with a 500.
//!     let response = app.oneshot(Request::get("/panic").body(String::new())?).await?;
//!     assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//!     assert!(response.headers().contains_key("x-request-id"));
//!     Ok(())
//! }
//! ```
//!
//! # Three ways to run a filter
//!
//! Each puts lookout in front of the whole filter: the request begins
//! before any filter runs, and every filter, handler and response body runs
//! with the request's context bound on every poll.
//!
//! - **[`serve`]`(routes)`** (recommended): the drop-in for
//!   `warp::serve(routes)`, with warp's connection handling (HTTP/1 and
//!   HTTP/2, upgrades such as websockets, [graceful
//!   shutdown](Server::graceful)). It costs what lookout costs on axum.
//! - **`warp::serve(`[`wrap`]`(routes))`**, for code that keeps warp's own
//!   server: a filter `warp::serve` accepts. warp has no hook around the
//!   polls of an inner filter, so the wrapped filter runs as a service of
//!   its own on a task of its own, with the request rebuilt from the outer
//!   one: a task and a few allocations more per request (see
//!   `docs/benchmarks.md`), request extensions stay outside (websocket
//!   upgrades do not work inside `wrap`), and the response body is
//!   streamed through (its length, when known, is kept as
//!   `content-length`, which a `HEAD` answer would otherwise lose). Also
//!   `routes.with(warp::wrap_fn(lookout_warp::wrap))`.
//! - **[`LookoutLayer`] as a `tower::Layer`** around `warp::service(routes)`
//!   (or any tower service over `http` 1.x requests), served by your own
//!   hyper server: what `serve` does, connection handling yours.
//!
//! warp gives its remote address only to `warp::serve`'s own filter (the
//! type is private), so under `serve` and inside `wrap`,
//! `warp::addr::remote()` sees none; [`remote_addr`] sees it everywhere.
//!
//! # Route names
//!
//! warp matches with filters and has no route templates: a [`route`] filter
//! says each route's template, and the transaction is named after it
//! (`GET /users/{id}`, source `route`) from the moment the filter runs, so
//! events and outgoing calls after it carry the route too. A request that
//! reaches no `route` filter (a 404) is named after its raw path (source
//! `url`), never with its query string. The sampling decision is made before
//! any filter runs: route-based sampling rules see the raw path on warp.
//!
//! # Errors, rejections and panics
//!
//! - A typed error reaches the classifiers through [`Reported`]: reject
//!   with it and attach it to the reply in `recover` (the `AppError` pattern
//!   is on [`Reported`]). Other responses are classified by status: 5xx
//!   captured, 4xx one `warn` Sentry Log on the request's trace.
//! - warp's own rejections become warp's responses as always: a 404 (no
//!   filter matched) is a `warn` log, not an event; an unhandled custom
//!   rejection, which warp answers with a `500`, is captured.
//! - A panic in a filter or handler is caught, captured with
//!   `error_type=panic` and answered with an empty `500`; the server keeps
//!   serving. Turn it off with [`LookoutLayer::catch_panics`].
//! - The transaction ends when the response body ends (or as `cancelled`
//!   when the client goes away first); each request is a release-health
//!   session of its own.
//!
//! # The current request
//!
//! [`current`] extracts the [`CurrentRequest`] in any filter or handler, for
//! example in an authentication filter that identifies the user:
//! [`CurrentRequest::identify`](lookout_core::toolkit::CurrentRequest::identify)
//! sets the user on this request's events and transaction only.
//!
//! # Status route (for operators)
//!
//! [`status_filter`] answers `GET /lookout/status` with lookout's
//! configuration (environment, release, DSN host and project id, never its
//! keys; sample rates; delivery mode; each with where it came from) and the
//! delivery counters, as JSON. It is opt in: add it where only operators
//! reach it.
//!
//! ```
//! use warp::Filter;
//!
//! let routes = warp::path!("health").map(|| "ok").or(lookout_warp::status_filter());
//! # let _ = lookout_warp::wrap(routes);
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
//! [`ORIGIN`]. `Lookout<S>` is lookout-core's
//! [`HttpService`](lookout_core::toolkit::HttpService), as on axum. What
//! warp forces:
//!
//! - `CurrentRequest` is extracted by the [`current`] filter (warp has no
//!   extractor trait), and routes are named by [`route`] filters (warp has
//!   no templates).
//! - [`Reported::attach`] takes `&self` and [`Reported::into_inner`] gives
//!   an `Arc<E>`: `recover` sees a rejection only by reference;
//!   [`Reported::reject`] makes the rejection.
//! - [`serve`], [`wrap`], [`remote_addr`] and [`FilterError`] exist because
//!   warp's own server hides what lookout needs (`server.rs`, `wrap.rs`).
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89).

mod current_request;
mod filter_error;
mod future;
mod layer;
mod remote_addr;
mod reported;
mod route;
mod server;
mod service;
mod status;
mod wrap;

pub use current_request::{CurrentRequest, NotInstrumented, current};
pub use filter_error::FilterError;
pub use future::ResponseFuture;
pub use layer::{LookoutLayer, ORIGIN, layer};
pub use lookout_core::User;
pub use lookout_core::toolkit::ResponseBody;
pub use remote_addr::remote_addr;
pub use reported::Reported;
pub use route::route;
pub use server::{Server, serve};
pub use service::Lookout;
pub use status::{status_filter, status_filter_with};
pub use wrap::wrap;
