//! The trace a request belongs to: trace id, this request's span id, sampling decision.
//!
//! This module only carries the values core decided; parsing incoming headers
//! and deciding the sampling belong to lookout-headers and lookout-policy.

use lookout_headers::{SpanId, TraceId};

/// The trace context of one request: which trace it belongs to, the span id
/// that represents this request in it, and whether the trace is sampled.
///
/// Events captured inside the request carry `trace_id` and `span_id` in their
/// `trace` context, so Sentry links them to the trace even when no
/// transaction is recorded.
///
/// ```
/// use lookout_headers::{SpanId, TraceId};
/// use lookout_scope::RequestTrace;
///
/// let trace_id: TraceId = "771a43a4192642f0b136d5159a501700".parse()?;
/// let trace = RequestTrace::new(trace_id, SpanId::random(), true);
/// assert_eq!(trace.trace_id, trace_id);
/// assert!(trace.sampled);
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestTrace {
    /// The trace this request continues or starts.
    pub trace_id: TraceId,
    /// The span id of this request within the trace (what outgoing
    /// `sentry-trace` headers and captured events name as the current span).
    pub span_id: SpanId,
    /// The sampling decision taken for this request's trace.
    pub sampled: bool,
}

impl RequestTrace {
    /// A trace context from its parts.
    #[must_use]
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
        Self {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// A new, unsampled trace with random ids: what a request gets when
    /// nobody decided otherwise.
    ///
    /// ```
    /// use lookout_scope::RequestTrace;
    ///
    /// let a = RequestTrace::new_root();
    /// let b = RequestTrace::new_root();
    /// assert_ne!(a.trace_id, b.trace_id);
    /// assert!(!a.sampled);
    /// ```
    #[must_use]
    pub fn new_root() -> Self {
        Self::new(TraceId::random(), SpanId::random(), false)
    }

    /// The `trace` context Sentry expects on an event.
    pub(crate) fn to_sentry_context(self) -> sentry_core::protocol::TraceContext {
        sentry_core::protocol::TraceContext {
            trace_id: self.trace_id.into(),
            span_id: self.span_id.into(),
            ..Default::default()
        }
    }
}
