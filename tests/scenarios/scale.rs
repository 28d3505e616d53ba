//! Many requests at once (run on every framework, see `main.rs`): each
//! request brings its own user, request id and trace, and everything Sentry
//! receives is checked against what that request sent.

use std::sync::Arc;

use serde_json::Value;

use crate::fixture::{Fixture, reply, trace_of};
use crate::harness::Harness;

/// Requests per framework.
pub const REQUESTS: usize = 10_000;
/// Connections they share: each connection sends its requests one after the
/// other (keep-alive), the connections run concurrently.
pub const CONNECTIONS: usize = 200;

/// What request `n` sends: its user, request id, trace id and parent span.
struct Sent {
    user: String,
    request_id: String,
    trace_id: String,
    parent: String,
}

fn sent(n: usize) -> Sent {
    Sent {
        user: format!("u-{n}"),
        request_id: format!("scale-{n}"),
        // Distinct, never all-zero ids.
        trace_id: format!("5ca1e{n:027x}"),
        parent: format!("b0{n:014x}"),
    }
}

/// Every [`FAILING_EVERY`]th request fails (a 500, captured as an event)
/// and is sampled (a transaction); the others answer 200, unsampled.
pub const FAILING_EVERY: usize = 10;

fn failing(n: usize) -> bool {
    n.is_multiple_of(FAILING_EVERY)
}

/// Fails on the first few of `wrong` (and says how many there are).
fn no_mismatches<H: Harness>(wrong: &[String], what: &str) {
    assert!(
        wrong.is_empty(),
        "{}: {} {what} not attributed to their own request, e.g. {:?}",
        H::NAME,
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

/// The request number a request id names.
fn number(request_id: &str) -> Option<usize> {
    request_id.strip_prefix("scale-")?.parse().ok()
}

/// [`REQUESTS`] requests over [`CONNECTIONS`] concurrent connections to
/// `GET /me`, each signed in as its own user (the harness's authentication
/// middleware, `authorization: Bearer u-N`), with its own `x-request-id` and
/// a `sentry-trace` of its own. Each request leaves one log (`serving /me`);
/// every [`FAILING_EVERY`]th is sampled and answered 500, leaving an error
/// event and a transaction too. Every one of them is delivered, and each
/// carries the request id, user and trace of the request that sent it, never
/// another's.
///
/// Why not an event and a transaction for every request: in a debug build on
/// two cores that run takes about 40 s per framework (20 s to answer, 17 s
/// to deliver 20,000 envelopes), this one about 14 s.
pub async fn ten_thousand_concurrent_requests_are_each_attributed_to_their_own_request<
    H: Harness,
>() {
    // With the default send queue (`LOOKOUT_QUEUE_MAX_ENVELOPES`, 10,000):
    // the burst's envelopes fit, so a missing one is a loss.
    let fx = Arc::new(Fixture::start::<H>(&[]).await);
    let mut connections = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        let fx = Arc::clone(&fx);
        connections.spawn(async move {
            // One client per connection: one keep-alive connection each.
            let http = reqwest_client::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("an HTTP client");
            let mut answers = Vec::new();
            for n in (connection..REQUESTS).step_by(CONNECTIONS) {
                let s = sent(n);
                let (path, flag) = if failing(n) {
                    ("/me?status=500", "1")
                } else {
                    ("/me", "0")
                };
                let response = http
                    .get(fx.url(path))
                    .header("authorization", format!("Bearer {}", s.user))
                    .header("x-request-id", &s.request_id)
                    .header(
                        "sentry-trace",
                        format!("{}-{}-{flag}", s.trace_id, s.parent),
                    )
                    .send()
                    .await
                    .expect("the app answers");
                answers.push((n, reply(response).await));
            }
            answers
        });
    }
    let mut answered = 0;
    while let Some(answers) = connections.join_next().await {
        for (n, reply) in answers.expect("a connection's requests") {
            let s = sent(n);
            let status = if failing(n) { 500 } else { 200 };
            assert_eq!(reply.status, status, "{}: request {n}", H::NAME);
            assert_eq!(reply.request_id.as_deref(), Some(s.request_id.as_str()));
            let seen = reply.json();
            assert_eq!(seen["user"], s.user.as_str(), "{}: request {n}", H::NAME);
            assert_eq!(seen["trace_id"], s.trace_id.as_str());
            assert_eq!(seen["request_id"], s.request_id.as_str());
            answered += 1;
        }
    }
    assert_eq!(answered, REQUESTS);

    // Every envelope sent, then compared with what its request sent.
    fx.flush();
    let dropped = fx.receiver.discarded();
    assert!(dropped.is_empty(), "{}: dropped {dropped:?}", H::NAME);

    let events = fx.receiver.events();
    let mut seen = vec![0_usize; REQUESTS];
    let mut wrong = Vec::new();
    for event in &events {
        let tag = event.tags.get("request_id").map(String::as_str);
        let Some(n) = tag.and_then(number) else {
            wrong.push(format!("an event without a request id: {tag:?}"));
            continue;
        };
        let s = sent(n);
        seen[n] += 1;
        let user = event.user.as_ref().and_then(|u| u.id.as_deref());
        let trace = trace_of(&event.contexts);
        if user != Some(s.user.as_str())
            || trace.trace_id.to_string() != s.trace_id
            || trace.parent_span_id.map(|p| p.to_string()).as_deref() != Some(s.parent.as_str())
        {
            wrong.push(format!(
                "event of request {n}: user {user:?}, trace {} parent {:?}",
                trace.trace_id, trace.parent_span_id
            ));
        }
    }
    no_mismatches::<H>(&wrong, "events");
    assert_eq!(
        events.len(),
        REQUESTS / FAILING_EVERY,
        "{}: every event delivered",
        H::NAME
    );
    assert!(
        (0..REQUESTS).all(|n| seen[n] == usize::from(failing(n))),
        "one event per failing request, none for the others"
    );

    let transactions = fx.receiver.transactions();
    let mut seen = vec![0_usize; REQUESTS];
    for (tx, dsc) in &transactions {
        let tag = tx.tags.get("request_id").map(String::as_str);
        let Some(n) = tag.and_then(number) else {
            wrong.push(format!("a transaction without a request id: {tag:?}"));
            continue;
        };
        let s = sent(n);
        seen[n] += 1;
        let user = tx.user.as_ref().and_then(|u| u.id.as_deref());
        let trace = trace_of(&tx.contexts);
        // The caller brought no baggage: its frozen DSC is empty, so the
        // envelope carries none, or one of its own trace only.
        let dsc_trace = dsc
            .as_ref()
            .and_then(|d| d.get("trace_id"))
            .and_then(Value::as_str);
        if user != Some(s.user.as_str())
            || trace.trace_id.to_string() != s.trace_id
            || trace.parent_span_id.map(|p| p.to_string()).as_deref() != Some(s.parent.as_str())
            || dsc_trace.is_some_and(|t| t != s.trace_id)
        {
            wrong.push(format!(
                "transaction of request {n}: user {user:?}, trace {} parent {:?}, DSC {dsc:?}",
                trace.trace_id, trace.parent_span_id
            ));
        }
    }
    no_mismatches::<H>(&wrong, "transactions");
    assert_eq!(
        transactions.len(),
        REQUESTS / FAILING_EVERY,
        "{}: every transaction delivered",
        H::NAME
    );
    assert!(
        (0..REQUESTS).all(|n| seen[n] == usize::from(failing(n))),
        "one transaction per sampled request, none for the others"
    );

    let logs = fx.logs();
    let mut seen = vec![0_usize; REQUESTS];
    for log in logs.iter().filter(|log| log.body == "serving /me") {
        let attribute = |key: &str| {
            log.attributes
                .get(key)
                .and_then(|a| a.0.as_str().map(str::to_owned))
        };
        let request_id = attribute("request_id");
        let Some(n) = request_id.as_deref().and_then(number) else {
            wrong.push(format!("a log without a request id: {request_id:?}"));
            continue;
        };
        let s = sent(n);
        seen[n] += 1;
        let trace = log.trace_id.map(|t| t.to_string());
        if attribute("user.id").as_deref() != Some(s.user.as_str())
            || attribute("seen_user").as_deref() != Some(s.user.as_str())
            || trace.as_deref() != Some(s.trace_id.as_str())
        {
            wrong.push(format!(
                "log of request {n}: user {:?}, trace {trace:?}",
                attribute("user.id")
            ));
        }
    }
    no_mismatches::<H>(&wrong, "logs");
    assert!(
        seen.iter().all(|&c| c == 1),
        "{}: one `serving /me` log per request (missing or twice: {:?})",
        H::NAME,
        seen.iter()
            .enumerate()
            .filter(|(_, c)| **c != 1)
            .take(5)
            .collect::<Vec<_>>()
    );
}
