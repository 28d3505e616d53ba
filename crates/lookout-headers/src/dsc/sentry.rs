//! The conversion to `sentry-types`' Dynamic Sampling Context (feature
//! `sentry`).

use super::owned::DynamicSamplingContext;

impl From<&DynamicSamplingContext> for sentry_types::protocol::v7::DynamicSamplingContext {
    /// Converts for `sentry-types` envelopes. `replay_id` has no field there
    /// and is dropped; an `org_id` that is not a number is dropped.
    fn from(dsc: &DynamicSamplingContext) -> Self {
        let mut out = Self::new();
        if let Some(v) = dsc.trace_id {
            out = out.with_trace_id(v.into());
        }
        if let Some(v) = &dsc.public_key {
            out = out.with_public_key(v.clone());
        }
        if let Some(v) = dsc.sample_rate {
            out = out.with_sample_rate(v as f32);
        }
        if let Some(v) = dsc.sample_rand.and_then(|v| v.try_into().ok()) {
            out = out.with_sample_rand(v);
        }
        if let Some(v) = dsc.sampled {
            out = out.with_sampled(v);
        }
        if let Some(v) = &dsc.release {
            out = out.with_release(v.clone());
        }
        if let Some(v) = &dsc.environment {
            out = out.with_environment(v.clone());
        }
        if let Some(v) = &dsc.transaction {
            out = out.with_transaction(v.clone());
        }
        if let Some(v) = dsc.org_id.as_deref().and_then(|v| v.parse().ok()) {
            out = out.with_org_id(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::DscView;
    use crate::dsc::fixtures::NINE;

    #[test]
    fn converts_to_sentry_types() {
        let owned = DscView::from_baggage([NINE, "sentry-replay_id=r1"]).to_owned();
        let theirs = sentry_types::protocol::v7::DynamicSamplingContext::from(&owned);
        let json = serde_json::to_value(&theirs).ok();
        let want = serde_json::json!({
            "trace_id": "771a43a4192642f0b136d5159a501700",
            "public_key": "49d0f7386ad645858ae85020e393bef3",
            "sample_rate": "0.25",
            "sample_rand": "0.123456",
            "sampled": "true",
            "release": "web@1.2.3",
            "environment": "production",
            "transaction": "GET /users/{id}",
            "org_id": "123",
        });
        assert_eq!(json, Some(want));
    }
}
