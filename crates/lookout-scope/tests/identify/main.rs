//! The user lifecycle, PII filtering, breadcrumbs and binding rules of a request,
//! observed through the events a real (test-transport) client captures.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use lookout_headers::RequestId;
use lookout_policy::PiiPolicy;
use lookout_scope::{Bound, InRequestExt, NotInRequest, RequestContext, User};
use sentry_core::protocol::{Event, IpAddress};
use sentry_core::test::{with_captured_envelopes_options, with_captured_events_options};
use sentry_core::{Breadcrumb, ClientOptions, Hub, Level};

fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}

const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

fn ada() -> User {
    User::id("42")
        .email("ada@example.com")
        .username("ada_lovelace")
        .ip_address(IP)
        .role("admin")
        .segment("enterprise")
        .extra("plan", "pro")
}

fn options(send_default_pii: bool) -> ClientOptions {
    let mut options = ClientOptions::default();
    options.send_default_pii = send_default_pii;
    options.before_send = Some(Arc::new(lookout_scope::apply_to_event));
    options
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn capture_in(ctx: &RequestContext, message: &str) {
    ctx.enter(|| sentry_core::capture_message(message, Level::Error));
}

fn event<'a>(events: &'a [Event<'static>], message: &str) -> &'a Event<'static> {
    events
        .iter()
        .find(|e| e.message.as_deref() == Some(message))
        .unwrap_or_else(|| panic!("no event {message:?}"))
}

fn tag<'a>(event: &'a Event<'_>, key: &str) -> Option<&'a str> {
    event.tags.get(key).map(String::as_str)
}

#[test]
fn pii_off_keeps_email_username_and_ip_out_of_the_envelope() {
    let envelopes = with_captured_envelopes_options(
        || {
            let ctx = RequestContext::new(rid("req-pii-off"));
            ctx.identify(ada());
            capture_in(&ctx, "boom");
            // The context itself still knows the whole user.
            assert_eq!(ctx.user(), Some(ada()));
        },
        options(false),
    );
    assert_eq!(envelopes.len(), 1);
    let mut bytes = Vec::new();
    envelopes[0].to_writer(&mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for secret in ["ada@example.com", "ada_lovelace", "192.0.2.7"] {
        assert!(
            !text.contains(secret),
            "{secret} reached the envelope: {text}"
        );
    }

    let event = envelopes[0].event().unwrap();
    let user = event.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(
        (&user.email, &user.username, &user.ip_address),
        (&None, &None, &None)
    );
    assert_eq!(user.other["role"], "admin");
    assert_eq!(user.other["segment"], "enterprise");
    assert_eq!(user.other["plan"], "pro");
}

#[test]
fn pii_on_sends_email_username_and_ip() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::new(rid("req-pii-on"));
            assert_eq!(ctx.pii(), PiiPolicy::On, "taken from send_default_pii");
            ctx.identify(ada());
            capture_in(&ctx, "boom");
        },
        options(true),
    );
    let user = event(&events, "boom").user.as_ref().unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.username.as_deref(), Some("ada_lovelace"));
    assert_eq!(user.ip_address, Some(IpAddress::Exact(IP)));
}

#[test]
fn an_explicit_pii_policy_wins_over_the_client_option() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::builder(rid("req-1"))
                .pii(PiiPolicy::Off)
                .build();
            ctx.identify(ada());
            capture_in(&ctx, "boom");
        },
        options(true),
    );
    assert_eq!(event(&events, "boom").user.as_ref().unwrap().email, None);
}

#[test]
fn anonymous_then_identified_then_anonymous_again() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::new(rid("req-life"));
            assert!(!ctx.is_authenticated());
            capture_in(&ctx, "anonymous");

            ctx.enter(|| lookout_scope::identify(ada())).unwrap();
            assert!(ctx.is_authenticated());
            capture_in(&ctx, "identified");

            // Identifying again without a role drops the old role tag.
            ctx.identify(User::id("43"));
            capture_in(&ctx, "re-identified");

            let was = ctx.enter(lookout_scope::set_anonymous).unwrap();
            assert_eq!(was.and_then(|u| u.id).as_deref(), Some("43"));
            assert!(!ctx.is_authenticated());
            assert_eq!(ctx.user(), None);
            capture_in(&ctx, "logged out");
        },
        options(false),
    );

    let anonymous = event(&events, "anonymous");
    assert_eq!(anonymous.user, None);
    assert_eq!(tag(anonymous, "authenticated"), Some("false"));
    assert_eq!(tag(anonymous, "request_id"), Some("req-life"));
    assert_eq!(tag(anonymous, "user_role"), None);

    let identified = event(&events, "identified");
    assert_eq!(identified.user.as_ref().unwrap().id.as_deref(), Some("42"));
    assert_eq!(tag(identified, "authenticated"), Some("true"));
    assert_eq!(tag(identified, "user_role"), Some("admin"));

    let again = event(&events, "re-identified");
    assert_eq!(again.user.as_ref().unwrap().id.as_deref(), Some("43"));
    assert_eq!(tag(again, "user_role"), None);

    let out = event(&events, "logged out");
    assert_eq!(out.user, None);
    assert_eq!(tag(out, "authenticated"), Some("false"));
    assert_eq!(tag(out, "request_id"), Some("req-life"));
}

#[test]
fn identify_touches_only_its_own_request_and_not_the_process_scope() {
    let events = with_captured_events_options(
        || {
            let a = RequestContext::new(rid("req-a"));
            let b = RequestContext::new(rid("req-b"));
            a.identify(User::id("alice").role("admin"));
            capture_in(&a, "from a");
            capture_in(&b, "from b");
            sentry_core::capture_message("outside", Level::Error);
        },
        options(false),
    );
    assert_eq!(
        event(&events, "from a")
            .user
            .as_ref()
            .unwrap()
            .id
            .as_deref(),
        Some("alice")
    );
    let from_b = event(&events, "from b");
    assert_eq!(from_b.user, None);
    assert_eq!(tag(from_b, "user_role"), None);
    assert_eq!(tag(from_b, "request_id"), Some("req-b"));
    let outside = event(&events, "outside");
    assert_eq!(outside.user, None);
    assert_eq!(tag(outside, "request_id"), None);
}

#[test]
fn a_request_started_inside_another_does_not_inherit_its_user() {
    let events = with_captured_events_options(
        || {
            let outer = RequestContext::new(rid("req-outer"));
            outer.identify(User::id("alice"));
            let inner = outer.enter(|| RequestContext::new(rid("req-inner")));
            capture_in(&inner, "inner");
        },
        options(false),
    );
    let inner = event(&events, "inner");
    assert_eq!(inner.user, None);
    assert_eq!(tag(inner, "request_id"), Some("req-inner"));
    assert_eq!(tag(inner, "authenticated"), Some("false"));
}

#[test]
fn events_carry_the_request_trace() {
    let parent = lookout_headers::SpanId::random();
    let trace = lookout_scope::RequestTrace::new_root().with_parent(Some(parent));
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::builder(rid("req-t")).trace(trace).build();
            capture_in(&ctx, "traced");
        },
        options(false),
    );
    match event(&events, "traced").contexts.get("trace") {
        Some(sentry_core::protocol::Context::Trace(t)) => {
            assert_eq!(t.trace_id, trace.trace_id.into());
            assert_eq!(t.span_id, trace.span_id.into());
            assert_eq!(t.parent_span_id, Some(parent.into()));
        }
        other => panic!("no trace context: {other:?}"),
    }
}

#[test]
fn breadcrumbs_stay_in_their_request_and_respect_max_breadcrumbs() {
    let mut opts = options(false);
    opts.max_breadcrumbs = 5;
    let events = with_captured_events_options(
        || {
            let a = RequestContext::new(rid("req-a"));
            let b = RequestContext::new(rid("req-b"));
            // Interleaved on one thread, through both the context and sentry's API.
            for n in 0..12 {
                a.add_breadcrumb(Breadcrumb {
                    message: Some(format!("a{n}")),
                    ..Default::default()
                });
                b.enter(|| {
                    sentry_core::add_breadcrumb(Breadcrumb {
                        message: Some(format!("b{n}")),
                        ..Default::default()
                    });
                });
            }
            capture_in(&a, "a");
            capture_in(&b, "b");
            sentry_core::capture_message("outside", Level::Error);
        },
        opts,
    );
    let messages = |e: &Event<'_>| -> Vec<String> {
        e.breadcrumbs
            .iter()
            .filter_map(|b| b.message.clone())
            .collect()
    };
    assert_eq!(
        messages(event(&events, "a")),
        ["a7", "a8", "a9", "a10", "a11"]
    );
    assert_eq!(
        messages(event(&events, "b")),
        ["b7", "b8", "b9", "b10", "b11"]
    );
    assert!(messages(event(&events, "outside")).is_empty());
}

#[test]
fn a_task_spawned_without_the_helper_does_not_inherit_the_user() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::new(rid("req-spawn"));
            current_thread_runtime().block_on(
                async {
                    lookout_scope::identify(User::id("alice")).unwrap();
                    let unbound = tokio::spawn(async {
                        assert!(lookout_scope::current().is_none());
                        sentry_core::capture_message("unbound", Level::Error);
                    });
                    let bound = lookout_scope::spawn_in_request(async {
                        tokio::task::yield_now().await;
                        sentry_core::capture_message("bound", Level::Error);
                    });
                    unbound.await.unwrap();
                    bound.await.unwrap();
                }
                .in_request(ctx),
            );
        },
        options(false),
    );
    let unbound = event(&events, "unbound");
    assert_eq!(unbound.user, None);
    assert_eq!(tag(unbound, "request_id"), None);
    let bound = event(&events, "bound");
    assert_eq!(bound.user.as_ref().unwrap().id.as_deref(), Some("alice"));
    assert_eq!(tag(bound, "request_id"), Some("req-spawn"));
}

#[test]
fn the_request_hub_is_current_only_while_bound() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::new(rid("req-hub"));
            let hub = ctx.hub().cloned().expect("a client is bound");
            let outside = Hub::current();
            assert!(!Arc::ptr_eq(&outside, &hub));
            ctx.enter(|| assert!(Arc::ptr_eq(&Hub::current(), &hub)));
            assert!(Arc::ptr_eq(&Hub::current(), &outside));
            current_thread_runtime().block_on(
                async {
                    assert!(Arc::ptr_eq(&Hub::current(), &hub));
                    tokio::task::yield_now().await;
                    assert!(Arc::ptr_eq(&Hub::current(), &hub));
                }
                .in_request(ctx.clone()),
            );
            assert!(Arc::ptr_eq(&Hub::current(), &outside));
        },
        options(false),
    );
    assert!(events.is_empty());
}

/// A stand-in for a response body: polled chunk by chunk by an adapter.
struct Chunks(Vec<&'static str>);

impl Chunks {
    fn poll_chunk(self: std::pin::Pin<&mut Self>) -> Option<&'static str> {
        let chunk = self.get_mut().0.pop();
        sentry_core::add_breadcrumb(Breadcrumb {
            message: Some(format!("sent {chunk:?}")),
            ..Default::default()
        });
        chunk
    }
}

#[test]
fn a_bound_body_is_polled_inside_its_request() {
    let events = with_captured_events_options(
        || {
            let ctx = RequestContext::new(rid("req-body"));
            ctx.identify(User::id("alice"));
            let mut body = std::pin::pin!(Bound::new(ctx.clone(), Chunks(vec!["b", "a"])));
            let mut seen = Vec::new();
            while let Some(chunk) = body.as_mut().in_context(|chunks| {
                assert_eq!(lookout_scope::current().unwrap().request_id(), "req-body");
                chunks.poll_chunk()
            }) {
                seen.push(chunk);
                assert!(lookout_scope::current().is_none(), "left between polls");
            }
            assert_eq!(seen, ["a", "b"]);
            capture_in(&ctx, "after body");
        },
        options(false),
    );
    let crumbs: Vec<_> = event(&events, "after body")
        .breadcrumbs
        .iter()
        .filter_map(|b| b.message.clone())
        .collect();
    assert_eq!(
        crumbs,
        ["sent Some(\"a\")", "sent Some(\"b\")", "sent None"]
    );
}

#[test]
fn outside_a_request_nothing_panics() {
    std::thread::spawn(|| {
        assert!(lookout_scope::current().is_none());
        assert_eq!(lookout_scope::try_current().unwrap_err(), NotInRequest);
        assert_eq!(lookout_scope::identify(User::id("1")), Err(NotInRequest));
        assert_eq!(lookout_scope::set_anonymous(), Err(NotInRequest));
    })
    .join()
    .unwrap();
}

#[test]
fn without_a_client_there_is_no_hub_but_the_user_is_remembered() {
    // The process Hub of this test binary never gets a client.
    let process = Arc::new(Hub::new(None, Default::default()));
    let ctx = RequestContext::builder(rid("req-none"))
        .parent_hub(process)
        .build();
    assert!(ctx.hub().is_none());
    ctx.identify(ada());
    ctx.set_tag("k", "v");
    ctx.add_breadcrumb(Breadcrumb::default());
    assert_eq!(ctx.user(), Some(ada()));
    assert!(ctx.is_authenticated());
    let seen = ctx.enter(|| lookout_scope::current().map(|c| c.same_request(&ctx)));
    assert_eq!(seen, Some(true));
}

#[test]
fn nested_contexts_restore_the_outer_one_even_on_panic() {
    let outer = RequestContext::new(rid("outer"));
    let inner = RequestContext::new(rid("inner"));
    outer.enter(|| {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.enter(|| {
                assert_eq!(lookout_scope::current().unwrap().request_id(), "inner");
                panic!("handler panicked");
            })
        }));
        assert!(result.is_err());
        assert_eq!(lookout_scope::current().unwrap().request_id(), "outer");
    });
    assert!(lookout_scope::current().is_none());
}
