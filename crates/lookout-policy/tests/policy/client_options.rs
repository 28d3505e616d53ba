//! Settings -> sentry_core::ClientOptions.

use lookout_policy::{Overrides, Settings};
use sentry_core::protocol::Event;
use sentry_core::{SessionMode, TracesSamplingStrategy, TransactionContext};

use crate::{DSN, resolve, server};

fn sampler_rate(settings: &Settings, ctx: &TransactionContext) -> f32 {
    match &settings.client_options().traces_sampling_strategy {
        TracesSamplingStrategy::Function(f) => f(ctx),
        other => panic!("expected a sampler function, got {other:?}"),
    }
}

#[test]
fn options_carry_every_setting() {
    let s = resolve(&[
        ("SENTRY_DSN", DSN),
        ("SENTRY_RELEASE", "api@1.4.2"),
        ("SENTRY_SAMPLE_RATE", "0.5"),
        ("SENTRY_MAX_BREADCRUMBS", "20"),
        ("SENTRY_STRICT_TRACE_CONTINUATION", "true"),
        ("SENTRY_ORG_ID", "77"),
        ("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "500"),
        ("LOOKOUT_QUEUE_MAX_ENVELOPES", "3000"),
    ])
    .unwrap();
    let o = s.client_options();
    assert_eq!(
        o.dsn.as_ref().map(|d| d.host().to_owned()).as_deref(),
        Some("o123.ingest.sentry.io")
    );
    assert_eq!(o.environment.as_deref(), Some("production"));
    assert_eq!(o.release.as_deref(), Some("api@1.4.2"));
    assert!(
        matches!(o.event_sampling_strategy, sentry_core::EventSamplingStrategy::FixedRate(r) if r == 0.5)
    );
    assert_eq!(o.max_breadcrumbs, 20);
    assert!(o.strict_trace_continuation);
    assert_eq!(o.org_id.map(|id| id.to_string()).as_deref(), Some("77"));
    assert!(o.attach_stacktrace);
    assert!(!o.send_default_pii);
    assert!(o.auto_session_tracking);
    assert_eq!(o.session_mode, SessionMode::Request);
    assert_eq!(o.shutdown_timeout.as_millis(), 500);
    assert_eq!(o.transport_channel_capacity.map(|n| n.get()), Some(3000));
    assert!(o.before_send.is_some() && o.before_breadcrumb.is_some());
}

#[test]
fn no_dsn_outside_send_mode_and_no_sessions_without_release() {
    let s = resolve(&[("SENTRY_DSN", DSN), ("SENTRY_ENVIRONMENT", "development")]).unwrap();
    let o = s.client_options();
    assert!(o.dsn.is_none(), "console mode must not send");
    assert!(!o.auto_session_tracking);
}

#[test]
fn before_send_scrubs_and_runs_the_users_callback() {
    let s = Overrides::new()
        .detection(server())
        .before_send(|mut e| {
            e.tags.insert("user_cb".into(), "ran".into());
            Some(e)
        })
        .resolve([("SENTRY_DSN", DSN)])
        .unwrap();
    let o = s.client_options();
    let mut event = Event::default();
    event.extra.insert("password".into(), "hunter2".into());
    let event = (o.before_send.as_ref().unwrap())(event).unwrap();
    assert_eq!(event.tags["user_cb"], "ran");
    assert_eq!(event.extra["password"], "[Filtered]");
}

#[test]
#[allow(deprecated)] // `enable_logs` is the switch sentry-tracing's log layer reads
fn logs_are_switched_by_enable_logs_and_scrubbed_before_send() {
    let on = resolve(&[("SENTRY_DSN", DSN)]).unwrap().client_options();
    assert!(on.enable_logs);
    let off = resolve(&[("SENTRY_DSN", DSN), ("SENTRY_ENABLE_LOGS", "false")])
        .unwrap()
        .client_options();
    assert!(!off.enable_logs);

    let s = Overrides::new()
        .detection(server())
        .before_send_log(|mut log| {
            log.attributes.insert("seen_by_user".into(), true.into());
            Some(log)
        })
        .resolve([("SENTRY_DSN", DSN)])
        .unwrap();
    let log = sentry_core::protocol::Log {
        level: sentry_core::protocol::LogLevel::Info,
        body: "login".into(),
        trace_id: None,
        timestamp: std::time::SystemTime::now(),
        severity_number: None,
        attributes: [("password".to_owned(), "hunter2".into())]
            .into_iter()
            .collect(),
    };
    let log = (s.client_options().before_send_log.as_ref().unwrap())(log).unwrap();
    assert_eq!(log.attributes["password"].0, "[Filtered]");
    assert_eq!(log.attributes["seen_by_user"].0, true);
}

#[test]
fn traces_sampler_keeps_decisions_and_ignores_routes() {
    let s = resolve(&[("SENTRY_TRACES_SAMPLE_RATE", "1")]).unwrap();
    let users = TransactionContext::new("GET /users/{id}", "http.server");
    assert_eq!(sampler_rate(&s, &users), 1.0);
    let health = TransactionContext::new("GET /health", "http.server");
    assert_eq!(sampler_rate(&s, &health), 0.0);
    let mut decided = TransactionContext::new("GET /health", "http.server");
    decided.set_sampled(true);
    assert_eq!(sampler_rate(&s, &decided), 1.0);
    let s = resolve(&[("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    assert_eq!(sampler_rate(&s, &users), 0.0);
}
