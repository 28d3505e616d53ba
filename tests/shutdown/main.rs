//! Shutdown when Sentry cannot be reached, for a library user's `main`
//! (`lookout-shutdown-user`, a bin of this package): against a black hole,
//! a refusing port and an endpoint that answers after 5 s, with 0, 1 and
//! 1,000 undelivered envelopes, the process exits within the shutdown
//! timeout plus a second of returning from `main` (a bound it is killed
//! at, never a measured time) and says how many envelopes were lost. The
//! same for `lookout-demo serve` on SIGTERM: `crates/lookout-demo/tests/shutdown.rs`.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

mod graceful;

use lookout_tests::bad_sentry::{BadSentry, Failure};
use lookout_tests::process_exit::{Running, ShutdownLine};

const USER: &str = env!("CARGO_BIN_EXE_lookout-shutdown-user");

/// Short, so the suite is fast; the bound is this plus one second.
const SHUTDOWN_TIMEOUT_MS: u64 = 1000;

fn bound() -> Duration {
    Duration::from_millis(SHUTDOWN_TIMEOUT_MS) + Duration::from_secs(1)
}

/// Runs the library user against `sentry` with `errors` errors, waits for
/// it to reach the end of `main`, then for it to exit; returns its stderr
/// and stdout after that point.
fn run_user(sentry: &BadSentry, errors: u64, mode: &str) -> (String, String) {
    let mut command = Command::new(USER);
    for var in [
        "SENTRY_SPOTLIGHT",
        "SENTRY_RELEASE",
        "LOOKOUT_SEND_IN_DEVELOPMENT",
    ] {
        command.env_remove(var);
    }
    let child = command
        .args([errors.to_string().as_str(), mode])
        .env("SENTRY_DSN", sentry.dsn())
        .env("SENTRY_ENVIRONMENT", "production")
        // One envelope per error: no transactions, no sessions, no Sentry
        // Logs (each ERROR line would also be a log, batched).
        .env("SENTRY_TRACES_SAMPLE_RATE", "0")
        .env("SENTRY_AUTO_SESSION_TRACKING", "false")
        .env("SENTRY_ENABLE_LOGS", "false")
        .env(
            "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
            SHUTDOWN_TIMEOUT_MS.to_string(),
        )
        // Log lines off; ERROR events still become Sentry events.
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the library user runs");
    let mut running = Running::new(child);
    let mut stdout = BufReader::new(running.child().stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("stdout");
    assert_eq!(
        line.trim(),
        "shutting down",
        "the user reached the end of main; stderr:\n{}",
        running.stderr()
    );
    let what = format!(
        "the library user ({mode}) against a {:?} endpoint",
        sentry.failure()
    );
    let (status, stderr) = running.exit_within(bound(), &what);
    assert!(status.success(), "{what}: {status}\n{stderr}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("stdout");
    (stderr, rest)
}

fn user_drops_the_guard(failure: Failure, errors: u64) {
    let sentry = BadSentry::start(failure);
    let (stderr, _) = run_user(&sentry, errors, "drop");
    let line = ShutdownLine::find(&stderr);
    sentry.assert_accounted(line, errors);
    if line.lost > 0 {
        assert!(
            stderr.contains(&format!(
                "LOOKOUT_SHUTDOWN_TIMEOUT_MS={SHUTDOWN_TIMEOUT_MS}"
            )),
            "the line names the setting that bounds the wait:\n{stderr}"
        );
    }
}

macro_rules! cases {
    ($($name:ident: $failure:expr, $errors:expr;)*) => {$(
        #[test]
        fn $name() {
            user_drops_the_guard($failure, $errors);
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

#[test]
fn guard_shutdown_keeps_the_same_deadline_and_returns_the_counts_it_prints() {
    let sentry = BadSentry::start(Failure::BlackHole);
    let (stderr, stdout) = run_user(&sentry, 1000, "shutdown");
    let line = ShutdownLine::find(&stderr);
    sentry.assert_accounted(line, 1000);
    assert!(
        stdout.contains(&format!(
            "report: accepted={} delivered={} lost={}",
            line.accepted, line.delivered, line.lost
        )),
        "Guard::shutdown returns what the line says: {stdout}\n{stderr}"
    );
}
