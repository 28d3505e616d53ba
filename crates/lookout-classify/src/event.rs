//! [`event`]: the Sentry event a captured outcome becomes, as data.
//!
//! lookout-core sends it; this module only builds it. Scrubbing is not done here either:
//! lookout-policy's scrubber runs on every event before it leaves the process, so the
//! query string is recorded raw.

use std::borrow::Cow;
use std::error::Error;

use sentry_core::protocol::{Event, Exception, Map, Mechanism, Request, Url, Value};

use crate::type_name::{short_type_name, split_type_name, truncate_tag};
use crate::{Action, Decision, Outcome, tags};

/// Mechanism type of exceptions from errors returned by a handler.
pub const MECHANISM: &str = "lookout";

/// Mechanism type (and exception type) of a panic.
pub const PANIC_MECHANISM: &str = "panic";

/// The event to send for `outcome`, or `None` when `decision` is not a capture.
///
/// - `exception`: the error and every `source()`, innermost first and the top-level error
///   last, as Sentry expects. Type is the short Rust type name, module its module path
///   (known for the top-level error given with
///   [`Outcome::with_error`](crate::Outcome::with_error); the chain's types are read from
///   `Debug`), value its `Display`. The top-level exception carries the mechanism
///   `lookout`, handled as [`Decision::handled`] says.
/// - A panic is one exception of type `panic` with the panic message, mechanism `panic`,
///   unhandled.
/// - A bare status (no error, no panic) has no exception but a message such as
///   `503 Service Unavailable on GET /users/{id}`.
/// - `level`, `fingerprint`, tags (the decision's extra tags, then `error_type`,
///   `http.status_code` and `http.route`), `extra["http.latency_ms"]`, and `request`:
///   method, URL (when the outcome has an origin), raw query string, and the path and
///   route in `env` (`PATH_INFO`, `ROUTE`).
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{event, Classifiers, Outcome};
///
/// let err = std::io::Error::other("connection reset");
/// let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::BAD_GATEWAY)
///     .with_route("/users/{id}")
///     .with_error(&err);
/// let decision = Classifiers::default().decide(&outcome);
/// let event = event(&outcome, &decision).expect("5xx are captured");
///
/// assert_eq!(event.exception.values[0].ty, "Error");
/// assert!(event.exception.values[0].module.as_deref().unwrap().starts_with("std::io"));
/// assert_eq!(event.tags["error_type"], "unhandled");
/// assert_eq!(event.tags["http.route"], "/users/{id}");
/// ```
pub fn event(outcome: &Outcome<'_>, decision: &Decision) -> Option<Event<'static>> {
    let Action::Capture { level } = decision.action() else {
        return None;
    };
    let mut event = Event {
        level,
        ..Event::default()
    };

    if let Some(message) = outcome.panic() {
        event.exception = vec![Exception {
            ty: PANIC_MECHANISM.to_owned(),
            value: Some(message.to_owned()),
            mechanism: Some(mechanism(PANIC_MECHANISM, false)),
            ..Exception::default()
        }]
        .into();
    } else if outcome.error().is_some() {
        let mut exceptions: Vec<Exception> = outcome
            .errors()
            .enumerate()
            .map(|(depth, error)| {
                let known = (depth == 0)
                    .then(|| outcome.error_rust_type())
                    .flatten()
                    .filter(|name| !name.contains("dyn "));
                exception(error, known)
            })
            .collect();
        if let Some(top) = exceptions.first_mut() {
            top.mechanism = Some(mechanism(MECHANISM, decision.handled()));
        }
        exceptions.reverse();
        event.exception = exceptions.into();
    } else {
        event.message = Some(format!(
            "{} on {} {}",
            outcome.status(),
            outcome.method(),
            outcome.route().unwrap_or(outcome.path())
        ));
    }

    for (key, value) in decision.tags() {
        event.tags.insert(key.clone(), value.clone());
    }
    if let Some(error_type) = decision.error_type() {
        event.tags.insert(
            tags::ERROR_TYPE.to_owned(),
            truncate_tag(error_type.to_owned()),
        );
    }
    event.tags.insert(
        tags::STATUS_CODE.to_owned(),
        outcome.status().as_str().to_owned(),
    );
    if let Some(route) = outcome.route() {
        event
            .tags
            .insert(tags::ROUTE.to_owned(), truncate_tag(route.to_owned()));
    }
    if let Some(fingerprint) = decision.fingerprint() {
        event.fingerprint = Cow::Owned(fingerprint.to_vec());
    }
    event.extra.insert(
        "http.latency_ms".to_owned(),
        Value::from(outcome.latency().as_secs_f64() * 1000.0),
    );
    event.request = Some(request(outcome));
    Some(event)
}

fn exception(error: &(dyn Error + 'static), type_name: Option<&str>) -> Exception {
    let (ty, module) = match type_name {
        Some(full) => {
            let (short, module) = split_type_name(full);
            (short, module.map(str::to_owned))
        }
        None => (short_type_name(error).into_owned(), None),
    };
    Exception {
        ty,
        module,
        value: Some(error.to_string()),
        ..Exception::default()
    }
}

fn mechanism(ty: &str, handled: bool) -> Mechanism {
    Mechanism {
        ty: ty.to_owned(),
        handled: Some(handled),
        ..Mechanism::default()
    }
}

fn request(outcome: &Outcome<'_>) -> Request {
    let path = outcome.path();
    let url = outcome.origin().and_then(|origin| {
        let slash = if path.starts_with('/') { "" } else { "/" };
        Url::parse(&format!("{}{slash}{path}", origin.trim_end_matches('/'))).ok()
    });
    let mut env = Map::new();
    env.insert("PATH_INFO".to_owned(), path.to_owned());
    if let Some(route) = outcome.route() {
        env.insert("ROUTE".to_owned(), route.to_owned());
    }
    Request {
        url,
        method: Some(outcome.method().as_str().to_owned()),
        query_string: outcome.query().map(str::to_owned),
        env,
        ..Request::default()
    }
}
