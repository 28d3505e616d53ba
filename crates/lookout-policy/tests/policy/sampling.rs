//! Sampling properties: consistency across services and sample_rand intervals.

use lookout_headers::TraceId;
use lookout_policy::{DecisionReason, SampleRand, Sampling, SamplingRequest};
use proptest::prelude::*;

fn trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>().prop_map(TraceId::from_bytes)
}

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(0.01),
        Just(0.5),
        (0u32..=1_000_000).prop_map(|m| f64::from(m) / 1e6),
        0.0f64..=1.0,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Two services with the same rate, given the same trace and the same
    /// incoming values, always agree.
    #[test]
    fn same_rate_same_trace_same_decision(
        trace in trace_id(),
        rate in rate(),
        parent_sampled in proptest::option::of(any::<bool>()),
        parent_rate in proptest::option::of(rate()),
        incoming in proptest::option::of(0.0f64..1.0),
        route in prop_oneof![Just("/users/{id}"), Just("/health")],
    ) {
        let a = Sampling::new(rate).ignored_routes(["/health"]);
        let b = Sampling::new(rate).ignored_routes(["/health"]);
        let req = SamplingRequest::new(trace, "GET")
            .route(route)
            .parent(parent_sampled, parent_rate)
            .incoming_sample_rand(incoming);
        prop_assert_eq!(a.decide(&req), b.decide(&req));
    }

    /// A head service's decision, propagated with its sample_rand and no flag
    /// (deferred), or with nothing but the trace id, is re-made identically
    /// downstream at the same rate.
    #[test]
    fn downstream_agrees_with_the_head(trace in trace_id(), rate in rate()) {
        let sampling = Sampling::new(rate);
        let head = sampling.decide(&SamplingRequest::new(trace, "GET"));
        let with_rand = sampling.decide(
            &SamplingRequest::new(trace, "POST").incoming_sample_rand(Some(head.sample_rand.as_f64())),
        );
        let bare = sampling.decide(&SamplingRequest::new(trace, "POST"));
        prop_assert_eq!(head.sampled, with_rand.sampled);
        prop_assert_eq!(head.sampled, bare.sampled);
        prop_assert_eq!(head.sample_rand, with_rand.sample_rand);
        prop_assert_eq!(head.sampled, head.sample_rand.is_below(rate));
        prop_assert_eq!(head.reason, DecisionReason::Rate);
    }

    /// Derived sample_rand lies in [0, rate) when sampled, [rate, 1) when not.
    #[test]
    fn derived_sample_rand_lies_in_the_right_interval(
        trace in trace_id(),
        rate in rate(),
        sampled in any::<bool>(),
    ) {
        let r = SampleRand::derive(trace, Some(rate), Some(sampled));
        let v = r.as_f64();
        prop_assert!((0.0..1.0).contains(&v));
        if sampled && rate > 0.0 {
            prop_assert!(v < rate, "{} !< {}", v, rate);
        }
        // [rate, 1) holds a 6-decimal value only up to 0.999999.
        if !sampled && rate <= 0.999_999 {
            prop_assert!(v >= rate, "{} !>= {}", v, rate);
        }
        if !sampled && rate > 0.999_999 && rate < 1.0 {
            prop_assert_eq!(r, SampleRand::MAX);
        }
        // So a service re-deciding at the parent's rate agrees with the parent.
        if (sampled && rate > 0.0) || (!sampled && rate <= 0.999_999) {
            prop_assert_eq!(r.is_below(rate), sampled);
        }
        prop_assert_eq!(r, SampleRand::derive(trace, Some(rate), Some(sampled)));
    }

    /// Without rate or flag the value is derived in [0, 1) from the trace alone.
    #[test]
    fn derived_without_parent_info_is_in_unit_interval(trace in trace_id(), rate in proptest::option::of(rate())) {
        let r = SampleRand::derive(trace, rate, None);
        prop_assert_eq!(r, SampleRand::from_trace_id(trace));
        prop_assert!(r.micros() < 1_000_000);
    }

    /// An incoming sample_rand in [0, 1) is reused (to 6 decimals).
    #[test]
    fn incoming_sample_rand_is_reused(trace in trace_id(), micros in 0u32..1_000_000) {
        let text = format!("0.{micros:06}");
        let incoming: f64 = text.parse().unwrap();
        let r = SampleRand::resolve(Some(incoming), trace, Some(0.5), Some(true));
        prop_assert_eq!(r.micros(), micros);
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(SampleRand::parse(&text), Some(r));
    }

    /// A parent decision is inherited whatever the local rate.
    #[test]
    fn parent_decision_is_inherited(trace in trace_id(), rate in rate(), parent in any::<bool>()) {
        let d = Sampling::new(rate).decide(&SamplingRequest::new(trace, "GET").parent(Some(parent), None));
        prop_assert_eq!(d.sampled, parent);
        prop_assert_eq!(d.reason, DecisionReason::Parent);
    }

    /// Ignored routes are never sampled without a sampled parent.
    #[test]
    fn ignored_routes_are_not_sampled(trace in trace_id(), parent in proptest::option::of(any::<bool>())) {
        let d = Sampling::new(1.0)
            .ignored_routes(["/health"])
            .decide(&SamplingRequest::new(trace, "GET").route("/health").parent(parent, None));
        prop_assert_eq!(d.sampled, parent == Some(true));
    }
}

#[test]
fn the_rate_used_is_recorded() {
    let trace = TraceId::from_bytes([7; 16]);
    let d = Sampling::new(0.25).decide(&SamplingRequest::new(trace, "GET"));
    assert_eq!(d.sample_rate, 0.25);
    let d = Sampling::new(0.25)
        .decide(&SamplingRequest::new(trace, "GET").parent(Some(true), Some(0.5)));
    assert_eq!(d.sample_rate, 0.5);
    let d = Sampling::new(0.25)
        .sampler(|ctx| {
            assert_eq!(ctx.route, Some("/checkout"));
            assert_eq!(ctx.method, "POST");
            assert_eq!(ctx.traces_sample_rate, 0.25);
            Some(0.75)
        })
        .decide(&SamplingRequest::new(trace, "POST").route("/checkout"));
    assert_eq!((d.sample_rate, d.reason), (0.75, DecisionReason::Sampler));
}

#[test]
fn a_sampler_sees_ignored_routes_and_may_sample_them() {
    let trace = TraceId::from_bytes([9; 16]);
    let d = Sampling::new(0.0)
        .ignored_routes(["/health"])
        .sampler(|ctx| ctx.ignored_route.then_some(1.0))
        .decide(&SamplingRequest::new(trace, "GET").route("/health"));
    assert!(d.sampled);
}

#[test]
fn settings_build_the_sampling_policy() {
    let s = crate::resolve(&[
        ("SENTRY_TRACES_SAMPLE_RATE", "1"),
        ("LOOKOUT_IGNORED_ROUTES", "/ping"),
    ])
    .unwrap();
    let sampling = s.sampling();
    let trace = TraceId::from_bytes([1; 16]);
    assert!(
        sampling
            .decide(&SamplingRequest::new(trace, "GET").route("/users"))
            .sampled
    );
    assert!(
        !sampling
            .decide(&SamplingRequest::new(trace, "GET").route("/ping"))
            .sampled
    );
}
