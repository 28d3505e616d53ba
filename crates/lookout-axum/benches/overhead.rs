//! What the layer costs per request, next to the crate a user would
//! otherwise pick, in the same run on the same router:
//!
//! - bare axum;
//! - two floors: axum + a no-op layer, and axum + a no-op layer that wraps
//!   the response body (what axum charges any layer, and any layer that must
//!   see the body end);
//! - axum + lookout (`LookoutLayer`);
//! - axum + sentry-tower (`NewSentryLayer` + `SentryHttpLayer` with
//!   transactions);
//!
//! each for an unsampled request (traces rate 0, no trace headers) and a
//! sampled one carrying `sentry-trace` + `baggage` (rate 1). Both
//! instrumented variants have a Sentry client bound whose transport drops
//! envelopes on a background thread (lookout: its send queue's thread;
//! sentry-tower: sentry's own transport thread, the one its HTTP transport
//! uses), so they do all their work short of the network. Requests
//! are driven in-process with `tower::ServiceExt::oneshot` and the body is
//! read to its end (the transaction ends with it).
//!
//! A third floor is sentry-core alone: the per-request Hub that lookout and
//! sentry-tower both create, and, when sampled, a transaction started and
//! finished on it.
//!
//! Before criterion runs, heap allocations per request are counted
//! (`allocation-counter`) and printed. Reproduce with
//! `cargo bench -p lookout-axum --bench overhead`.

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use http::Request;
use http_body_util::BodyExt;
use lookout_core::Engine;
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Discard, WiredEngine};
use lookout_policy::Settings;
use sentry_core::{ClientOptions, Envelope, Hub, Transport};
use sentry_tower::{NewSentryLayer, SentryHttpLayer};
use tower::ServiceExt;

const DSN: &str = "https://5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1@o4711.ingest.sentry.io/7";
const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";
const BAGGAGE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
    sentry-public_key=5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1,sentry-sample_rate=1,\
    sentry-sample_rand=0.250000,sentry-sampled=true,sentry-environment=production";

async fn user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

fn router() -> Router {
    Router::new().route("/users/{id}", get(user))
}

fn engine(rate: &str) -> Engine {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", rate),
    ])
    .expect("valid settings");
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
    WiredEngine::new(&settings, delivery, |builder| {
        builder.origin(lookout_axum::ORIGIN)
    })
    .engine
}

/// A layer that does nothing but wrap the response body in its own type:
/// what axum makes any body-observing layer pay (the floor of the adapter).
#[derive(Clone)]
struct WrapBody;

impl<S> tower::Layer<S> for WrapBody {
    type Service = tower::util::MapResponse<S, fn(http::Response<Body>) -> http::Response<Wrapped>>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::util::MapResponse::new(inner, |r: http::Response<Body>| r.map(Wrapped))
    }
}

/// The body of [`WrapBody`]: forwards every frame.
struct Wrapped(Body);

impl http_body::Body for Wrapped {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.0).poll_frame(cx)
    }
}

/// What sentry-core costs any instrumentation that gives each request its
/// own Hub (as lookout and sentry-tower both do): a Hub derived from the
/// engine's, bound while the handler runs, and, when sampled, a transaction
/// started and finished on it.
fn sentry_core_floor(parent: &Arc<Hub>, sampled: bool) {
    let hub = Arc::new(Hub::new_from_top(parent));
    let transaction = sampled.then(|| {
        let ctx = sentry_core::TransactionContext::new("GET /users/{id}", "http.server");
        hub.start_transaction(ctx)
    });
    Hub::run(Arc::clone(&hub), || black_box(format!("user {}", 42)));
    if let Some(transaction) = transaction {
        transaction.finish();
    }
}

/// A Hub with a client like lookout's engine has (same DSN and environment,
/// envelopes dropped on a background thread).
fn floor_hub(sampled: bool) -> Arc<Hub> {
    Arc::new(Hub::new(
        Some(sentry_client(if sampled { 1.0 } else { 0.0 })),
        Arc::new(Default::default()),
    ))
}

fn with_lookout(rate: &str) -> Router {
    router().layer(lookout_axum::LookoutLayer::new(engine(rate)))
}

/// lookout-core's lifecycle alone for the same request (no axum, no
/// adapter): what the adapter's own share is measured against.
fn core_alone(lookout: &Engine, headers: &http::HeaderMap) {
    let head =
        lookout_core::RequestHead::new("GET", "/users/42", headers).with_route("/users/{id}");
    let in_flight = lookout.begin(&head);
    in_flight
        .context()
        .enter(|| black_box(format!("user {}", 42)));
    let finished = in_flight.finish(&lookout_core::ResponseHead::new(http::StatusCode::OK));
    black_box(&finished.headers);
    finished.body.complete();
}

/// sentry's own transport thread (what `ReqwestHttpTransport` runs on),
/// serializing each envelope as that transport does, then sending nowhere: a
/// sentry-tower user's envelopes cross to a background thread and are
/// serialized there exactly like lookout's are by its send queue's worker.
struct ThreadedNull(sentry::transports::TokioTransportThread);

impl ThreadedNull {
    fn new() -> Self {
        let options = sentry::transports::TokioTransportThreadOptions::new(
            |envelope: Envelope, rate_limiter| async move {
                // What sentry's ReqwestHttpTransport does before it posts:
                // lookout's queue serializes every envelope the same way.
                let mut body = Vec::new();
                let _ = envelope.to_writer(&mut body);
                black_box(body);
                rate_limiter
            },
        );
        Self(options.spawn_thread())
    }
}

impl Transport for ThreadedNull {
    fn send_envelope(&self, envelope: Envelope) {
        self.0.send(envelope);
    }

    fn flush(&self, timeout: std::time::Duration) -> bool {
        self.0.flush(timeout)
    }
}

/// A sentry-core client with lookout's DSN and environment and this traces
/// rate, its envelopes serialized and dropped on sentry's transport thread.
fn sentry_client(rate: f32) -> Arc<sentry_core::Client> {
    let options = ClientOptions::new()
        .dsn(DSN)
        .environment("production")
        .traces_sample_rate(rate)
        .transport(|_: &ClientOptions| Arc::new(ThreadedNull::new()) as Arc<dyn Transport>);
    Arc::new(sentry_core::Client::with_options(options))
}

/// sentry-tower derives each request's Hub from the current one: bind a
/// client with this traces rate there.
fn with_sentry_tower(rate: f32) -> Router {
    Hub::current().bind_client(Some(sentry_client(rate)));
    router().layer(
        tower::ServiceBuilder::new()
            .layer(NewSentryLayer::<Request<Body>>::new_from_top())
            .layer(SentryHttpLayer::new().enable_transaction()),
    )
}

fn request(sampled: bool) -> Request<Body> {
    let mut builder = Request::get("/users/42");
    if sampled {
        builder = builder
            .header("sentry-trace", SENTRY_TRACE)
            .header("baggage", BAGGAGE);
    }
    builder.body(Body::empty()).expect("a request")
}

async fn one(app: &Router, sampled: bool) {
    let response = app
        .clone()
        .oneshot(request(sampled))
        .await
        .expect("infallible");
    let body = response.into_body().collect().await.expect("a body");
    black_box(body);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Heap allocations per request, averaged over many requests.
fn allocations(rt: &tokio::runtime::Runtime, app: &Router, sampled: bool) -> f64 {
    const N: u64 = 500;
    for _ in 0..50 {
        rt.block_on(one(app, sampled));
    }
    let counted = allocation_counter::measure(|| {
        for _ in 0..N {
            rt.block_on(one(app, sampled));
        }
    });
    counted.count_total as f64 / N as f64
}

fn variants(sampled: bool) -> [(&'static str, Router); 5] {
    let rate = if sampled { 1.0 } else { 0.0 };
    [
        ("bare axum", router()),
        (
            "axum + no-op layer",
            router().layer(tower::util::MapRequestLayer::new(
                std::convert::identity::<Request<Body>>,
            )),
        ),
        ("axum + body-wrapping no-op", router().layer(WrapBody)),
        (
            "axum + lookout",
            with_lookout(if sampled { "1.0" } else { "0.0" }),
        ),
        ("axum + sentry-tower", with_sentry_tower(rate)),
    ]
}

fn print_allocations() {
    let rt = runtime();
    println!("heap allocations per request (allocation-counter):");
    for sampled in [false, true] {
        let label = if sampled { "sampled" } else { "unsampled" };
        for (name, app) in variants(sampled) {
            println!(
                "  {label:9} {name:28} {:7.1}",
                allocations(&rt, &app, sampled)
            );
        }
        let lookout = engine(if sampled { "1.0" } else { "0.0" });
        let headers = request(sampled).headers().clone();
        for _ in 0..50 {
            core_alone(&lookout, &headers);
        }
        let core = allocation_counter::measure(|| {
            for _ in 0..500 {
                core_alone(&lookout, &headers);
            }
        });
        println!(
            "  {label:9} {:28} {:7.1}",
            "lookout-core alone",
            core.count_total as f64 / 500.0
        );
        let parent = floor_hub(sampled);
        let floor = allocation_counter::measure(|| {
            for _ in 0..500 {
                sentry_core_floor(&parent, sampled);
            }
        });
        println!(
            "  {label:9} {:28} {:7.1}",
            "sentry-core floor",
            floor.count_total as f64 / 500.0
        );
    }
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    for sampled in [false, true] {
        let label = if sampled { "sampled" } else { "unsampled" };
        let mut group = c.benchmark_group(format!("overhead/{label}"));
        for (name, app) in variants(sampled) {
            group.bench_function(name, |b| b.iter(|| rt.block_on(one(&app, sampled))));
        }
        let lookout = engine(if sampled { "1.0" } else { "0.0" });
        let headers = request(sampled).headers().clone();
        group.bench_function("lookout-core alone", |b| {
            b.iter(|| core_alone(&lookout, &headers))
        });
        let parent = floor_hub(sampled);
        group.bench_function("sentry-core floor", |b| {
            b.iter(|| sentry_core_floor(&parent, sampled))
        });
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

fn main() {
    print_allocations();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
