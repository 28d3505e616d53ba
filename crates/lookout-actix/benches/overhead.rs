//! What the middleware costs per request, next to the crate a user would
//! otherwise pick, in the same run on the same route (`GET /users/{id}`):
//!
//! - bare actix-web;
//! - a floor: actix + a no-op middleware (`wrap_fn(|req, srv| srv.call(req))`,
//!   what actix charges any middleware);
//! - actix + lookout (`LookoutLayer::new(engine)`);
//! - actix + sentry-actix 0.49 (`Sentry::builder().start_transaction(true)`);
//!
//! each for an unsampled request (traces rate 0, no trace headers) and a
//! sampled one carrying `sentry-trace` + `baggage` (rate 1). Both
//! instrumented variants have a Sentry client bound whose transport drops
//! envelopes on a background thread (lookout: its send queue's thread;
//! sentry-actix: sentry's own transport thread, serializing each envelope as
//! its HTTP transport would), so they do all their work short of the
//! network. Requests are driven in-process (`actix_web::test`, one actix
//! system) and the body is read to its end (the transaction ends with it).
//!
//! Two more floors: lookout-core's lifecycle alone for the same request, and
//! sentry-core alone (the per-request Hub both lookout and sentry-actix
//! create, and, when sampled, a transaction started and finished on it).
//!
//! Before criterion runs, heap allocations per request are counted
//! (`allocation-counter`) and printed. Reproduce with
//! `cargo bench -p lookout-actix --bench overhead`.

use std::hint::black_box;
use std::sync::Arc;

use actix_web::dev::Service;
use actix_web::{App, test, web};
use criterion::{Criterion, criterion_group};
use lookout_core::Engine;
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Discard, WiredEngine};
use lookout_policy::Settings;
use sentry_core::{ClientOptions, Envelope, Hub, Transport};

const DSN: &str = "https://5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1@o4711.ingest.sentry.io/7";
const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";
const BAGGAGE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
    sentry-public_key=5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1,sentry-sample_rate=1,\
    sentry-sample_rand=0.250000,sentry-sampled=true,sentry-environment=production";

async fn user(id: web::Path<u32>) -> String {
    format!("user {id}")
}

fn engine(sampled: bool) -> Engine {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        (
            "SENTRY_TRACES_SAMPLE_RATE",
            if sampled { "1.0" } else { "0.0" },
        ),
    ])
    .expect("valid settings");
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
    WiredEngine::new(&settings, delivery, |builder| {
        builder.origin(lookout_actix::ORIGIN)
    })
    .engine
}

/// sentry's own transport thread (what `ReqwestHttpTransport` runs on),
/// serializing each envelope as that transport does, then sending nowhere.
struct ThreadedNull(sentry::transports::TokioTransportThread);

impl ThreadedNull {
    fn new() -> Self {
        let options = sentry::transports::TokioTransportThreadOptions::new(
            |envelope: Envelope, rate_limiter| async move {
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
fn sentry_client(sampled: bool) -> Arc<sentry_core::Client> {
    let options = ClientOptions::new()
        .dsn(DSN)
        .environment("production")
        .traces_sample_rate(if sampled { 1.0 } else { 0.0 })
        .transport(|_: &ClientOptions| Arc::new(ThreadedNull::new()) as Arc<dyn Transport>);
    Arc::new(sentry_core::Client::with_options(options))
}

/// What sentry-core costs any instrumentation that gives each request its
/// own Hub: a Hub derived from a parent, bound while the handler runs, and,
/// when sampled, a transaction started and finished on it.
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

/// lookout-core's lifecycle alone for the same request (no actix, no
/// adapter).
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

fn request(sampled: bool) -> actix_web::test::TestRequest {
    let mut request = test::TestRequest::get().uri("/users/42");
    if sampled {
        request = request
            .insert_header(("sentry-trace", SENTRY_TRACE))
            .insert_header(("baggage", BAGGAGE));
    }
    request
}

fn core_headers(sampled: bool) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    if sampled {
        headers.insert("sentry-trace", SENTRY_TRACE.parse().expect("a value"));
        headers.insert("baggage", BAGGAGE.parse().expect("a value"));
    }
    headers
}

/// Runs `$body` once per variant with `$name` and `$app` (an initialized
/// service) bound: the variants are of different types, so each gets its
/// own expansion. sentry-actix reads the client of `Hub::main()`, bound here
/// for the variant's rate.
macro_rules! for_each_variant {
    ($system:expr, $sampled:expr, |$name:ident, $app:ident| $body:block) => {{
        let system: &actix_web::rt::SystemRunner = $system;
        let sampled: bool = $sampled;
        {
            let $name = "bare actix";
            let $app = system.block_on(test::init_service(
                App::new().route("/users/{id}", web::get().to(user)),
            ));
            $body
        }
        {
            let $name = "actix + no-op middleware";
            let $app = system.block_on(test::init_service(
                App::new()
                    .route("/users/{id}", web::get().to(user))
                    .wrap_fn(|req, srv| srv.call(req)),
            ));
            $body
        }
        {
            let $name = "actix + lookout";
            let $app = system.block_on(test::init_service(
                App::new()
                    .route("/users/{id}", web::get().to(user))
                    .wrap(lookout_actix::LookoutLayer::new(engine(sampled))),
            ));
            $body
        }
        {
            let $name = "actix + sentry-actix";
            Hub::main().bind_client(Some(sentry_client(sampled)));
            let $app = system.block_on(test::init_service(
                App::new().route("/users/{id}", web::get().to(user)).wrap(
                    sentry_actix::Sentry::builder()
                        .start_transaction(true)
                        .finish(),
                ),
            ));
            $body
        }
    }};
}

/// Heap allocations per call of `f`, averaged over many calls.
fn allocations(mut f: impl FnMut()) -> f64 {
    const N: u64 = 500;
    for _ in 0..50 {
        f();
    }
    let counted = allocation_counter::measure(|| {
        for _ in 0..N {
            f();
        }
    });
    counted.count_total as f64 / N as f64
}

fn label(sampled: bool) -> &'static str {
    if sampled { "sampled" } else { "unsampled" }
}

fn print_allocations(system: &actix_web::rt::SystemRunner) {
    println!("heap allocations per request (allocation-counter):");
    for sampled in [false, true] {
        let label = label(sampled);
        for_each_variant!(system, sampled, |name, app| {
            let count = allocations(|| {
                system.block_on(async {
                    let body = test::call_and_read_body(&app, request(sampled).to_request()).await;
                    black_box(body);
                });
            });
            println!("  {label:9} {name:28} {count:7.1}");
        });
        let lookout = engine(sampled);
        let headers = core_headers(sampled);
        let core = allocations(|| core_alone(&lookout, &headers));
        println!("  {label:9} {:28} {core:7.1}", "lookout-core alone");
        let parent = Arc::new(Hub::new(
            Some(sentry_client(sampled)),
            Arc::new(Default::default()),
        ));
        let floor = allocations(|| sentry_core_floor(&parent, sampled));
        println!("  {label:9} {:28} {floor:7.1}", "sentry-core floor");
    }
}

fn overhead(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    print_allocations(&system);
    for sampled in [false, true] {
        let mut group = c.benchmark_group(format!("overhead/{}", label(sampled)));
        for_each_variant!(&system, sampled, |name, app| {
            group.bench_function(name, |b| {
                b.iter(|| {
                    system.block_on(async {
                        let body =
                            test::call_and_read_body(&app, request(sampled).to_request()).await;
                        black_box(body);
                    })
                })
            });
        });
        let lookout = engine(sampled);
        let headers = core_headers(sampled);
        group.bench_function("lookout-core alone", |b| {
            b.iter(|| core_alone(&lookout, &headers))
        });
        let parent = Arc::new(Hub::new(
            Some(sentry_client(sampled)),
            Arc::new(Default::default()),
        ));
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

/// `OVERHEAD_ONLY=<case index>,<unsampled|sampled>,<requests>`: runs one
/// actix case (0 bare actix, 1 no-op middleware, 2 lookout, 3 sentry-actix)
/// that many times and nothing else, for instruction counts under
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
    let system = actix_web::rt::System::new();
    let mut cases = 0usize..;
    for_each_variant!(&system, sampled, |name, app| {
        if cases.next() == Some(index) {
            for _ in 0..requests {
                system.block_on(async {
                    let body = test::call_and_read_body(&app, request(sampled).to_request()).await;
                    black_box(body);
                });
            }
            eprintln!("{mode} {name}: {requests} requests");
        }
    });
}

fn main() {
    if let Ok(spec) = std::env::var("OVERHEAD_ONLY") {
        only(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
