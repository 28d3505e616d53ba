//! lookout-headers against the crates a user would otherwise pick, on the same
//! inputs in the same run: `sentry-core` for `sentry-trace` + `baggage`,
//! `opentelemetry_sdk`'s `TraceContextPropagator` for `traceparent` +
//! `tracestate`, and its `BaggagePropagator` for an 11-member `baggage`.
//!
//! Run: `cargo bench -p lookout-headers --bench parse`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lookout_headers::{DscView, SentryTrace, TraceContext, parse_baggage};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1";

/// What a JavaScript SDK sends: the full DSC (9 members) plus one vendor member.
const SENTRY_BAGGAGE: &str = "sentry-environment=production,sentry-release=web%401.2.3,\
sentry-public_key=49d0f7386ad645858ae85020e393bef3,\
sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-org_id=123,\
sentry-transaction=GET%20%2Fapi%2Fusers%2F%7Bid%7D,sentry-sampled=true,\
sentry-sample_rand=0.123456,sentry-sample_rate=0.25,other-vendor=abc";

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,acme@vendor=x1y2z3";

/// Eleven W3C baggage members, some with properties and encoded values.
const BAGGAGE_11: &str = "userId=alice,serverNode=DF%2028,isProduction=false,\
tenant=acme;ttl=60,region=eu-west-1,sessionId=7f3c2a,feature=new-checkout,\
plan=enterprise,experiment=b;sampled,locale=de-DE,build=2026.11.22";

/// A header map as a framework hands it over: a few pairs, looked up by name.
struct Headers<'a>(&'a [(&'a str, &'a str)]);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

impl<'a> Headers<'a> {
    fn all(&self, key: &'a str) -> impl Iterator<Item = &'a str> + Clone + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }
}

fn sentry_headers(c: &mut Criterion) {
    let pairs = [
        ("host", "example.com"),
        ("sentry-trace", SENTRY_TRACE),
        ("baggage", SENTRY_BAGGAGE),
    ];
    let headers = Headers(&pairs);
    let mut group = c.benchmark_group("sentry-trace+baggage");
    group.bench_function("lookout", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let trace = SentryTrace::from_values(h.all("sentry-trace"));
            let dsc = DscView::from_baggage(h.all("baggage"));
            // Every DSC field: typed ones parsed, text ones located (still
            // percent-encoded; decoding is on demand).
            black_box((
                trace,
                dsc.trace_id(),
                dsc.sample_rate(),
                dsc.sample_rand(),
                dsc.sampled(),
                dsc.raw("public_key"),
                dsc.raw("release"),
                dsc.raw("environment"),
                dsc.raw("transaction"),
                dsc.raw("org_id"),
                dsc.raw("replay_id"),
            ))
        });
    });
    group.bench_function("lookout (text fields decoded)", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let trace = SentryTrace::from_values(h.all("sentry-trace"));
            let dsc = DscView::from_baggage(h.all("baggage"));
            black_box((
                trace,
                dsc.trace_id(),
                dsc.sample_rate(),
                dsc.sample_rand(),
                dsc.sampled(),
                dsc.public_key(),
                dsc.release(),
                dsc.environment(),
                dsc.transaction(),
                dsc.org_id(),
                dsc.replay_id(),
            ))
        });
    });
    group.bench_function(
        "sentry-core TracePropagationContext::try_from_headers",
        |b| {
            b.iter(|| {
                let h = black_box(&headers);
                black_box(sentry_core::TracePropagationContext::try_from_headers(
                    h.0.iter().copied(),
                ))
            });
        },
    );
    group.bench_function(
        "sentry-core TransactionContext::continue_from_headers",
        |b| {
            b.iter(|| {
                let h = black_box(&headers);
                black_box(sentry_core::TransactionContext::continue_from_headers(
                    "GET /api/users/{id}",
                    "http.server",
                    h.0.iter().copied(),
                ))
            });
        },
    );
    group.finish();
}

fn trace_context(c: &mut Criterion) {
    let pairs = [
        ("host", "example.com"),
        ("traceparent", TRACEPARENT),
        ("tracestate", TRACESTATE),
    ];
    let headers = Headers(&pairs);
    let propagator = TraceContextPropagator::new();
    let mut group = c.benchmark_group("traceparent+tracestate");
    group.bench_function("lookout", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let ctx = TraceContext::from_values(h.all("traceparent"), h.all("tracestate"));
            let ctx = ctx.ok().flatten();
            black_box(ctx.map(|c| (c.traceparent, c.tracestate.map(|t| t.len()))))
        });
    });
    group.bench_function("opentelemetry_sdk TraceContextPropagator", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let cx = propagator.extract(h);
            black_box(cx.span().span_context().is_valid())
        });
    });
    group.finish();
}

fn w3c_baggage(c: &mut Criterion) {
    let pairs = [("host", "example.com"), ("baggage", BAGGAGE_11)];
    let headers = Headers(&pairs);
    let propagator = BaggagePropagator::new();
    let mut group = c.benchmark_group("baggage (11 members)");
    group.bench_function("lookout", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let mut n = 0usize;
            for m in parse_baggage(h.all("baggage")) {
                black_box((m.key(), m.raw_value(), m.properties().next()));
                n += 1;
            }
            black_box(n)
        });
    });
    group.bench_function("opentelemetry_sdk BaggagePropagator", |b| {
        b.iter(|| {
            let h = black_box(&headers);
            let cx = propagator.extract(h);
            black_box(cx.baggage().len())
        });
    });
    group.finish();
}

criterion_group!(benches, sentry_headers, trace_context, w3c_baggage);
criterion_main!(benches);
