//! [`Lookout`]: the tower middleware service.

use std::any::Any;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{MatchedPath, OriginalUri};
use http::{Request, Response};
use lookout_core::request_body::BodyRecording;
use lookout_core::toolkit::{self, EngineHandle, HttpRequestParts};
use tower_service::Service;

use crate::ResponseFuture;

/// The lookout middleware around the service `S`; made by
/// [`LookoutLayer`](crate::LookoutLayer).
///
/// Each request: [`begin`](lookout_core::Engine::begin) (request id, trace
/// continuation, sampling, route template from axum's `MatchedPath`), the
/// inner service runs with the request's context bound, then
/// [`finish`](lookout_core::InFlight::finish) classifies the response (with
/// the typed error a [`Reported`](crate::Reported) left on it, or the panic)
/// and adds `x-request-id`; the transaction ends with the response body.
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
/// let svc = lookout_axum::layer().layer(svc);
/// let response = svc.oneshot(Request::new(Body::empty())).await.unwrap();
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
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: 'static,
    ResBody: http_body::Body,
{
    type Response = Response<lookout_core::toolkit::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let inner = &mut self.inner;
        let engine = self.engine.get();
        record_body(engine, &mut req);
        toolkit::instrument_http::<Axum, _, _, _, _>(engine, self.catch_panics, req, |req| {
            inner.call(req)
        })
    }
}

/// Wraps an axum request body in lookout's [`RequestBody`](toolkit::RequestBody),
/// which records what the handler reads of it for the request's events
/// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`). Only axum's own `Body` is wrapped (the
/// wrapped body is an axum `Body` again, as routes expect); other body types
/// pass through unrecorded.
fn record_body<B: 'static>(engine: &lookout_core::Engine, request: &mut Request<B>) {
    if !(request.body() as &dyn Any).is::<Body>() {
        return;
    }
    let Some(plan) = BodyRecording::for_http(engine, request) else {
        return;
    };
    if let Some(body) = (request.body_mut() as &mut dyn Any).downcast_mut::<Body>() {
        let inner = std::mem::take(body);
        *body = Body::new(toolkit::RequestBody::new(inner, Some(plan)));
    }
}

/// What axum knows of a request: the URI before nesting (`OriginalUri`) and
/// the route template once routing ran (`MatchedPath`).
struct Axum;

impl HttpRequestParts for Axum {
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
