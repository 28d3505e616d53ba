//! The adapter toolkit: everything a framework adapter needs that no
//! framework owns, written once behind `http` 1.x and `http-body` 1 types.
//!
//! An adapter built on it only translates: its framework's middleware trait
//! calls [`begin`] and wraps the inner future in [`Instrumented`]; its
//! route-template lookup fills the [`RequestHead`](crate::RequestHead); its
//! extractor trait hands out [`CurrentRequest`] (resolved through
//! [`CurrentRequest::resolve`]); its error hook stores a [`ReportedError`].
//! Everything with a decision in it (pass-through when a request is already
//! instrumented, late route learning, panic catching, the span entered on
//! every poll, when the transaction ends, how lookout's headers merge with
//! the handler's) lives here.
//!
//! | piece | what it does |
//! |---|---|
//! | [`EngineHandle`] | the engine: given, or the global one resolved at the first request |
//! | [`MiddlewareOptions`] | a middleware's configuration: its engine, whether it catches panics (each adapter's `LookoutLayer` holds one) |
//! | [`begin`] | begins a request, or `None` when an outer lookout instruments it already |
//! | [`Instrumented`] + [`Respond`] | the handler's future: context bound and span entered on every poll, panics caught, `finish` called once |
//! | [`HttpResponder`] | [`Respond`] for `http::Response` results (tower, hyper, warp) |
//! | [`HttpService`] + [`HttpRequestParts`] | the whole tower middleware service over `http` requests (axum's and warp's `Lookout<S>`): request body recording, begin or pass through, route learner, instrumented future ([`instrument_http`]) |
//! | [`ResponseBody`] / [`BodyProgress`] / [`TrackedBody`] | end the transaction with the body (`http-body`, any chunk stream, another framework's body type) |
//! | [`RequestBody`] | records what the handler reads of the request's body (an `http-body` body or a chunk stream), for its events |
//! | [`RouteLearner`] | tells a middleware outside routing the route template learned inside |
//! | [`PendingRoute`] + [`PendingRouteFuture`] | a template learned after routing, looked up earlier only when something inside the request needs it |
//! | [`route_before_begin`] + [`begin_before_routing`] | the template before `begin` only when sampling depends on it |
//! | [`finish_after_routing`] | the template read from the framework's response at `finish`, only when still unknown |
//! | [`ReportedError`] | carries a handler's typed error to `finish` |
//! | [`apply_headers`] | merges lookout's response headers into an `http::HeaderMap` |
//! | [`keep_content_length`] | a body's known length as `content-length`, for an adapter that streams the body on |
//! | [`CurrentRequest`] + [`adapter_current_request!`](crate::adapter_current_request) | the request as handlers see it: ids, trace, `identify`; each adapter's newtype and its `NotInstrumented` |
//!
//! # Example: a complete tower-style adapter
//!
//! ```
//! use std::convert::Infallible;
//! use http::{HeaderMap, Request, Response, StatusCode};
//! use lookout_core::toolkit::{self, EngineHandle, HttpResponder, Instrumented};
//! use lookout_core::{Engine, RequestHead};
//!
//! fn handle(engine: &EngineHandle, req: Request<String>) -> impl Future<Output = Result<Response<toolkit::ResponseBody<String>>, Infallible>> {
//!     let handler = async { Ok::<_, Infallible>(Response::new(String::from("hi"))) };
//!     let head = RequestHead::new(req.method().as_str(), req.uri().path(), req.headers());
//!     match toolkit::begin(engine.get(), &head, None) {
//!         Some(in_flight) => Instrumented::call(in_flight, HttpResponder::new(), true, || handler),
//!         None => Instrumented::passthrough(handler, HttpResponder::new()),
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let engine = EngineHandle::given(Engine::builder().build(), "auto.http.example");
//! let response = handle(&engine, Request::new(String::new())).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! assert!(response.headers().contains_key("x-request-id"));
//! # });
//! ```

mod body;
mod current_request;
mod engine_handle;
mod headers;
mod http_responder;
mod http_service;
mod instrumented;
mod options;
mod report;
mod request_body;
pub(crate) mod route;

pub use body::{BodyProgress, ResponseBody, TrackedBody};
pub use current_request::CurrentRequest;
pub use engine_handle::EngineHandle;
pub use headers::{apply_headers, keep_content_length};
pub use http_responder::HttpResponder;
pub use http_service::{HttpRequestParts, HttpService, instrument_http};
pub use instrumented::{Instrumented, Respond, begin, finish_panicked};
pub use options::MiddlewareOptions;
pub use report::ReportedError;
pub use request_body::RequestBody;
pub use route::{
    PendingRoute, PendingRouteFuture, RouteLearner, begin_before_routing, finish_after_routing,
    route_before_begin,
};
