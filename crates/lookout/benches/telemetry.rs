//! What one Sentry Log and one breadcrumb cost, in process, beside the
//! official path for the same line in the same run.
//!
//! - **log, lookout**: `tracing::info!(user_id = %id, "loading user")`
//!   inside a request, under the layers `lookout::init` installs (logs on:
//!   the line is a breadcrumb and a log), with the client wired by
//!   lookout-core over lookout's delivery; the batch thread writes the
//!   envelopes, the send queue hands them to a transport that writes each
//!   envelope out (what the HTTP transport does before it posts it).
//! - **log+zstd**: the same two, with the transport also compressing each
//!   envelope as lookout's HTTP transport does (zstd -1 for a batch).
//! - **log, sentry-core**: the same line through sentry-tracing's
//!   `LogLayer` into `Hub::capture_log` and sentry-core's batcher, on a
//!   client whose transport writes each envelope out the same way.
//! - **breadcrumb, lookout**: the line with logs off: a breadcrumb kept in
//!   the request's context.
//! - **breadcrumb, sentry-tracing**: the line through sentry-tracing's
//!   `BreadcrumbLayer` on the request's Hub (a copy of its scope per line).
//!
//! Each case prints the process's CPU time per line over 400,000 lines
//! (`/proc/self/stat`, every thread: the batch thread's writing included),
//! then criterion gives the time per line on the logging thread.
//!
//! Reproduce with `cargo bench -p lookout-sentry --features axum,test --bench telemetry`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use http::{HeaderMap, StatusCode};
use lookout::TracingOptions;
use lookout::engine::delivery::Delivery;
use lookout::engine::{Engine, InFlight, RequestHead, ResponseHead};
use lookout::testing::WiredEngine;
use sentry_core::{Envelope, Hub, Transport};
use tracing::Dispatch;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

/// Lines of the CPU-time measurement.
const LINES: u64 = 400_000;

/// Writes each envelope out, as the HTTP transport does before posting it,
/// and with `compress` compresses it as the transport does: zstd at its
/// fast level -1 for a body of 16 KiB or more (a batch of logs, on both
/// paths), level 1 below.
struct WriteOut {
    compress: Option<std::sync::Mutex<zstd::bulk::Compressor<'static>>>,
}

impl WriteOut {
    fn new(compress: bool) -> Arc<Self> {
        let compress = compress.then(|| {
            std::sync::Mutex::new(zstd::bulk::Compressor::new(1).expect("a zstd context"))
        });
        Arc::new(WriteOut { compress })
    }
}

impl Transport for WriteOut {
    fn send_envelope(&self, envelope: Envelope) {
        let mut bytes = Vec::new();
        let _ = envelope.to_writer(&mut bytes);
        if let Some(compressor) = &self.compress {
            let mut compressor = compressor.lock().expect("not poisoned");
            let level = if bytes.len() >= 16 * 1024 { -1 } else { 1 };
            compressor
                .set_compression_level(level)
                .expect("a zstd level");
            black_box(compressor.compress(&bytes).expect("zstd"));
        }
        black_box(bytes);
    }
}

fn line() {
    let id = 7;
    tracing::info!(user_id = %id, "loading user");
}

/// User + system time of the process in seconds (`/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

/// Runs a closure inside a request of a case's stack.
type InRequest = Box<dyn Fn(&mut dyn FnMut())>;

/// A case: the dispatch the line runs under and how it runs inside a request.
struct Case {
    name: &'static str,
    dispatch: Dispatch,
    /// Runs `f` inside a request of this case's stack.
    in_request: InRequest,
    /// Delivers what is pending (so the CPU figure includes it).
    flush: Box<dyn Fn()>,
}

fn lookout_case(name: &'static str, logs: bool, compress: bool) -> Case {
    let settings = lookout::policy::Settings::from_vars([
        ("SENTRY_DSN", lookout::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_RELEASE", "bench@1.0.0"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0"),
        ("SENTRY_ENABLE_LOGS", if logs { "true" } else { "false" }),
    ])
    .expect("valid settings");
    let wired = WiredEngine::new(
        &settings,
        Delivery::send().with_transport(Arc::new(WriteOut::new(compress))),
        |builder| builder,
    );
    let layers = lookout::subscriber::tracing_layers(
        &settings,
        TracingOptions::new().filter("warn").writer(std::io::sink),
    );
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layers));
    let engine: Engine = wired.engine.clone();
    let client = Arc::clone(&wired.client);
    Case {
        name,
        dispatch,
        in_request: Box::new(move |f| {
            let headers = HeaderMap::new();
            let head = RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}");
            let in_flight: InFlight = engine.begin(&head);
            in_flight.context().clone().enter(f);
            in_flight
                .finish(&ResponseHead::new(StatusCode::OK))
                .body
                .complete();
        }),
        flush: Box::new(move || {
            client.flush(Some(Duration::from_secs(10)));
        }),
    }
}

fn official_case(name: &'static str, logs: bool, compress: bool) -> Case {
    let mut options = sentry_core::ClientOptions::new()
        .dsn(lookout::testing::TEST_DSN)
        .environment("production")
        .release("bench@1.0.0")
        .transport(Arc::new(WriteOut::new(compress)));
    #[allow(deprecated)] // `enable_logs` is the switch sentry-tracing's log layer reads.
    {
        options.enable_logs = logs;
    }
    let client = Arc::new(sentry_core::Client::with_options(options));
    let process = Arc::new(Hub::new(Some(Arc::clone(&client)), Arc::default()));
    let subscriber = tracing_subscriber::registry();
    let dispatch = if logs {
        Dispatch::new(
            subscriber.with(sentry_tracing::LogLayer::new().with_filter(LevelFilter::INFO)),
        )
    } else {
        Dispatch::new(
            subscriber.with(sentry_tracing::BreadcrumbLayer::new().with_filter(LevelFilter::INFO)),
        )
    };
    Case {
        name,
        dispatch,
        in_request: Box::new(move |f| {
            // sentry-tower's request Hub: derived from the process's.
            let hub = Arc::new(Hub::new_from_top(&process));
            Hub::run(hub, &mut *f);
        }),
        flush: Box::new(move || {
            client.flush(Some(Duration::from_secs(10)));
        }),
    }
}

/// Lines per request in the CPU measurement (a request's breadcrumbs are
/// bounded at 100, so this also measures dropping old ones).
const PER_REQUEST: u64 = 200;

fn cpu_per_line(case: &Case) -> f64 {
    tracing::dispatcher::with_default(&case.dispatch, || {
        (case.in_request)(&mut || {
            for _ in 0..1000 {
                line();
            }
        });
        (case.flush)();
        let start = cpu_seconds();
        for _ in 0..LINES / PER_REQUEST {
            (case.in_request)(&mut || {
                for _ in 0..PER_REQUEST {
                    line();
                }
            });
        }
        (case.flush)();
        (cpu_seconds() - start) * 1e6 / LINES as f64
    })
}

fn main() {
    let cases = [
        lookout_case("log/lookout", true, false),
        official_case("log/sentry-core", true, false),
        lookout_case("log+zstd/lookout", true, true),
        official_case("log+zstd/sentry-core", true, true),
        lookout_case("breadcrumb/lookout", false, false),
        official_case("breadcrumb/sentry-tracing", false, false),
    ];
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut cpu = Vec::new();
    for case in &cases {
        let per_line = cpu_per_line(case);
        cpu.push(format!(
            "  {:28} {per_line:6.3} µs of CPU per line",
            case.name
        ));
        tracing::dispatcher::with_default(&case.dispatch, || {
            (case.in_request)(&mut || {
                c.bench_function(case.name, |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            line();
                        }
                        start.elapsed()
                    })
                });
            });
            (case.flush)();
        });
    }
    println!("CPU time per line, every thread ({LINES} lines, {PER_REQUEST} per request):");
    for line in cpu {
        println!("{line}");
    }
    c.final_summary();
}
