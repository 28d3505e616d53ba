//! [`breadcrumb`]: the breadcrumb a non-captured failure leaves, as data.

use sentry_core::Level;
use sentry_core::protocol::{Breadcrumb, Map, Value};

use crate::tags;
use crate::{Action, Decision, Outcome};

/// The breadcrumb to add to the request's scope, or `None` when `decision` is not
/// [`Action::Breadcrumb`].
///
/// Type `http`, category `http.server`, level `warning` for 4xx and `error` for 5xx
/// (`info` otherwise), message `METHOD route-or-path status`, and data: `method`, `url`
/// (the path; the query is left out), `status_code`, `reason`, `http.route`, `error_type`,
/// `latency_ms` and the decision's extra tags.
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{breadcrumb, Classifiers, Level, Outcome};
///
/// let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::NOT_FOUND).with_route("/users/{id}");
/// let decision = Classifiers::default().decide(&outcome);
/// let crumb = breadcrumb(&outcome, &decision).expect("4xx leave a breadcrumb");
/// assert_eq!(crumb.level, Level::Warning);
/// assert_eq!(crumb.message.as_deref(), Some("GET /users/{id} 404"));
/// ```
pub fn breadcrumb(outcome: &Outcome<'_>, decision: &Decision) -> Option<Breadcrumb> {
    if decision.action() != Action::Breadcrumb {
        return None;
    }
    let status = outcome.status();
    let level = if status.is_server_error() {
        Level::Error
    } else if status.is_client_error() {
        Level::Warning
    } else {
        Level::Info
    };

    let mut data = Map::new();
    for (key, value) in decision.tags() {
        data.insert(key.clone(), Value::from(value.as_str()));
    }
    data.insert("method".to_owned(), Value::from(outcome.method().as_str()));
    data.insert("url".to_owned(), Value::from(outcome.path()));
    data.insert("status_code".to_owned(), Value::from(status.as_u16()));
    if let Some(reason) = status.canonical_reason() {
        data.insert("reason".to_owned(), Value::from(reason));
    }
    if let Some(route) = outcome.route() {
        data.insert(tags::ROUTE.to_owned(), Value::from(route));
    }
    if let Some(error_type) = decision.error_type() {
        data.insert(tags::ERROR_TYPE.to_owned(), Value::from(error_type));
    }
    data.insert(
        "latency_ms".to_owned(),
        Value::from(outcome.latency().as_secs_f64() * 1000.0),
    );

    Some(Breadcrumb {
        ty: "http".to_owned(),
        category: Some("http.server".to_owned()),
        level,
        message: Some(format!(
            "{} {} {}",
            outcome.method(),
            outcome.route().unwrap_or(outcome.path()),
            status.as_u16()
        )),
        data,
        ..Breadcrumb::default()
    })
}
