//! Trace sampling: `sample_rand`, parent inheritance, ignored routes and a
//! user sampler.
//!
//! Owns the decision for a request's trace and the values it leaves for the
//! Dynamic Sampling Context (rate used, `sample_rand`). It takes plain values
//! (parent flag, parent rate, incoming `sample_rand`) rather than parsed
//! headers, so it does not depend on how headers are parsed.

use std::fmt;
use std::sync::Arc;

use lookout_headers::TraceId;

const SCALE: u32 = 1_000_000;

/// A trace's random value in [0, 1) with 6 decimals, kept exactly as
/// micro-units so that every service compares the same number.
///
/// ```
/// use lookout_policy::SampleRand;
///
/// let r = SampleRand::parse("0.123456").unwrap();
/// assert_eq!(r.micros(), 123_456);
/// assert_eq!(r.to_string(), "0.123456");
/// assert!(r.is_below(0.5));
/// assert!(SampleRand::parse("1.0").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleRand(u32);

impl SampleRand {
    /// The largest value, 0.999999.
    pub const MAX: Self = Self(SCALE - 1);

    /// From micro-units (`0..=999_999`).
    #[must_use]
    pub const fn from_micros(micros: u32) -> Option<Self> {
        if micros < SCALE {
            Some(Self(micros))
        } else {
            None
        }
    }

    /// The value in micro-units.
    #[must_use]
    pub const fn micros(self) -> u32 {
        self.0
    }

    /// The value as a float (`micros / 1_000_000`).
    #[must_use]
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / f64::from(SCALE)
    }

    /// From a float in [0, 1), truncated to 6 decimals; `None` outside the
    /// range or for NaN.
    #[must_use]
    pub fn from_f64(value: f64) -> Option<Self> {
        if !(0.0..1.0).contains(&value) {
            return None;
        }
        let scaled = value * f64::from(SCALE);
        let rounded = scaled.round();
        // 0.123456 * 1e6 may come out as 123455.99999999999: that is 123456.
        let micros = if (scaled - rounded).abs() < 1e-6 {
            rounded
        } else {
            scaled.floor()
        };
        // In range by the check above; `as` saturates, `min` keeps it below 1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let micros = micros as u32;
        Some(Self(micros.min(SCALE - 1)))
    }

    /// Parses the `sentry-sample_rand` text; `None` if it is not a number in [0, 1).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse::<f64>().ok().and_then(Self::from_f64)
    }

    /// Whether this trace is sampled at `rate`: `sample_rand < rate`.
    #[must_use]
    pub fn is_below(self, rate: f64) -> bool {
        self.as_f64() < rate
    }

    /// A value in [0, 1) derived from the trace id alone (a new trace).
    #[must_use]
    pub fn from_trace_id(trace_id: TraceId) -> Self {
        Self::in_range(trace_id, 0, SCALE)
    }

    /// Derives a value from the trace id when none came in: inside
    /// [0, rate) when the parent sampled, [rate, 1) when it did not, and
    /// [0, 1) when the rate or the flag is unknown (or the interval is empty).
    ///
    /// ```
    /// use lookout_headers::TraceId;
    /// use lookout_policy::SampleRand;
    ///
    /// let trace = TraceId::parse_hex("771a43a4192642f0b136d5159a501700").unwrap();
    /// assert!(SampleRand::derive(trace, Some(0.25), Some(true)).as_f64() < 0.25);
    /// assert!(SampleRand::derive(trace, Some(0.25), Some(false)).as_f64() >= 0.25);
    /// ```
    ///
    /// With a rate in (0.999999, 1) and an unsampled parent, [rate, 1) holds
    /// no 6-decimal value; the nearest one, 0.999999, is used (as the Python
    /// SDK's truncation gives). A contradictory parent (sampled at rate 0,
    /// unsampled at rate 1) gets a value in [0, 1).
    #[must_use]
    pub fn derive(trace_id: TraceId, sample_rate: Option<f64>, sampled: Option<bool>) -> Self {
        let (lo, hi) = match (sample_rate.and_then(micros_below), sampled) {
            (Some(below), Some(true)) if below > 0 => (0, below),
            (Some(below), Some(false)) if below < SCALE => (below, SCALE),
            (Some(_), Some(false)) if sample_rate.is_some_and(|rate| rate < 1.0) => {
                return Self::MAX;
            }
            _ => (0, SCALE),
        };
        Self::in_range(trace_id, lo, hi)
    }

    /// The trace's value: the incoming one when it is valid, otherwise
    /// [derived](Self::derive) from the trace id.
    #[must_use]
    pub fn resolve(
        incoming: Option<f64>,
        trace_id: TraceId,
        parent_sample_rate: Option<f64>,
        parent_sampled: Option<bool>,
    ) -> Self {
        incoming
            .and_then(Self::from_f64)
            .unwrap_or_else(|| Self::derive(trace_id, parent_sample_rate, parent_sampled))
    }

    fn in_range(trace_id: TraceId, lo: u32, hi: u32) -> Self {
        let id = trace_id.to_u128();
        // Fold and mix so that ids differing in any bit spread evenly.
        #[allow(clippy::cast_possible_truncation)]
        let folded = (id as u64) ^ ((id >> 64) as u64);
        let span = u64::from(hi - lo);
        #[allow(clippy::cast_possible_truncation)]
        let offset = (splitmix64(folded) % span) as u32;
        Self(lo + offset)
    }
}

impl fmt::Display for SampleRand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0.{:06}", self.0)
    }
}

/// How many micro-unit values `m` satisfy `m / 1e6 < rate`: the size of
/// the sampled interval, computed with the same comparison as the decision.
fn micros_below(rate: f64) -> Option<u32> {
    if rate.is_nan() {
        return None;
    }
    let below = |m: u32| f64::from(m) / f64::from(SCALE) < rate;
    let scaled = (rate.clamp(0.0, 1.0) * f64::from(SCALE)).ceil();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut count = (scaled as u32).min(SCALE);
    while count > 0 && !below(count - 1) {
        count -= 1;
    }
    while count < SCALE && below(count) {
        count += 1;
    }
    Some(count)
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

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

/// The outcome of [`Sampling::decide`], with what the DSC needs.
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

    fn trace(n: u128) -> TraceId {
        TraceId::from_bytes(n.to_be_bytes())
    }

    #[test]
    fn from_f64_keeps_six_decimals_exactly() {
        for (v, m) in [
            (0.0, 0),
            (0.123456, 123_456),
            (0.1234569, 123_456),
            (0.999999, 999_999),
            (0.9999999999, 999_999),
            (0.000001, 1),
        ] {
            assert_eq!(
                SampleRand::from_f64(v).map(SampleRand::micros),
                Some(m),
                "{v}"
            );
        }
        for bad in [1.0, -0.1, f64::NAN, f64::INFINITY] {
            assert_eq!(SampleRand::from_f64(bad), None, "{bad}");
        }
    }

    #[test]
    fn display_has_six_decimals() {
        assert_eq!(SampleRand::from_micros(5).unwrap().to_string(), "0.000005");
        assert_eq!(SampleRand::MAX.to_string(), "0.999999");
        assert_eq!(SampleRand::from_micros(SCALE), None);
    }

    #[test]
    fn micros_below_matches_the_comparison() {
        assert_eq!(micros_below(0.0), Some(0));
        assert_eq!(micros_below(1.0), Some(SCALE));
        assert_eq!(micros_below(0.01), Some(10_000));
        assert_eq!(micros_below(0.0000015), Some(2));
        assert_eq!(micros_below(f64::NAN), None);
    }

    #[test]
    fn empty_intervals_fall_back_to_the_whole_range() {
        let t = trace(42);
        assert_eq!(
            SampleRand::derive(t, Some(0.0), Some(true)),
            SampleRand::from_trace_id(t)
        );
        assert_eq!(
            SampleRand::derive(t, Some(1.0), Some(false)),
            SampleRand::from_trace_id(t)
        );
    }

    #[test]
    fn unsampled_just_below_one_gets_the_largest_value() {
        let t = trace(5);
        assert_eq!(
            SampleRand::derive(t, Some(0.9999996), Some(false)),
            SampleRand::MAX
        );
        assert_eq!(
            SampleRand::derive(t, Some(0.999999), Some(false)),
            SampleRand::MAX
        );
    }

    #[test]
    fn incoming_sample_rand_is_reused_and_invalid_one_is_derived() {
        let t = trace(7);
        assert_eq!(
            SampleRand::resolve(Some(0.5), t, None, None).micros(),
            500_000
        );
        assert_eq!(
            SampleRand::resolve(Some(1.5), t, None, None),
            SampleRand::from_trace_id(t)
        );
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
