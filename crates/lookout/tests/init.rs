//! `lookout::init` for real: process-wide state (the global engine, the
//! process Hub's client, the global subscriber), so this suite is its own
//! test binary with a single test, and it never reads or changes the
//! process environment (settings come from `Options::vars`).

use http::{HeaderMap, StatusCode};
use lookout::engine::{Engine, RequestHead, ResponseHead};
use lookout::{Options, TracingOptions};

const SECRET_DSN: &str =
    "https://0123456789abcdef0123456789abcdef:topsecretkey@o4711.ingest.sentry.io/42";

#[test]
fn init_wires_everything_once_and_a_second_init_is_a_harmless_no_op() {
    let (sink, lines) = lookout::engine::collecting_console();
    let guard = lookout::init!(
        Options::new()
            .vars([("SENTRY_ENVIRONMENT", "development")])
            .console_sink(sink)
            .tracing(TracingOptions::new().filter("warn"))
            .print_summary(false)
    )
    .expect("valid settings");
    assert!(guard.is_active());
    assert!(guard.subscriber_installed());
    // `init!` names the release after the calling package (here the facade itself).
    let release = format!("lookout-sentry@{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        guard.settings().release.value.as_deref(),
        Some(release.as_str())
    );
    assert!(
        guard.summary().contains("delivery=console"),
        "{}",
        guard.summary()
    );

    // `log` records are bridged down to what the lines and Sentry want
    // (INFO breadcrumbs), not to the database spans' DEBUG.
    assert_eq!(
        tracing_log::log::max_level(),
        tracing_log::log::LevelFilter::Info
    );

    // A request through the global engine: an ERROR log inside it reaches the
    // console sink through the process Hub's client and the global subscriber.
    let headers = HeaderMap::new();
    let request =
        Engine::global().begin(&RequestHead::new("GET", "/pay", &headers).with_route("/pay"));
    let request_id = request.context().request_id().to_owned();
    let span = request.tracing_span();
    request.context().enter(|| {
        let _entered = span.enter();
        tracing::error!("card declined");
        // `log` records reach the same subscriber.
        tracing_log::log::error!("ledger write failed");
    });
    request
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    let all = lines.lock().unwrap().clone();
    // The sampled request's transaction has a console line of its own.
    assert!(
        all.iter()
            .any(|line| line.starts_with("lookout transaction \"GET /pay\" op=http.server")),
        "{all:?}"
    );
    let printed: Vec<_> = all
        .into_iter()
        .filter(|line| line.starts_with("lookout event "))
        .collect();
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(printed[0].contains("\"card declined\""), "{printed:?}");
    assert!(
        printed[1].contains("\"ledger write failed\""),
        "{printed:?}"
    );
    for line in &printed {
        assert!(line.contains(&format!("request_id={request_id}")), "{line}");
    }

    // Calling init again: no panic, an inert guard, the first setup stays.
    let again = lookout::init_with(
        Options::new()
            .vars([
                ("SENTRY_DSN", SECRET_DSN),
                ("SENTRY_ENVIRONMENT", "production"),
            ])
            .print_summary(false),
    )
    .expect("valid settings");
    assert!(!again.is_active());
    assert!(!again.subscriber_installed());
    assert!(again.flush(None));
    // The summary names the DSN's host and project, never its keys.
    let summary = again.summary();
    assert!(
        summary.contains("dsn=o4711.ingest.sentry.io/42"),
        "{summary}"
    );
    assert!(!summary.contains("topsecretkey"), "{summary}");
    assert!(!summary.contains("0123456789abcdef"), "{summary}");
    drop(again);

    // Invalid settings are still reported on a later call.
    let err =
        lookout::init_with(Options::new().vars([("SENTRY_TRACES_SAMPLE_RATE", "2")])).unwrap_err();
    assert_eq!(err.variable(), "SENTRY_TRACES_SAMPLE_RATE");

    // The first guard still works after the second call was dropped.
    assert!(guard.flush(Some(std::time::Duration::from_secs(2))));
    drop(guard);
}
