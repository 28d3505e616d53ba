//! Console delivery: one readable line per event, per Sentry Log, per
//! metric, per transaction and per database span of a transaction, for
//! development.
//!
//! The line carries what a developer scans for (level, `error_type`, title
//! or log body, request id, trace id) and goes through `tracing` at INFO under the target
//! `lookout::console` (never ERROR: the sentry-tracing layer would turn it into
//! another event). A custom sink can collect the lines instead (the demo does).

use std::fmt::Write as _;
use std::sync::Arc;

use sentry_core::Envelope;
use sentry_core::protocol::{
    EnvelopeItem, Event, ItemContainer, Log, LogLevel, Metric, MetricType,
};

/// Where console lines go.
pub type ConsoleSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The default sink: `tracing::info!(target: "lookout::console", ...)`.
///
/// The line is logged while sentry-core dispatches the event. Under a global
/// subscriber (what `lookout::init` installs) that always works; under a
/// scoped one (`tracing::subscriber::with_default`, as some tests use)
/// `tracing` may drop a line logged from inside another dispatch. Tests that
/// assert on console lines should collect them with a custom sink
/// ([`Delivery::with_console`](super::Delivery::with_console)).
pub fn tracing_sink() -> ConsoleSink {
    Arc::new(|line: &str| tracing::info!(target: "lookout::console", "{line}"))
}

/// A console sink that collects lines in memory (used by the demo and tests).
///
/// ```
/// let (sink, lines) = lookout_delivery::collecting_console();
/// sink("lookout event error");
/// assert_eq!(lines.lock().unwrap().as_slice(), ["lookout event error"]);
/// ```
pub fn collecting_console() -> (ConsoleSink, Arc<std::sync::Mutex<Vec<String>>>) {
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink_lines = Arc::clone(&lines);
    let sink: ConsoleSink = Arc::new(move |line: &str| {
        sink_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
    });
    (sink, lines)
}

/// Writes one line per event and per log of `envelope` to `sink`.
pub(crate) fn print(envelope: &Envelope, sink: &ConsoleSink) {
    for item in envelope.items() {
        match item {
            EnvelopeItem::Event(event) => sink(&line(event)),
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => {
                for log in logs {
                    sink(&log_line(log));
                }
            }
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => {
                for metric in metrics {
                    sink(&metric_line(metric));
                }
            }
            EnvelopeItem::MonitorCheckIn(check_in) => sink(&check_in_line(check_in)),
            EnvelopeItem::Transaction(transaction) => {
                sink(&transaction_line(transaction));
                for span in transaction.spans.iter().filter(|span| is_db(span)) {
                    sink(&db_span_line(transaction, span));
                }
            }
            _ => {}
        }
    }
}

/// The console line of a transaction: `lookout transaction "NAME" op=OP
/// status=STATUS request_id=R trace_id=T` (what a trace view would list).
fn transaction_line(transaction: &sentry_core::protocol::Transaction<'_>) -> String {
    let (op, status, trace_id) = match transaction.contexts.get("trace") {
        Some(sentry_core::protocol::Context::Trace(trace)) => (
            trace.op.clone().unwrap_or_default(),
            trace
                .status
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            trace.trace_id.to_string(),
        ),
        _ => (String::new(), "-".to_owned(), "-".to_owned()),
    };
    let request_id = transaction
        .tags
        .get("request_id")
        .map_or("-", String::as_str);
    format!(
        "lookout transaction {:?} op={op} status={status} request_id={request_id} trace_id={trace_id}",
        transaction.name.as_deref().unwrap_or_default()
    )
}

/// Whether `span` is a database query (op `db` or `db.*`, what Sentry's
/// Queries view reads).
fn is_db(span: &sentry_core::protocol::Span) -> bool {
    span.op
        .as_deref()
        .is_some_and(|op| op == "db" || op.starts_with("db."))
}

/// The console line of a database span of `transaction`: `lookout span db
/// "QUERY" db.system=S request_id=R trace_id=T`.
fn db_span_line(
    transaction: &sentry_core::protocol::Transaction<'_>,
    span: &sentry_core::protocol::Span,
) -> String {
    let system = span
        .data
        .get("db.system")
        .and_then(|v| v.as_str())
        .unwrap_or("-");
    let request_id = transaction
        .tags
        .get("request_id")
        .map_or("-", String::as_str);
    format!(
        "lookout span {} {:?} db.system={system} request_id={request_id} trace_id={}",
        span.op.as_deref().unwrap_or_default(),
        span.description.as_deref().unwrap_or_default(),
        span.trace_id
    )
}

/// The console line of one trace metric: `lookout metric TYPE NAME VALUE
/// request_id=R trace_id=T` (a metric outside a request has `request_id=-`).
///
/// ```
/// use sentry_core::protocol::{Metric, MetricType, TraceId};
///
/// let mut metric = Metric {
///     r#type: MetricType::Counter,
///     name: "orders.lookup".into(),
///     value: 1.0,
///     timestamp: std::time::SystemTime::now(),
///     trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     span_id: None,
///     unit: None,
///     attributes: Default::default(),
/// };
/// metric.attributes.insert("request_id".into(), "req-1".into());
/// let line = lookout_delivery::console_metric_line(&metric);
/// assert_eq!(
///     line,
///     "lookout metric counter orders.lookup 1 request_id=req-1 trace_id=771a43a4192642f0b136d5159a501700"
/// );
/// ```
pub fn metric_line(metric: &Metric) -> String {
    let kind = match metric.r#type {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Distribution => "distribution",
    };
    let request_id = metric
        .attributes
        .get("request_id")
        .and_then(|a| a.0.as_str())
        .unwrap_or("-");
    format!(
        "lookout metric {kind} {} {} request_id={request_id} trace_id={}",
        metric.name, metric.value, metric.trace_id
    )
}

/// The console line of a cron check-in: `lookout check-in SLUG STATUS
/// check_in_id=ID [duration=Ns]`.
fn check_in_line(check_in: &sentry_core::protocol::MonitorCheckIn) -> String {
    let status = serde_json::to_value(check_in.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut line = format!(
        "lookout check-in {} {status} check_in_id={}",
        check_in.monitor_slug,
        check_in.check_in_id.simple()
    );
    if let Some(duration) = check_in.duration {
        line.push_str(&format!(" duration={duration:.3}s"));
    }
    line
}

/// The console line of one Sentry Log: `lookout log LEVEL "BODY"
/// request_id=R trace_id=T` (a log outside a request has `request_id=-`).
///
/// ```
/// use sentry_core::protocol::{Log, LogLevel};
///
/// let mut log = Log {
///     level: LogLevel::Warn,
///     body: "GET /users/{id} -> 404".into(),
///     trace_id: None,
///     timestamp: std::time::SystemTime::now(),
///     severity_number: None,
///     attributes: Default::default(),
/// };
/// log.attributes.insert("request_id".into(), "req-1".into());
/// let line = lookout_delivery::console_log_line(&log);
/// assert_eq!(line, "lookout log warn \"GET /users/{id} -> 404\" request_id=req-1 trace_id=-");
/// ```
pub fn log_line(log: &Log) -> String {
    let mut out = String::with_capacity(64 + log.body.len());
    let level = match log.level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
        LogLevel::Fatal => "fatal",
    };
    let _ = write!(out, "lookout log {level} {:?}", log.body);
    let request_id = log
        .attributes
        .get("request_id")
        .and_then(|a| a.0.as_str())
        .unwrap_or("-");
    let _ = write!(out, " request_id={request_id}");
    match log.trace_id {
        Some(trace_id) => {
            let _ = write!(out, " trace_id={trace_id}");
        }
        None => out.push_str(" trace_id=-"),
    }
    out
}

/// The console line of one event: `lookout event LEVEL [error_type=T]
/// "TITLE" request_id=R trace_id=T event_id=E [body="DATA"]`, the body
/// (the event's `request.data`, scrubbed, at most 200 characters) last.
///
/// ```
/// use sentry_core::protocol::{Event, Level};
///
/// let mut event = Event { level: Level::Error, message: Some("boom".into()), ..Default::default() };
/// event.tags.insert("error_type".into(), "app_service".into());
/// event.tags.insert("request_id".into(), "req-1".into());
/// let line = lookout_delivery::console_line(&event);
/// assert!(line.starts_with("lookout event error error_type=app_service \"boom\" request_id=req-1"));
/// ```
pub fn line(event: &Event<'_>) -> String {
    let mut out = String::with_capacity(160);
    let _ = write!(out, "lookout event {}", event.level);
    if let Some(error_type) = event.tags.get("error_type") {
        let _ = write!(out, " error_type={error_type}");
    }
    let _ = write!(out, " {:?}", title(event));
    let request_id = event.tags.get("request_id").map_or("-", String::as_str);
    let _ = write!(out, " request_id={request_id}");
    match event.contexts.get("trace") {
        Some(sentry_core::protocol::Context::Trace(trace)) => {
            let _ = write!(out, " trace_id={}", trace.trace_id);
        }
        _ => out.push_str(" trace_id=-"),
    }
    let _ = write!(out, " event_id={}", event.event_id.simple());
    // The request body the event carries (scrubbed), last and quoted.
    if let Some(data) = event.request.as_ref().and_then(|r| r.data.as_deref()) {
        let _ = write!(out, " body={:?}", shortened(data, BODY_CHARS));
    }
    out
}

/// The most characters of a request body a console line shows.
const BODY_CHARS: usize = 200;

/// `text` cut to `max` characters, with `…` when cut.
fn shortened(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]).into(),
        None => text.into(),
    }
}

/// What Sentry would show as the issue title.
fn title(event: &Event<'_>) -> String {
    if let Some(exception) = event.exception.values.last() {
        return match &exception.value {
            Some(value) => format!("{}: {value}", exception.ty),
            None => exception.ty.clone(),
        };
    }
    if let Some(message) = &event.message {
        return message.clone();
    }
    if let Some(message) = event.logentry.as_ref().map(|l| l.message.clone()) {
        return message;
    }
    "<no message>".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{Exception, Level, TraceContext};

    #[test]
    fn the_line_names_level_type_title_request_and_trace() {
        let mut event = Event {
            level: Level::Error,
            ..Default::default()
        };
        event.exception.values.push(Exception {
            ty: "ServiceError".into(),
            value: Some("database is down".into()),
            ..Default::default()
        });
        event.tags.insert("error_type".into(), "app_service".into());
        event.tags.insert("request_id".into(), "r-42".into());
        let trace = TraceContext::default();
        let trace_id = trace.trace_id.to_string();
        event.contexts.insert("trace".into(), trace.into());
        let line = line(&event);
        assert!(line.contains("error error_type=app_service"), "{line}");
        assert!(
            line.contains("\"ServiceError: database is down\""),
            "{line}"
        );
        assert!(line.contains("request_id=r-42"), "{line}");
        assert!(line.contains(&format!("trace_id={trace_id}")), "{line}");
    }

    #[test]
    fn each_log_of_a_batch_is_one_line_and_events_keep_theirs() {
        let log = |body: &str| Log {
            level: LogLevel::Info,
            body: body.into(),
            trace_id: Some(TraceContext::default().trace_id),
            timestamp: std::time::SystemTime::now(),
            severity_number: None,
            attributes: Default::default(),
        };
        let mut envelope = Envelope::new();
        envelope.add_item(vec![log("loading user"), log("user loaded")]);
        envelope.add_item(Event {
            message: Some("boom".into()),
            ..Default::default()
        });
        let (sink, lines) = collecting_console();
        print(&envelope, &sink);
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].starts_with("lookout log info \"loading user\" request_id=- trace_id="));
        assert!(lines[1].contains("\"user loaded\""));
        assert!(lines[2].starts_with("lookout event"));
    }

    #[test]
    fn a_request_body_comes_last_quoted_and_shortened() {
        let mut event = Event {
            message: Some("boom".into()),
            ..Default::default()
        };
        event.request = Some(sentry_core::protocol::Request {
            data: Some(r#"{"password":"[Filtered]"}"#.into()),
            ..Default::default()
        });
        let line = line(&event);
        assert!(
            line.ends_with(r#" body="{\"password\":\"[Filtered]\"}""#),
            "{line}"
        );
        event.request.as_mut().unwrap().data = Some("é".repeat(300));
        let line = super::line(&event);
        assert!(line.ends_with(&format!("{}…\"", "é".repeat(200))), "{line}");
    }

    #[test]
    fn a_line_without_request_or_trace_says_so() {
        let event = Event {
            message: Some("plain".into()),
            ..Default::default()
        };
        let line = line(&event);
        assert!(line.contains("request_id=- trace_id=-"), "{line}");
    }
}
