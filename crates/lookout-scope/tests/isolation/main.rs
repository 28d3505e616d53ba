//! Isolation under load: many concurrent requests on a multi-threaded runtime,
//! each seeing only its own user, request id, trace and breadcrumbs.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lookout_headers::RequestId;
use lookout_headers::{SpanId, TraceId};
use lookout_scope::{InRequestExt, RequestContext, RequestTrace, User};
use sentry_core::protocol::{Context, Event};
use sentry_core::test::TestTransport;
use sentry_core::{Breadcrumb, ClientOptions, Hub, Level};

fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}

const REQUESTS: usize = 10_000;

/// A process Hub with a client that collects envelopes instead of sending them.
fn test_hub() -> (Arc<Hub>, Arc<TestTransport>) {
    let transport = TestTransport::new();
    let mut options = ClientOptions::default();
    options.dsn = Some("https://public@sentry.invalid/1".parse().unwrap());
    options.transport = Some(Arc::new(transport.clone()));
    options.max_breadcrumbs = 100;
    options.before_send = Some(Arc::new(lookout_scope::apply_to_event));
    let hub = Arc::new(Hub::new(
        Some(Arc::new(options.into())),
        Arc::new(Default::default()),
    ));
    (hub, transport)
}

/// xorshift64*: deterministic per-request randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Self((seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

async fn random_yields(rng: &mut Rng) {
    for _ in 0..rng.below(4) {
        tokio::task::yield_now().await;
    }
}

fn breadcrumb(message: String) -> Breadcrumb {
    Breadcrumb {
        message: Some(message),
        ..Default::default()
    }
}

/// Which request an event says it came from (from its message), or `None`.
fn request_index(event: &Event<'_>) -> Option<usize> {
    let message = event.message.as_deref()?;
    let (_, index) = message.split_once(' ')?;
    index.parse().ok()
}

/// Every way `event` can disagree with request `i`.
fn mismatches(event: &Event<'_>, i: usize, trace: &RequestTrace) -> Vec<String> {
    let mut out = Vec::new();
    let user_id = event.user.as_ref().and_then(|u| u.id.as_deref());
    if user_id != Some(format!("user-{i}").as_str()) {
        out.push(format!("user {user_id:?}"));
    }
    if event.user.as_ref().is_some_and(|u| u.email.is_some()) {
        out.push("email present with PII off".to_owned());
    }
    let request_id = event.tags.get("request_id").map(String::as_str);
    if request_id != Some(format!("req-{i}").as_str()) {
        out.push(format!("request_id {request_id:?}"));
    }
    let expected_role = if i.is_multiple_of(2) {
        "admin"
    } else {
        "member"
    };
    if event.tags.get("user_role").map(String::as_str) != Some(expected_role) {
        out.push(format!("user_role {:?}", event.tags.get("user_role")));
    }
    if event.tags.get("authenticated").map(String::as_str) != Some("true") {
        out.push("not authenticated".to_owned());
    }
    match event.contexts.get("trace") {
        Some(Context::Trace(context)) => {
            if context.trace_id != trace.trace_id.into() {
                out.push(format!("trace_id {}", context.trace_id));
            }
            if context.span_id != trace.span_id.into() {
                out.push(format!("span_id {}", context.span_id));
            }
        }
        other => out.push(format!("trace context {other:?}")),
    }
    let prefix = format!("req-{i} ");
    for crumb in event.breadcrumbs.iter() {
        let message = crumb.message.as_deref().unwrap_or_default();
        if !message.starts_with(&prefix) {
            out.push(format!("foreign breadcrumb {message:?}"));
        }
    }
    if event.breadcrumbs.is_empty() {
        out.push("no breadcrumbs".to_owned());
    }
    out
}

#[test]
fn ten_thousand_concurrent_requests_never_see_each_other() {
    let (hub, transport) = test_hub();
    let traces: Vec<RequestTrace> = (0..REQUESTS)
        .map(|_| RequestTrace::new(TraceId::random(), SpanId::random(), true))
        .collect();
    let unbound_violations = Arc::new(AtomicUsize::new(0));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(REQUESTS);
        for (i, trace) in traces.iter().enumerate() {
            let ctx = RequestContext::builder(rid(&format!("req-{i}")))
                .trace(*trace)
                .parent_hub(hub.clone())
                .build();
            let unbound_violations = unbound_violations.clone();
            let request = async move {
                let mut rng = Rng::new(i);
                random_yields(&mut rng).await;
                let role = if i.is_multiple_of(2) {
                    "admin"
                } else {
                    "member"
                };
                lookout_scope::identify(
                    User::id(format!("user-{i}"))
                        .email(format!("user-{i}@example.com"))
                        .role(role),
                )
                .unwrap();
                sentry_core::add_breadcrumb(breadcrumb(format!("req-{i} start")));
                random_yields(&mut rng).await;

                // A sub-task through the helper stays in the request.
                let sub = lookout_scope::spawn_in_request(async move {
                    let mut rng = Rng::new(i + REQUESTS);
                    random_yields(&mut rng).await;
                    sentry_core::add_breadcrumb(breadcrumb(format!("req-{i} sub")));
                    random_yields(&mut rng).await;
                    sentry_core::capture_message(&format!("sub {i}"), Level::Info);
                });
                // A task spawned without it belongs to no request.
                let unbound = tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    let leaked_user = Hub::current().configure_scope(|s| s.user().cloned());
                    if lookout_scope::current().is_some() || leaked_user.is_some() {
                        unbound_violations.fetch_add(1, Ordering::Relaxed);
                    }
                });
                random_yields(&mut rng).await;
                sentry_core::add_breadcrumb(breadcrumb(format!("req-{i} before capture")));
                sub.await.unwrap();
                unbound.await.unwrap();
                random_yields(&mut rng).await;
                sentry_core::capture_message(&format!("main {i}"), Level::Error);
            }
            .in_request(ctx);
            handles.push(tokio::spawn(request));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let elapsed = started.elapsed();

    let events = transport.fetch_and_clear_events();
    assert_eq!(
        events.len(),
        2 * REQUESTS,
        "one main and one sub event each"
    );

    let mut seen: HashMap<(usize, bool), usize> = HashMap::new();
    let mut failures = Vec::new();
    for event in &events {
        let Some(i) = request_index(event).filter(|i| *i < REQUESTS) else {
            failures.push(format!("unexpected event {:?}", event.message));
            continue;
        };
        let is_main = event
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("main"));
        *seen.entry((i, is_main)).or_default() += 1;
        for problem in mismatches(event, i, &traces[i]) {
            failures.push(format!("request {i} ({:?}): {problem}", event.message));
        }
        if is_main {
            let crumbs: Vec<_> = event
                .breadcrumbs
                .iter()
                .filter_map(|b| b.message.clone())
                .collect();
            let expected = [
                format!("req-{i} start"),
                format!("req-{i} sub"),
                format!("req-{i} before capture"),
            ];
            for want in &expected {
                if !crumbs.contains(want) {
                    failures.push(format!("request {i}: missing breadcrumb {want:?}"));
                }
            }
        }
    }
    assert_eq!(
        seen.len(),
        2 * REQUESTS,
        "every request's two events arrived once"
    );
    assert!(seen.values().all(|n| *n == 1));
    assert_eq!(unbound_violations.load(Ordering::Relaxed), 0);
    assert!(
        failures.is_empty(),
        "{} mismatches, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    eprintln!(
        "isolation: {REQUESTS} requests, {} events, 0 mismatches, {:?}",
        events.len(),
        elapsed
    );
}
