//! [`Lookout`]: the tower middleware service.

use std::task::{Context, Poll};

use axum::extract::{MatchedPath, OriginalUri};
use http::{Request, Response};
use lookout_core::RequestHead;
use lookout_core::toolkit::{self, EngineHandle, HttpResponder, Instrumented, RouteLearner};
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
    ResBody: http_body::Body,
{
    type Response = Response<lookout_core::toolkit::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let in_flight = {
            let uri = req
                .extensions()
                .get::<OriginalUri>()
                .map_or(req.uri(), |original| &original.0);
            let mut head = RequestHead::new(req.method().as_str(), uri.path(), req.headers());
            if let Some(matched) = req.extensions().get::<MatchedPath>() {
                head = head.with_route(matched.as_str());
            }
            if let Some(query) = uri.query() {
                head = head.with_query(query);
            }
            toolkit::begin(
                self.engine.get(),
                &head,
                req.extensions().get::<RouteLearner>(),
            )
        };
        let Some(in_flight) = in_flight else {
            return Instrumented::passthrough(self.inner.call(req), HttpResponder::new());
        };
        if let Some(learner) = in_flight.route_learner() {
            req.extensions_mut().insert(learner);
        }
        let inner = &mut self.inner;
        Instrumented::call(in_flight, HttpResponder::new(), self.catch_panics, || {
            inner.call(req)
        })
    }
}
