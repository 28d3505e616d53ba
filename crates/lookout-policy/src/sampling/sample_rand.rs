//! [`SampleRand`]: a trace's random value, exact to six decimals, and how
//! it is derived when none came in.

use std::fmt;

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
}
