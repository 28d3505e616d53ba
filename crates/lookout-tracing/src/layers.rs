//! The `tracing` layers lookout installs: log lines (fmt, filtered by
//! `RUST_LOG`) and the Sentry integration (events, breadcrumbs, Sentry Logs,
//! spans).
//!
//! Each has its own filter: what a terminal shows (`RUST_LOG`) and what
//! reaches Sentry ([`TracingOptions`] levels) are separate decisions, so
//! `RUST_LOG=warn` quietens the logs without losing INFO breadcrumbs.

use std::io::IsTerminal as _;

use lookout_policy::{LogFormat, LogLevel, Settings};
use sentry_tracing::ErrorLayer;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::db_spans::{SampledRequests, SqlxSpans, UnsampledVeto};
use crate::log_lines::{HumanLines, JsonLines};
use crate::request_lines::RequestLines;
use crate::request_spans::RequestSpans;
use crate::tracing_options::TracingOptions;

/// The layers `lookout::init()` installs, for a subscriber of your own: log
/// lines in the format of `settings.log_format` (human or JSON lines),
/// filtered by [`TracingOptions::env_filter`], and the
/// [`sentry_layer`], whose Sentry Logs start at `settings.logs_level`
/// (`LOOKOUT_LOGS_LEVEL`; none with `SENTRY_ENABLE_LOGS=false`) unless
/// [`TracingOptions::log_level`] chose a level in code.
///
/// A line written inside a request starts with the request, as if it were
/// the outermost span: human lines show
/// `request{request_id=.. trace_id=.. method=GET}: ...`, JSON lines carry
/// `{"name":"request","request_id":..,"trace_id":..,"method":..}` at the
/// head of `spans` (and as `span` when no span of yours is open). The ids
/// come from the request's context, bound around every poll of the handler
/// and of the body, not from a `tracing` span: this layer's filter leaves
/// the request span ([`InFlight::tracing_span`](lookout_core::InFlight::tracing_span))
/// off, so a request costs no span work, and a line is the only thing that
/// reads them.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let settings = lookout_policy::Settings::from_vars([("SENTRY_ENVIRONMENT", "production")])?;
/// let subscriber = tracing_subscriber::registry()
///     .with(lookout_tracing::tracing_layers(&settings, lookout_tracing::TracingOptions::new()));
/// tracing::subscriber::with_default(subscriber, || tracing::info!("ready"));
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
pub fn tracing_layers<S>(
    settings: &Settings,
    options: TracingOptions,
) -> impl Layer<S> + Send + Sync + use<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let filter = options.line_filter();
    let options = if options.log_level_set {
        options
    } else {
        let level = settings.logs().map(tracing_level);
        TracingOptions {
            log_level: level,
            ..options
        }
    };
    let most_verbose = std::cmp::max(
        filter.max_level_hint().unwrap_or(LevelFilter::TRACE),
        sentry_hint(&options),
    );
    let sentry = sentry_layer(&options);
    let veto = unsampled_veto(&options);
    let fmt = fmt_layer(settings.log_format.value, options).with_filter(filter);
    fmt.and_then(sentry)
        .and_then(veto)
        .and_then(level_hint(most_verbose))
}

/// The Sentry part alone, for a subscriber that already has its own log
/// output: events at [`TracingOptions::event_level`] are captured on the
/// current Hub (a request's own Hub inside a request, so they carry its
/// user, tags and trace), less severe ones down to
/// [`TracingOptions::breadcrumb_level`] become breadcrumbs on the request
/// (also when logged inside a recorded span), events down to
/// [`TracingOptions::log_level`] (default `INFO`) become Sentry Logs when the
/// current client sends logs (inside a request: on its trace, with its ids
/// and user), and spans
/// become child spans of the traced request (see
/// [`TracingOptions::spans_outside_requests`]), as do the request's
/// database queries (sqlx's `sqlx::query` events, spans with OpenTelemetry
/// database fields; off with spans). lookout's own targets
/// (`lookout::*`, e.g. console lines and the request span) are left out.
///
/// Alone, this layer cannot know what the other layers of your subscriber
/// want, so it leaves lookout's request span and sqlx's query events
/// enabled in every request (tracing-subscriber cannot disable a callsite
/// one per-layer filter finds "sometimes" interesting): sqlx then formats
/// each query even in an unsampled request. [`tracing_layers`] knows its
/// log lines and keeps both off there.
///
/// Keep the request span enabled in your own filter
/// (`lookout::request=info`, see [`LOOKOUT_DIRECTIVES`](crate::LOOKOUT_DIRECTIVES))
/// so your log lines carry `request_id` and `trace_id`.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer())
///     .with(lookout_tracing::sentry_layer(&lookout_tracing::TracingOptions::new()));
/// # let _ = subscriber;
/// ```
pub fn sentry_layer<S>(options: &TracingOptions) -> impl Layer<S> + Send + Sync + use<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let event_level = options.event_level;
    let breadcrumb_level = options.breadcrumb_level;
    let span_level = options.span_level;
    let log_level = options.log_level;

    let is_event = move |m: &Metadata<'_>| {
        m.is_event() && !is_lookout_target(m.target()) && at_least(m.level(), event_level)
    };
    // Installed before the error layer (sentry-tracing's advice). One layer
    // for breadcrumbs and logs: a line that is both is recorded once.
    let lines = RequestLines {
        breadcrumb_level,
        event_level,
        log_level,
    };
    let lines_hint = std::cmp::max(hint(breadcrumb_level), hint(log_level));
    let lines_filter = ByMetadata::new(
        move |m| m.is_event() && !is_lookout_target(m.target()) && lines.wants(m.level()),
        lines_hint,
    );
    let lines = lines.with_filter(lines_filter);
    let errors = ErrorLayer::new().with_filter(ByMetadata::new(is_event, hint(event_level)));
    let spans = RequestSpans::new(options.spans_outside_requests).with_filter(ByMetadata::new(
        move |m| m.is_span() && !is_lookout_target(m.target()) && at_least(m.level(), span_level),
        hint(span_level),
    ));
    // sqlx's query events as `db` spans, whatever `RUST_LOG` says.
    let queries = SqlxSpans.with_filter(SampledRequests::new(span_level.is_some()));
    lines
        .and_then(errors)
        .and_then(spans)
        .and_then(queries)
        .and_then(level_hint(sentry_hint(options)))
}

/// The veto that keeps an unsampled request's span and sqlx's formatting
/// off (see [`UnsampledVeto`]), knowing what the other parts of
/// [`tracing_layers`] want: the log-line filter's directives, and the
/// Sentry levels for `sqlx::query` events (never for lookout's own span).
fn unsampled_veto<S>(options: &TracingOptions) -> impl Layer<S> + Send + Sync + use<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let lines = options.line_filter();
    let levels = [
        options.event_level,
        options.breadcrumb_level,
        options.log_level,
    ];
    UnsampledVeto::new(move |metadata: &Metadata<'_>, ctx: Context<'_, S>| {
        <tracing_subscriber::EnvFilter as Layer<S>>::enabled(&lines, metadata, ctx)
            || (!is_lookout_target(metadata.target())
                && levels
                    .iter()
                    .any(|level| at_least(metadata.level(), *level)))
    })
}

/// The most verbose level `log` records need under [`tracing_layers`]: what
/// the log lines and the Sentry parts want, without the database spans'
/// level (sqlx's query events are `tracing` events, not `log` records).
/// `lookout::init` bridges `log` records down to it.
///
/// ```
/// let settings = lookout_policy::Settings::from_vars([("SENTRY_ENVIRONMENT", "production")])?;
/// let level = lookout_tracing::log_records_level(&settings, &lookout_tracing::TracingOptions::new());
/// assert!(level >= tracing_subscriber::filter::LevelFilter::INFO);
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
pub fn log_records_level(settings: &Settings, options: &TracingOptions) -> LevelFilter {
    let log_level = if options.log_level_set {
        options.log_level
    } else {
        settings.logs().map(tracing_level)
    };
    [
        options.event_level,
        options.breadcrumb_level,
        options.span_level,
        log_level,
    ]
    .into_iter()
    .map(hint)
    .chain(options.line_filter().max_level_hint())
    .max()
    .unwrap_or(LevelFilter::OFF)
}

/// The most verbose level any Sentry part of `options` wants.
fn sentry_hint(options: &TracingOptions) -> LevelFilter {
    [
        options.event_level,
        options.breadcrumb_level,
        options.span_level,
        options.log_level,
    ]
    .into_iter()
    .map(hint)
    .chain([SampledRequests::hint(options.span_level.is_some())])
    .max()
    .unwrap_or(LevelFilter::OFF)
}

/// A layer that records nothing and enables nothing, only saying that the
/// layers under it want nothing more verbose than `most_verbose`.
///
/// Under a `Registry`, tracing-subscriber 0.3 takes the maximum level of a
/// chain of layers (`a.and_then(b)`) from the outermost layer alone, which
/// would cap every other layer at its level (a `RUST_LOG=debug` fmt layer
/// under an `INFO` span layer would print no DEBUG line). As the outermost
/// layer, this one gives the chain the level of its most verbose part.
fn level_hint<S>(most_verbose: LevelFilter) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::layer::Identity::new().with_filter(ByMetadata::new(|_| false, most_verbose))
}

/// A per-layer filter decided by a callsite's metadata alone, so that
/// `tracing` caches the decision per callsite: a span or event no layer
/// wants (lookout's request span under lookout's own subscriber, a `DEBUG`
/// line under `RUST_LOG=info`) then costs one atomic load where it is
/// written, not a round of filter calls each time. (`filter_fn` would answer
/// "sometimes" and be asked again on every call.)
struct ByMetadata<F> {
    wants: F,
    max_level: LevelFilter,
}

impl<F> ByMetadata<F>
where
    F: Fn(&Metadata<'_>) -> bool,
{
    fn new(wants: F, max_level: LevelFilter) -> Self {
        Self { wants, max_level }
    }
}

impl<S, F> Filter<S> for ByMetadata<F>
where
    F: Fn(&Metadata<'_>) -> bool,
{
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        (self.wants)(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if (self.wants)(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }
}

/// The `tracing` level of a Sentry Log level (`fatal` has none: `ERROR`).
fn tracing_level(level: LogLevel) -> Level {
    match level {
        LogLevel::Trace => Level::TRACE,
        LogLevel::Debug => Level::DEBUG,
        LogLevel::Info => Level::INFO,
        LogLevel::Warn => Level::WARN,
        LogLevel::Error | LogLevel::Fatal => Level::ERROR,
    }
}

/// The fmt layer for `format`, writing where `options` says.
fn fmt_layer<S>(format: LogFormat, options: TracingOptions) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let custom_writer = options.writer.is_some();
    let writer = options
        .writer
        .unwrap_or_else(|| tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stdout));
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    // Left at the default otherwise, which honours NO_COLOR.
    let layer = if custom_writer || !std::io::stdout().is_terminal() {
        layer.with_ansi(false)
    } else {
        layer
    };
    match format {
        LogFormat::Json => Box::new(
            layer
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .event_format(JsonLines::default()),
        ),
        _ => Box::new(layer.event_format(HumanLines::default())),
    }
}

/// lookout's own targets: console lines, the request span, Spotlight and
/// trace-continuation notes. Turning them into Sentry data would loop
/// (console lines are printed while an event is being delivered) or
/// duplicate the transaction that already represents the request.
fn is_lookout_target(target: &str) -> bool {
    target == "lookout" || target.starts_with("lookout::")
}

/// Whether `level` is `threshold` or more severe.
fn at_least(level: &Level, threshold: Option<Level>) -> bool {
    threshold.is_some_and(|threshold| *level <= threshold)
}

fn hint(level: Option<Level>) -> LevelFilter {
    level.map_or(LevelFilter::OFF, LevelFilter::from_level)
}
