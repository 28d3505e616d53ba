//! lookout gives a Rust web service end-to-end Sentry observability with one
//! line of setup: every request continues its caller's trace, carries the
//! signed-in user, is classified when it fails, and every log line inside it
//! carries `request_id` and `trace_id`. This crate is the facade: `init`,
//! the `tracing` integration, and re-exports of the building blocks and
//! adapters.
//!
//! # Example
//!
//! ```
//! use lookout::{Options, User};
//!
//! fn main() -> Result<(), lookout::ConfigError> {
//!     // Settings come from SENTRY_DSN, SENTRY_ENVIRONMENT, ... (here pinned
//!     // in code so the example runs the same everywhere). Prints one
//!     // summary line on stderr; keep the guard until the program ends.
//!     let _guard = lookout::init!(
//!         Options::new().vars([("SENTRY_ENVIRONMENT", "development")])
//!     )?;
//!
//!     // With the `axum` feature: `Router::new().layer(lookout::axum::layer())`.
//!     // Adapters do this for each request:
//!     let headers = http::HeaderMap::new();
//!     let request = lookout::engine::Engine::global()
//!         .begin(&lookout::engine::RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
//!     let span = request.tracing_span();
//!     request.context().enter(|| {
//!         let _in_request = span.enter();
//!         lookout::identify(User::id("42").role("admin")).expect("inside a request");
//!         // Logged with request_id and trace_id; a breadcrumb on this request
//!         // and a Sentry Log on its trace.
//!         tracing::info!("loading user");
//!     });
//!     let finished = request.finish(&lookout::engine::ResponseHead::new(http::StatusCode::OK));
//!     finished.body.complete();
//!     Ok(())
//! }
//! ```
//!
//! With axum (feature `axum`), a whole service:
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # mod service {
//! use axum::{Router, routing::get};
//!
//! async fn user() -> &'static str {
//!     // Inside the request: logged with request_id and trace_id.
//!     tracing::info!("loading user");
//!     "ada"
//! }
//!
//! pub fn app() -> Result<(Router, lookout::Guard), lookout::ConfigError> {
//!     let guard = lookout::init!()?; // reads SENTRY_* and RUST_LOG
//!     let app = Router::new()
//!         .route("/users/{id}", get(user))
//!         .layer(lookout::axum::layer());
//!     Ok((app, guard)) // serve `app`; drop `guard` when the server stops
//! }
//! # }
//! ```
//!
//! # What `init` sets up
//!
//! [`init()`] / [`init_with`] / [`init!`] resolve the settings, install the
//! engine the adapters use, bind a Sentry client with lookout's delivery
//! (send, console, Spotlight, off), install a `tracing` subscriber and print
//! the settings summary; see [`init_with`] for the steps, and for what
//! happens when `init` is called twice or not at all.
//!
//! The subscriber has four parts, each with its own filter:
//!
//! - log lines (`tracing-subscriber`'s fmt layer), filtered by `RUST_LOG`
//!   (default `info`), human-readable in development and JSON lines elsewhere
//!   (`LOOKOUT_LOG_FORMAT`); lines inside a request show the request's
//!   `request_id`, `trace_id` and `method` (read from its context: no
//!   `tracing` span per request);
//! - `ERROR` events become Sentry events on the current request's Hub (with
//!   its user, tags and trace), `WARN` and `INFO` events become breadcrumbs on
//!   that request only, `DEBUG` and `TRACE` are ignored;
//! - events at `LOOKOUT_LOGS_LEVEL` (default `INFO`) or more severe become
//!   Sentry Logs (`SENTRY_ENABLE_LOGS`, on by default): inside a request on its
//!   trace (sampled or not) with `request_id`, `http.route`,
//!   `http.request.method` and `user.id`, fields as typed attributes,
//!   denylisted keys `[Filtered]`, batched (1 MiB of logs or 5 seconds per
//!   envelope) and flushed when the guard drops;
//! - spans (e.g. from `#[instrument]`) inside a sampled request become child
//!   spans of its transaction, and so do its database queries: each sqlx
//!   query (its `sqlx::query` event, taken whatever `RUST_LOG` says) is a
//!   finished `db` span with the statement, and a span with OpenTelemetry
//!   database fields (`db.system`, `db.statement`, ...) an op `db` span named
//!   after its query.
//!
//! [`TracingOptions`] changes the levels and the filter. lookout's own
//! targets (`lookout::*`: console lines, the request span) never become
//! Sentry data.
//!
//! # Bringing your own subscriber
//!
//! Turn installation off and add lookout's layers to your subscriber:
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//!
//! let guard = lookout::init!(lookout::Options::new().install_subscriber(false))?;
//! tracing_subscriber::registry()
//!     // Log lines + Sentry, as `init` would install them:
//!     .with(lookout::subscriber::tracing_layers(guard.settings(), lookout::TracingOptions::new()))
//!     .init();
//! // Or keep your own fmt layer and add only the Sentry part:
//! // .with(my_fmt_layer.with_filter(lookout::TracingOptions::new().env_filter()))
//! // .with(lookout::subscriber::sentry_layer(&lookout::TracingOptions::new()))
//! # Ok::<(), lookout::ConfigError>(())
//! ```
//!
//! Keep `lookout::request=info` enabled in your own filter
//! ([`TracingOptions::env_filter`] adds it) so log lines carry the ids.
//!
//! # What lives where
//!
//! The root holds what a service meets first: [`init()`], [`init!`],
//! [`init_with`], [`Guard`], [`Options`], [`TracingOptions`],
//! [`ConfigError`], [`User`], [`identify`], [`current`], [`shutdown_signal`]
//! (for the server's graceful shutdown), [`stats()`] and
//! [`status()`] (is delivery working?), and for work outside
//! requests [`job`] (background jobs on the request's trace) and
//! [`monitor()`] (cron check-ins). The rest lives in modules: [`subscriber`] (lookout's `tracing` layers, for your own
//! subscriber), [`engine`] (lookout-core: the request lifecycle, the adapter
//! toolkit, outgoing propagation, delivery), and the building blocks
//! [`headers`] (`sentry-trace`, `baggage`, `traceparent`, request ids),
//! [`policy`] (settings, sampling, scrubbing), [`scope`] (the per-request
//! context) and [`classify`] (which failures become events, e.g.
//! [`classify::by_type`]). Adapters are modules behind features.
//!
//! # Is delivery working? (stats and status)
//!
//! [`stats()`] reads the delivery's counters (envelopes queued, sent,
//! dropped by reason, what waits now, the last error); [`status()`] adds the
//! configuration with where each value came from, as the adapters' operator
//! status routes serve it (`lookout::axum::status_router()`,
//! `lookout::actix::status_resource()`, `lookout::warp::status_filter()`).
//!
//! ```no_run
//! let _guard = lookout::init!()?;
//! // ... later, in a health check or a metrics exporter:
//! let stats = lookout::stats();
//! if stats.dropped.network_error > 0 {
//!     if let Some(error) = &stats.last_error {
//!         eprintln!("Sentry unreachable: {}", error.message);
//!     }
//! }
//! println!("{}", lookout::status().to_json());
//! # Ok::<(), lookout::ConfigError>(())
//! ```
//!
//! # Feature flags
//!
//! - `axum`: `lookout::axum` re-exports `lookout-axum` (the axum / tower
//!   layer).
//! - `reqwest`: `lookout::reqwest` re-exports `lookout-reqwest` (a
//!   `reqwest-middleware` middleware giving every outgoing call its span and
//!   the trace headers).
//! - `actix`: `lookout::actix` re-exports `lookout-actix` (the actix-web 4
//!   middleware).
//! - `warp`: `lookout::warp` re-exports `lookout-warp` (`serve`, `wrap` and
//!   the filters for warp 0.4).
//! - `test`: `lookout::testing` re-exports lookout-core's in-process capture helper
//!   for your own tests.
//! - `anyhow`: `lookout::AnyhowError` reports an `anyhow::Error` (through any
//!   adapter's `Reported`, or `CurrentRequest::capture_error`) with the
//!   backtrace anyhow captured where the error was created as its frames.
//!
//! None is on by default.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89 (the workspace's
//! `rust-version`).

mod init;
mod options;
mod shutdown;

pub use init::{Guard, init, init_with};
pub use lookout_tracing::TracingOptions;
pub use options::Options;
pub use shutdown::shutdown_signal;

/// lookout's `tracing` layers, for a service that builds its own subscriber
/// (`Options::install_subscriber(false)`).
pub mod subscriber {
    pub use lookout_tracing::{DEFAULT_FILTER, LOOKOUT_DIRECTIVES, sentry_layer, tracing_layers};
}

pub use lookout_core::job;
/// Sentry Cron monitors: [`monitor("nightly-report")`](monitor()) wraps a
/// scheduled task's runs in check-ins.
pub use lookout_core::monitor;

/// A Sentry Cron monitor named `slug`; [`run`](monitor::Monitor::run) wraps
/// one run of a scheduled task in `in_progress` and `ok`/`error` check-ins.
///
/// ```no_run
/// # async fn report() -> Result<(), std::io::Error> { Ok(()) }
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let nightly = lookout::monitor("nightly-report").crontab("0 3 * * *")?;
/// let mut every_day = tokio::time::interval(std::time::Duration::from_secs(86_400));
/// loop {
///     every_day.tick().await;
///     let _ = nightly.run(report()).await;
/// }
/// # }
/// ```
pub fn monitor(slug: impl Into<std::borrow::Cow<'static, str>>) -> monitor::Monitor {
    monitor::Monitor::new(slug)
}

/// The delivery's counters now, for the engine `init` installed (all zeros
/// before `init`): envelopes queued, sent, dropped by reason (queue full,
/// rate limited, network error, HTTP error, sampled out, shutdown), what
/// waits in the queue and the last delivery error. Cheap: atomic loads.
///
/// ```
/// let stats = lookout::stats();
/// assert_eq!(stats.dropped.total(), 0, "nothing captured yet");
/// ```
#[must_use]
pub fn stats() -> engine::delivery::DeliverySnapshot {
    engine::Engine::global().stats()
}

/// The status report the adapters' status routes serve: environment,
/// release, DSN host and project id (never its keys), sample rates and
/// delivery mode, each with where it came from, and [`stats()`].
///
/// ```
/// let status = lookout::status();
/// let json = status.to_json();
/// assert!(json.contains("\"environment\"") && json.contains("\"stats\""));
/// ```
#[must_use]
pub fn status() -> engine::Status {
    engine::Engine::global().status()
}

/// Trace metrics (sentry-core's `metrics`: counters, gauges,
/// distributions). Captured inside a request, a metric carries the
/// request's trace, span, `request_id`, `http.route`,
/// `http.request.method` and user, goes through
/// `Overrides::before_send_metric` and the scrubber, and is delivered like
/// a log (batched; Spotlight copy; rate-limit category `trace_metric`).
///
/// ```
/// lookout::metrics::counter("orders.lookup", 1)
///     .attribute("order.status", "paid")
///     .capture();
/// ```
pub use sentry_core::metrics;

pub use lookout_classify as classify;
/// The request lifecycle (`lookout-core`): the [`Engine`](engine::Engine),
/// the adapter [`toolkit`](engine::toolkit), outgoing propagation
/// ([`inject_headers`](engine::inject_headers)) and delivery.
pub use lookout_core as engine;
pub use lookout_headers as headers;
pub use lookout_policy as policy;
pub use lookout_scope as scope;

/// The axum adapter (`lookout-axum`): `lookout::axum::layer()`.
#[cfg(feature = "axum")]
pub use lookout_axum as axum;

/// The actix-web adapter (`lookout-actix`):
/// `.wrap(lookout::actix::layer())`.
#[cfg(feature = "actix")]
pub use lookout_actix as actix;

/// The warp adapter (`lookout-warp`): `lookout::warp::serve(routes)`, or
/// `warp::serve(lookout::warp::wrap(routes))`.
#[cfg(feature = "warp")]
pub use lookout_warp as warp;

/// The reqwest integration (`lookout-reqwest`):
/// `ClientBuilder::new(client).with(lookout::reqwest::Propagate::default())`.
#[cfg(feature = "reqwest")]
pub use lookout_reqwest as reqwest;

/// Test helpers: run requests through a real lookout pipeline and assert on
/// what would have been sent (lookout-core's `testing` module).
#[cfg(feature = "test")]
pub use lookout_core::testing;

/// An `anyhow::Error` reported with its own backtrace (feature `anyhow`):
/// `Reported::new(AnyhowError(error))`.
#[cfg(feature = "anyhow")]
pub use lookout_core::AnyhowError;
pub use lookout_policy::{ConfigError, LogFormat};
pub use lookout_scope::{NotInRequest, User, identify, set_anonymous};

/// The request being handled, from anywhere inside it (a handler, a
/// middleware, a task spawned with `spawn_in_request`); `None` outside a
/// request. The same [`CurrentRequest`](engine::toolkit::CurrentRequest)
/// every adapter's extractor gives: ids, trace, `identify`, and by hand
/// `set_tag`, `set_context`, `capture_error`, `capture_message`; the
/// request's [`RequestContext`](scope::RequestContext) methods too.
///
/// ```
/// assert!(lookout::current().is_none(), "outside a request");
/// // Inside one:
/// if let Some(current) = lookout::current() {
///     current.set_tag("tenant", "acme");
///     let _ = current.capture_message("cache cold", lookout::classify::Level::Info);
/// }
/// ```
#[must_use]
pub fn current() -> Option<engine::toolkit::CurrentRequest> {
    engine::toolkit::CurrentRequest::get()
}

/// The README's quick start, compiled as a doctest so it never drifts.
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../../../README.md")]
struct ReadmeQuickStart;
