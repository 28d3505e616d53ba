//! Allocation budget of the disabled path (no client bound): a request context
//! is one allocation, which also holds the request id; identifying its user
//! is one more (the user is kept shared, so that `with_user` lends it without
//! holding the request's lock while the caller's code runs). Lives in its own test
//! binary because `allocation-counter` installs the global allocator.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use allocation_counter::measure;
use lookout_headers::RequestId;
use lookout_scope::{InRequestExt, RequestContext, RequestTrace, User};
use sentry_core::Hub;

fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}

/// Runs one request's whole life on this thread: create, bind to a future
/// that is polled twice, enter a closure, identify and log out, drop.
fn one_request(id: RequestId, trace: RequestTrace, user: User) -> Option<User> {
    let ctx = RequestContext::builder(id)
        .trace(trace)
        .method("GET")
        .build();
    assert_eq!(ctx.method(), "GET");
    let mut cx = Context::from_waker(Waker::noop());
    let mut yielded = false;
    let mut fut = pin!(
        std::future::poll_fn(move |cx| {
            assert!(lookout_scope::current().is_some());
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .in_request(ctx.clone())
    );
    while fut.as_mut().poll(&mut cx).is_pending() {}
    ctx.enter(|| lookout_scope::identify(user)).ok()?;
    let user = ctx.set_anonymous();
    drop(ctx);
    user
}

fn warm_up() {
    // First use on a thread initialises thread-locals (sentry's thread Hub,
    // our current-request slot, the id RNG); that is per thread, not per request.
    let _ = Hub::current();
    let _ = one_request(rid("warm-up"), RequestTrace::new_root(), User::default());
}

#[test]
fn a_request_without_a_client_is_one_allocation_holding_its_id_and_one_for_its_user() {
    assert!(Hub::current().client().is_none());
    warm_up();
    let trace = RequestTrace::new_root();
    let user = User::id("42").email("ada@example.com").role("admin");
    let mut returned = None;
    let info = measure(|| {
        // What core does first: keep the incoming id (or generate one).
        let id = RequestId::from_header_or_generate(Some("7f3a9c2e-4b1d-4e8f-9a6b-2c5d8e1f0a3b"));
        returned = one_request(id, trace, user);
    });
    assert_eq!(info.count_total, 2, "{info:?}");
    assert_eq!(info.count_current, 0, "nothing leaked: {info:?}");
    assert_eq!(returned.and_then(|u| u.id).as_deref(), Some("42"));
}

#[test]
fn creating_and_dropping_with_a_default_trace_is_one_allocation() {
    warm_up();
    let info = measure(|| {
        let ctx = RequestContext::new(rid("req-1"));
        let current = ctx.enter(lookout_scope::current);
        drop((ctx, current));
    });
    assert_eq!(info.count_total, 1, "{info:?}");
    assert_eq!(info.count_current, 0, "{info:?}");
}

/// The frozen DSC lives in the context's own allocation: freezing one adds
/// only its strings (none here), and reading it copies nothing.
#[test]
fn a_frozen_dsc_adds_no_allocation_of_its_own() {
    warm_up();
    let mut caller = lookout_headers::DynamicSamplingContext::new();
    caller.sample_rate = Some(0.5);
    let info = measure(|| {
        let given = RequestContext::builder(rid("req-1"))
            .frozen_dsc(caller)
            .build();
        assert_eq!(given.frozen_dsc().and_then(|d| d.sample_rate), Some(0.5));
        let frozen_later = RequestContext::new(rid("req-2"));
        let dsc = frozen_later.frozen_dsc_or_init(|| {
            let mut ours = lookout_headers::DynamicSamplingContext::new();
            ours.sampled = Some(true);
            ours
        });
        assert_eq!(dsc.sampled, Some(true));
    });
    // The two contexts.
    assert_eq!(info.count_total, 2, "{info:?}");
    assert_eq!(info.count_current, 0, "{info:?}");
}

#[test]
fn a_long_request_id_keeps_its_own_allocation_and_the_context_adds_one() {
    warm_up();
    let long = rid(&"a".repeat(100));
    let info = measure(|| {
        let ctx = RequestContext::new(long);
        assert_eq!(ctx.request_id().len(), 100);
        ctx.enter(|| assert!(lookout_scope::current().is_some()));
    });
    // The context's own allocation; the id's shared buffer was made by the caller.
    assert_eq!(info.count_total, 1, "{info:?}");
}

#[test]
fn a_client_bound_request_does_allocate_so_the_counter_is_live() {
    let mut options = sentry_core::ClientOptions::default();
    options.dsn = Some("https://public@sentry.invalid/1".parse().unwrap());
    options.transport = Some(Arc::new(sentry_core::test::TestTransport::new()));
    let process = Arc::new(Hub::new(Some(Arc::new(options.into())), Default::default()));
    warm_up();
    let info = measure(|| {
        let ctx = RequestContext::builder(rid("req-1"))
            .parent_hub(process.clone())
            .build();
        assert!(ctx.hub().is_some());
    });
    assert!(info.count_total > 1, "{info:?}");
}
