//! `lookout::shutdown_signal()`: a service built like the README's quick
//! start (`lookout-graceful-user`) gets SIGTERM while a Sentry Log is still
//! in its batch (sent after 5 s or 100 logs otherwise), and the receiver
//! gets the batch: the server stops gracefully, `main` returns, the guard
//! flushes. On axum, actix-web and warp. Without the signal, SIGTERM ends
//! the process where it stands and the batch is lost.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use lookout_tests::process_exit::{Running, terminate};
use lookout_tests::receiver::Receiver;

const SERVICE: &str = env!("CARGO_BIN_EXE_lookout-graceful-user");

/// `GET /work` on a fresh connection; the status line.
fn get_work(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /work HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response.lines().next().unwrap_or_default().to_owned()
}

async fn sigterm_delivers_the_pending_log_batch(framework: &'static str) {
    let receiver = Receiver::start().await;
    let dsn = receiver.dsn();
    let (stdout, stderr) = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(SERVICE);
        for var in [
            "SENTRY_SPOTLIGHT",
            "SENTRY_RELEASE",
            "LOOKOUT_SEND_IN_DEVELOPMENT",
            "SENTRY_ENABLE_LOGS",
            "LOOKOUT_LOGS_LEVEL",
        ] {
            command.env_remove(var);
        }
        let child = command
            .arg(framework)
            .env("SENTRY_DSN", dsn)
            .env("SENTRY_ENVIRONMENT", "production")
            // Only the log batch: no transactions, no sessions.
            .env("SENTRY_TRACES_SAMPLE_RATE", "0")
            .env("SENTRY_AUTO_SESSION_TRACKING", "false")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service runs");
        let mut running = Running::new(child);
        let mut stdout = BufReader::new(running.child().stdout.take().expect("piped"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("stdout");
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line {first:?}; stderr:\n{}", running.stderr()))
            .to_owned();
        let status = get_work(&addr);
        assert!(status.starts_with("HTTP/1.1 200"), "{framework}: {status}");
        // The log is in the batch now (sent after 5 s or 100 logs).
        terminate(running.child());
        let (status, stderr) =
            running.exit_within(Duration::from_secs(20), &format!("{framework} service"));
        assert!(status.success(), "{framework}: {status}\n{stderr}");
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).expect("stdout");
        (rest, stderr)
    })
    .await
    .expect("the service's driver");
    assert!(
        stdout.contains("stopped"),
        "{framework}: the server returned on SIGTERM; stdout {stdout:?}\nstderr:\n{stderr}"
    );
    let logs = receiver.logs();
    assert!(
        logs.iter()
            .any(|log| log.body == "the last batch before shutdown"),
        "{framework}: the batch pending at SIGTERM was delivered; got {:?}\nstderr:\n{stderr}",
        logs.iter().map(|l| &l.body).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_sigterm_delivers_the_pending_log_batch() {
    sigterm_delivers_the_pending_log_batch("axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_sigterm_delivers_the_pending_log_batch() {
    sigterm_delivers_the_pending_log_batch("actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_sigterm_delivers_the_pending_log_batch() {
    sigterm_delivers_the_pending_log_batch("warp").await;
}
