//! [`wrap`]: lookout in front of a filter, as a filter `warp::serve` accepts.
//!
//! warp runs a filter chain inside the poll of its own service future and
//! offers no hook around the polls of an inner filter, so a filter built
//! from warp's combinators could not bind the request's context on every
//! poll. `wrap` therefore runs the wrapped filter as a service of its own
//! (the same [`Lookout`](crate::Lookout) service [`serve`](crate::serve())
//! uses) on a task of its own, with the request rebuilt from the outer one.
//! That costs a task and a few allocations per request, and what warp keeps
//! private does not cross over: request extensions (so no websocket
//! upgrades inside) and warp's remote address (use
//! [`remote_addr`](crate::remote_addr()) instead of `warp::addr::remote()`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::{Stream, TryStreamExt};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body::{Body, Frame};
use http_body_util::{BodyDataStream, StreamBody};
use lookout_core::toolkit::{self, ResponseBody};
use tower_layer::Layer;
use tower_service::Service;
use warp::filters::path::FullPath;
use warp::{Filter, Rejection, Reply};

use crate::remote_addr::PeerAddr;
use crate::{FilterError, LookoutLayer};

/// `filter` instrumented with the process-wide engine, as a filter
/// `warp::serve` accepts: `warp::serve(lookout_warp::wrap(routes))`, or
/// `routes.with(warp::wrap_fn(lookout_warp::wrap))`. Wrap the whole app: the
/// wrapped filter's rejections are answered inside (as `warp::serve` would
/// answer them), so a filter `.or`-ed after it is never reached.
///
/// Prefer [`serve`](crate::serve()) where you can; see the [crate
/// docs](crate) for what `wrap` costs and cannot carry across.
///
/// ```
/// use warp::Filter;
///
/// let routes = warp::path!("hello")
///     .and(lookout_warp::route("/hello"))
///     .map(|| "hello");
/// let server = warp::serve(lookout_warp::wrap(routes));
/// # let _ = server;
/// ```
pub fn wrap<F, R>(
    filter: F,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static
where
    F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
    F::Error: FilterError,
    R: Reply,
{
    crate::layer().wrap(filter)
}

impl LookoutLayer {
    /// `filter` instrumented, as a filter `warp::serve` accepts (see
    /// [`wrap`](crate::wrap())).
    ///
    /// ```
    /// use warp::Filter;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let app = lookout_warp::LookoutLayer::new(engine).wrap(warp::any().map(|| "ok"));
    /// let server = warp::serve(app);
    /// # let _ = server;
    /// ```
    pub fn wrap<F, R>(
        &self,
        filter: F,
    ) -> impl Filter<Extract = (impl Reply + use<F, R>,), Error = Rejection>
    + Clone
    + Send
    + Sync
    + 'static
    + use<F, R>
    where
        F: Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
        F::Error: FilterError,
        R: Reply,
    {
        let service = self.layer(warp::service(F::Error::rejecting(filter)));
        let query = warp::query::raw()
            .map(Some)
            .or(warp::any().map(|| None))
            .unify();
        warp::method()
            .and(warp::path::full())
            .and(query)
            .and(warp::header::headers_cloned())
            .and(warp::addr::remote())
            .and(warp::body::stream())
            .and_then(
                move |method: Method,
                      path: FullPath,
                      query: Option<String>,
                      headers: HeaderMap,
                      remote: Option<SocketAddr>,
                      body| {
                    let mut service = service.clone();
                    let request = rebuild(method, &path, query, headers, remote, body);
                    // `warp::service` never applies backpressure (always ready), so
                    // `call` needs no `poll_ready` first. Called on the new task:
                    // warp refuses to start a filter chain inside another one's poll.
                    Spawned(tokio::spawn(async move { service.call(request).await }))
                },
            )
    }
}

/// The request the wrapped filter sees: the outer one's method, path, query,
/// headers and body (streamed through), and its remote address for
/// [`remote_addr`](crate::remote_addr()).
fn rebuild<S, D>(
    method: Method,
    path: &FullPath,
    query: Option<String>,
    headers: HeaderMap,
    remote: Option<SocketAddr>,
    body: S,
) -> Request<impl Body<Data = Bytes, Error = warp::Error> + Send + Sync + 'static>
where
    S: Stream<Item = Result<D, warp::Error>> + Send + Sync + 'static,
    D: Buf,
{
    let uri = match query {
        Some(query) => format!("{}?{query}", path.as_str()),
        None => path.as_str().to_owned(),
    };
    let body =
        StreamBody::new(body.map_ok(|mut data| Frame::data(data.copy_to_bytes(data.remaining()))));
    let mut request = Request::new(body);
    *request.method_mut() = method;
    // warp parsed it as a URI already; it parses again.
    *request.uri_mut() = Uri::try_from(uri).unwrap_or_default();
    *request.headers_mut() = headers;
    if let Some(addr) = remote {
        request.extensions_mut().insert(PeerAddr(addr));
    }
    request
}

/// The wrapped filter's task; aborted when the outer request is dropped, so
/// the request ends as cancelled then.
struct Spawned<B>(tokio::task::JoinHandle<Result<Response<ResponseBody<B>>, Infallible>>);

impl<B> Drop for Spawned<B> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<B> Future for Spawned<B>
where
    B: Body<Data = Bytes, Error = warp::Error> + Send + Sync + 'static,
{
    type Output = Result<warp::reply::Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match std::task::ready!(Pin::new(&mut self.0).poll(cx)) {
            // warp's response type takes other bodies only as a stream, which
            // has no length: the length the body knew is kept, as hyper would
            // have written it (a `HEAD` answer sends no body to count).
            Ok(Ok(response)) => {
                let (mut parts, body) = response.into_parts();
                let exact = body.size_hint().exact();
                toolkit::keep_content_length(parts.status, &mut parts.headers, exact);
                let body = warp::reply::stream(BodyDataStream::new(body)).into_response();
                Response::from_parts(parts, body.into_body())
            }
            Ok(Err(never)) => match never {},
            // `catch_panics(false)`: the panic goes on as it would without lookout.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime is shutting down.
            Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        };
        Poll::Ready(Ok(response))
    }
}
