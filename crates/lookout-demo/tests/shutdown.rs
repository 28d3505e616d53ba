//! `lookout-demo serve` stops on SIGTERM when Sentry cannot be reached:
//! against a black hole (accepts, never answers), a refusing port and an
//! endpoint that answers after 5 s, after 0, 1 and 1,000 failing requests
//! whose events cannot be delivered, the real binary exits within the
//! shutdown timeout plus one second of SIGTERM (a bound it is killed at,
//! never a measured time), and its shutdown line says how many envelopes
//! were lost. The library-user counterpart is `tests/shutdown/`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use lookout_tests::bad_sentry::{BadSentry, Failure};
use lookout_tests::process_exit::{Running, ShutdownLine, terminate};

const DEMO: &str = env!("CARGO_BIN_EXE_lookout-demo");

/// Short, so the suite is fast; the bound is this plus one second.
const SHUTDOWN_TIMEOUT_MS: u64 = 1000;

/// `GET path` on a fresh connection; the status line.
fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response.lines().next().unwrap_or_default().to_owned()
}

fn serve_fail_and_terminate(failure: Failure, failures: u64) {
    let sentry = BadSentry::start(failure);
    let mut command = Command::new(DEMO);
    for var in [
        "SENTRY_SPOTLIGHT",
        "SENTRY_RELEASE",
        "LOOKOUT_SEND_IN_DEVELOPMENT",
        "RUST_BACKTRACE",
    ] {
        command.env_remove(var);
    }
    let child = command
        .args(["serve", "--framework", "axum", "--addr", "127.0.0.1:0"])
        .env("SENTRY_DSN", sentry.dsn())
        .env("SENTRY_ENVIRONMENT", "production")
        // One envelope per failing request: no transactions, no sessions.
        .env("SENTRY_TRACES_SAMPLE_RATE", "0")
        .env("SENTRY_AUTO_SESSION_TRACKING", "false")
        .env(
            "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
            SHUTDOWN_TIMEOUT_MS.to_string(),
        )
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut running = Running::new(child);
    let mut first = String::new();
    BufReader::new(running.child().stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("first line");
    let port: u16 = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("first line: {first:?}\n{}", running.stderr()));
    for _ in 0..failures {
        let status = get(port, "/fail");
        assert!(status.starts_with("HTTP/1.1 500"), "{status}");
    }
    terminate(running.child());
    let what = format!("lookout-demo serve against a {failure:?} endpoint");
    let bound = Duration::from_millis(SHUTDOWN_TIMEOUT_MS) + Duration::from_secs(1);
    let (status, stderr) = running.exit_within(bound, &what);
    assert!(status.success(), "{what}: {status}\n{stderr}");
    assert!(stderr.contains("lookout-demo: stopped"), "{stderr}");
    let line = ShutdownLine::find(&stderr);
    sentry.assert_accounted(line, failures);
    if failure == Failure::Slow && failures > 0 {
        assert!(
            sentry
                .events()
                .iter()
                .all(|e| e.tags["http.route"] == "/fail"),
            "the events of the failing route"
        );
    }
}

macro_rules! cases {
    ($($name:ident: $failure:expr, $failures:expr;)*) => {$(
        #[test]
        fn $name() {
            serve_fail_and_terminate($failure, $failures);
        }
    )*};
}

cases! {
    black_hole_nothing_to_deliver: Failure::BlackHole, 0;
    black_hole_one_envelope: Failure::BlackHole, 1;
    black_hole_a_thousand_envelopes: Failure::BlackHole, 1000;
    refusing_nothing_to_deliver: Failure::Refusing, 0;
    refusing_one_envelope: Failure::Refusing, 1;
    refusing_a_thousand_envelopes: Failure::Refusing, 1000;
    slow_nothing_to_deliver: Failure::Slow, 0;
    slow_one_envelope: Failure::Slow, 1;
    slow_a_thousand_envelopes: Failure::Slow, 1000;
}
