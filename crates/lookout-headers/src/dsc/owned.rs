//! [`DynamicSamplingContext`]: the owned DSC a request freezes, and the
//! `baggage` members it writes.

use std::fmt;

use super::field_value::FieldValue;
use super::keys::KEYS;
use crate::baggage::encode;
use crate::ids::TraceId;

/// The owned Dynamic Sampling Context of a trace.
///
/// Fields are public; build one with `Default` and assignments. It writes
/// itself as `baggage` members ([`to_baggage`](Self::to_baggage),
/// [`write_baggage`](crate::write_baggage)) and serializes (serde) to the
/// envelope `trace` header shape: bare keys, `sample_rate`, `sample_rand` and
/// `sampled` as strings, absent fields left out.
///
/// ```
/// use lookout_headers::{DynamicSamplingContext, TraceId};
///
/// let mut dsc = DynamicSamplingContext::default();
/// dsc.trace_id = Some("771a43a4192642f0b136d5159a501700".parse()?);
/// dsc.sample_rate = Some(0.5);
/// dsc.sample_rand = Some(0.123456);
/// dsc.transaction = Some("GET /users/{id}".into());
/// assert_eq!(
///     dsc.to_baggage(),
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.5,\
///      sentry-sample_rand=0.123456,sentry-transaction=GET%20%2Fusers%2F%7Bid%7D"
/// );
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct DynamicSamplingContext {
    /// `trace_id`.
    pub trace_id: Option<TraceId>,
    /// `public_key`: the DSN public key of the head of the trace.
    pub public_key: Option<String>,
    /// `sample_rate`, in [0, 1].
    pub sample_rate: Option<f64>,
    /// `sample_rand`, in [0, 1).
    pub sample_rand: Option<f64>,
    /// `sampled`.
    pub sampled: Option<bool>,
    /// `release`.
    pub release: Option<String>,
    /// `environment`.
    pub environment: Option<String>,
    /// `transaction`: only a route-derived name, never a raw URL.
    pub transaction: Option<String>,
    /// `org_id`.
    pub org_id: Option<String>,
    /// `replay_id`.
    pub replay_id: Option<String>,
}

impl DynamicSamplingContext {
    /// An empty DSC.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no field is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub(super) fn for_each_field(&self, mut f: impl FnMut(&'static str, FieldValue<'_>)) {
        if let Some(v) = self.trace_id {
            f(KEYS[0], FieldValue::Trace(v));
        }
        if let Some(v) = &self.public_key {
            f(KEYS[1], FieldValue::Text(v));
        }
        if let Some(v) = self.sample_rate {
            f(KEYS[2], FieldValue::Float(v));
        }
        if let Some(v) = self.sample_rand {
            f(KEYS[3], FieldValue::Rand(v));
        }
        if let Some(v) = self.sampled {
            f(KEYS[4], FieldValue::Bool(v));
        }
        let texts = [
            (5, &self.release),
            (6, &self.environment),
            (7, &self.transaction),
            (8, &self.org_id),
            (9, &self.replay_id),
        ];
        for (i, v) in texts {
            if let Some(v) = v {
                f(KEYS[i], FieldValue::Text(v));
            }
        }
    }

    /// Calls `f(key, percent-encoded value)` for each set field, in order.
    pub(crate) fn for_each_member(&self, mut f: impl FnMut(&'static str, &dyn fmt::Display)) {
        self.for_each_field(|key, value| match value {
            FieldValue::Text(s) => f(key, &encode(s)),
            other => f(key, &other),
        });
    }

    /// The Sentry `baggage` members alone (`sentry-key=value,...`).
    /// To add them to an outgoing request that has baggage of its own, use
    /// [`write_baggage`](crate::write_baggage).
    #[must_use]
    pub fn to_baggage(&self) -> String {
        crate::baggage::write_baggage(std::iter::empty(), self)
    }
}

#[cfg(test)]
mod tests {
    use crate::DscView;
    use crate::dsc::fixtures::NINE;

    #[test]
    fn owned_round_trips_through_baggage() {
        let v = DscView::from_baggage([NINE, "sentry-replay_id=r%2F1"]);
        let owned = v.to_owned();
        let text = owned.to_baggage();
        assert_eq!(DscView::from_baggage([text.as_str()]).to_owned(), owned);
        assert!(text.contains("sentry-release=web%401.2.3"));
    }
}
