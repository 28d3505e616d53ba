//! The demo's background job and cron monitor, through the real binary and
//! the real transport: `POST /jobs/welcome?fail=1` answers 202 and its job's
//! error reaches Sentry on the request's trace; `serve --monitor` sends an
//! `in_progress` / `ok` check-in pair with one id. On every framework the
//! demo serves.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use lookout_tests::receiver::Receiver;
use sentry_types::protocol::v7::{Context, EnvelopeItem, MonitorCheckInStatus};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";

/// The frameworks whose demo module serves `/jobs/welcome`.
const FRAMEWORKS: &[&str] = &["axum", "actix", "warp"];

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(framework: &str, dsn: &str) -> (Server, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout-demo"))
        .args([
            "serve",
            "--framework",
            framework,
            "--addr",
            "127.0.0.1:0",
            "--monitor",
        ])
        .env("SENTRY_DSN", dsn)
        .env("SENTRY_ENVIRONMENT", "production")
        .env("SENTRY_TRACES_SAMPLE_RATE", "1.0")
        .env("LOOKOUT_SHUTDOWN_TIMEOUT_MS", "5000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let port = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .parse()
        .expect("a port");
    (server, port)
}

fn post(port: u16, path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

fn stop(server: Server) {
    let pid = server.0.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut server = server;
    for _ in 0..100 {
        if server.0.try_wait().expect("wait").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the demo did not stop on SIGTERM");
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
        let (server, port) = serve(framework, &receiver.dsn());
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
        stop(server);

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
