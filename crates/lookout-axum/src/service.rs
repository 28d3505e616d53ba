//! [`Lookout`]: the middleware service, and the request-extension marker
//! through which a second lookout layer (or the [`CurrentRequest`]
//! extractor) inside routing tells an outer one the route template.
//!
//! [`CurrentRequest`]: crate::CurrentRequest

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, OriginalUri};
use http::{Request, Response};
use lookout_core::RequestHead;
use lookout_scope::RequestContext;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::future::ResponseFuture;
use crate::layer::Engine;

/// The lookout middleware around the service `S`; made by
/// [`LookoutLayer`](crate::LookoutLayer).
///
/// Each request: [`begin`](lookout_core::Lookout::begin) (request id, trace
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
    engine: Engine,
    catch_panics: bool,
}

/// Put on a request by a lookout layer that instruments it without knowing
/// the route (it sits outside routing), so that lookout code inside routing
/// (a second layer, the `CurrentRequest` extractor) tells it the template.
#[derive(Clone)]
pub(crate) struct Marker {
    pub(crate) ctx: RequestContext,
}

/// The route template learned after begin (the layer sat outside routing).
pub(crate) struct LearnedRoute(pub(crate) MatchedPath);

impl Marker {
    /// Tells the instrumenting layer the route, if it did not know it.
    pub(crate) fn learn(&self, matched: Option<&MatchedPath>) {
        if let Some(matched) = matched
            && self.ctx.extension::<LearnedRoute>().is_none()
        {
            self.ctx.insert_extension(LearnedRoute(matched.clone()));
        }
    }
}

impl<S> Lookout<S> {
    pub(crate) fn from_parts(inner: S, engine: Engine, catch_panics: bool) -> Self {
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
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let matched = req.extensions().get::<MatchedPath>();
        if let Some(marker) = req.extensions().get::<Marker>() {
            // An outer lookout layer, outside routing, instruments this
            // request: tell it the route.
            marker.learn(matched);
            return ResponseFuture::passthrough(self.inner.call(req));
        }
        if lookout_scope::current().is_some() {
            // Called inside a request already (an outer lookout layer that
            // knew the route, or an in-process call from a handler): that
            // request is the one being handled.
            return ResponseFuture::passthrough(self.inner.call(req));
        }
        let route_known = matched.is_some();
        let in_flight = {
            let uri = req
                .extensions()
                .get::<OriginalUri>()
                .map_or(req.uri(), |original| &original.0);
            let mut head = RequestHead::new(req.method().as_str(), uri.path(), req.headers());
            if let Some(matched) = matched {
                head = head.with_route(matched.as_str());
            }
            if let Some(query) = uri.query() {
                head = head.with_query(query);
            }
            self.engine.get().begin(&head)
        };
        let ctx = in_flight.context().clone();
        if !route_known {
            // Only a layer outside routing needs to hear the route later.
            req.extensions_mut().insert(Marker { ctx: ctx.clone() });
        }
        let inner = &mut self.inner;
        let called = if self.catch_panics {
            ctx.enter(|| catch_unwind(AssertUnwindSafe(|| inner.call(req))))
        } else {
            Ok(ctx.enter(|| inner.call(req)))
        };
        match called {
            Ok(future) => ResponseFuture::instrumented(
                ctx.bind(future),
                in_flight,
                route_known,
                self.catch_panics,
            ),
            Err(payload) => ResponseFuture::panicked(in_flight, payload),
        }
    }
}
