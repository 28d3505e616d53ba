//! The Sentry Logs scenarios (re-exported by `cases`, run on every
//! framework): a service's `tracing` lines through the tracing layers
//! `lookout::init` installs, and the log a 4xx leaves, as the real transport
//! delivers them to the receiver.

use std::time::{Duration, Instant};

use sentry_types::protocol::v7::{Log, LogLevel};
use serde_json::Value;

use crate::fixture::{Fixture, trace_of};
use crate::harness::Harness;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

fn attribute(log: &Log, key: &str) -> Option<Value> {
    log.attributes.get(key).map(|a| a.0.clone())
}

/// The logs whose `request_id` attribute is `request_id`.
fn of_request<'a>(logs: &'a [Log], request_id: &str) -> Vec<&'a Log> {
    logs.iter()
        .filter(|log| {
            attribute(log, "request_id")
                .as_ref()
                .and_then(Value::as_str)
                == Some(request_id)
        })
        .collect()
}

/// A handler's `info!` inside a request continued from a caller, sampled or
/// not, signed in through the middleware, is a log on the caller's trace with
/// the request's ids, route, user and the process attributes.
pub async fn a_continued_signed_in_requests_log_has_the_callers_trace_and_user<H: Harness>() {
    let fx = Fixture::start::<H>(&[("SENTRY_RELEASE", "shop@1.2.3")]).await;
    let mut ids = Vec::new();
    for flag in ["1", "0"] {
        let sentry_trace = format!("{TRACE}-{PARENT}-{flag}");
        let reply = fx
            .get(
                "/me",
                &[
                    ("sentry-trace", sentry_trace.as_bytes()),
                    ("authorization", b"Bearer u-7"),
                ],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", H::NAME);
        ids.push(reply.request_id.expect("an x-request-id"));
    }
    let logs = fx.logs();
    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 1, "only the sampled request");
    let server_span = trace_of(&transactions[0].0.contexts).span_id.to_string();
    for (request_id, sampled) in ids.iter().zip([true, false]) {
        let mine = of_request(&logs, request_id);
        assert_eq!(mine.len(), 1, "{}: {logs:?}", H::NAME);
        let log = mine[0];
        assert_eq!(log.body, "serving /me");
        assert_eq!(log.level, LogLevel::Info);
        assert_eq!(
            log.trace_id.map(|t| t.to_string()).as_deref(),
            Some(TRACE),
            "{}: the caller's trace, sampled={sampled}",
            H::NAME
        );
        assert_eq!(attribute(log, "user.id"), Some("u-7".into()));
        assert_eq!(attribute(log, "seen_user"), Some("u-7".into()));
        assert_eq!(attribute(log, "http.route"), Some("/me".into()));
        assert_eq!(attribute(log, "http.request.method"), Some("GET".into()));
        assert_eq!(attribute(log, "sentry.environment"), Some("test".into()));
        assert_eq!(attribute(log, "sentry.release"), Some("shop@1.2.3".into()));
        assert!(attribute(log, "sentry.sdk.name").is_some());
        let parent = attribute(log, "sentry.trace.parent_span_id");
        assert!(
            parent
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|p| p.len() == 16 && p != PARENT),
            "{}: this service's span, not the caller's: {parent:?}",
            H::NAME
        );
        if sampled {
            assert_eq!(
                parent,
                Some(server_span.clone().into()),
                "the transaction's span"
            );
        }
    }
}

/// Fails if the 404's verdict were "ignore" (no log) or "capture" (an event).
pub async fn not_found_is_one_warn_log_and_no_event<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let missing = fx.get("/missing/9?token=s3cr3t", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, "not found");
    let unrouted = fx.get("/no/such/route?token=s3cr3t", &[]).await;
    assert_eq!(unrouted.status, 404);

    let events = fx.events();
    assert_eq!(events.len(), 1, "{}: only the probe, no 404 event", H::NAME);
    let probe = &events[0];
    assert_eq!(probe.level, sentry_types::protocol::v7::Level::Info);
    assert!(!probe.tags.contains_key("error_type"));
    // The request breadcrumb is on what the request captures later.
    let crumb = probe
        .breadcrumbs
        .values
        .iter()
        .find_map(|b| b.message.as_deref().filter(|m| m.contains("-> 404")))
        .expect("the request breadcrumb");
    assert!(crumb.starts_with("GET /missing/{id} -> 404"), "{crumb}");

    let logs = fx.logs();
    for reply in [&missing, &unrouted] {
        let id = reply.request_id.as_deref().expect("an x-request-id");
        let mine = of_request(&logs, id);
        assert_eq!(mine.len(), 1, "{}: one log per 404: {logs:?}", H::NAME);
        let log = mine[0];
        assert_eq!(log.level, LogLevel::Warn);
        assert!(
            log.body.starts_with("GET /") && log.body.ends_with(" -> 404"),
            "{}",
            log.body
        );
        assert_eq!(
            attribute(log, "http.response.status_code"),
            Some(404.into())
        );
        assert!(log.trace_id.is_some());
    }
    let missing_log = of_request(&logs, missing.request_id.as_deref().unwrap())[0];
    assert_eq!(missing_log.body, "GET /missing/{id} -> 404");
    assert_eq!(
        attribute(missing_log, "http.route"),
        Some("/missing/{id}".into())
    );
    assert_eq!(
        attribute(missing_log, "error_type"),
        Some("http_status".into())
    );
    let wire = serde_json::to_string(&logs).unwrap();
    assert!(!wire.contains("s3cr3t"), "never the query string: {wire}");
}

/// The secrets a handler logs as fields arrive `[Filtered]`, and nowhere else.
pub async fn a_log_field_named_password_is_filtered<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/me", &[("authorization", b"Bearer u-8")]).await;
    assert_eq!(reply.status, 200);
    let logs = fx.logs();
    let mine = of_request(&logs, reply.request_id.as_deref().unwrap());
    assert_eq!(mine.len(), 1, "{}: {logs:?}", H::NAME);
    for key in ["password", "token", "authorization"] {
        assert_eq!(
            attribute(mine[0], key),
            Some("[Filtered]".into()),
            "{}: {key}",
            H::NAME
        );
    }
    let everything: Vec<String> = fx
        .receiver
        .envelopes()
        .iter()
        .map(|e| {
            let mut bytes = Vec::new();
            e.to_writer(&mut bytes).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect();
    for secret in ["hunter2", "t0k3n-in-a-log", "u-in-a-log"] {
        assert!(
            everything.iter().all(|e| !e.contains(secret)),
            "{}: {secret} reached Sentry",
            H::NAME
        );
    }
}

/// `SENTRY_ENABLE_LOGS=false`: neither a handler's lines nor a 404 send a
/// log item; events still go.
pub async fn with_logs_disabled_no_log_item_is_sent<H: Harness>() {
    let fx = Fixture::start::<H>(&[("SENTRY_ENABLE_LOGS", "false")]).await;
    assert_eq!(
        fx.get("/me", &[("authorization", b"Bearer u-9")])
            .await
            .status,
        200
    );
    assert_eq!(
        fx.get("/echo", &[("x-request-id", b"lines-5")])
            .await
            .status,
        200
    );
    assert_eq!(fx.get("/missing/1", &[]).await.status, 404);
    assert_eq!(fx.events().len(), 1, "{}: the probe still goes", H::NAME);
    assert!(fx.logs().is_empty(), "{}", H::NAME);
    assert!(
        fx.receiver.log_batches().is_empty(),
        "{}: no log item at all",
        H::NAME
    );
}

/// 100 lines in one request arrive in at most two envelopes (sentry-core's
/// batcher: 100 logs or 5 s per envelope); lines still batched are sent when
/// the client closes, as when `lookout::init`'s guard drops.
pub async fn logs_are_batched_and_flushed_at_shutdown<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/echo", &[("x-request-id", b"lines-100")]).await;
    assert_eq!(reply.status, 200);
    fx.flush();
    let batches = fx.receiver.log_batches();
    let lines: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(lines, 100, "{}", H::NAME);
    assert!(
        (1..=2).contains(&batches.len()) && batches.iter().all(|b| b.len() <= 100),
        "{}: {:?}",
        H::NAME,
        batches.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let bodies: Vec<&str> = batches.iter().flatten().map(|l| l.body.as_str()).collect();
    assert_eq!(bodies.first().copied(), Some("line 0"));
    assert_eq!(bodies.last().copied(), Some("line 99"));

    let started = Instant::now();
    assert_eq!(
        fx.get("/echo", &[("x-request-id", b"lines-3")])
            .await
            .status,
        200
    );
    assert!(
        fx.shut_down(Duration::from_secs(10)),
        "{}: shut down in time",
        H::NAME
    );
    let after = fx.receiver.logs();
    assert_eq!(
        of_request(&after, "lines-3").len(),
        3,
        "{}: sent at shutdown",
        H::NAME
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "by the close, not a 5 s timer"
    );
}

/// Sentry answers a log envelope with 429 and `log_item` limited: later logs
/// are dropped (and reported as `ratelimit_backoff` in a client report),
/// errors still go.
pub async fn a_429_for_log_items_stops_logs_but_not_errors<H: Harness>() {
    // Unsampled: no transaction envelope comes between the logs and events.
    let fx = Fixture::start::<H>(&[("SENTRY_TRACES_SAMPLE_RATE", "0")]).await;
    fx.receiver.rate_limit_next("60:log_item:organization");
    assert_eq!(
        fx.get("/echo", &[("x-request-id", b"lines-1")])
            .await
            .status,
        200
    );
    fx.flush();
    assert!(
        fx.receiver.envelopes().is_empty(),
        "the log envelope was refused"
    );

    // Logs and an event in the same request: the event goes, the logs do not.
    let identify = fx
        .get("/identify/u-3", &[("x-request-id", b"lines-2")])
        .await;
    assert_eq!(identify.status, 500);
    fx.flush();
    // The next envelope carries the client report of what was dropped.
    assert_eq!(fx.get("/db", &[]).await.status, 503);
    let events = fx.events();
    assert_eq!(events.len(), 2, "{}: errors are not limited", H::NAME);
    assert!(fx.receiver.logs().is_empty(), "{}: logs are", H::NAME);
    let dropped: u64 = fx
        .receiver
        .discarded()
        .into_iter()
        .filter(|(reason, category, _)| reason == "ratelimit_backoff" && category == "log_item")
        .map(|(_, _, quantity)| quantity)
        .sum();
    assert_eq!(dropped, 2, "{}: {:?}", H::NAME, fx.receiver.discarded());
}
