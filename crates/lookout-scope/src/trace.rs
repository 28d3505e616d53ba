//! The trace a request belongs to: ids, parent, and the sampling decision with its inputs.
//!
//! This module only carries the values core decided; parsing incoming headers
//! and deciding the sampling belong to lookout-headers and lookout-policy.

use lookout_headers::{SpanId, TraceId};

/// The trace context of one request: which trace it belongs to, the span id
/// that represents this request in it, its parent span, and the sampling
/// decision with the rate and `sample_rand` it was taken with.
///
/// Events captured inside the request carry `trace_id`, `span_id` and
/// `parent_span_id` in their `trace` context, so Sentry links them to the
/// trace even when no transaction is recorded.
///
/// ```
/// use lookout_headers::{SpanId, TraceId};
/// use lookout_scope::RequestTrace;
///
/// let trace_id: TraceId = "771a43a4192642f0b136d5159a501700".parse()?;
/// let parent: SpanId = "a8c2d5f4e3b21907".parse()?;
/// let trace = RequestTrace::new(trace_id, SpanId::random(), true)
///     .with_parent(Some(parent))
///     .with_sampling(0.25, 0.118_092);
/// assert_eq!(trace.trace_id, trace_id);
/// assert_eq!(trace.parent_span_id, Some(parent));
/// assert!(trace.sampled);
/// assert_eq!(trace.sample_rate, 0.25);
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RequestTrace {
    /// The trace this request continues or starts.
    pub trace_id: TraceId,
    /// The span id of this request within the trace (what outgoing
    /// `sentry-trace` headers and captured events name as the current span).
    pub span_id: SpanId,
    /// The caller's span, when the trace was continued from one.
    pub parent_span_id: Option<SpanId>,
    /// The sampling decision taken for this request's trace.
    pub sampled: bool,
    /// The sample rate the decision was taken with (default: 1 when sampled,
    /// 0 when not).
    pub sample_rate: f64,
    /// The trace's `sample_rand`, in [0, 1) (default: 0).
    pub sample_rand: f64,
    /// W3C Trace Context level 2 "random trace id" flag, propagated as received.
    pub w3c_random: bool,
}

impl RequestTrace {
    /// A trace context from its ids and decision, with no parent span.
    #[must_use]
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
        Self {
            trace_id,
            span_id,
            parent_span_id: None,
            sampled,
            sample_rate: if sampled { 1.0 } else { 0.0 },
            sample_rand: 0.0,
            w3c_random: false,
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
    /// assert_eq!(a.parent_span_id, None);
    /// ```
    #[must_use]
    pub fn new_root() -> Self {
        Self::new(TraceId::random(), SpanId::random(), false)
    }

    /// Sets the caller's span.
    ///
    /// ```
    /// use lookout_headers::SpanId;
    /// use lookout_scope::RequestTrace;
    ///
    /// let parent = SpanId::random();
    /// let trace = RequestTrace::new_root().with_parent(Some(parent));
    /// assert_eq!(trace.parent_span_id, Some(parent));
    /// ```
    #[must_use]
    pub const fn with_parent(mut self, parent_span_id: Option<SpanId>) -> Self {
        self.parent_span_id = parent_span_id;
        self
    }

    /// Sets the sample rate and `sample_rand` the decision was taken with.
    ///
    /// ```
    /// use lookout_scope::RequestTrace;
    ///
    /// let trace = RequestTrace::new_root().with_sampling(0.5, 0.75);
    /// assert_eq!((trace.sample_rate, trace.sample_rand), (0.5, 0.75));
    /// ```
    #[must_use]
    pub const fn with_sampling(mut self, sample_rate: f64, sample_rand: f64) -> Self {
        self.sample_rate = sample_rate;
        self.sample_rand = sample_rand;
        self
    }

    /// Sets the W3C level 2 random-trace-id flag.
    ///
    /// ```
    /// use lookout_scope::RequestTrace;
    ///
    /// assert!(RequestTrace::new_root().with_w3c_random(true).w3c_random);
    /// ```
    #[must_use]
    pub const fn with_w3c_random(mut self, w3c_random: bool) -> Self {
        self.w3c_random = w3c_random;
        self
    }

    /// The `trace` context Sentry expects on an event.
    pub(crate) fn to_sentry_context(self) -> sentry_core::protocol::TraceContext {
        sentry_core::protocol::TraceContext {
            trace_id: self.trace_id.into(),
            span_id: self.span_id.into(),
            parent_span_id: self.parent_span_id.map(Into::into),
            ..Default::default()
        }
    }
}
