//! [`Sampling`]: the policy (traces rate, ignored routes, user sampler) and
//! the order in which it decides.

use std::fmt;
use std::sync::Arc;

use super::decision::{DecisionReason, SamplingDecision};
use super::request::SamplingRequest;
use super::sample_rand::SampleRand;
use super::sampler::{SamplerContext, TracesSampler};

/// The sampling policy: a traces rate, ignored routes and an optional user
/// sampler.
///
/// ```
/// use lookout_headers::TraceId;
/// use lookout_policy::{DecisionReason, Sampling, SamplingRequest};
///
/// let sampling = Sampling::new(0.0).ignored_routes(["/health"]);
/// let trace = TraceId::random();
///
/// // A caller's decision is inherited, even on an ignored route.
/// let d = sampling.decide(&SamplingRequest::new(trace, "GET").route("/health").parent(Some(true), Some(1.0)));
/// assert!(d.sampled);
/// assert_eq!(d.reason, DecisionReason::Parent);
///
/// // A user sampler may override.
/// let sampling = sampling.sampler(|ctx| (ctx.route == Some("/checkout")).then_some(1.0));
/// let d = sampling.decide(&SamplingRequest::new(trace, "POST").route("/checkout"));
/// assert!(d.sampled);
/// assert_eq!(d.sample_rate, 1.0);
/// ```
#[derive(Clone)]
pub struct Sampling {
    traces_sample_rate: f64,
    ignored_routes: Arc<[String]>,
    sampler: Option<Arc<TracesSampler>>,
}

impl fmt::Debug for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sampling")
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("ignored_routes", &self.ignored_routes)
            .field("sampler", &self.sampler.as_ref().map(|_| "<closure>"))
            .finish()
    }
}

impl Sampling {
    /// A policy sampling new traces at `traces_sample_rate` (clamped to
    /// 0..=1; NaN counts as 0), with no ignored routes and no user sampler.
    #[must_use]
    pub fn new(traces_sample_rate: f64) -> Self {
        Self {
            traces_sample_rate: clamp_rate(traces_sample_rate).unwrap_or(0.0),
            ignored_routes: Arc::from(Vec::new()),
            sampler: None,
        }
    }

    /// Sets the routes never sampled unless a caller's trace was.
    #[must_use]
    pub fn ignored_routes<I, S>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored_routes = routes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets a user sampler (see [`TracesSampler`]).
    #[must_use]
    pub fn sampler<F>(mut self, sampler: F) -> Self
    where
        F: Fn(&SamplerContext<'_>) -> Option<f64> + Send + Sync + 'static,
    {
        self.sampler = Some(Arc::new(sampler));
        self
    }

    /// Sets (or clears) a shared user sampler.
    #[must_use]
    pub fn sampler_arc(mut self, sampler: Option<Arc<TracesSampler>>) -> Self {
        self.sampler = sampler;
        self
    }

    /// The configured traces sample rate.
    #[must_use]
    pub fn traces_sample_rate(&self) -> f64 {
        self.traces_sample_rate
    }

    /// Whether `route` is an ignored route (exact match, a trailing `/` ignored).
    #[must_use]
    pub fn is_ignored_route(&self, route: &str) -> bool {
        let trimmed = |s: &str| -> usize {
            if s.len() > 1 {
                s.trim_end_matches('/').len().max(1)
            } else {
                s.len()
            }
        };
        let route = &route[..trimmed(route)];
        self.ignored_routes
            .iter()
            .any(|ignored| &ignored[..trimmed(ignored)] == route)
    }

    /// Whether a decision for a request on `path` could come out otherwise
    /// with its route template than with the path itself: a user sampler
    /// sees the route, an ignored route may be a template (`{`, `*`, `:`),
    /// or `path` is ignored (its template may not be). When false, an
    /// adapter that learns the template only after routing may decide with
    /// the path: no template can change the decision.
    ///
    /// ```
    /// use lookout_policy::Sampling;
    ///
    /// let sampling = Sampling::new(0.1).ignored_routes(["/health"]);
    /// assert!(!sampling.may_depend_on_route("/users/7"));
    /// assert!(sampling.may_depend_on_route("/health"));
    /// let sampling = Sampling::new(0.1).ignored_routes(["/internal/{name}"]);
    /// assert!(sampling.may_depend_on_route("/users/7"));
    /// ```
    #[must_use]
    pub fn may_depend_on_route(&self, path: &str) -> bool {
        self.sampler.is_some()
            || self.is_ignored_route(path)
            || self
                .ignored_routes
                .iter()
                .any(|ignored| ignored.contains(['{', '*', ':']))
    }

    /// Decides whether the request's trace is sampled.
    ///
    /// Order: the user sampler (if it returns a rate); the caller's decision;
    /// an ignored route (not sampled); `sample_rand < traces_sample_rate`.
    #[must_use]
    pub fn decide(&self, request: &SamplingRequest<'_>) -> SamplingDecision {
        let sample_rand = SampleRand::resolve(
            request.incoming_sample_rand,
            request.trace_id,
            request.parent_sample_rate,
            request.parent_sampled,
        );
        let ignored_route = request.route.is_some_and(|r| self.is_ignored_route(r));
        if let Some(sampler) = &self.sampler {
            let ctx = SamplerContext {
                trace_id: request.trace_id,
                method: request.method,
                route: request.route,
                parent_sampled: request.parent_sampled,
                parent_sample_rate: request.parent_sample_rate,
                sample_rand,
                ignored_route,
                traces_sample_rate: self.traces_sample_rate,
            };
            if let Some(rate) = sampler(&ctx).and_then(clamp_rate) {
                return SamplingDecision {
                    sampled: sample_rand.is_below(rate),
                    sample_rate: rate,
                    sample_rand,
                    reason: DecisionReason::Sampler,
                };
            }
        }
        if let Some(sampled) = request.parent_sampled {
            let fallback = if sampled { 1.0 } else { 0.0 };
            return SamplingDecision {
                sampled,
                sample_rate: request
                    .parent_sample_rate
                    .and_then(clamp_rate)
                    .unwrap_or(fallback),
                sample_rand,
                reason: DecisionReason::Parent,
            };
        }
        if ignored_route {
            return SamplingDecision {
                sampled: false,
                sample_rate: 0.0,
                sample_rand,
                reason: DecisionReason::IgnoredRoute,
            };
        }
        SamplingDecision {
            sampled: sample_rand.is_below(self.traces_sample_rate),
            sample_rate: self.traces_sample_rate,
            sample_rand,
            reason: DecisionReason::Rate,
        }
    }
}

fn clamp_rate(rate: f64) -> Option<f64> {
    (!rate.is_nan()).then(|| rate.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::TraceId;

    fn trace(n: u128) -> TraceId {
        TraceId::from_bytes(n.to_be_bytes())
    }

    #[test]
    fn ignored_routes_match_with_or_without_trailing_slash() {
        let s = Sampling::new(1.0).ignored_routes(["/health", "/metrics/"]);
        assert!(s.is_ignored_route("/health"));
        assert!(s.is_ignored_route("/health/"));
        assert!(s.is_ignored_route("/metrics"));
        assert!(!s.is_ignored_route("/healthy"));
        assert!(!s.is_ignored_route("/"));
    }

    /// A decision with the path stands for one with the template only when
    /// neither a sampler nor an ignored route could tell them apart.
    #[test]
    fn route_dependence() {
        let plain = Sampling::new(0.5).ignored_routes(["/health", "/metrics/"]);
        assert!(!plain.may_depend_on_route("/users/7"));
        assert!(plain.may_depend_on_route("/metrics"), "an ignored path");
        assert!(!Sampling::new(0.5).may_depend_on_route("/health"));
        for templated in ["/jobs/{id}", "/files/{*rest}", "/old/:id"] {
            let s = Sampling::new(0.5).ignored_routes([templated]);
            assert!(s.may_depend_on_route("/users/7"), "{templated}");
        }
        let sampler = Sampling::new(0.5).sampler(|_| None);
        assert!(sampler.may_depend_on_route("/users/7"));
    }

    #[test]
    fn decision_order() {
        let t = trace(99);
        let s = Sampling::new(1.0).ignored_routes(["/health"]);
        let new = |route| SamplingRequest::new(t, "GET").route(route);
        let d = s.decide(&new("/users"));
        assert_eq!(
            (d.sampled, d.reason, d.sample_rate),
            (true, DecisionReason::Rate, 1.0)
        );
        let d = s.decide(&new("/health"));
        assert_eq!((d.sampled, d.reason), (false, DecisionReason::IgnoredRoute));
        let d = s.decide(&new("/health").parent(Some(true), None));
        assert_eq!(
            (d.sampled, d.reason, d.sample_rate),
            (true, DecisionReason::Parent, 1.0)
        );
        let d = s.decide(&new("/users").parent(Some(false), Some(0.3)));
        assert_eq!(
            (d.sampled, d.reason, d.sample_rate),
            (false, DecisionReason::Parent, 0.3)
        );
        let s = s.sampler(|ctx| {
            assert_eq!(ctx.parent_sampled, Some(false));
            assert_eq!(ctx.parent_sample_rate, Some(0.3));
            assert_eq!(ctx.method, "GET");
            Some(1.0)
        });
        let d = s.decide(&new("/users").parent(Some(false), Some(0.3)));
        assert_eq!(
            (d.sampled, d.reason, d.sample_rate),
            (true, DecisionReason::Sampler, 1.0)
        );
    }

    #[test]
    fn sampler_returning_none_or_nan_keeps_the_default() {
        let t = trace(3);
        let s = Sampling::new(0.0).sampler(|_| Some(f64::NAN));
        let d = s.decide(&SamplingRequest::new(t, "GET"));
        assert_eq!((d.sampled, d.reason), (false, DecisionReason::Rate));
    }
}
