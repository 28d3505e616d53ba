//! [`HttpService`]: the middleware service over `http::Request` /
//! `http::Response` services (tower, hyper, warp), written once; and
//! [`instrument_http`], its `call`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use http::{Request, Response, Uri};
use tower_service::Service;

use super::{HttpResponder, Instrumented, MiddlewareOptions, ResponseBody, RouteLearner, begin};
use crate::{Engine, RequestHead};

/// What a framework knows of an `http::Request` beyond its method, URI and
/// headers: the URI the client sent (before any nesting rewrote it), the
/// route template when routing already ran, and the body its inner service
/// takes (with what the handler reads of it recorded for the request's
/// events).
pub trait HttpRequestParts {
    /// The request body the inner service gets for a request body `B`.
    type Body<B: 'static>;

    /// The request as the inner service gets it: its body wrapped in
    /// [`RequestBody`](super::RequestBody) when `engine` records bodies (or
    /// left as it is when the framework needs its own body type).
    fn prepare<B: 'static>(engine: &Engine, request: Request<B>) -> Request<Self::Body<B>>;

    /// The URI the client sent (default: the request's own).
    fn original_uri<B>(request: &Request<B>) -> &Uri {
        request.uri()
    }

    /// The route template matched so far, if any (default: none; the route
    /// may still be learned later through a [`RouteLearner`]).
    fn route<B>(request: &Request<B>) -> Option<&str> {
        let _ = request;
        None
    }
}

/// The lookout middleware around an `http` service `S`, for the framework
/// whose request parts `P` reads (an adapter names it `Lookout<S>`).
///
/// Each request: [`begin`](crate::Engine::begin) (request id, trace
/// continuation, sampling, the route template when `P` knows it), the inner
/// service runs with the request's context bound on every poll, then
/// [`finish`](crate::InFlight::finish) classifies the response (with the
/// typed error a [`ReportedError`](super::ReportedError) left on it, or the
/// panic) and adds `x-request-id`; the transaction ends with the response
/// body ([`ResponseBody`]).
pub struct HttpService<S, P> {
    inner: S,
    options: MiddlewareOptions,
    parts: PhantomData<fn() -> P>,
}

impl<S, P> HttpService<S, P> {
    /// `inner` behind the middleware configured by `options`.
    pub fn new(inner: S, options: MiddlewareOptions) -> Self {
        Self {
            inner,
            options,
            parts: PhantomData,
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

impl<S: Clone, P> Clone for HttpService<S, P> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.options.clone())
    }
}

impl<S: fmt::Debug, P> fmt::Debug for HttpService<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lookout")
            .field("inner", &self.inner)
            .field("options", &self.options)
            .finish()
    }
}

impl<S, P, ReqBody, ResBody> Service<Request<ReqBody>> for HttpService<S, P>
where
    P: HttpRequestParts,
    S: Service<Request<P::Body<ReqBody>>, Response = Response<ResBody>>,
    ReqBody: 'static,
    ResBody: http_body::Body,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = Instrumented<S::Future, HttpResponder<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let inner = &mut self.inner;
        let engine = self.options.engine();
        let req = P::prepare(engine, req);
        instrument_http::<P, _, _, _, _>(engine, self.options.catches_panics(), req, |req| {
            inner.call(req)
        })
    }
}

/// Instruments one request of an `http` service: begins it (or passes it
/// through when an outer lookout middleware instruments it already), puts
/// the [`RouteLearner`] in its extensions when the route is not known yet,
/// and runs `call` (the inner service's `call`) inside it.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use lookout_core::Engine;
/// use lookout_core::toolkit::{self, HttpRequestParts};
///
/// struct Plain;
/// impl HttpRequestParts for Plain {
///     type Body<B: 'static> = B;
///     fn prepare<B: 'static>(_: &Engine, request: Request<B>) -> Request<B> {
///         request
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let engine = Engine::builder().build();
/// let response = toolkit::instrument_http::<Plain, _, _, _, _>(&engine, true, Request::new(()), |_req| async {
///     Ok::<_, Infallible>(Response::new(String::from("hi")))
/// })
/// .await
/// .unwrap();
/// assert!(response.headers().contains_key("x-request-id"));
/// # });
/// ```
pub fn instrument_http<P, B, F, ResB, E>(
    engine: &Engine,
    catch_panics: bool,
    mut request: Request<B>,
    call: impl FnOnce(Request<B>) -> F,
) -> Instrumented<F, HttpResponder<ResB>>
where
    P: HttpRequestParts,
    F: Future<Output = Result<Response<ResB>, E>>,
{
    let in_flight = {
        let uri = P::original_uri(&request);
        let mut head = RequestHead::new(request.method().as_str(), uri.path(), request.headers());
        if let Some(route) = P::route(&request) {
            head = head.with_route(route);
        }
        if let Some(query) = uri.query() {
            head = head.with_query(query);
        }
        begin(engine, &head, request.extensions().get::<RouteLearner>())
    };
    let Some(in_flight) = in_flight else {
        return Instrumented::passthrough(call(request), HttpResponder::new());
    };
    if let Some(learner) = in_flight.route_learner() {
        request.extensions_mut().insert(learner);
    }
    Instrumented::call(in_flight, HttpResponder::new(), catch_panics, || {
        call(request)
    })
}
