//! The operator status route: lookout's configuration and delivery counters
//! as JSON ([`lookout_core::Status`]), built in lookout-core; this module
//! only makes it a warp filter.

use lookout_core::{Engine, STATUS_PATH};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// A filter answering `GET /lookout/status` with the process-wide engine's
/// [`Status`](lookout_core::Status) (the one `lookout::init` installed): environment, release,
/// DSN host and project id (never its keys), sample rates, delivery mode,
/// each with where it came from, and the delivery counters.
///
/// It is an operator endpoint: opt in by adding it to your routes, and keep
/// it where only operators reach it (an internal listener, or behind your
/// auth filter).
///
/// ```
/// use warp::Filter;
///
/// let health = warp::path!("health").map(|| "ok");
/// let routes = health.or(lookout_warp::status_filter());
/// let app = lookout_warp::wrap(routes);
/// # let _ = app;
/// ```
pub fn status_filter()
-> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    status_path().map(|| Engine::global().status().to_http_response().into_response())
}

/// [`status_filter`] reporting on `engine` instead of the global one.
///
/// ```
/// let engine = lookout_core::Engine::builder().build();
/// let status = lookout_warp::status_filter_with(engine);
/// # let _ = status;
/// ```
pub fn status_filter_with(
    engine: Engine,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    status_path().map(move || engine.status().to_http_response().into_response())
}

/// `GET /lookout/status`, named after its template for lookout.
fn status_path() -> impl Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::path!("lookout" / "status")
        .and(warp::get())
        .and(crate::route(STATUS_PATH))
}
