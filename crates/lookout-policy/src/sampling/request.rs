//! [`SamplingRequest`]: what a sampling decision is about.

use lookout_headers::TraceId;

/// What a sampling decision is about: the trace, the request and what the
/// caller said.
///
/// ```
/// use lookout_headers::TraceId;
/// use lookout_policy::SamplingRequest;
///
/// let trace = TraceId::random();
/// let request = SamplingRequest::new(trace, "GET")
///     .route("/users/{id}")
///     .parent(Some(true), Some(0.5))
///     .incoming_sample_rand(Some(0.25));
/// assert_eq!(request.route, Some("/users/{id}"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SamplingRequest<'a> {
    /// The trace (continued or new).
    pub trace_id: TraceId,
    /// The HTTP method.
    pub method: &'a str,
    /// The route template (or path when no template is known).
    pub route: Option<&'a str>,
    /// The caller's decision (`-1`/`-0` in `sentry-trace`), if any.
    pub parent_sampled: Option<bool>,
    /// The caller's `sentry-sample_rate`, if any.
    pub parent_sample_rate: Option<f64>,
    /// The caller's `sentry-sample_rand`, if any.
    pub incoming_sample_rand: Option<f64>,
}

impl<'a> SamplingRequest<'a> {
    /// A request for a new trace with no parent.
    #[must_use]
    pub const fn new(trace_id: TraceId, method: &'a str) -> Self {
        Self {
            trace_id,
            method,
            route: None,
            parent_sampled: None,
            parent_sample_rate: None,
            incoming_sample_rand: None,
        }
    }

    /// Sets the route template (or path).
    #[must_use]
    pub const fn route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// Sets the caller's decision and sample rate.
    #[must_use]
    pub const fn parent(mut self, sampled: Option<bool>, sample_rate: Option<f64>) -> Self {
        self.parent_sampled = sampled;
        self.parent_sample_rate = sample_rate;
        self
    }

    /// Sets the caller's `sample_rand`.
    #[must_use]
    pub const fn incoming_sample_rand(mut self, sample_rand: Option<f64>) -> Self {
        self.incoming_sample_rand = sample_rand;
        self
    }
}
