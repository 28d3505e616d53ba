//! Allocation budgets of `Classifiers::decide`: it runs for every request, so the common
//! paths must not allocate. (Counts are deterministic; times belong in benchmarks.)

use std::error::Error;
use std::fmt;

use allocation_counter::measure;
use http::{Method, StatusCode};
use lookout_classify::{Classifiers, Outcome, Verdict, by_type};

#[derive(Debug)]
struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}
impl Error for Timeout {}

fn classifiers() -> Classifiers {
    Classifiers::default()
        .with(by_type::<Timeout>("timeout"))
        .with(|o: &Outcome<'_>| (o.route() == Some("/health")).then(Verdict::ignore))
}

fn allocations(outcome: Outcome<'_>) -> u64 {
    let classifiers = classifiers();
    // Warm up lazily initialised statics before counting.
    let _ = classifiers.decide(&outcome);
    measure(|| {
        std::hint::black_box(classifiers.decide(std::hint::black_box(&outcome)));
    })
    .count_total
}

#[test]
fn success_is_free() {
    let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::OK).with_route("/users/{id}");
    assert_eq!(allocations(outcome), 0);
}

#[test]
fn client_error_breadcrumb_is_free() {
    let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::NOT_FOUND);
    assert_eq!(allocations(outcome), 0);
}

#[test]
fn bare_server_error_is_free() {
    let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(allocations(outcome), 0);
}

#[test]
fn named_error_is_free() {
    let outcome =
        Outcome::new(&Method::GET, "/users/7", StatusCode::GATEWAY_TIMEOUT).with_error(&Timeout);
    assert_eq!(allocations(outcome), 0);
}

#[test]
fn counter_is_live() {
    // The fallback records the Rust type name in a tag: this must be seen as allocating,
    // or the zero budgets above prove nothing.
    let boxed: Box<dyn Error + Send + Sync> = "not a Timeout".into();
    let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::INTERNAL_SERVER_ERROR)
        .with_error_dyn(boxed.as_ref());
    assert!(allocations(outcome) > 0);
}
