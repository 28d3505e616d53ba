//! What lookout's `tracing` subscriber costs an unsampled request in
//! allocations (counts are deterministic; times are for the benchmarks):
//! its request span stays off, and sqlx's check whether its query event is
//! wanted says no, so the query is not formatted either. The database
//! spans' filter asks for both only inside a sampled request.

use http::{HeaderMap, StatusCode};
use lookout::engine::{RequestHead, ResponseHead};
use lookout::testing::TestLookout;
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt as _;

/// One request as the adapters' toolkit runs it: the span made and entered
/// inside the request's context, sqlx's `enabled!` check for its query
/// event where a query would be, then `finish`.
fn one_request(test: &TestLookout, headers: &HeaderMap) -> bool {
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("GET", "/orders/7", headers).with_route("/orders/{id}"));
    let ctx = in_flight.context().clone();
    let span = ctx.enter(|| in_flight.tracing_span());
    let wanted = ctx.enter(|| {
        let _entered = span.enter();
        tracing::enabled!(target: "sqlx::query", Level::DEBUG)
    });
    drop(span);
    drop(ctx);
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    wanted
}

fn measure(test: &TestLookout) -> (u64, bool) {
    let layers = lookout::subscriber::tracing_layers(
        test.settings(),
        lookout::TracingOptions::new()
            .filter("info")
            .writer(std::io::sink),
    );
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, || {
        let headers = HeaderMap::new();
        // Warm up lazily initialised statics (thread locals, callsites).
        for _ in 0..3 {
            one_request(test, &headers);
        }
        let mut wanted = false;
        let allocations = allocation_counter::measure(|| wanted = one_request(test, &headers));
        (allocations.count_total, wanted)
    })
}

#[test]
fn an_unsampled_request_pays_nothing_for_database_spans() {
    let unsampled = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0")]).unwrap();
    let (with_subscriber, wanted) = measure(&unsampled);
    assert!(!wanted, "sqlx would format its query");
    // The same request with no subscriber at all: lookout-core's budget.
    let headers = HeaderMap::new();
    for _ in 0..3 {
        one_request(&unsampled, &headers);
    }
    let bare = allocation_counter::measure(|| {
        one_request(&unsampled, &headers);
    })
    .count_total;
    println!("unsampled: {with_subscriber} allocations under lookout's subscriber, {bare} without");
    assert_eq!(with_subscriber, bare, "the subscriber adds no allocation");

    // Sampled, the request span is made (in the registry's pool) and sqlx's
    // event wanted: the database spans need both.
    let sampled = TestLookout::new();
    let (_, wanted) = measure(&sampled);
    assert!(wanted, "inside a sampled request sqlx's event is wanted");
}
