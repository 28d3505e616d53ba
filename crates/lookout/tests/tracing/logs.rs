//! `tracing` events as Sentry Logs: on the request's trace with its ids and
//! user, fields as typed attributes, scrubbed, at the configured level.

use http::StatusCode;
use lookout::testing::TestLookout;
use lookout::{TracingOptions, User};
use sentry_core::protocol::{Log, LogLevel, Value};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::{block_on, serve, subscriber};

fn attribute(log: &Log, key: &str) -> Option<Value> {
    log.attributes.get(key).map(|a| a.0.clone())
}

/// Every line of the handler below, at every level, with the subscriber
/// `lookout::init` installs for `test`'s settings.
fn log_every_level(test: &TestLookout) -> (String, lookout::scope::RequestTrace) {
    let (subscriber, _lines) = subscriber(test);
    let (request_id, trace, ()) = tracing::subscriber::with_default(subscriber, || {
        block_on(serve(test, "/users/{id}", StatusCode::OK, async {
            lookout::identify(User::id("42").email("ada@example.com")).expect("in the request");
            tracing::trace!("trace line");
            tracing::debug!("debug line");
            tracing::info!(
                user_id = 7,
                cached = true,
                ratio = 0.5,
                name = "ada",
                password = "hunter2",
                token = "t0k3n",
                authorization = "Bearer abc",
                "loading user"
            );
            tracing::warn!("slow cache");
            tracing::error!("lookup failed");
            tracing::info!(target: "lookout::console", "lookout's own line");
        }))
    });
    (request_id, trace)
}

#[test]
fn a_line_inside_a_request_is_a_log_on_its_trace_with_typed_scrubbed_fields() {
    let test = TestLookout::new();
    let (request_id, trace) = log_every_level(&test);
    let logs = test.logs();
    let bodies: Vec<&str> = logs.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["loading user", "slow cache", "lookup failed"],
        "INFO and up, lookout's own targets left out"
    );
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Info);
    assert_eq!(
        log.trace_id.map(|t| t.to_string()),
        Some(trace.trace_id.to_string())
    );
    assert_eq!(attribute(log, "request_id"), Some(request_id.into()));
    assert_eq!(attribute(log, "http.route"), Some("/users/{id}".into()));
    assert_eq!(attribute(log, "http.request.method"), Some("GET".into()));
    assert_eq!(attribute(log, "user.id"), Some("42".into()));
    assert_eq!(attribute(log, "user.email"), None, "PII is off");
    assert_eq!(attribute(log, "sentry.environment"), Some("test".into()));
    assert_eq!(
        attribute(log, "sentry.trace.parent_span_id"),
        Some(trace.span_id.to_string().into())
    );
    for key in ["password", "token", "authorization"] {
        assert_eq!(attribute(log, key), Some("[Filtered]".into()), "{key}");
    }
    let json = serde_json::to_value(log).unwrap();
    let typed = |key: &str| json["attributes"][key]["type"].clone();
    assert_eq!(typed("user_id"), "integer");
    assert_eq!(typed("cached"), "boolean");
    assert_eq!(typed("ratio"), "double");
    assert_eq!(typed("name"), "string");
    assert_eq!(json["severity_number"], 9);
    assert_eq!(logs[1].level, LogLevel::Warn);
    assert_eq!(logs[2].level, LogLevel::Error);
    // The ERROR line is an event too; the 200 itself leaves no log.
    assert_eq!(test.events().len(), 1);
}

/// A log is written on the thread that logs it: a line logged while the
/// caller borrows the request's user (`with_user`) must neither deadlock on
/// the request's lock nor lose the user.
#[test]
fn a_line_logged_while_the_user_is_borrowed_is_a_log_with_that_user() {
    let (done, finished) = std::sync::mpsc::channel();
    // On a thread of its own: a deadlock fails the test instead of hanging it.
    std::thread::spawn(move || {
        let test = TestLookout::new();
        let (subscriber, _lines) = subscriber(&test);
        tracing::subscriber::with_default(subscriber, || {
            block_on(serve(&test, "/users/{id}", StatusCode::OK, async {
                lookout::identify(User::id("42")).expect("in the request");
                let ctx = lookout::scope::current().expect("in the request");
                ctx.with_user(|user| {
                    tracing::info!(role = ?user.and_then(|u| u.role.clone()), "inside with_user");
                });
            }))
        });
        let _ = done.send(test.logs());
    });
    let logs = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the request finished (no deadlock on the request's lock)");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].body, "inside with_user");
    assert_eq!(attribute(&logs[0], "user.id"), Some("42".into()));
}

#[test]
fn the_level_comes_from_the_settings_unless_code_chooses_one() {
    let warn = TestLookout::from_vars([("LOOKOUT_LOGS_LEVEL", "warn")]).unwrap();
    log_every_level(&warn);
    let bodies: Vec<String> = warn.logs().into_iter().map(|l| l.body).collect();
    assert_eq!(bodies, ["slow cache", "lookup failed"]);

    let debug = TestLookout::from_vars([("LOOKOUT_LOGS_LEVEL", "debug")]).unwrap();
    log_every_level(&debug);
    assert_eq!(debug.logs()[0].body, "debug line");

    // A level chosen in code wins over LOOKOUT_LOGS_LEVEL; `None`: no logs.
    for (level, expected) in [(Some(tracing::Level::ERROR), 1), (None, 0)] {
        let test = TestLookout::from_vars([("LOOKOUT_LOGS_LEVEL", "trace")]).unwrap();
        let layers = lookout::subscriber::tracing_layers(
            test.settings(),
            TracingOptions::new()
                .filter("off")
                .writer(std::io::sink)
                .log_level(level),
        );
        let subscriber = tracing_subscriber::registry().with(layers);
        tracing::subscriber::with_default(subscriber, || {
            block_on(serve(&test, "/x", StatusCode::OK, async {
                tracing::info!("info");
                tracing::error!("error");
            }))
        });
        assert_eq!(test.logs().len(), expected, "{level:?}");
    }
}

/// The same lines become logs with logs on, and none with logs off: through
/// the subscriber `lookout::init` installs, and through the layer alone.
#[test]
fn with_logs_off_no_line_becomes_a_log() {
    let on = TestLookout::from_vars([("SENTRY_ENABLE_LOGS", "true")]).unwrap();
    log_every_level(&on);
    assert!(!on.logs().is_empty(), "with logs on, the lines are logs");
    let test = TestLookout::from_vars([("SENTRY_ENABLE_LOGS", "false")]).unwrap();
    log_every_level(&test);
    assert!(test.logs().is_empty(), "{:?}", test.logs());
    // The layer alone (sentry_layer logs at INFO) still honours the client's switch.
    for (test, expected) in [(&on, 1), (&test, 0)] {
        test.clear();
        let subscriber = tracing_subscriber::registry()
            .with(lookout::subscriber::sentry_layer(&TracingOptions::new()));
        tracing::subscriber::with_default(subscriber, || {
            block_on(serve(test, "/x", StatusCode::OK, async {
                tracing::warn!("a log only when logs are on");
            }))
        });
        let bodies: Vec<String> = test.logs().into_iter().map(|log| log.body).collect();
        assert_eq!(bodies.len(), expected, "{bodies:?}");
    }
}

#[test]
fn a_line_outside_requests_has_the_process_attributes_only() {
    let test = TestLookout::new();
    let (subscriber, _lines) = subscriber(&test);
    tracing::subscriber::with_default(subscriber, || {
        sentry_core::Hub::run(test.hub().clone(), || {
            tracing::info!(job = "cleanup", "nightly cleanup done");
        });
    });
    let logs = test.logs();
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(attribute(log, "request_id"), None);
    assert_eq!(attribute(log, "http.route"), None);
    assert_eq!(attribute(log, "user.id"), None);
    assert_eq!(attribute(log, "sentry.environment"), Some("test".into()));
    assert!(attribute(log, "sentry.sdk.name").is_some());
    assert_eq!(attribute(log, "job"), Some("cleanup".into()));
}

/// The subscriber's most verbose level is that of its most verbose part
/// (tracing-subscriber takes a chain's level from its outermost layer): a
/// DEBUG log level or a `trace` log-line filter is not capped at the INFO of
/// the span layer, so `tracing` does not drop those events before any layer
/// sees them.
#[test]
fn the_subscriber_enables_the_most_verbose_level_any_part_wants() {
    use tracing::Subscriber as _;
    use tracing::level_filters::LevelFilter;
    let hint_of = |vars: &[(&str, &str)], options: TracingOptions| {
        let test = TestLookout::from_vars(vars.iter().copied()).unwrap();
        let layers = lookout::subscriber::tracing_layers(test.settings(), options);
        tracing_subscriber::registry().with(layers).max_level_hint()
    };
    let quiet = || TracingOptions::new().filter("warn").writer(std::io::sink);
    assert_eq!(
        hint_of(&[("LOOKOUT_LOGS_LEVEL", "debug")], quiet()),
        Some(LevelFilter::DEBUG)
    );
    assert_eq!(
        hint_of(
            &[],
            TracingOptions::new().filter("trace").writer(std::io::sink)
        ),
        Some(LevelFilter::TRACE)
    );
    // RUST_LOG=warn keeps the INFO breadcrumbs and logs, and sqlx's DEBUG
    // query events (database spans).
    assert_eq!(hint_of(&[], quiet()), Some(LevelFilter::DEBUG));
    let no_spans = || quiet().span_level(None);
    assert_eq!(hint_of(&[], no_spans()), Some(LevelFilter::INFO));
    let alone = tracing_subscriber::registry().with(lookout::subscriber::sentry_layer(
        &TracingOptions::new().log_level(tracing::Level::TRACE),
    ));
    assert_eq!(alone.max_level_hint(), Some(LevelFilter::TRACE));
}

/// The first log `write` leaves on lookout's own path (no `before_send_log`
/// of the application's: the line is queued with a reference to its request
/// and written as JSON on the batch thread) and on sentry-core's path (an
/// application callback that changes nothing puts the line on it), with the
/// same settings otherwise.
fn on_both_paths(write: impl Fn(&TestLookout) -> Vec<Log>) -> (Log, Log) {
    let log_of = |settings: lookout::policy::Settings| {
        let test = TestLookout::with_settings(settings, |builder| builder);
        write(&test).remove(0)
    };
    let vars = [
        ("SENTRY_ENVIRONMENT", "test"),
        ("SENTRY_RELEASE", "app@1.2.3"),
        ("SENTRY_DSN", lookout::testing::TEST_DSN),
    ];
    let lookouts = log_of(lookout::policy::Settings::from_vars(vars).unwrap());
    let mut with_callback = lookout::policy::Settings::from_vars(vars).unwrap();
    with_callback.before_send_log = Some(std::sync::Arc::new(Some));
    (lookouts, log_of(with_callback))
}

fn keys(log: &Log) -> Vec<String> {
    log.attributes.keys().cloned().collect()
}

/// lookout's own log path sends what sentry-core's path sends for the same
/// line: the same body, level, trace, severity and attributes, scrubbed
/// alike.
#[test]
fn lookouts_log_path_writes_what_sentry_cores_path_writes() {
    let (lookouts, sentry_cores) = on_both_paths(|test| {
        log_every_level(test);
        let logs = test.logs();
        assert_eq!(logs.len(), 3, "{logs:?}");
        logs
    });
    assert_eq!(lookouts.body, sentry_cores.body);
    assert_eq!(lookouts.level, sentry_cores.level);
    assert_eq!(lookouts.severity_number, sentry_cores.severity_number);
    assert_eq!(keys(&lookouts), keys(&sentry_cores));
    for (key, value) in &sentry_cores.attributes {
        // Per request and per line: ids and the line's place in this file.
        if matches!(key.as_str(), "request_id" | "sentry.trace.parent_span_id") {
            continue;
        }
        assert_eq!(lookouts.attributes[key], *value, "{key}");
    }
    assert_eq!(attribute(&lookouts, "password"), Some("[Filtered]".into()));
    assert_eq!(
        attribute(&lookouts, "sentry.release"),
        Some("app@1.2.3".into())
    );
}

/// A line's field named as one of the client's default attributes
/// (`sentry.environment`, ...) keeps the line's value, on lookout's path as
/// on sentry-core's, and the other defaults are still there.
#[test]
fn a_field_named_as_a_default_attribute_keeps_its_value_on_both_paths() {
    let (lookouts, sentry_cores) = on_both_paths(|test| {
        let (subscriber, _lines) = subscriber(test);
        tracing::subscriber::with_default(subscriber, || {
            block_on(serve(test, "/users/{id}", StatusCode::OK, async {
                tracing::info!(sentry.environment = "from-the-line", "moved");
            }))
        });
        let logs = test.logs();
        assert_eq!(logs.len(), 1, "{logs:?}");
        logs
    });
    for log in [&lookouts, &sentry_cores] {
        assert_eq!(
            attribute(log, "sentry.environment"),
            Some("from-the-line".into())
        );
        assert_eq!(attribute(log, "sentry.release"), Some("app@1.2.3".into()));
    }
    assert_eq!(keys(&lookouts), keys(&sentry_cores));
}
