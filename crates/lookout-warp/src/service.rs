//! [`Lookout`]: the tower middleware service every way of running a filter
//! with lookout goes through.

use std::task::{Context, Poll};

use http::{Request, Response};
use lookout_core::RequestHead;
use lookout_core::toolkit::{self, EngineHandle, HttpResponder, Instrumented, RouteLearner};
use tower_service::Service;

use crate::ResponseFuture;

/// The lookout middleware around the service `S` (in practice
/// `warp::service(filter)`); made by [`LookoutLayer`](crate::LookoutLayer).
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
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = Response<toolkit::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let in_flight = {
            let uri = req.uri();
            let mut head = RequestHead::new(req.method().as_str(), uri.path(), req.headers());
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
        // warp has no route templates: `lookout_warp::route` filters learn it.
        if let Some(learner) = in_flight.route_learner() {
            req.extensions_mut().insert(learner);
        }
        let inner = &mut self.inner;
        Instrumented::call(in_flight, HttpResponder::new(), self.catch_panics, || {
            inner.call(req)
        })
    }
}
