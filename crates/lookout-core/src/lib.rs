//! lookout-core is the framework-agnostic request lifecycle every lookout
//! adapter shares. An adapter calls [`Engine::begin`] with a borrowed view of
//! the request and [`InFlight::finish`] with the response; everything else
//! (trace continuation, sampling, the frozen Dynamic Sampling Context,
//! transactions, error classification, request ids, outgoing propagation and
//! delivery) happens here, once.
//!
//! # Example
//!
//! One request through the lifecycle, as an adapter drives it, with the
//! `testing` capture (feature `test`) standing in for Sentry:
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use lookout_core::testing::TestLookout;
//! use lookout_core::{OutgoingCall, RequestHead, ResponseHead};
//! use lookout_scope::User;
//!
//! let test = TestLookout::new();
//! let mut headers = HeaderMap::new();
//! headers.insert("sentry-trace", "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1".parse()?);
//! headers.insert("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1".parse()?);
//!
//! // 1. The request arrives: continue the caller's trace.
//! let in_flight = test.engine().begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
//! let ctx = in_flight.context().clone();
//!
//! // 2. The handler runs with the context bound (adapters use `ctx.bind(future)`).
//! ctx.enter(|| {
//!     lookout_scope::identify(User::id("7").role("admin")).unwrap();
//!     // An outgoing call carries the trace on.
//!     let call = OutgoingCall::start("GET", "http://inventory.internal/", None).unwrap();
//!     assert!(call.headers().unwrap().sentry_trace.starts_with("771a43a4192642f0b136d5159a501700-"));
//!     call.finish(StatusCode::OK);
//! });
//!
//! // 3. The handler answered 500: classified, captured, headers to add.
//! let finished = in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR));
//! assert!(finished.event_id.is_some());
//! // 4. The body has been sent: the transaction ends.
//! finished.body.complete();
//!
//! let event = &test.events()[0];
//! assert_eq!(event.tags["user_role"], "admin");
//! assert_eq!(event.tags["http.route"], "/users/{id}");
//! assert_eq!(test.transactions()[0].name.as_deref(), Some("GET /users/{id}"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What lives where
//!
//! - [`continuation`]: which trace a request belongs to (`sentry-trace` +
//!   `baggage`, else `traceparent` + `tracestate`; org check; frozen DSC).
//! - [`Engine`] / [`InFlight`]: the lifecycle; [`BodyEnd`] ends the
//!   transaction when the body has been sent.
//! - [`toolkit`]: what every framework adapter needs and no framework owns
//!   (the instrumented future, the response body, route learning, the
//!   typed-error carrier, response headers, the engine handle,
//!   [`CurrentRequest`](toolkit::CurrentRequest)).
//! - [`events`]: request data applied to every event at capture time.
//! - [`request_body`]: what the handler read of a request's body, on its events.
//! - [`OutgoingCall`] / [`inject_headers`]: a span per call to another service, and the headers that carry the trace.
//! - [`delivery`]: console lines, the Spotlight copy, the bounded send queue.
//! - `testing` (feature `test`): capture what would be sent, for your own tests.
//!
//! The cost model: without a client a request costs at most two heap
//! allocations (its context, which holds the request id); with a client, an
//! unsampled request that captures nothing at most four (adding the
//! request's own Hub); a sampled one at most 50, most of them
//! sentry-core's transaction. The budgets are asserted in
//! `tests/allocations.rs`.
//!
//! # Feature flags
//!
//! - `test`: the `testing` module (`TestLookout`, `Capture`).
//! - `anyhow`: `AnyhowError`, an `anyhow::Error` reported with the
//!   backtrace it captured as its event's frames.
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89).

#[cfg(feature = "anyhow")]
mod anyhow_error;
pub mod continuation;
mod dsc;
mod engine;
mod engine_builder;
pub mod events;
pub mod head;
mod in_app;
pub mod job;
mod lifecycle;
pub mod log_capture;
mod logs;
mod metrics;
pub mod monitor;
mod propagation;
pub mod request_body;
mod sessions;
mod stacktrace;
pub mod status;
#[cfg(feature = "test")]
pub mod testing;
pub mod toolkit;
mod transaction_filter;

#[cfg(feature = "anyhow")]
pub use anyhow_error::AnyhowError;
pub use continuation::{Continuation, OrgCheck, Rejection, TraceOrigin};
pub use engine::Engine;
pub use engine_builder::EngineBuilder;
pub use head::{Headers, RequestHead, ResponseHead};
pub use lifecycle::{BodyEnd, Finished, HeaderMerge, InFlight, ResponseHeaders, TypedError};
/// Delivery (queue, HTTP transport, console, Spotlight, compression, stats):
/// the `lookout-delivery` crate, under its former path.
pub use lookout_delivery as delivery;
pub use lookout_delivery::collecting_console;
pub use propagation::{MANUAL_ORIGIN, OutgoingCall, OutgoingHeaders, inject_headers};
pub use status::{STATUS_PATH, Status};

// What adapters and handlers meet from the building blocks, so that an
// adapter depends on lookout-core and its framework only.
pub use lookout_classify::{error_types, tags};
pub use lookout_scope::{RequestContext, RequestTrace, User};
