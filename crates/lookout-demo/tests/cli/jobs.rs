//! The demo's background job and cron monitor, through the real binary and
//! the real transport: `POST /jobs/welcome?fail=1` answers 202 and its job's
//! error reaches Sentry on the request's trace; `serve --monitor` sends an
//! `in_progress` / `ok` check-in pair with one id. On every framework the
//! demo serves.

use std::time::Duration;

use lookout_tests::receiver::Receiver;

use super::{serve_framework_with, terminate};
use sentry_types::protocol::v7::{Context, EnvelopeItem, MonitorCheckInStatus};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";

/// The frameworks whose demo module serves `/jobs/welcome`.
const FRAMEWORKS: &[&str] = &["axum", "actix", "warp"];

fn post(port: u16, path: &str, headers: &str) -> String {
    super::support::exchange(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Duration::from_secs(10),
    )
}

#[test]
fn the_welcome_job_and_the_heartbeat_monitor_reach_sentry_on_every_framework() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for framework in FRAMEWORKS {
        let receiver = runtime.block_on(Receiver::start());
        let dsn = receiver.dsn();
        let (server, port) = serve_framework_with(
            framework,
            &["--monitor"],
            &[
                ("SENTRY_DSN", dsn.as_str()),
                ("SENTRY_ENVIRONMENT", "production"),
                ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
                ("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "5000"),
            ],
        );
        let response = post(
            port,
            "/jobs/welcome?fail=1",
            &format!("sentry-trace: {TRACE}-a8c2d5f4e3b21907-1\r\n"),
        );
        assert!(
            response.starts_with("HTTP/1.1 202"),
            "{framework}: {response}"
        );
        // The job fails a few ms after the answer; shutdown delivers it.
        std::thread::sleep(Duration::from_millis(300));
        terminate(server);

        let envelopes = receiver.envelopes();
        let event = receiver
            .events()
            .into_iter()
            .find(|event| event.tags.get("error_type").map(String::as_str) == Some("mail"))
            .unwrap_or_else(|| panic!("{framework}: the job's error was not captured"));
        assert_eq!(event.tags["job"], "send-welcome-email");
        match event.contexts.get("trace") {
            Some(Context::Trace(trace)) => {
                assert_eq!(
                    trace.trace_id.to_string(),
                    TRACE,
                    "{framework}: the request's trace"
                );
            }
            other => panic!("{framework}: no trace context: {other:?}"),
        }
        let job = receiver
            .transactions()
            .into_iter()
            .map(|(tx, _)| tx)
            .find(|tx| tx.name.as_deref() == Some("send-welcome-email"))
            .unwrap_or_else(|| panic!("{framework}: no job transaction"));
        match job.contexts.get("trace") {
            Some(Context::Trace(trace)) => assert_eq!(trace.trace_id.to_string(), TRACE),
            other => panic!("{framework}: no trace context: {other:?}"),
        }

        let check_ins: Vec<_> = envelopes
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::MonitorCheckIn(check_in) => Some(check_in.clone()),
                _ => None,
            })
            .filter(|check_in| check_in.monitor_slug == "demo-heartbeat")
            .collect();
        assert!(check_ins.len() >= 2, "{framework}: {check_ins:?}");
        assert_eq!(check_ins[0].status, MonitorCheckInStatus::InProgress);
        assert_eq!(check_ins[1].status, MonitorCheckInStatus::Ok);
        assert_eq!(check_ins[0].check_in_id, check_ins[1].check_in_id);
        assert!(
            check_ins[0].monitor_config.is_some(),
            "the schedule is upserted"
        );
    }
}
