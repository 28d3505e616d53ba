//! [`Lookout`]: the tower middleware service every way of running a filter
//! with lookout goes through (lookout-core's [`HttpService`], shared with
//! lookout-axum), and what warp tells it of a request.

use http::Request;
use lookout_core::Engine;
use lookout_core::toolkit::{HttpRequestParts, HttpService, RequestBody};

use crate::LookoutLayer;

/// The lookout middleware around the service `S` (in practice
/// `warp::service(filter)`, which takes any body: `S` gets the request's
/// body as a [`RequestBody`](lookout_core::toolkit::RequestBody), which
/// records what the filters read of it for the request's events); made by
/// [`LookoutLayer`]. `get_ref`, `get_mut` and `into_inner` reach the inner
/// service.
///
/// Each request: [`begin`](lookout_core::Engine::begin) (request id, trace
/// continuation, sampling) before any filter runs, so the route template
/// comes later, from [`route`](crate::route()); the filters and handlers run
/// with the request's context bound on every poll, then
/// [`finish`](lookout_core::InFlight::finish) classifies the response (with
/// the typed error a [`Reported`](crate::Reported) left on it, or the panic)
/// and adds `x-request-id`; the transaction ends with the response body.
///
/// ```
/// use http::{Request, StatusCode};
/// use tower::ServiceExt;
/// use tower_layer::Layer;
/// use warp::Filter;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let routes = warp::path!("users" / u32)
///     .and(lookout_warp::route("/users/{id}"))
///     .map(|id| format!("user {id}"));
/// let service = lookout_warp::layer().layer(warp::service(routes));
/// let response = service.oneshot(Request::get("/users/7").body(String::new()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// assert!(response.headers().contains_key("x-request-id"));
/// # });
/// ```
pub type Lookout<S> = HttpService<S, LookoutLayer>;

/// warp knows nothing of a request before its filters run (routes are
/// learned from [`route`](crate::route()) filters); it takes any body, so
/// every body records what the filters read of it for the request's events
/// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`).
impl HttpRequestParts for LookoutLayer {
    type Body<B: 'static> = RequestBody<B>;

    fn prepare<B: 'static>(engine: &Engine, request: Request<B>) -> Request<RequestBody<B>> {
        RequestBody::wrap_request(engine, request)
    }
}
