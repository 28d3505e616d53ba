//! The log lines of lookout's fmt layer: tracing-subscriber's own formats
//! (human: `Full`; JSON lines: `Json` with the current span and the span
//! list), with the request a line belongs to written first, as if it were the
//! outermost span: `request{request_id=.. trace_id=.. method=GET}:` in human
//! lines, `{"name":"request","request_id":..,"trace_id":..,"method":..}` at
//! the head of `spans` (and as `span` when no span of the application's is
//! open) in JSON lines.
//!
//! The request comes from the request context bound around every poll of
//! the handler and of the body ([`lookout_scope::current`]), not from a
//! `tracing` span: a span per request costs the span registry, every layer's
//! filter, field formatting and an enter and exit on every poll (about 4 µs
//! of CPU per request under load, see `docs/benchmarks.md`), for every
//! request, when only the rare request that logs a line needs its ids. The
//! request span ([`InFlight::tracing_span`](lookout_core::InFlight::tracing_span),
//! target `lookout::request`) stays for subscribers of users' own; this
//! layer's filter turns it off, and skips it if a filter turned it back on.

use std::fmt;

use lookout_scope::RequestContext;
use serde::ser::{SerializeMap as _, Serializer as _};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// The request span's target: the span is left out of lines that already
/// carry the request from its context.
pub(crate) const REQUEST_SPAN_TARGET: &str = "lookout::request";

fn is_request_span<S>(span: &SpanRef<'_, S>) -> bool
where
    S: for<'a> LookupSpan<'a>,
{
    span.metadata().target() == REQUEST_SPAN_TARGET
}

/// Human lines: tracing-subscriber's default (`Full`) layout.
#[derive(Debug, Default)]
pub(crate) struct HumanLines {
    timer: SystemTime,
}

/// ANSI styles, written only when the writer has escapes on.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, w: &mut Writer<'_>, code: &str, text: &str) -> fmt::Result {
        if self.on {
            write!(w, "\x1b[{code}m{text}\x1b[0m")
        } else {
            w.write_str(text)
        }
    }
}

const BOLD: &str = "1";
const DIMMED: &str = "2";

fn level_label(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::TRACE => ("TRACE", "35"),
        Level::DEBUG => ("DEBUG", "34"),
        Level::INFO => (" INFO", "32"),
        Level::WARN => (" WARN", "33"),
        Level::ERROR => ("ERROR", "31"),
    }
}

impl<S, N> FormatEvent<S, N> for HumanLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let style = Style {
            on: writer.has_ansi_escapes(),
        };

        if style.on {
            writer.write_str("\x1b[2m")?;
        }
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        if style.on {
            writer.write_str("\x1b[0m")?;
        }
        writer.write_char(' ')?;
        let (label, colour) = level_label(*meta.level());
        style.paint(&mut writer, colour, label)?;
        writer.write_char(' ')?;

        let mut seen = false;
        if let Some(request) = lookout_scope::current() {
            style.paint(&mut writer, BOLD, "request")?;
            style.paint(&mut writer, BOLD, "{")?;
            write!(
                writer,
                "request_id={} trace_id={}",
                request.request_id(),
                request.trace().trace_id,
            )?;
            // A job's context has no method: no empty `method=`.
            if !request.method().is_empty() {
                write!(writer, " method={}", request.method())?;
            }
            style.paint(&mut writer, BOLD, "}")?;
            style.paint(&mut writer, DIMMED, ":")?;
            seen = true;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root().filter(|span| !is_request_span(span)) {
                style.paint(&mut writer, BOLD, span.metadata().name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    style.paint(&mut writer, BOLD, "{")?;
                    writer.write_str(fields)?;
                    style.paint(&mut writer, BOLD, "}")?;
                }
                style.paint(&mut writer, DIMMED, ":")?;
                seen = true;
            }
        }
        if seen {
            writer.write_char(' ')?;
        }
        style.paint(&mut writer, DIMMED, meta.target())?;
        style.paint(&mut writer, DIMMED, ":")?;
        writer.write_char(' ')?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// JSON lines: tracing-subscriber's `Json` layout with the current span
/// and the span list (`timestamp`, `level`, `fields`, `target`, `span`,
/// `spans`).
#[derive(Debug, Default)]
pub(crate) struct JsonLines {
    timer: SystemTime,
}

/// One span of a JSON line: its recorded fields and its name.
enum JsonSpan<'a, S>
where
    S: for<'lookup> LookupSpan<'lookup>,
{
    /// The request, with the fields its span had, in its order.
    Request(&'a RequestContext),
    Span(SpanRef<'a, S>),
}

impl<S> serde::Serialize for JsonSpan<'_, S>
where
    S: for<'lookup> LookupSpan<'lookup>,
{
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Self::Request(request) => {
                map.serialize_entry("request_id", request.request_id())?;
                map.serialize_entry("trace_id", &format_args!("{}", request.trace().trace_id))?;
                if !request.method().is_empty() {
                    map.serialize_entry("method", request.method())?;
                }
                map.serialize_entry("name", "request")?;
            }
            Self::Span(span) => {
                let extensions = span.extensions();
                // The JSON field formatter recorded the span's fields as an
                // object; a span recorded by another formatter shows its name.
                if let Some(fields) = extensions.get::<FormattedFields<JsonFields>>()
                    && let Ok(serde_json::Value::Object(fields)) =
                        serde_json::from_str::<serde_json::Value>(fields)
                {
                    for (key, value) in &fields {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.serialize_entry("name", span.metadata().name())?;
            }
        }
        map.end()
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        use tracing_serde::fields::AsMap as _;

        let mut timestamp = String::new();
        self.timer.format_time(&mut Writer::new(&mut timestamp))?;
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let request = lookout_scope::current();
        let spans: Vec<JsonSpan<'_, S>> = request
            .as_ref()
            .map(JsonSpan::Request)
            .into_iter()
            .chain(ctx.event_scope().into_iter().flat_map(|scope| {
                scope
                    .from_root()
                    .filter(|span| !is_request_span(span))
                    .map(JsonSpan::Span)
            }))
            .collect();

        let mut line = Vec::with_capacity(256);
        let mut serializer = serde_json::Serializer::new(&mut line);
        let written = (|| {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("timestamp", &timestamp)?;
            map.serialize_entry("level", meta.level().as_str())?;
            map.serialize_entry("fields", &event.field_map())?;
            map.serialize_entry("target", meta.target())?;
            if let Some(innermost) = spans.last() {
                map.serialize_entry("span", innermost)?;
                map.serialize_entry("spans", &spans)?;
            }
            map.end()
        })();
        written.map_err(|_| fmt::Error)?;
        // serde_json writes valid UTF-8.
        writer.write_str(std::str::from_utf8(&line).map_err(|_| fmt::Error)?)?;
        writeln!(writer)
    }
}
