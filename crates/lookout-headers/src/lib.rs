//! Parsing and writing of every trace propagation header a Rust web service
//! meets: `sentry-trace`, `baggage` with Sentry's Dynamic Sampling Context,
//! W3C `traceparent`/`tracestate`, and `x-request-id`.
//! Parsers borrow from the header values, never allocate, never panic, and
//! accept exactly what the official Sentry SDKs and the W3C specifications
//! accept.
//!
//! # Example
//!
//! ```
//! use lookout_headers::{
//!     DscView, RequestId, SentryTrace, SpanId, TraceParent, write_baggage,
//! };
//!
//! // Incoming request headers (several values per name are allowed).
//! let sentry_trace = ["771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1"];
//! let baggage = [
//!     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.5",
//!     "sentry-sample_rand=0.250000,vendor=x",
//! ];
//!
//! let incoming = SentryTrace::from_values(sentry_trace)?.expect("header present");
//! assert_eq!(incoming.sampled, Some(true));
//! let dsc = DscView::from_baggage(baggage); // no allocation
//! assert_eq!(dsc.sample_rand(), Some(0.25));
//! let frozen = dsc.to_owned(); // the one copy, when the caller freezes it
//!
//! // Outgoing request: our span, the frozen DSC, never the caller's `vendor=x`.
//! let ours = SpanId::random();
//! let trace_id = incoming.trace_id.expect("continues a trace");
//! let out_trace = SentryTrace::new(trace_id, ours, Some(true)).to_string();
//! let out_baggage = write_baggage(["my-app=1"], &frozen);
//! assert_eq!(
//!     out_baggage,
//!     "my-app=1,sentry-trace_id=771a43a4192642f0b136d5159a501700,\
//!      sentry-sample_rate=0.5,sentry-sample_rand=0.250000"
//! );
//! let traceparent = TraceParent::new(trace_id, ours, true).to_string();
//! assert!(traceparent.starts_with("00-771a43a4192642f0b136d5159a501700-"));
//! assert_eq!(out_trace.len(), 32 + 1 + 16 + 2);
//!
//! // Request ids: keep a valid incoming one, otherwise generate.
//! let id = RequestId::from_header_or_generate(Some("abc-123"));
//! assert_eq!(id.as_str(), "abc-123");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What "invalid" means for the caller
//!
//! Every parser returns a typed error with a `kind()`. Following the Sentry
//! SDKs, an invalid `sentry-trace` or `traceparent` means "start a new trace"
//! (log at debug level), never "fail the request". Of several `sentry-trace`
//! values the first non-empty one decides ([`SentryTrace::from_values`]).
//! Baggage members that do not parse are skipped one by one; an invalid
//! `tracestate` member drops the whole `tracestate`.
//!
//! # Feature flags
//!
//! - `sentry` (off by default): conversions between lookout's [`TraceId`],
//!   [`SpanId`], [`DynamicSamplingContext`] and their `sentry-types`
//!   counterparts.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89 (the workspace
//! `rust-version`). Raising it is a minor-version change.

#![warn(missing_docs)]

pub mod baggage;
mod dsc;
mod error;
mod ids;
mod request_id;
mod sentry_trace;
mod trace_context;
mod traceparent;
mod tracestate;

pub use baggage::{
    BaggageMember, BaggageMembers, BaggageProperties, BaggageProperty, MAX_BYTES, MAX_MEMBERS,
    parse_baggage, write_baggage,
};
pub use dsc::{DscView, DynamicSamplingContext};
pub use error::{
    IdError, RequestIdError, RequestIdErrorKind, SentryTraceError, SentryTraceErrorKind,
    TraceParentError, TraceParentErrorKind, TraceStateError, TraceStateErrorKind,
};
pub use ids::{SpanId, TraceId};
pub use request_id::{MAX_REQUEST_ID_LEN, RequestId};
pub use sentry_trace::SentryTrace;
pub use trace_context::TraceContext;
pub use traceparent::TraceParent;
pub use tracestate::{MAX_TRACESTATE_MEMBERS, TraceState};
