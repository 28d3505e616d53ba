//! Allocation budgets of a line inside a request, under the layers
//! `lookout::init` installs (counts are deterministic; times are in
//! `docs/benchmarks.md`). Counted on the request's thread, where the
//! line is recorded and the log's JSON written (into the batch's envelope
//! buffer, with its attributes on the stack): what the handler pays for
//! the line.
//!
//! The line is `tracing::info!(user_id = %id, "loading user")`, as the
//! demo's route writes it: its message and its one field are two strings,
//! the recorded line one more allocation and its field list one.
//!
//! And what the subscriber costs an unsampled request: its request span
//! stays off, and sqlx's check whether its query event is wanted says no,
//! so the query is not formatted either. The database spans' filter asks
//! for both only inside a sampled request.

use http::{HeaderMap, StatusCode};
use lookout::TracingOptions;
use lookout::engine::{RequestHead, ResponseHead};
use lookout::testing::TestLookout;
use tracing_subscriber::layer::SubscriberExt as _;

/// Lines measured per request: the request's breadcrumb ring grows as a
/// `VecDeque` does (a few reallocations over the first lines), which the
/// average per line includes.
const LINES: u64 = 50;

/// The allocations per line written inside a request of `test`, on this
/// thread, averaged over [`LINES`] lines after a few requests (lazy
/// statics are set).
fn line_in_a_request(test: &TestLookout, sampled: bool) -> f64 {
    let layers = lookout::subscriber::tracing_layers(
        test.settings(),
        TracingOptions::new().filter("warn").writer(std::io::sink),
    );
    let subscriber = tracing_subscriber::registry().with(layers);
    tracing::subscriber::with_default(subscriber, || {
        let headers = HeaderMap::new();
        let mut counted = 0;
        for _ in 0..3 {
            let head = RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}");
            let in_flight = test.engine().begin(&head);
            assert_eq!(in_flight.context().trace().sampled, sampled);
            let ctx = in_flight.context().clone();
            counted = ctx.enter(|| {
                let id = 7;
                allocation_counter::measure(|| {
                    for _ in 0..LINES {
                        tracing::info!(user_id = %id, "loading user");
                    }
                })
                .count_total
            });
            in_flight
                .finish(&ResponseHead::new(StatusCode::OK))
                .body
                .complete();
        }
        counted as f64 / LINES as f64
    })
}

/// Logs on (the default): the line is a breadcrumb and a Sentry Log, both
/// the one recorded line: 4 allocations (sentry-tracing's layers made a
/// `Log` with an attribute map, 30 and more).
#[test]
fn a_line_that_is_a_breadcrumb_and_a_log_costs_at_most_four_allocations() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    let allocations = line_in_a_request(&test, false);
    println!("breadcrumb + log: {allocations} allocations per line");
    assert!(allocations <= 4.1, "{allocations} allocations per line");
}

/// Logs off: the line is a breadcrumb only, kept in the request's context
/// (a breadcrumb on sentry's Hub copied the request's scope).
#[test]
fn a_breadcrumb_costs_at_most_four_allocations() {
    let test = TestLookout::from_vars([
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("SENTRY_ENABLE_LOGS", "false"),
    ])
    .unwrap();
    let allocations = line_in_a_request(&test, false);
    println!("breadcrumb: {allocations} allocations per line");
    assert!(allocations <= 4.1, "{allocations} allocations per line");
}

/// A sampled request: the same as unsampled (the parent span is read from
/// the Hub only inside a span of the application's).
#[test]
fn a_line_in_a_sampled_request_costs_at_most_four_allocations() {
    let test = TestLookout::new();
    let allocations = line_in_a_request(&test, true);
    println!("sampled, breadcrumb + log: {allocations} allocations per line");
    assert!(allocations <= 4.1, "{allocations} allocations per line");
}

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
        tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG)
    });
    drop(span);
    drop(ctx);
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    wanted
}

fn measure_request(test: &TestLookout) -> (u64, bool) {
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
    let (with_subscriber, wanted) = measure_request(&unsampled);
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
    let (_, wanted) = measure_request(&sampled);
    assert!(wanted, "inside a sampled request sqlx's event is wanted");
}
