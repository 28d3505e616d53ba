//! lookout-headers: parsing and writing of every trace propagation header
//! (`sentry-trace`, `baggage`, `traceparent`, `tracestate`) and request ids.
//!
//! (Crate docs are being written; see the workspace issue.)

mod error;
mod ids;

pub use error::IdError;
pub use ids::{SpanId, TraceId};
