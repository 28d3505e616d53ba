//! lookout-actix instruments an actix-web 4 app with one middleware: every
//! request continues its caller's Sentry trace, gets a request id, carries
//! the signed-in user, and is classified when it fails (typed errors and
//! panics included). It translates actix-web's types to [`lookout_core`]
//! and holds no policy of its own; from Sentry's side its requests look
//! exactly like lookout-axum's.
//!
//! # Example
//!
//! ```
//! use actix_web::http::StatusCode;
//! use actix_web::{App, ResponseError, test, web};
//! use lookout_actix::{CurrentRequest, Reported, User};
//!
//! #[derive(Debug)]
//! struct DbError;
//! impl std::fmt::Display for DbError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("database unavailable")
//!     }
//! }
//! impl std::error::Error for DbError {}
//! // Same response as without lookout; `Reported` lets the middleware see the error.
//! impl ResponseError for DbError {
//!     fn status_code(&self) -> StatusCode {
//!         StatusCode::SERVICE_UNAVAILABLE
//!     }
//! }
//!
//! async fn user(current: CurrentRequest, id: web::Path<u64>) -> Result<String, Reported<DbError>> {
//!     let id = id.into_inner();
//!     current.identify(User::id(id).role("member"));
//!     if id == 0 {
//!         return Err(DbError.into());
//!     }
//!     Ok(format!("user {id}, request {}", current.request_id()))
//! }
//!
//! async fn panic_handler() -> &'static str {
//!     panic!("boom")
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     actix_web::rt::System::new().block_on(async {
//!         // In a service: `let _guard = lookout::init()?;` first (the facade
//!         // reads SENTRY_DSN and friends); without it nothing is sent and
//!         // requests still get ids and traces.
//!         let app = test::init_service(
//!             App::new()
//!                 .route("/users/{id}", web::get().to(user))
//!                 .route("/panic", web::get().to(panic_handler))
//!                 .wrap(lookout_actix::layer()), // after the routes
//!         )
//!         .await;
//!
//!         // Serve it as usual, stopping on SIGINT or SIGTERM so that the guard
//!         // of `lookout::init` delivers what is queued:
//!         // HttpServer::new(|| App::new()...wrap(lookout_actix::layer()))
//!         //     .disable_signals()
//!         //     .shutdown_signal(lookout::shutdown_signal())
//!         //     .bind("0.0.0.0:3000")?.run().await?;
//!         let request = test::TestRequest::get()
//!             .uri("/users/7")
//!             .insert_header(("x-request-id", "req-42"))
//!             .to_request();
//!         let response = test::call_service(&app, request).await;
//!         assert_eq!(response.status(), StatusCode::OK);
//!         assert_eq!(response.headers().get("x-request-id").unwrap(), "req-42");
//!
//!         // A typed error answers as it would without lookout, and is classified by type.
//!         let response = test::call_service(&app, test::TestRequest::get().uri("/users/0").to_request()).await;
//!         assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//!
//!         // A panic is caught, captured and answered with a 500.
//!         let response = test::try_call_service(&app, test::TestRequest::get().uri("/panic").to_request()).await;
//!         let error = response.expect_err("a caught panic is an error response");
//!         let response = error.error_response();
//!         assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//!         assert!(response.headers().contains_key("x-request-id"));
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Where to put the middleware
//!
//! `App::wrap` registers middleware outside in: the last `.wrap(..)` runs
//! first. Put `.wrap(lookout_actix::layer())` last, after the routes and after
//! every other `.wrap`, so it sees the whole request, including what other
//! middleware does and answers (authentication, its 401s). Middleware
//! registered before it (inside it) runs with the request's context current
//! and can extract [`CurrentRequest`] to identify the user.
//!
//! Wherever the middleware sits (the `App`, a `scope`, a `resource`)
//! transactions are named after the route template (`GET /users/{id}`) and
//! events, logs and outgoing calls inside the handler carry it: the
//! middleware reads it from the response's request after routing (actix
//! records the matched resource there), and anything inside the handler
//! that needs it earlier matches the path against the app's resource map,
//! as `match_pattern()` does before routing. When sampling depends on the
//! route (a user sampler, templated ignored routes) it is matched before
//! the request begins, so those rules see the template. A request that
//! matches no resource (the 404 of the default service) is named after its
//! path, as lookout-axum names one.
//!
//! Two lookout middlewares on one request never instrument it twice: the
//! inner one passes the request through.
//!
//! # Errors, panics and bodies
//!
//! - A handler's typed error reaches the classifiers through [`Reported`]
//!   (see the `AppError` pattern there); so does one that middleware inside
//!   lookout returns as `Err`. Any other `actix_web::Error` carried by a
//!   response, or returned as `Err`, is classified through its `dyn Error`
//!   (its message and `Debug` type name). Plain responses are classified by
//!   status: 5xx captured, 4xx one `warn` Sentry Log on the request's trace.
//! - An `Err` from the service inside is passed on unchanged (outer
//!   middleware sees the same error, actix answers with its
//!   `error_response()`), and that response gets `x-request-id` too.
//! - Panics: actix-web itself does not catch a handler's panic; the worker
//!   survives it (the connection's task dies) but the client gets no
//!   response at all, the connection is closed. lookout catches it, captures
//!   it with `error_type=panic` and answers an empty `500` with
//!   `x-request-id` (as an `Err` whose `error_response()` is that `500`,
//!   the request being gone with the panicking handler). Turn it off with
//!   [`LookoutLayer::catch_panics`].
//! - The request's context stays bound while the response body is polled
//!   ([`ResponseBody`]); the transaction ends when the body ends (or as
//!   `cancelled` when the client goes away first). actix notices a client
//!   gone mid-body when a write fails; a body that waits without writing is
//!   dropped at once only with `HttpServer::h1_allow_half_closed(false)`
//!   (actix keeps half-closed connections by default).
//!
//! # Status route (for operators)
//!
//! [`status_resource`] answers `GET /lookout/status` with lookout's
//! configuration (environment, release, DSN host and project id, never its
//! keys; sample rates; delivery mode; each with where it came from) and the
//! delivery counters, as JSON. It is opt in: register it where only
//! operators reach it.
//!
//! ```
//! let app = actix_web::App::new()
//!     .service(lookout_actix::status_resource())
//!     .wrap(lookout_actix::layer());
//! # let _ = app;
//! ```
//!
//! # The same shape on every framework
//!
//! lookout-axum, lookout-actix and lookout-warp name the same things alike,
//! each in the file of the same name: [`LookoutLayer`] (the configuration:
//! [`layer()`], `new`, `catch_panics`), [`Lookout<S>`](Lookout)
//! (`service.rs`; `get_ref`, `get_mut`, `into_inner`), [`ResponseFuture`]
//! (`future.rs`), [`CurrentRequest`] and [`NotInstrumented`]
//! (`current_request.rs`), [`Reported<E>`](Reported) (`reported.rs`; `new`,
//! `get_ref`, `into_inner`, `attach`), the status route (`status.rs`) and
//! [`ORIGIN`]. What actix-web forces:
//!
//! - `LookoutLayer` is an actix `Transform` and lives in `transform.rs`
//!   (actix's word for a layer); `Lookout<S>` is actix's own `Service`, not
//!   lookout-core's `HttpService`.
//! - actix-web 4 speaks `http` 0.2: `headers.rs` translates its headers and
//!   statuses, and [`ResponseBody`] (`body.rs`) is a `MessageBody` (over
//!   lookout-core's `TrackedBody`).
//! - The route is learned from the response after routing
//!   ([`ActixResponder`], in `future.rs`); [`RequestPayload`] records the
//!   request body (lookout-core's `RequestBody` over actix's payload
//!   stream); [`Reported::find`] finds `E` in an `actix_web::Error`.
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89); actix-web 4.15 or later.

mod body;
mod current_request;
mod future;
mod headers;
mod reported;
mod request_body;
mod service;
mod status;
mod transform;

pub use body::ResponseBody;
pub use current_request::{CurrentRequest, NotInstrumented};
pub use future::{ActixResponder, ResponseFuture};
pub use lookout_core::User;
pub use reported::Reported;
pub use request_body::RequestPayload;
pub use service::Lookout;
pub use status::{status_resource, status_resource_with};
pub use transform::{LookoutLayer, ORIGIN, layer};

/// The middleware service's name before the three adapters shared one shape.
#[deprecated(note = "renamed `Lookout<S>`, as on axum and warp")]
pub type LookoutMiddleware<S> = Lookout<S>;

/// The inner future's name before it moved to lookout-core.
#[deprecated(note = "moved to `lookout_core::toolkit::PendingRouteFuture`")]
pub type InnerFuture<F> = lookout_core::toolkit::PendingRouteFuture<F>;
