//! Failure injection: Sentry misbehaves on purpose (refuses connections,
//! swallows them, answers after 5 s, answers 429 with `Retry-After` and
//! `X-Sentry-Rate-Limits`, answers 500) while the scenario apps serve on
//! axum, actix-web and warp through the real `sentry`/lookout HTTP
//! transport. Every request is answered as it is with a healthy Sentry and
//! none waits for Sentry; what was dropped is counted in the delivery's
//! stats (`Engine::stats`). Also: 20,000 errors into a black hole keep the
//! queue within its bounds and the process's memory bounded; a rate limit
//! stops only its category; a Spotlight that is down costs nothing; shutdown
//! keeps its deadline when Sentry never answers.
//!
//! Times are printed (medians against a healthy receiver, in the same test),
//! never asserted; every wait has a generous bound.

// The scenario suite's apps, shared as files (a test target cannot depend on
// another); this suite uses only some of their routes and helpers.
#![allow(unreachable_pub, dead_code)]

#[cfg(feature = "actix")]
#[path = "../scenarios/actix_app.rs"]
mod actix_app;
#[path = "../scenarios/app.rs"]
mod app;
#[cfg(feature = "axum")]
#[path = "../scenarios/axum_app.rs"]
mod axum_app;
#[path = "../scenarios/harness.rs"]
mod harness;
#[cfg(feature = "warp")]
#[path = "../scenarios/warp_app.rs"]
mod warp_app;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use lookout_core::delivery::{Delivery, DeliverySnapshot};
use lookout_core::testing::WiredEngine;
use lookout_core::{Engine, RequestHead, ResponseHead};
use lookout_policy::Settings;
use lookout_tests::bad_sentry::{BadSentry, Failure};
use lookout_tests::receiver::Receiver;
use sentry_core::Client;

use harness::{Harness, Placement};

/// How long one request to the app may take, at most: far above anything
/// lookout adds, far below the 5 s a slow Sentry takes per envelope (and the
/// 10 s request timeout of a black hole).
const REQUEST_BOUND: Duration = Duration::from_secs(4);

/// Requests per run: errors (`/db`, captured) and successes (`/echo`).
const REQUESTS: usize = 40;

/// An engine sending to `dsn` through lookout's HTTP transport.
fn wired(dsn: &str, vars: &[(&str, &str)]) -> WiredEngine {
    let mut all = vec![
        ("SENTRY_DSN", dsn),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("SENTRY_ENABLE_LOGS", "false"),
    ];
    all.extend_from_slice(vars);
    let settings = Settings::from_vars(all).expect("valid settings");
    WiredEngine::new(&settings, Delivery::send(), |builder| builder)
}

/// One run of the app under `H` against Sentry at `dsn`: the statuses and
/// durations of every request, the engine and its client.
struct Run {
    statuses: Vec<u16>,
    durations: Vec<Duration>,
    engine: Engine,
    client: Arc<Client>,
}

impl Run {
    fn median(&self) -> Duration {
        let mut sorted = self.durations.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    }
}

async fn run<H: Harness>(dsn: &str) -> Run {
    let wired = wired(dsn, &[]);
    let server = H::serve(wired.engine.clone(), Placement::Recommended).await;
    let http = reqwest_client::Client::builder()
        .timeout(REQUEST_BOUND)
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    let mut durations = Vec::new();
    for i in 0..REQUESTS {
        let path = if i % 2 == 0 { "/db" } else { "/echo" };
        let started = Instant::now();
        let response = http
            .get(format!("http://{}{path}", server.addr))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {path} not answered within {REQUEST_BOUND:?}: {e}",
                    H::NAME
                )
            });
        let status = response.status().as_u16();
        response.bytes().await.expect("the body");
        durations.push(started.elapsed());
        statuses.push(status);
    }
    Run {
        statuses,
        durations,
        engine: wired.engine,
        client: wired.client,
    }
}

/// Polls the engine's stats until `done` says so (at most 20 s), returning
/// the last snapshot either way.
async fn stats_until(
    engine: &Engine,
    done: impl Fn(&DeliverySnapshot) -> bool,
) -> DeliverySnapshot {
    for _ in 0..200 {
        let stats = engine.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.stats()
}

/// Closes the client without waiting for a Sentry that may never answer.
fn close(client: Arc<Client>) {
    std::thread::spawn(move || client.close(Some(Duration::from_millis(100))));
}

/// The app answers as with a healthy Sentry, every request within the
/// bound, while `failure` happens; then checks what the stats counted.
async fn serves_while_sentry_fails<H: Harness>(failure: Failure) {
    let healthy = Receiver::start().await;
    let baseline = run::<H>(&healthy.dsn()).await;
    let sentry = BadSentry::start(failure);
    let failing = run::<H>(&sentry.dsn()).await;
    println!(
        "{} {failure:?}: median request {:?} (healthy Sentry: {:?})",
        H::NAME,
        failing.median(),
        baseline.median()
    );
    assert_eq!(
        failing.statuses,
        baseline.statuses,
        "{}: answered as with a healthy Sentry",
        H::NAME
    );
    let errors = (REQUESTS / 2) as u64;
    let stats = stats_until(&failing.engine, |s| match failure {
        Failure::Refusing => s.dropped.network_error >= 1,
        Failure::ServerError => s.dropped.http_error >= 1,
        Failure::TooManyRequests => s.dropped.rate_limited >= errors,
        Failure::BlackHole | Failure::Slow => s.queued >= errors,
    })
    .await;
    println!("{} {failure:?}: {stats:?}", H::NAME);
    assert_eq!(
        stats.queued,
        errors,
        "{}: every error reached the queue",
        H::NAME
    );
    assert_eq!(stats.dropped.queue_full, 0, "{stats:?}");
    match failure {
        Failure::Refusing => {
            assert!(stats.dropped.network_error >= 1, "{stats:?}");
            assert_eq!(stats.sent, 0, "{stats:?}");
            let error = stats.last_error.as_ref().expect("the last error");
            assert!(error.message.contains("cannot connect"), "{error:?}");
            assert!(!error.message.contains("public@"), "no DSN key: {error:?}");
            // Host and port: the port is often what is wrong.
            let address = sentry
                .dsn()
                .trim_start_matches("http://public@")
                .trim_end_matches("/1")
                .to_owned();
            assert!(error.message.contains(&address), "{address} in {error:?}");
        }
        Failure::ServerError => {
            assert!(stats.dropped.http_error >= 1, "{stats:?}");
            let error = stats.last_error.as_ref().expect("the last error");
            assert!(error.message.contains("500"), "{error:?}");
        }
        Failure::TooManyRequests => {
            // The first errors got the 429 (at most one per delivery lane,
            // four, was on its way before the first answer); the others were
            // held back during the 60 s window, never posted (envelopes of
            // client reports alone still go, and get 429s too).
            let posted = sentry.events().len();
            assert!(
                (1..=4).contains(&posted),
                "no error posted during the window: {posted}"
            );
            // Answered 429 or held back, each error counts as rate limited.
            assert!(stats.dropped.rate_limited >= errors, "{stats:?}");
            assert_eq!(stats.sent, 0, "{stats:?}");
        }
        Failure::BlackHole | Failure::Slow => {
            assert_eq!(
                stats.sent, 0,
                "{failure:?} confirmed nothing yet: {stats:?}"
            );
            assert!(stats.peak_waiting <= errors, "{stats:?}");
        }
    }
    close(failing.client);
    close(baseline.client);
}

macro_rules! failures {
    ($module:ident: $harness:ty) => {
        mod $module {
            use lookout_tests::bad_sentry::Failure;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentry_refusing_connections() {
                crate::serves_while_sentry_fails::<$harness>(Failure::Refusing).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentry_a_black_hole() {
                crate::serves_while_sentry_fails::<$harness>(Failure::BlackHole).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentry_answering_after_5_s() {
                crate::serves_while_sentry_fails::<$harness>(Failure::Slow).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentry_answering_429() {
                crate::serves_while_sentry_fails::<$harness>(Failure::TooManyRequests).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentry_answering_500() {
                crate::serves_while_sentry_fails::<$harness>(Failure::ServerError).await;
            }
        }
    };
}

#[cfg(feature = "axum")]
failures!(axum: crate::axum_app::Axum);
#[cfg(feature = "actix")]
failures!(actix: crate::actix_app::Actix);
#[cfg(feature = "warp")]
failures!(warp: crate::warp_app::Warp);

fn failing_request(lookout: &Engine) {
    let headers = HeaderMap::new();
    let in_flight = lookout.begin(&RequestHead::new("GET", "/fail", &headers).with_route("/fail"));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR));
    finished.body.complete();
}

/// The resident set size of this process, from `/proc/self/status`.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

const MEMORY_CHILD: &str = "LOOKOUT_RESILIENCE_MEMORY_CHILD";
const BLACK_HOLE_ERRORS: u64 = 20_000;
const MAX_ENVELOPES: u64 = 1_000;
const MAX_BYTES: u64 = 2 * 1024 * 1024;
/// How much the process may grow while the 20,000 errors are captured: the
/// queue's bounds (1,000 envelopes, 2 MiB serialized) plus the allocator's
/// slack; an unbounded queue holding all 20,000 grows past it.
const RSS_GROWTH_BOUND: u64 = 48 * 1024 * 1024;

/// Run alone in a child process (by the test below), so that the resident
/// memory it measures is its own.
#[test]
#[ignore = "run in a child process by twenty_thousand_errors_into_a_black_hole_stay_within_the_bounds"]
fn memory_child() {
    if std::env::var_os(MEMORY_CHILD).is_none() {
        return;
    }
    let sentry = BadSentry::start(Failure::BlackHole);
    let max_envelopes = MAX_ENVELOPES.to_string();
    let max_bytes = MAX_BYTES.to_string();
    let wired = wired(
        &sentry.dsn(),
        &[
            ("LOOKOUT_QUEUE_MAX_ENVELOPES", &max_envelopes),
            ("LOOKOUT_QUEUE_MAX_BYTES", &max_bytes),
        ],
    );
    // Warm up (the first envelope starts the transport thread and its runtime).
    failing_request(&wired.engine);
    std::thread::sleep(Duration::from_millis(200));
    let before = resident_bytes();
    let mut peak = before;
    for i in 1..BLACK_HOLE_ERRORS {
        failing_request(&wired.engine);
        if i % 1000 == 0 {
            peak = peak.max(resident_bytes());
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    peak = peak.max(resident_bytes());
    let stats = wired.engine.stats();
    println!(
        "black hole: {BLACK_HOLE_ERRORS} errors, RSS {} -> peak {} KiB, {stats:?}",
        before / 1024,
        peak / 1024
    );
    assert_eq!(stats.queued, BLACK_HOLE_ERRORS, "{stats:?}");
    assert!(stats.peak_waiting <= MAX_ENVELOPES, "{stats:?}");
    assert!(stats.peak_waiting_bytes <= MAX_BYTES, "{stats:?}");
    assert!(
        stats.waiting <= MAX_ENVELOPES && stats.waiting_bytes <= MAX_BYTES,
        "{stats:?}"
    );
    // All but what the queue and the transport's batch hold was dropped and counted.
    assert!(
        stats.dropped.queue_full >= BLACK_HOLE_ERRORS - MAX_ENVELOPES - 64,
        "{stats:?}"
    );
    assert_eq!(stats.sent, 0);
    assert!(
        peak.saturating_sub(before) < RSS_GROWTH_BOUND,
        "resident memory grew by {} KiB (bound {} KiB)",
        (peak - before) / 1024,
        RSS_GROWTH_BOUND / 1024
    );
    assert!(sentry.connections() > 0, "the real transport connected");
    // Shutdown keeps its deadline although the black hole never answers.
    let (done, closed) = std::sync::mpsc::channel();
    let client = Arc::clone(&wired.client);
    std::thread::spawn(move || {
        let _ = done.send(client.close(Some(Duration::from_millis(500))));
    });
    let sent = closed
        .recv_timeout(Duration::from_secs(20))
        .expect("shutdown returned although Sentry never answered");
    assert!(!sent);
    let stats = wired.engine.stats();
    assert!(
        stats.dropped.shutdown > 0,
        "what waited at the deadline is counted: {stats:?}"
    );
    println!("MEMORY_CHILD_OK");
}

#[test]
fn twenty_thousand_errors_into_a_black_hole_stay_within_the_bounds() {
    let output = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "memory_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MEMORY_CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("MEMORY_CHILD_OK"),
        "the child failed:\n{stdout}\n{stderr}"
    );
}

/// A rate limit for transactions holds back transactions only: errors still
/// go, and what was held back is counted. (The scenario suite checks the
/// same for `log_item`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_rate_limit_holds_back_transactions_and_errors_still_go() {
    let receiver = Receiver::start().await;
    let wired = wired(&receiver.dsn(), &[("SENTRY_TRACES_SAMPLE_RATE", "1.0")]);
    receiver.rate_limit_next("60:transaction:organization");
    let flush = |client: &Arc<Client>| {
        let client = Arc::clone(client);
        tokio::task::spawn_blocking(move || client.flush(Some(Duration::from_secs(20))))
    };
    // The first envelope to arrive (this request's error or its
    // transaction, they travel on separate lanes) is answered 429.
    failing_request(&wired.engine);
    assert!(flush(&wired.client).await.unwrap());
    let before = receiver.envelopes().len();
    // The first request's transaction may have been on its way on another
    // lane while its error was answered 429: the window starts at the answer.
    let sent_before_the_limit = receiver.transactions().len();
    let events_before = receiver.events().len();
    for _ in 0..10 {
        failing_request(&wired.engine);
    }
    assert!(flush(&wired.client).await.unwrap());
    let events = receiver.events().len();
    let transactions = receiver.transactions().len();
    let stats = wired.engine.stats();
    println!("after the limit: {events} events, {transactions} transactions, {stats:?}");
    assert_eq!(
        transactions, sent_before_the_limit,
        "no transaction during the window"
    );
    assert_eq!(events - events_before, 10, "errors still go");
    assert!(receiver.envelopes().len() > before);
    // The ten later transactions and the envelope answered 429, plus the
    // first request's transaction when its error was answered 429 and it
    // was held back (it was neither on its way already nor the one answered).
    let held_back_first = sent_before_the_limit == 0 && events_before == 0;
    let expected = 11 + u64::from(held_back_first);
    assert_eq!(stats.dropped.rate_limited, expected, "{stats:?}");
    wired.client.close(Some(Duration::from_secs(5)));
}

/// Spotlight down: requests are served, the copy fails a few times and
/// backs off (it does not try once per envelope), the main delivery gets
/// everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spotlight_down_costs_nothing_and_main_delivery_is_unaffected() {
    let receiver = Receiver::start().await;
    let down = BadSentry::start(Failure::Refusing);
    let spotlight = format!("{}/stream", down.dsn().replace("public@", ""));
    let wired = wired(&receiver.dsn(), &[("SENTRY_SPOTLIGHT", &spotlight)]);
    for _ in 0..200 {
        failing_request(&wired.engine);
    }
    let client = Arc::clone(&wired.client);
    let flushed = tokio::task::spawn_blocking(move || client.flush(Some(Duration::from_secs(20))))
        .await
        .unwrap();
    let stats = wired.engine.stats();
    println!("spotlight down: {stats:?}");
    assert!(flushed);
    assert_eq!(receiver.events().len(), 200, "main delivery unaffected");
    assert_eq!(stats.sent, 200, "{stats:?}");
    let spotlight = stats.spotlight.expect("spotlight on");
    assert!(spotlight.failures >= 1, "{spotlight:?}");
    assert!(
        spotlight.failures < 20,
        "backs off instead of trying every envelope: {spotlight:?}"
    );
    assert_eq!(spotlight.delivered, 0);
    wired.client.close(Some(Duration::from_secs(5)));
}
