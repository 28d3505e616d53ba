//! Allocation budgets, counted (never timed). `allocation-counter` replaces
//! the global allocator, which is why this suite is a binary of its own.

use lookout_headers::{
    DscView, RequestId, SentryTrace, TraceContext, TraceParent, TraceState, parse_baggage,
    write_baggage,
};

const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,acme@vendor=x";

/// Nine members: seven Sentry ones (two percent-encoded) and two third-party
/// ones, across two header values.
const BAGGAGE: [&str; 2] = [
    "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,\
     sentry-sample_rate=0.25,sentry-sample_rand=0.123456,other-vendor=abc;prop=1",
    "sentry-sampled=true,sentry-release=web%401.2.3,sentry-environment=production,third=x%2Fy",
];

fn assert_no_allocation(what: &str, f: impl FnOnce()) {
    let info = allocation_counter::measure(f);
    assert_eq!(info.count_total, 0, "{what} allocated: {info:?}");
}

#[test]
fn sentry_trace_parse_does_not_allocate() {
    assert_no_allocation("sentry-trace", || {
        let st = SentryTrace::from_values([SENTRY_TRACE, "ignored"]);
        assert!(st.is_ok_and(|st| st.is_some_and(|st| st.sampled == Some(true))));
        // Errors do not allocate either.
        assert!(SentryTrace::parse("NOT A TRACE").is_err());
    });
}

#[test]
fn traceparent_and_tracestate_parse_do_not_allocate() {
    assert_no_allocation("traceparent", || {
        // A repeated key (`rojo`, third header) is dropped without allocating.
        let ctx = TraceContext::from_values([TRACEPARENT], [TRACESTATE, "b=1", "rojo=2"]);
        let ctx = ctx.ok().flatten();
        assert!(ctx.as_ref().is_some_and(|c| c.traceparent.sampled()));
        let ts = ctx.and_then(|c| c.tracestate);
        assert_eq!(ts.as_ref().map(TraceState::len), Some(4));
        assert_eq!(ts.as_ref().map(|t| t.members().count()), Some(4));
        assert_eq!(ts.and_then(|t| t.get("rojo")), Some("00f067aa0ba902b7"));
        assert!(TraceParent::parse("garbage").is_err());
    });
}

#[test]
fn nine_member_baggage_and_dsc_view_do_not_allocate() {
    assert_no_allocation("baggage", || {
        assert_eq!(parse_baggage(BAGGAGE).count(), 9);
        let props = parse_baggage(BAGGAGE).flat_map(|m| m.properties()).count();
        assert_eq!(props, 1);

        let dsc = DscView::from_baggage(BAGGAGE);
        assert!(dsc.trace_id().is_some());
        assert_eq!(dsc.sample_rate(), Some(0.25));
        assert_eq!(dsc.sample_rand(), Some(0.123456));
        assert_eq!(dsc.sampled(), Some(true));
        assert_eq!(
            dsc.public_key().as_deref(),
            Some("49d0f7386ad645858ae85020e393bef3")
        );
        assert_eq!(dsc.environment().as_deref(), Some("production"));
        assert_eq!(dsc.raw("release"), Some("web%401.2.3"));
        assert!(dsc.org_id().is_none());
    });
}

#[test]
fn eleven_member_w3c_baggage_does_not_allocate() {
    // The benchmark input: properties, encoded values, no Sentry members.
    let baggage = "userId=alice,serverNode=DF%2028,isProduction=false,tenant=acme;ttl=60,\
        region=eu-west-1,sessionId=7f3c2a,feature=new-checkout,plan=enterprise,\
        experiment=b;sampled,locale=de-DE,build=2026.11.22";
    assert_no_allocation("11-member baggage", || {
        let mut n = 0;
        for m in parse_baggage([baggage]) {
            assert!(!m.key().is_empty());
            n += 1 + m.properties().count();
        }
        assert_eq!(n, 13);
        assert!(!DscView::from_baggage([baggage]).has_sentry_members());
    });
}

#[test]
fn writing_sentry_baggage_is_one_allocation() {
    let dsc = DscView::from_baggage(BAGGAGE).to_owned();
    let info = allocation_counter::measure(|| {
        let value = write_baggage(std::iter::empty(), &dsc);
        assert!(value.starts_with("sentry-trace_id="));
        let with_app = write_baggage(None, &dsc);
        assert_eq!(with_app, value);
    });
    assert_eq!(info.count_total, 2, "one allocation per written value");
}

#[test]
fn percent_decoding_allocates_only_on_demand() {
    let dsc = DscView::from_baggage(BAGGAGE);
    let info = allocation_counter::measure(|| {
        assert_eq!(dsc.release().as_deref(), Some("web@1.2.3"));
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn request_ids_stay_within_one_allocation() {
    // The first UUID of a thread sets up that thread's RNG (one allocation,
    // once per thread); measure the steady state.
    let _warm_up = RequestId::generate();
    assert_no_allocation("generated request id", || {
        let id = RequestId::generate();
        let _copy = id.clone();
        assert!(RequestId::validate("abc-123").is_ok());
        assert!(RequestId::parse("abc-123").is_ok());
    });
    let long = "x".repeat(100);
    let info = allocation_counter::measure(|| {
        let id = RequestId::parse(&long);
        let _copies = (id.clone(), id.clone());
    });
    assert_eq!(info.count_total, 1, "a long id is one shared allocation");
}
