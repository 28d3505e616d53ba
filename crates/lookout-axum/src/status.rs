//! The operator status route: lookout's configuration and delivery counters
//! as JSON ([`lookout_core::Status`]), built in lookout-core; this module
//! only mounts it on an axum `Router`.

use axum::Router;
use axum::routing::get;
use lookout_core::{Engine, STATUS_PATH};

/// A router answering `GET /lookout/status` with the process-wide engine's
/// [`Status`](lookout_core::Status) (the one `lookout::init` installed):
/// environment, release, DSN host and project id (never its keys), sample
/// rates, delivery mode, each with where it came from, and the delivery
/// counters.
///
/// It is an operator endpoint: opt in by merging it, and keep it where only
/// operators reach it (an internal listener, or behind your auth layer).
///
/// ```
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/health", get(|| async { "ok" }))
///     .merge(lookout_axum::status_router())
///     .layer(lookout_axum::layer());
/// # let _ = app;
/// ```
pub fn status_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        STATUS_PATH,
        get(|| async { Engine::global().status().to_http_response() }),
    )
}

/// [`status_router`] reporting on `engine` instead of the global one.
///
/// ```
/// let engine = lookout_core::Engine::builder().build();
/// let app: axum::Router = lookout_axum::status_router_with(engine);
/// # let _ = app;
/// ```
pub fn status_router_with<S>(engine: Engine) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        STATUS_PATH,
        get(move || {
            let status = engine.status();
            async move { status.to_http_response() }
        }),
    )
}
