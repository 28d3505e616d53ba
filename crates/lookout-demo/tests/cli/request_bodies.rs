//! `POST /fail` through the real binary and transport, on every framework:
//! the event carries the body the handler read (secrets filtered); the two
//! settings of issue 27 are read from the environment like every other
//! (`LOOKOUT_MAX_REQUEST_BODY_SIZE=never` records no body,
//! `LOOKOUT_TRACE_IGNORE_STATUS_CODES` decides which transactions are sent).

use std::time::Duration;

use lookout_tests::receiver::Receiver;

use super::{serve_framework_with, terminate};

const FRAMEWORKS: &[&str] = &["axum", "actix", "warp"];

fn post_json(port: u16, path: &str, body: &str) -> String {
    super::support::exchange(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        Duration::from_secs(10),
    )
}

fn get(port: u16, path: &str) -> String {
    super::support::exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        Duration::from_secs(10),
    )
}

/// Serves `framework` sending to a fresh receiver with `vars`, posts an
/// order to `/fail` and asks for a missing item; returns the receiver
/// once the demo shut down.
fn run(runtime: &tokio::runtime::Runtime, framework: &str, vars: &[(&str, &str)]) -> Receiver {
    let receiver = runtime.block_on(Receiver::start());
    let dsn = receiver.dsn();
    let mut all = vec![
        ("SENTRY_DSN", dsn.as_str()),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
        ("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "5000"),
    ];
    all.extend_from_slice(vars);
    let (server, port) = serve_framework_with(framework, &[], &all);
    let answer = post_json(port, "/fail", r#"{"order":17,"password":"hunter2"}"#);
    assert!(answer.starts_with("HTTP/1.1 500"), "{framework}: {answer}");
    let answer = get(port, "/items/404");
    assert!(answer.starts_with("HTTP/1.1 404"), "{framework}: {answer}");
    terminate(server);
    receiver
}

#[test]
fn post_fail_carries_its_body_and_both_settings_come_from_the_environment() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for framework in FRAMEWORKS {
        // Defaults: medium bodies, 401-404 and redirects send no transaction.
        let receiver = run(&runtime, framework, &[]);
        let event = receiver
            .events()
            .into_iter()
            .find(|e| e.transaction.as_deref() == Some("POST /fail"))
            .unwrap_or_else(|| panic!("{framework}: no event for POST /fail"));
        assert_eq!(event.tags["error_type"], "app_service", "{framework}");
        let data: serde_json::Value = serde_json::from_str(
            event
                .request
                .as_ref()
                .and_then(|r| r.data.as_deref())
                .unwrap_or_else(|| panic!("{framework}: no request.data")),
        )
        .unwrap();
        assert_eq!(
            data,
            serde_json::json!({"order": 17, "password": "[Filtered]"}),
            "{framework}"
        );
        let names: Vec<_> = receiver
            .transactions()
            .into_iter()
            .filter_map(|(tx, _)| tx.name)
            .collect();
        assert!(
            names.contains(&"POST /fail".to_owned()),
            "{framework}: {names:?}"
        );
        assert!(
            !names.contains(&"GET /items/{id}".to_owned()),
            "{framework}: the 404 sends no transaction: {names:?}"
        );

        let receiver = run(
            &runtime,
            framework,
            &[
                ("LOOKOUT_MAX_REQUEST_BODY_SIZE", "never"),
                ("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "500"),
            ],
        );
        let event = receiver
            .events()
            .into_iter()
            .find(|e| e.transaction.as_deref() == Some("POST /fail"))
            .unwrap_or_else(|| panic!("{framework}: no event for POST /fail"));
        assert!(
            event.request.as_ref().is_none_or(|r| r.data.is_none()),
            "{framework}: never records no body"
        );
        let names: Vec<_> = receiver
            .transactions()
            .into_iter()
            .filter_map(|(tx, _)| tx.name)
            .collect();
        assert!(
            names.contains(&"GET /items/{id}".to_owned()),
            "{framework}: {names:?}"
        );
        assert!(
            !names.contains(&"POST /fail".to_owned()),
            "{framework}: {names:?}"
        );
    }
}
