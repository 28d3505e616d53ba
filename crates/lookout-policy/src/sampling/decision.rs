//! [`SamplingDecision`]: the outcome, with what the DSC needs, and why
//! ([`DecisionReason`]).

use super::sample_rand::SampleRand;

/// Why a trace was (not) sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecisionReason {
    /// The user sampler returned a rate.
    Sampler,
    /// The caller's decision was inherited.
    Parent,
    /// The route is ignored and no caller asked for sampling.
    IgnoredRoute,
    /// `sample_rand < traces_sample_rate`.
    Rate,
}

/// The outcome of [`Sampling::decide`](crate::Sampling::decide), with what the DSC needs.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SamplingDecision {
    /// Whether the trace is sampled.
    pub sampled: bool,
    /// The rate the decision used (for `sentry-sample_rate`).
    pub sample_rate: f64,
    /// The trace's `sample_rand` (for `sentry-sample_rand`).
    pub sample_rand: SampleRand,
    /// Why.
    pub reason: DecisionReason,
}
