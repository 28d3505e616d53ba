//! What lookout costs per request on warp, next to what it costs on axum,
//! in the same run:
//!
//! - bare warp (`warp::service(routes)`);
//! - warp + lookout through the middleware `lookout_warp::serve` runs
//!   (`LookoutLayer::layer(warp::service(routes))`, the routes naming
//!   themselves with `lookout_warp::route`);
//! - warp + lookout through `lookout_warp::wrap` (the filter for
//!   `warp::serve`: a task and a rebuilt request per request), run by
//!   `warp::service` as `warp::serve` runs it;
//! - bare axum and axum + lookout (`Router::layer(LookoutLayer)`), the same
//!   route;
//!
//! each for an unsampled request (traces rate 0, no trace headers) and a
//! sampled one carrying `sentry-trace` + `baggage` (rate 1). The engines
//! have a Sentry client bound whose delivery drops envelopes behind lookout's
//! send queue (`testing::WiredEngine` + `testing::Discard`), so they do all
//! their work short of the network. Requests are driven in process with
//! `tower::ServiceExt::oneshot` on a current-thread runtime and each
//! response body is read to its end (the transaction ends with it).
//!
//! Before criterion runs, heap allocations per request are counted
//! (`allocation-counter`) and printed. Reproduce with
//! `cargo bench -p lookout-warp --bench overhead`.

use std::hint::black_box;
use std::sync::Arc;

use axum::extract::Path;
use criterion::{Criterion, criterion_group};
use http::Request;
use http_body_util::BodyExt;
use lookout_core::Engine;
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Discard, TEST_DSN, WiredEngine};
use lookout_policy::Settings;
use tower::ServiceExt;
use tower_layer::Layer;
use warp::Filter;

const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";
const BAGGAGE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
    sentry-public_key=5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1,sentry-sample_rate=1,\
    sentry-sample_rand=0.250000,sentry-sampled=true,sentry-environment=production";

fn engine(sampled: bool) -> Engine {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        (
            "SENTRY_TRACES_SAMPLE_RATE",
            if sampled { "1.0" } else { "0.0" },
        ),
    ])
    .expect("valid settings");
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
    WiredEngine::new(&settings, delivery, |builder| builder).engine
}

/// `GET /users/{id}` answering a short `String`, on warp.
fn bare_warp()
-> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    warp::path!("users" / u32)
        .and(warp::get())
        .map(|id: u32| format!("user {id}"))
}

/// The same route naming its transaction, as a service using lookout does.
fn named_warp()
-> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    warp::path!("users" / u32)
        .and(warp::get())
        .and(lookout_warp::route("/users/{id}"))
        .map(|id: u32| format!("user {id}"))
}

/// The same route on axum.
fn axum_router() -> axum::Router {
    async fn user(Path(id): Path<u32>) -> String {
        format!("user {id}")
    }
    axum::Router::new().route("/users/{id}", axum::routing::get(user))
}

fn request(sampled: bool) -> Request<String> {
    let mut builder = Request::get("/users/42");
    if sampled {
        builder = builder
            .header("sentry-trace", SENTRY_TRACE)
            .header("baggage", BAGGAGE);
    }
    builder.body(String::new()).expect("a request")
}

/// One case: a service, cloned and called once per request, its response
/// body read to the end.
trait Case {
    fn run(&self, rt: &tokio::runtime::Runtime, request: Request<String>);
}

struct Service<S>(S);

impl<S, B> Case for Service<S>
where
    S: tower::Service<Request<String>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    fn run(&self, rt: &tokio::runtime::Runtime, request: Request<String>) {
        rt.block_on(async {
            let response = self.0.clone().oneshot(request).await.expect("answered");
            black_box(response.into_body().collect().await.expect("a body"));
        });
    }
}

fn variants(sampled: bool) -> Vec<(&'static str, Box<dyn Case>)> {
    let layer = lookout_warp::LookoutLayer::new(engine(sampled));
    vec![
        ("bare warp", Box::new(Service(warp::service(bare_warp())))),
        (
            "warp + lookout (serve)",
            Box::new(Service(layer.layer(warp::service(named_warp())))),
        ),
        (
            "warp + lookout (wrap)",
            Box::new(Service(warp::service(layer.wrap(named_warp())))),
        ),
        ("bare axum", Box::new(Service(axum_router()))),
        (
            "axum + lookout",
            Box::new(Service(
                axum_router().layer(lookout_axum::LookoutLayer::new(engine(sampled))),
            )),
        ),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Heap allocations per request, averaged over many requests.
fn allocations(rt: &tokio::runtime::Runtime, case: &dyn Case, sampled: bool) -> f64 {
    const N: u64 = 500;
    for _ in 0..50 {
        case.run(rt, request(sampled));
    }
    // Requests are built outside the count: only the handling is measured.
    let requests: Vec<_> = (0..N).map(|_| request(sampled)).collect();
    let counted = allocation_counter::measure(|| {
        for request in requests {
            case.run(rt, request);
        }
    });
    counted.count_total as f64 / N as f64
}

fn print_allocations() {
    let rt = runtime();
    println!("heap allocations per request (allocation-counter):");
    for sampled in [false, true] {
        let label = if sampled { "sampled" } else { "unsampled" };
        for (name, case) in variants(sampled) {
            println!(
                "  {label:9} {name:24} {:7.1}",
                allocations(&rt, case.as_ref(), sampled)
            );
        }
    }
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    for sampled in [false, true] {
        let label = if sampled { "sampled" } else { "unsampled" };
        let mut group = c.benchmark_group(format!("warp/{label}"));
        for (name, case) in variants(sampled) {
            group.bench_function(name, |b| {
                b.iter_batched(
                    || request(sampled),
                    |request| case.run(&rt, request),
                    criterion::BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(60)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = overhead
}

/// `OVERHEAD_ONLY=<case index>,<unsampled|sampled>,<requests>`: runs one
/// case that many times and nothing else, for instruction counts under
/// callgrind (the difference between two request counts is per-request
/// work without the setup).
fn only(spec: &str) {
    let parts: Vec<&str> = spec.split(',').collect();
    let [index, mode, requests] = parts[..] else {
        panic!("OVERHEAD_ONLY={spec:?}: expected <case index>,<unsampled|sampled>,<requests>");
    };
    let sampled = mode == "sampled";
    let index: usize = index.parse().expect("a case index");
    let requests: usize = requests.parse().expect("a request count");
    let rt = runtime();
    let cases = variants(sampled);
    let (name, case) = &cases[index];
    for _ in 0..requests {
        case.run(&rt, request(sampled));
    }
    eprintln!("{mode} {name}: {requests} requests");
}

fn main() {
    if let Ok(spec) = std::env::var("OVERHEAD_ONLY") {
        only(&spec);
        return;
    }
    print_allocations();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
