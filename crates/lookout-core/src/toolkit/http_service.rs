//! [`instrument_http`]: the `call` of a middleware over `http::Request` /
//! `http::Response` services (tower, hyper, warp), written once.

use std::future::Future;

use http::{Request, Response, Uri};

use super::{HttpResponder, Instrumented, RouteLearner, begin};
use crate::{Engine, RequestHead};

/// What a framework knows of an `http::Request` beyond its method, URI and
/// headers: the URI the client sent (before any nesting rewrote it) and the
/// route template, when routing already ran.
pub trait HttpRequestParts {
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
/// impl HttpRequestParts for Plain {}
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
