//! The whole stack as a service runs it, in process: what `lookout::init`
//! installs (the global subscriber with lookout's fmt and Sentry layers and
//! its filters, the engine, request-mode sessions with a release, the send
//! queue and the real HTTP transport posting to a local receiver) under
//! `lookout::axum::layer()`, on a multi-threaded runtime with 32 requests in
//! flight, next to the same router bare and with the official stack a user
//! would otherwise pick: `sentry::apply_defaults` (the real HTTP transport,
//! the default integrations), a subscriber with a fmt layer and
//! sentry-tracing's span, breadcrumb and error layers, and sentry-tower's
//! `SentryLayer` + `SentryHttpLayer` with transactions.
//!
//! The layer-only suite (`crates/lookout-axum/benches/overhead.rs`) leaves
//! all of that out and runs one request at a time; this one predicts what
//! `cargo xtask loadtest` measures.
//!
//! Every request carries `sentry-trace` + a browser SDK's `baggage`; the
//! caller's decision is `-0` (unsampled) or `-1` (sampled, a transaction
//! per request, posted to the receiver). The handler writes one `info`
//! line, as the demo's route does: a breadcrumb and, with Sentry Logs on
//! (the default), a Sentry Log on both stacks. Both stacks print lines
//! from `warn` up, as a production service does (`RUST_LOG=warn`).
//!
//! Before criterion runs, each stack's CPU time per request is printed: the
//! process's user + system time over 200,000 requests (from
//! `/proc/self/stat`, 10 ms ticks, so within 0.05 µs here), minus the
//! receiver's thread (`/proc/self/task/<tid>/stat`); this includes the
//! delivery threads, as the load test's figure does, with the envelopes the
//! receiver read per request (a sampled request's transaction is one; a
//! transport that drops under load delivers fewer). criterion then gives
//! the wall time per request with 32 in flight on 2 worker threads.
//!
//! The stacks are built one after another, lookout's first: `init` installs
//! process-wide state, and the official stack's subscriber is set only on its
//! own runtime's threads, once lookout's cases have run (a second subscriber
//! in the process changes how `tracing` caches its callsites' interest).
//!
//! Reproduce with `cargo bench -p lookout-sentry --features axum --bench full_stack`.
//! `FULL_STACK_PROFILE=unsampled` (or `sampled`) runs lookout's stack alone
//! for 10 s without criterion, for `perf record`; `FULL_STACK_CPU_ONLY=1`
//! prints the CPU times without criterion's wall times;
//! `FULL_STACK_LOGS=off` turns Sentry Logs off (on by default, as for
//! users: the handler's `info` line is then a breadcrumb and a log).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::routing::get;
use criterion::Criterion;
use http::Request;
use http_body_util::BodyExt as _;
use sentry_core::Hub;
use sentry_tower::{SentryHttpLayer, SentryLayer};
use tower::ServiceExt as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

const KEY: &str = "49d0f7386ad645858ae85020e393bef3";
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
/// Requests in flight at once, as `wrk -c32` keeps them in the load test.
const IN_FLIGHT: u64 = 32;
/// Requests of the CPU-time measurement, after as many again to warm up.
const CPU_REQUESTS: u64 = 200_000;

async fn user(Path(id): Path<u32>) -> String {
    // The demo's route writes this line: a breadcrumb, and a Sentry Log
    // under the defaults.
    tracing::info!(user_id = %id, "loading user");
    format!("user {id}")
}

/// Whether Sentry Logs are on: the default, unless `FULL_STACK_LOGS=off`.
fn logs_on() -> bool {
    std::env::var("FULL_STACK_LOGS").map_or(true, |v| v != "off")
}

fn router() -> Router {
    Router::new().route("/users/{id}", get(user))
}

fn request(sampled: bool) -> Request<Body> {
    let (flag, rate) = if sampled { ("1", "1.0") } else { ("0", "0.0") };
    Request::get("/users/42")
        .header(
            "sentry-trace",
            format!("{TRACE_ID}-b7ad6b7169203331-{flag}"),
        )
        .header(
            "baggage",
            format!(
                "sentry-trace_id={TRACE_ID},sentry-public_key={KEY},sentry-sample_rate={rate},\
                 sentry-sample_rand=0.4242,sentry-sampled={sampled},sentry-release=web%401.0.0,\
                 sentry-environment=production,sentry-transaction=%2Fusers%2F%3Aid"
            ),
        )
        .body(Body::empty())
        .expect("a request")
}

/// Envelopes the receiver has read.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// The receiver: answers every envelope `200 {}` after reading it, on a
/// thread of its own (whose CPU time is left out). Returns its port and the
/// thread's id.
fn receiver() -> (u16, u32) {
    let (sender, ready) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("receiver".into())
        .spawn(move || {
            let tid = thread_id();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a port");
                let port = listener.local_addr().expect("an address").port();
                sender.send((port, tid)).expect("the bench waits");
                let app = Router::new().fallback(|body: Bytes| async move {
                    black_box(body);
                    RECEIVED.fetch_add(1, Ordering::Relaxed);
                    "{}"
                });
                axum::serve(listener, app).await.expect("the receiver runs");
            });
        })
        .expect("a thread");
    ready.recv().expect("the receiver starts")
}

/// This thread's id, from `/proc/thread-self` (`/proc/<pid>/task/<tid>`).
fn thread_id() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("Linux /proc");
    link.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.parse().ok())
        .expect("a thread id")
}

/// User + system time in clock ticks from a `/proc/.../stat` file.
fn ticks(path: &str) -> u64 {
    let stat = std::fs::read_to_string(path).expect("a stat file");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// Linux's `USER_HZ`, the unit of `/proc` CPU times.
const TICKS_PER_SECOND: f64 = 100.0;

fn runtime(on_thread_start: impl Fn() + Send + Sync + 'static) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(on_thread_start)
        .build()
        .expect("a runtime")
}

/// Serves `requests` requests, `IN_FLIGHT` at a time, reading each body to
/// its end; returns the wall time.
fn drive(rt: &tokio::runtime::Runtime, app: &Router, requests: u64, sampled: bool) -> Duration {
    let tasks = requests.clamp(1, IN_FLIGHT);
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|task| {
                let app = app.clone();
                let share = requests / tasks + u64::from(task < requests % tasks);
                tokio::spawn(async move {
                    for _ in 0..share {
                        let response = app
                            .clone()
                            .oneshot(request(sampled))
                            .await
                            .expect("infallible");
                        black_box(response.into_body().collect().await.expect("a body"));
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("no panic");
        }
    });
    start.elapsed()
}

/// The process's CPU time per request, the receiver's left out, in µs, and
/// the envelopes the receiver read per request (after a second for the
/// queue to drain).
fn cpu_per_request(
    rt: &tokio::runtime::Runtime,
    app: &Router,
    sampled: bool,
    receiver_tid: u32,
) -> (f64, f64) {
    let receiver = format!("/proc/self/task/{receiver_tid}/stat");
    drive(rt, app, CPU_REQUESTS, sampled);
    std::thread::sleep(Duration::from_secs(1));
    let received = RECEIVED.load(Ordering::Relaxed);
    let (process, sink) = (ticks("/proc/self/stat"), ticks(&receiver));
    drive(rt, app, CPU_REQUESTS, sampled);
    let process = ticks("/proc/self/stat") - process;
    let sink = ticks(&receiver) - sink;
    std::thread::sleep(Duration::from_secs(1));
    let received = RECEIVED.load(Ordering::Relaxed) - received;
    let cpu = (process - sink) as f64 / TICKS_PER_SECOND * 1e6 / CPU_REQUESTS as f64;
    (cpu, received as f64 / CPU_REQUESTS as f64)
}

struct Stack {
    name: &'static str,
    rt: tokio::runtime::Runtime,
    app: Router,
}

/// What `lookout::init` installs, from the settings a production service
/// has, and the router under `lookout::axum::layer()`.
fn lookout_stack(port: u16) -> (Stack, lookout::Guard) {
    let dsn = format!("http://{KEY}@127.0.0.1:{port}/1");
    let guard = lookout::init_with(
        lookout::Options::new()
            .vars([
                ("SENTRY_DSN", dsn.as_str()),
                ("SENTRY_ENVIRONMENT", "production"),
                ("SENTRY_RELEASE", "bench@1.0.0"),
                ("SENTRY_TRACES_SAMPLE_RATE", "0"),
                (
                    "SENTRY_ENABLE_LOGS",
                    if logs_on() { "true" } else { "false" },
                ),
            ])
            .tracing(lookout::TracingOptions::new().filter("warn"))
            .print_summary(false),
    )
    .expect("valid settings");
    assert!(guard.subscriber_installed(), "the bench's first subscriber");
    let stack = Stack {
        name: "axum + lookout (init)",
        rt: runtime(|| ()),
        app: router().layer(lookout::axum::layer()),
    };
    (stack, guard)
}

/// The official stack: `sentry::apply_defaults` with the same DSN,
/// environment and release, a subscriber with a fmt layer at `warn` and
/// sentry-tracing's span, breadcrumb and error layers at the levels lookout
/// uses (set on its runtime's threads), sentry-tower's layers with
/// transactions (`SentryLayer` deriving each request's Hub from a Hub of
/// its own, as `NewSentryLayer::new_from_top` does from the current one).
fn sentry_tower_stack(port: u16) -> (Stack, Arc<sentry_core::Client>) {
    #[allow(deprecated)] // `enable_logs` is the switch sentry-tracing's log layer reads.
    let options = sentry::apply_defaults(
        sentry_core::ClientOptions::new()
            .dsn(format!("http://{KEY}@127.0.0.1:{port}/2").as_str())
            .environment("production")
            .release("bench@1.0.0")
            .traces_sample_rate(0.0)
            .enable_logs(logs_on()),
    );
    let client = Arc::new(sentry_core::Client::with_options(options));
    let hub = Arc::new(Hub::new(Some(Arc::clone(&client)), Arc::default()));
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stdout)
                    .with_filter(LevelFilter::WARN),
            )
            .with(sentry_tracing::SpanLayer::new().with_filter(LevelFilter::INFO))
            .with(sentry_tracing::BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
            .with(sentry_tracing::ErrorLayer::new().with_filter(LevelFilter::ERROR))
            .with(
                logs_on().then(|| sentry_tracing::LogLayer::new().with_filter(LevelFilter::INFO)),
            ),
    );
    let rt = runtime(move || {
        // For the thread's life: the runtime's threads are this stack's.
        std::mem::forget(tracing::dispatcher::set_default(&dispatch));
    });
    let provider = move |_: &Request<Body>| Arc::new(Hub::new_from_top(&hub));
    let app = router().layer(
        tower::ServiceBuilder::new()
            .layer(SentryLayer::<_, Arc<Hub>, Request<Body>>::new(provider))
            .layer(SentryHttpLayer::new().enable_transaction()),
    );
    let stack = Stack {
        name: "axum + sentry-tower (sentry defaults)",
        rt,
        app,
    };
    (stack, client)
}

fn measure(c: &mut Criterion, stack: &Stack, receiver_tid: u32, cpu: &mut Vec<String>) {
    for sampled in [false, true] {
        let label = if sampled { "sampled" } else { "unsampled" };
        let (per_request, envelopes) =
            cpu_per_request(&stack.rt, &stack.app, sampled, receiver_tid);
        let line = format!(
            "  {label:9} {:40} {per_request:6.2} µs   envelopes received per request {envelopes:.3}",
            stack.name
        );
        println!("{line}");
        cpu.push(line);
        if std::env::var_os("FULL_STACK_CPU_ONLY").is_some() {
            continue;
        }
        let mut group = c.benchmark_group(format!("full_stack/{label}"));
        group.bench_function(stack.name, |b| {
            b.iter_custom(|iters| drive(&stack.rt, &stack.app, iters, sampled))
        });
        group.finish();
    }
}

fn main() {
    // `FULL_STACK_PROFILE=unsampled|sampled`: lookout's stack alone, driven
    // for 10 s without criterion, to run under `perf record`.
    if let Ok(label) = std::env::var("FULL_STACK_PROFILE") {
        let sampled = match label.as_str() {
            "sampled" => true,
            "unsampled" => false,
            other => panic!("FULL_STACK_PROFILE={other}: expected unsampled or sampled"),
        };
        let (port, receiver_tid) = receiver();
        let (lookout, guard) = lookout_stack(port);
        let start = Instant::now();
        let mut served = 0;
        while start.elapsed() < Duration::from_secs(10) {
            drive(&lookout.rt, &lookout.app, 10_000, sampled);
            served += 10_000;
        }
        println!("{served} {label} requests in {:?}", start.elapsed());
        let (per_request, envelopes) =
            cpu_per_request(&lookout.rt, &lookout.app, sampled, receiver_tid);
        println!(
            "CPU {per_request:.2} µs per request (logs {}), envelopes received per request {envelopes:.3}",
            if logs_on() { "on" } else { "off" }
        );
        black_box(guard.shutdown());
        return;
    }
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let (port, receiver_tid) = receiver();
    let mut cpu = Vec::new();
    println!("CPU time per request, the receiver left out (/proc, {CPU_REQUESTS} requests):");

    let bare = Stack {
        name: "bare axum",
        rt: runtime(|| ()),
        app: router(),
    };
    measure(&mut c, &bare, receiver_tid, &mut cpu);

    let (lookout, guard) = lookout_stack(port);
    measure(&mut c, &lookout, receiver_tid, &mut cpu);
    let report = guard.shutdown();
    black_box(report);

    let (official, client) = sentry_tower_stack(port);
    measure(&mut c, &official, receiver_tid, &mut cpu);
    client.close(Some(Duration::from_secs(5)));

    println!("CPU time per request, the receiver left out:");
    for line in cpu {
        println!("{line}");
    }
    c.final_summary();
}
