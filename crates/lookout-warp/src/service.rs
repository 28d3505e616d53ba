//! [`Lookout`]: the tower middleware service every way of running a filter
//! with lookout goes through.

use std::task::{Context, Poll};

use http::{Request, Response};
use lookout_core::toolkit::{self, EngineHandle, HttpRequestParts};
use tower_service::Service;

use crate::ResponseFuture;

/// The lookout middleware around the service `S` (in practice
/// `warp::service(filter)`, which takes any body: `S` gets the request's
/// body as a [`RequestBody`](lookout_core::toolkit::RequestBody), which
/// records what the filters read of it for the request's events); made by
/// [`LookoutLayer`](crate::LookoutLayer).
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
#[derive(Clone, Debug)]
pub struct Lookout<S> {
    inner: S,
    engine: EngineHandle,
    catch_panics: bool,
}

impl<S> Lookout<S> {
    pub(crate) fn from_parts(inner: S, engine: EngineHandle, catch_panics: bool) -> Self {
        Self {
            inner,
            engine,
            catch_panics,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Lookout<S>
where
    S: Service<Request<toolkit::RequestBody<ReqBody>>, Response = Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = Response<toolkit::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let inner = &mut self.inner;
        let engine = self.engine.get();
        // What the filters read of the body is recorded for the request's
        // events (`LOOKOUT_MAX_REQUEST_BODY_SIZE`); warp takes any body.
        let req = toolkit::RequestBody::wrap_request(engine, req);
        // warp has no route templates: `lookout_warp::route` filters learn it.
        toolkit::instrument_http::<Warp, _, _, _, _>(engine, self.catch_panics, req, |req| {
            inner.call(req)
        })
    }
}

/// warp knows nothing of a request before its filters run.
struct Warp;

impl HttpRequestParts for Warp {}
