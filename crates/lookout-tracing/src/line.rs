//! One `tracing` event, recorded once for every Sentry use of it.
//!
//! A line inside a request can be a breadcrumb and a Sentry Log at once.
//! Its fields are visited once into a [`Line`] (the names are the
//! callsite's `&'static str`s, the values in their own types, no map), and
//! the same `Arc<Line>` is kept by the request's breadcrumbs and queued as a
//! log: the breadcrumb is built only if an event of the request is
//! captured, and the log is serialized on the delivery worker.

use std::fmt;
use std::time::SystemTime;

use lookout_core::log_capture::{LogField, LogLine};
use sentry_core::Level as SentryLevel;
use sentry_core::protocol::{Breadcrumb, LogLevel, Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata};

/// A `tracing` event as lookout keeps it: its callsite, time, message and
/// fields.
pub(crate) struct Line {
    metadata: &'static Metadata<'static>,
    timestamp: SystemTime,
    message: Option<String>,
    fields: Vec<(&'static str, LogField)>,
}

impl Line {
    /// Records `event`'s message and fields, now.
    pub(crate) fn record(event: &Event<'_>) -> Self {
        let mut visitor = Visitor {
            message: None,
            error: None,
            fields: Vec::new(),
        };
        event.record(&mut visitor);
        Self {
            metadata: event.metadata(),
            timestamp: SystemTime::now(),
            // `#[instrument(err)]` events have no message, only `error`.
            message: visitor.message.or(visitor.error),
            fields: visitor.fields,
        }
    }
}

struct Visitor {
    message: Option<String>,
    error: Option<String>,
    fields: Vec<(&'static str, LogField)>,
}

impl Visitor {
    fn push(&mut self, field: &Field, value: LogField) {
        self.fields.push((field.name(), value));
    }
}

impl Visit for Visitor {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, LogField::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, LogField::U64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, LogField::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, LogField::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.push(field, LogField::Str(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = value.to_string();
        if field.name() == "error" && self.error.is_none() {
            self.error = Some(text.clone());
        }
        self.push(field, LogField::Str(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.push(field, LogField::Str(text));
        }
    }
}

impl lookout_scope::LazyBreadcrumb for Line {
    /// As sentry-tracing builds it: type `log`, the target as category, the
    /// message, the fields as data.
    fn to_breadcrumb(&self) -> Breadcrumb {
        let data: Map<String, Value> = self
            .fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.to_json()))
            .collect();
        Breadcrumb {
            timestamp: self.timestamp,
            ty: "log".into(),
            category: Some(self.metadata.target().to_owned()),
            level: sentry_level(self.metadata.level()),
            message: self.message.clone(),
            data,
        }
    }
}

impl LogLine for Line {
    fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    fn level(&self) -> LogLevel {
        match *self.metadata.level() {
            Level::TRACE => LogLevel::Trace,
            Level::DEBUG => LogLevel::Debug,
            Level::INFO => LogLevel::Info,
            Level::WARN => LogLevel::Warn,
            Level::ERROR => LogLevel::Error,
        }
    }

    fn body(&self) -> &str {
        self.message.as_deref().unwrap_or_default()
    }

    fn fields(&self) -> &[(&'static str, LogField)] {
        &self.fields
    }

    fn module_path(&self) -> Option<&'static str> {
        self.metadata.module_path()
    }

    fn file(&self) -> Option<&'static str> {
        self.metadata.file()
    }

    fn line(&self) -> Option<u32> {
        self.metadata.line()
    }
}

/// sentry-tracing's mapping of `tracing` levels to Sentry's.
fn sentry_level(level: &Level) -> SentryLevel {
    match *level {
        Level::TRACE | Level::DEBUG => SentryLevel::Debug,
        Level::INFO => SentryLevel::Info,
        Level::WARN => SentryLevel::Warning,
        Level::ERROR => SentryLevel::Error,
    }
}
