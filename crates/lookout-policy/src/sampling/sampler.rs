//! The user sampler: [`TracesSampler`] and what it sees, [`SamplerContext`].

use lookout_headers::TraceId;

use super::sample_rand::SampleRand;

/// What a user sampler sees.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SamplerContext<'a> {
    /// The trace.
    pub trace_id: TraceId,
    /// The HTTP method.
    pub method: &'a str,
    /// The route template (or path), if known.
    pub route: Option<&'a str>,
    /// The caller's decision, if any.
    pub parent_sampled: Option<bool>,
    /// The caller's sample rate, if any.
    pub parent_sample_rate: Option<f64>,
    /// The trace's `sample_rand` (incoming or derived).
    pub sample_rand: SampleRand,
    /// Whether the route is in `LOOKOUT_IGNORED_ROUTES`.
    pub ignored_route: bool,
    /// The configured traces sample rate.
    pub traces_sample_rate: f64,
}

/// A user's sampler: returns a sample rate to use for this trace (the
/// decision is then `sample_rand < rate`), or `None` to keep lookout's
/// default decision. Returning `Some(1.0)` or `Some(0.0)` forces the outcome.
pub type TracesSampler = dyn Fn(&SamplerContext<'_>) -> Option<f64> + Send + Sync;
