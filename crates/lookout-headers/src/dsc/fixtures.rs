//! Baggage the DSC's unit tests read.

/// Nine of the ten DSC keys, percent-encoded where SDKs encode.
pub(super) const NINE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
        sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,\
        sentry-sample_rand=0.123456,sentry-sampled=true,sentry-release=web%401.2.3,\
        sentry-environment=production,sentry-transaction=GET%20%2Fusers%2F%7Bid%7D,\
        sentry-org_id=123";
