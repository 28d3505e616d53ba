//! `begin` + `finish` of one request, unsampled and sampled, with and without
//! a client bound. Run: `cargo bench -p lookout-core --features test --bench lifecycle`.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, StatusCode};
use lookout_core::delivery::Delivery;
use lookout_core::testing::{Discard, TEST_DSN, WiredEngine};
use lookout_core::{Engine, RequestHead, ResponseHead};
use lookout_policy::Settings;
use sentry_core::Hub;

/// An engine with a client bound to its own Hub, sampling at `rate`.
fn engine(rate: &str) -> (Engine, Arc<Hub>) {
    let settings = Settings::from_vars([
        ("SENTRY_DSN", TEST_DSN),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", rate),
    ])
    .expect("valid settings");
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
    let wired = WiredEngine::new(&settings, delivery, |builder| builder);
    (wired.engine, wired.hub)
}

fn one(lookout: &Engine, headers: &HeaderMap) {
    let in_flight =
        lookout.begin(&RequestHead::new("GET", "/users/7", headers).with_route("/users/{id}"));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    std::hint::black_box(&finished.headers);
    finished.body.complete();
}

fn continued_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "sentry-trace",
        HeaderValue::from_static("771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1"),
    );
    headers.insert(
        "baggage",
        HeaderValue::from_static(
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=k,\
             sentry-sample_rate=1,sentry-sample_rand=0.250000,sentry-sampled=true,\
             sentry-release=web%401.0,sentry-environment=production",
        ),
    );
    headers
}

fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");
    let plain = HeaderMap::new();

    let off_hub = Arc::new(Hub::new(None, Arc::new(Default::default())));
    let off = Engine::builder().hub(off_hub).build();
    group.bench_function("no client", |b| b.iter(|| one(&off, &plain)));

    let (unsampled, _hub) = engine("0.0");
    group.bench_function("client, unsampled", |b| {
        b.iter(|| one(&unsampled, &plain));
    });

    let (sampled, _hub) = engine("1.0");
    let continued = continued_headers();
    group.bench_function("client, sampled, continued trace", |b| {
        b.iter(|| one(&sampled, &continued));
    });
    group.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
