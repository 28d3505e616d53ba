//! [`Lookout`]: the tower middleware service (lookout-core's
//! [`HttpService`], shared with lookout-warp), and what axum tells it of a
//! request.

use std::any::Any;

use axum::body::Body;
use axum::extract::{MatchedPath, OriginalUri};
use http::Request;
use lookout_core::Engine;
use lookout_core::request_body::BodyRecording;
use lookout_core::toolkit::{self, HttpRequestParts, HttpService};

use crate::LookoutLayer;

/// The lookout middleware around the service `S`; made by
/// [`LookoutLayer`] (lookout-core's [`HttpService`], with axum's request
/// parts).
///
/// Each request: [`begin`](lookout_core::Engine::begin) (request id, trace
/// continuation, sampling, route template from axum's `MatchedPath`), the
/// inner service runs with the request's context bound, then
/// [`finish`](lookout_core::InFlight::finish) classifies the response (with
/// the typed error a [`Reported`](crate::Reported) left on it, or the panic)
/// and adds `x-request-id`; the transaction ends with the response body.
/// `get_ref`, `get_mut` and `into_inner` reach the inner service.
///
/// ```
/// use std::convert::Infallible;
/// use axum::body::Body;
/// use http::{Request, Response};
/// use tower::{ServiceExt, service_fn};
/// use tower_layer::Layer;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // Any tower service over http requests, not only axum routers.
/// let svc = service_fn(|_req: Request<Body>| async { Ok::<_, Infallible>(Response::new(Body::from("hi"))) });
/// let svc: lookout_axum::Lookout<_> = lookout_axum::layer().layer(svc);
/// let response = svc.oneshot(Request::new(Body::empty())).await.unwrap();
/// assert!(response.headers().contains_key("x-request-id"));
/// # });
/// ```
pub type Lookout<S> = HttpService<S, LookoutLayer>;

/// What axum knows of a request: the URI before nesting (`OriginalUri`) and
/// the route template once routing ran (`MatchedPath`). Its own `Body` is
/// wrapped in lookout's [`RequestBody`](toolkit::RequestBody) (an axum
/// `Body` again, as routes expect), which records what the handler reads of
/// it for the request's events (`LOOKOUT_MAX_REQUEST_BODY_SIZE`); other body
/// types pass through unrecorded.
impl HttpRequestParts for LookoutLayer {
    type Body<B: 'static> = B;

    fn prepare<B: 'static>(engine: &Engine, mut request: Request<B>) -> Request<B> {
        if !(request.body() as &dyn Any).is::<Body>() {
            return request;
        }
        let Some(plan) = BodyRecording::for_http(engine, &request) else {
            return request;
        };
        if let Some(body) = (request.body_mut() as &mut dyn Any).downcast_mut::<Body>() {
            let inner = std::mem::take(body);
            *body = Body::new(toolkit::RequestBody::new(inner, Some(plan)));
        }
        request
    }

    fn original_uri<B>(request: &Request<B>) -> &http::Uri {
        request
            .extensions()
            .get::<OriginalUri>()
            .map_or(request.uri(), |original| &original.0)
    }

    fn route<B>(request: &Request<B>) -> Option<&str> {
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
    }
}
