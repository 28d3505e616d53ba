//! [`log()`]: the Sentry Log a failure that is not captured becomes, as data.
//!
//! lookout-core sends it on the request's trace and adds what only the
//! request knows (`request_id`, the trace and the user); this module builds
//! the part the outcome and the decision say. Like [`event`](crate::event),
//! it does not scrub: lookout-policy's scrubber runs on every log before it
//! leaves the process.

use std::time::SystemTime;

use sentry_core::protocol::{Log, LogLevel, LogSeverityNumber, Map, Value};

use crate::verdict::log_level_rank;
use crate::{Decision, Outcome, tags};

/// The log to record for `outcome`, or `None` when `decision` is not
/// [`Action::Log`](crate::Action::Log).
///
/// Body `METHOD /route -> STATUS` (the path when no route template is known;
/// the query is never part of it), the decision's level and its
/// [`severity_number`], and the attributes: the decision's extra tags, then
/// `http.request.method`, `http.response.status_code`, `http.route` (when
/// known), `url.path`, `error_type` (when named) and `http.latency_ms`.
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{log, Classifiers, LogLevel, Outcome};
///
/// let outcome = Outcome::new(&Method::GET, "/users/7", StatusCode::NOT_FOUND)
///     .with_route("/users/{id}")
///     .with_query("token=secret");
/// let decision = Classifiers::default().decide(&outcome);
/// let log = log(&outcome, &decision).expect("a 4xx is logged");
/// assert_eq!(log.level, LogLevel::Warn);
/// assert_eq!(log.body, "GET /users/{id} -> 404");
/// assert_eq!(log.attributes["http.response.status_code"].0, 404);
/// assert_eq!(log.attributes["http.route"].0, "/users/{id}");
/// assert!(!serde_json::to_string(&log).unwrap().contains("secret"));
/// ```
pub fn log(outcome: &Outcome<'_>, decision: &Decision) -> Option<Log> {
    let level = decision.log_level()?;
    let status = outcome.status().as_u16();
    let mut attributes: Map<String, sentry_core::protocol::LogAttribute> = decision
        .tags()
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.as_str()).into()))
        .collect();
    attributes.insert(tags::METHOD.to_owned(), outcome.method().as_str().into());
    attributes.insert(
        tags::RESPONSE_STATUS_CODE.to_owned(),
        i64::from(status).into(),
    );
    if let Some(route) = outcome.route() {
        attributes.insert(tags::ROUTE.to_owned(), route.into());
    }
    attributes.insert("url.path".to_owned(), outcome.path().into());
    if let Some(error_type) = decision.error_type() {
        attributes.insert(tags::ERROR_TYPE.to_owned(), error_type.into());
    }
    attributes.insert(
        "http.latency_ms".to_owned(),
        (outcome.latency().as_secs_f64() * 1000.0).into(),
    );
    Some(Log {
        level,
        body: format!(
            "{} {} -> {status}",
            outcome.method(),
            outcome.route().unwrap_or(outcome.path())
        ),
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: Some(severity_number(level)),
        attributes,
    })
}

/// The OpenTelemetry severity number of a log level, as Sentry Logs expect
/// it: the lowest number of the level's range (`trace` 1, `debug` 5, `info`
/// 9, `warn` 13, `error` 17, `fatal` 21).
///
/// ```
/// use lookout_classify::{severity_number, LogLevel};
///
/// assert_eq!(serde_json::to_value(severity_number(LogLevel::Warn)).unwrap(), 13);
/// ```
pub fn severity_number(level: LogLevel) -> LogSeverityNumber {
    let number = 1 + 4 * log_level_rank(level);
    match LogSeverityNumber::try_from(number) {
        Ok(number) => number,
        // 1..=21 is inside the 1..=24 range Sentry accepts.
        Err(_) => unreachable!("severity number {number} out of range"),
    }
}
