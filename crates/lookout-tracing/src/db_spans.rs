//! Database queries as `db` spans of the request's transaction, what
//! Sentry's Queries view reads.
//!
//! - sqlx emits no span: it logs one `tracing` event per query at target
//!   `sqlx::query` (fields `db.statement`, `summary`, `rows_affected`,
//!   `rows_returned`, `elapsed_secs`; DEBUG by default, WARN when slow).
//!   [`SqlxSpans`] turns each such event inside a sampled request into a
//!   finished child span: op `db`, the statement as its description, data
//!   `db.system`, `db.query.text`, `db.response.returned_rows`,
//!   `db.response.affected_rows`, origin `auto.db.sqlx`, started
//!   `elapsed_secs` before the event.
//! - A span with OpenTelemetry's database fields (sea-orm, diesel-tracing,
//!   an `#[instrument]` of your own) is recorded by the span layer like any
//!   other; [`apply_otel_fields`] then makes it an op `db` span named after
//!   its query.
//!
//! The filter ([`SampledRequests`]) enables `sqlx::query` events for this
//! layer whatever the log-line filter (`RUST_LOG`) says, but only inside a
//! sampled request: sqlx checks whether its event is enabled before it
//! formats anything, so an unsampled request (or a query outside requests)
//! costs sqlx no formatting and lookout one thread-local read.
//!
//! SQLite runs each query on a worker thread of its own, which the request's
//! context does not reach: sqlx enters there the `tracing` span current when
//! the query was sent. The filter therefore also enables lookout's request
//! span (`lookout::request`) in a sampled request, and the layer keeps the
//! request's context on it, so an event on the worker finds its request
//! through that span. In an unsampled request the span stays off, as before.
//!
//! What the span carries is scrubbed with the transaction it belongs to
//! (lookout-core's delivery hook): credentials in URLs, denylisted keys.

use std::time::{Duration, SystemTime};

use lookout_scope::RequestContext;
use sentry_core::protocol::{SpanId, Value};
use sentry_core::{Hub, TransactionOrSpan};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber, span};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::log_lines::REQUEST_SPAN_TARGET;

/// The target sqlx logs its queries under.
pub(crate) const SQLX_TARGET: &str = "sqlx::query";

/// The `origin` of the spans made from sqlx's events.
const SQLX_ORIGIN: &str = "auto.db.sqlx";

/// The `db.system` of a query whose database sqlx does not name (its event
/// says nothing about the driver): OpenTelemetry's value for "some SQL".
const UNKNOWN_SQL: &str = "other_sql";

/// sqlx-sqlite names its worker threads `sqlx-sqlite-worker-N`.
const SQLITE_WORKER: &str = "sqlx-sqlite-worker";

/// The most verbose level the layer needs: sqlx logs statements at DEBUG
/// by default.
const MOST_VERBOSE: LevelFilter = LevelFilter::DEBUG;

/// The layer: sqlx's query events inside a sampled request become finished
/// `db` spans; lookout's request span keeps its request for the events
/// that arrive on another thread.
pub(crate) struct SqlxSpans;

/// The filter of [`SqlxSpans`]: `sqlx::query` events and lookout's request
/// span, only while a sampled request is at hand. Decided per callsite as
/// "sometimes" for these two targets and "never" for every other, so no
/// other callsite ever asks it again. Off (never interested) when spans
/// from `tracing` are off ([`TracingOptions::span_level`](crate::TracingOptions::span_level) `None`).
pub(crate) struct SampledRequests {
    on: bool,
}

impl SampledRequests {
    pub(crate) fn new(on: bool) -> Self {
        Self { on }
    }

    /// The most verbose level this filter enables.
    pub(crate) fn hint(on: bool) -> LevelFilter {
        if on { MOST_VERBOSE } else { LevelFilter::OFF }
    }
}

/// The global veto [`tracing_layers`](crate::tracing_layers)
/// adds: with per-layer filters, tracing-subscriber treats a callsite that
/// one filter finds "sometimes" interesting as enabled whatever the filters
/// then say (its `Registry::enabled`), so [`SampledRequests`] alone would
/// create the request span of every request and let sqlx format every
/// query. This layer says no, for those two kinds of callsites only, when
/// no sampled request is at hand and no other part of lookout's subscriber
/// (`others`: the log-line filter, the Sentry levels) wants them. A
/// subscriber of the application's own with [`sentry_layer`](crate::sentry_layer)
/// has no such veto: lookout cannot know what its other layers want.
pub(crate) struct UnsampledVeto<F> {
    others: F,
}

impl<F> UnsampledVeto<F> {
    pub(crate) fn new(others: F) -> Self {
        Self { others }
    }
}

impl<S, F> Layer<S> for UnsampledVeto<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    F: Fn(&Metadata<'_>, Context<'_, S>) -> bool + 'static,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_request_span(metadata) || is_query(metadata) {
            Interest::sometimes()
        } else {
            // No opinion: the layers under it decide.
            Interest::always()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        if is_request_span(metadata) {
            sampled_request().is_some() || (self.others)(metadata, ctx)
        } else if is_query(metadata) {
            sampled_request().is_some()
                || linked_request(ctx.lookup_current()).is_some()
                || (self.others)(metadata, ctx)
        } else {
            true
        }
    }
}

/// The request a request span belongs to (in its extensions).
struct RequestLink(RequestContext);

/// The current request, when it is sampled and has a client (its
/// transaction is then on its Hub).
fn sampled_request() -> Option<RequestContext> {
    lookout_scope::current().filter(|request| request.trace().sampled && request.hub().is_some())
}

fn is_request_span(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.target() == REQUEST_SPAN_TARGET
}

/// A query event or sqlx's `enabled!` check before it (neither a span).
fn is_query(metadata: &Metadata<'_>) -> bool {
    !metadata.is_span() && metadata.target() == SQLX_TARGET
}

/// The request linked to the span current in `cx` (or one of its parents).
fn linked_request<S>(
    span: Option<tracing_subscriber::registry::SpanRef<'_, S>>,
) -> Option<RequestContext>
where
    S: for<'a> LookupSpan<'a>,
{
    span?.scope().find_map(|span| {
        span.extensions()
            .get::<RequestLink>()
            .map(|link| link.0.clone())
    })
}

impl<S> Filter<S> for SampledRequests
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if !self.on {
            return false;
        }
        if is_request_span(metadata) {
            return sampled_request().is_some();
        }
        is_query(metadata)
            && (sampled_request().is_some() || linked_request(cx.lookup_current()).is_some())
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.on && (is_request_span(metadata) || is_query(metadata)) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(Self::hint(self.on))
    }
}

impl<S> Layer<S> for SqlxSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        // Only request spans of sampled requests pass the filter.
        if let (Some(span), Some(request)) = (ctx.span(id), sampled_request()) {
            span.extensions_mut().insert(RequestLink(request));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != SQLX_TARGET {
            return;
        }
        let parent = match sampled_request() {
            // On the request's own thread: the innermost recorded span (a
            // `tracing` span inside the handler), else the transaction.
            Some(request) => Hub::current()
                .configure_scope(|scope| scope.get_span())
                .or_else(|| transaction_of(&request)),
            // On a driver's worker thread: the request the span sqlx
            // entered belongs to.
            None => linked_request(ctx.event_span(event)).and_then(|r| transaction_of(&r)),
        };
        let Some(parent) = parent else {
            return;
        };
        let mut query = SqlxQuery::default();
        event.record(&mut query);
        query.record_under(&parent, db_system_of_this_thread());
    }
}

/// The span on the request's Hub: its transaction when sampled.
fn transaction_of(request: &RequestContext) -> Option<TransactionOrSpan> {
    request.hub()?.configure_scope(|scope| scope.get_span())
}

/// `sqlite` on sqlx-sqlite's worker threads; sqlx's other drivers run the
/// query on the caller's task and say nothing of the database.
fn db_system_of_this_thread() -> &'static str {
    let current = std::thread::current();
    if current
        .name()
        .is_some_and(|name| name.starts_with(SQLITE_WORKER))
    {
        "sqlite"
    } else {
        UNKNOWN_SQL
    }
}

/// The fields of one `sqlx::query` event.
#[derive(Debug, Default)]
struct SqlxQuery {
    /// The whole statement, empty when `summary` is the whole statement.
    statement: Option<String>,
    summary: Option<String>,
    rows_affected: Option<u64>,
    rows_returned: Option<u64>,
    elapsed_secs: Option<f64>,
}

impl SqlxQuery {
    /// The statement as sqlx ran it: `db.statement` (sqlx surrounds it with
    /// blank lines), or `summary` when the statement is that short.
    fn text(&self) -> &str {
        match self.statement.as_deref().map(str::trim) {
            Some(statement) if !statement.is_empty() => statement,
            _ => self.summary.as_deref().unwrap_or_default().trim(),
        }
    }

    /// Records the query as a finished child of `parent`, ending now.
    fn record_under(&self, parent: &TransactionOrSpan, db_system: &str) {
        let end = SystemTime::now();
        let start = self
            .elapsed_secs
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .and_then(|elapsed| end.checked_sub(elapsed))
            .unwrap_or(end);
        let text = self.text();
        let span = parent.start_child_with_details("db", text, SpanId::default(), start);
        span.set_data("db.system", Value::from(db_system));
        span.set_data("db.query.text", Value::from(text));
        if let Some(rows) = self.rows_returned {
            span.set_data("db.response.returned_rows", Value::from(rows));
        }
        if let Some(rows) = self.rows_affected {
            span.set_data("db.response.affected_rows", Value::from(rows));
        }
        span.set_data("sentry.origin", Value::from(SQLX_ORIGIN));
        span.finish_with_timestamp(end);
    }
}

impl Visit for SqlxQuery {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "db.statement" => self.statement = Some(value.to_owned()),
            "summary" => self.summary = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_affected" => self.rows_affected = Some(value),
            "rows_returned" => self.rows_returned = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `db.statement = %sql` and the like arrive formatted.
        if matches!(field.name(), "db.statement" | "summary") {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

/// OpenTelemetry's database fields on a span (both spellings of each).
#[derive(Debug, Default)]
pub(crate) struct OtelDbFields {
    system: Option<String>,
    query: Option<String>,
}

impl OtelDbFields {
    /// The database fields among `values` (a span's attributes or a later
    /// record), if it has any.
    pub(crate) fn of(values: impl FnOnce(&mut dyn Visit)) -> Option<Self> {
        let mut fields = Self::default();
        values(&mut fields);
        (fields.system.is_some() || fields.query.is_some()).then_some(fields)
    }
}

impl Visit for OtelDbFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "db.system" | "db.system.name" => self.system = Some(value.to_owned()),
            "db.statement" | "db.query.text" => self.query = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(
            field.name(),
            "db.system" | "db.system.name" | "db.statement" | "db.query.text"
        ) {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

/// Makes `span` (the Sentry span just made of a `tracing` span with
/// database fields) an op `db` span named after its query, with
/// `db.system` and `db.query.text` whichever spelling the fields used.
pub(crate) fn apply_otel_fields(span: &TransactionOrSpan, fields: &OtelDbFields) {
    span.set_op("db");
    if let Some(query) = &fields.query {
        span.set_name(query);
        span.set_data("db.query.text", Value::from(query.as_str()));
    }
    if let Some(system) = &fields.system {
        span.set_data("db.system", Value::from(system.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_is_the_text_unless_the_summary_is_the_whole_statement() {
        let long = SqlxQuery {
            statement: Some("\n\nSELECT id, total FROM orders WHERE id = ?\n".into()),
            summary: Some("SELECT id, total FROM …".into()),
            ..SqlxQuery::default()
        };
        assert_eq!(long.text(), "SELECT id, total FROM orders WHERE id = ?");
        let short = SqlxQuery {
            statement: Some(String::new()),
            summary: Some("SELECT 1".into()),
            ..SqlxQuery::default()
        };
        assert_eq!(short.text(), "SELECT 1");
    }
}
