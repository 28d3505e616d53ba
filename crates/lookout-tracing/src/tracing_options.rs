//! What the tracing integration does with `tracing` events and spans.
//!
//! Owns the knobs only; [`tracing_layers`](crate::tracing_layers) and
//! [`sentry_layer`](crate::sentry_layer) build the layers from them.

use std::fmt;

use tracing::Level;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// The filter used when `RUST_LOG` is unset or empty.
pub const DEFAULT_FILTER: &str = "info";

/// Directives [`TracingOptions::env_filter`] adds to a filter that does not
/// mention `lookout` itself, for a fmt layer of your own: the request span
/// (its `request_id` and `trace_id` are then on every log line inside a
/// request) and the console delivery lines. lookout's own fmt layer keeps
/// the console lines and leaves the span off: it writes the request's ids
/// from the request's context.
pub const LOOKOUT_DIRECTIVES: &str = "lookout::request=info,lookout::console=info";

/// How `tracing` events and spans map to Sentry, and how log lines are
/// filtered and written.
///
/// Defaults: `ERROR` events become Sentry events, `WARN` and `INFO` events
/// become breadcrumbs, `DEBUG` and `TRACE` are ignored; events at `INFO` or
/// more severe also become Sentry Logs (`LOOKOUT_LOGS_LEVEL`, when
/// `SENTRY_ENABLE_LOGS` is on); spans at `INFO` or more severe become child
/// spans of a sampled request's transaction; log lines are filtered by
/// `RUST_LOG` (default [`DEFAULT_FILTER`]) and written to standard output.
/// lookout's own targets (`lookout::*`) never become Sentry events,
/// breadcrumbs, logs or spans.
///
/// ```
/// use lookout_tracing::TracingOptions;
/// use tracing::Level;
///
/// let options = TracingOptions::new()
///     .event_level(Level::WARN)       // WARN and ERROR become events
///     .breadcrumb_level(Level::DEBUG) // INFO and DEBUG become breadcrumbs
///     .filter("info,my_app=debug");   // instead of RUST_LOG
/// # let _ = options;
/// ```
#[must_use]
pub struct TracingOptions {
    pub(crate) event_level: Option<Level>,
    pub(crate) breadcrumb_level: Option<Level>,
    pub(crate) span_level: Option<Level>,
    pub(crate) log_level: Option<Level>,
    /// Whether `log_level` was set in code (it then wins over the settings).
    pub(crate) log_level_set: bool,
    pub(crate) spans_outside_requests: bool,
    pub(crate) filter: Option<String>,
    pub(crate) writer: Option<BoxMakeWriter>,
}

impl Default for TracingOptions {
    fn default() -> Self {
        Self {
            event_level: Some(Level::ERROR),
            breadcrumb_level: Some(Level::INFO),
            span_level: Some(Level::INFO),
            log_level: Some(Level::INFO),
            log_level_set: false,
            spans_outside_requests: false,
            filter: None,
            writer: None,
        }
    }
}

impl fmt::Debug for TracingOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingOptions")
            .field("event_level", &self.event_level)
            .field("breadcrumb_level", &self.breadcrumb_level)
            .field("span_level", &self.span_level)
            .field("log_level", &self.log_level)
            .field("spans_outside_requests", &self.spans_outside_requests)
            .field("filter", &self.filter)
            .field("writer", &self.writer.as_ref().map(|_| "<custom>"))
            .finish()
    }
}

impl TracingOptions {
    /// The defaults described on [`TracingOptions`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Events at this level or more severe become Sentry events (default
    /// `ERROR`); `None`: no event is captured from `tracing`.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().event_level(None);
    /// # let _ = options;
    /// ```
    pub fn event_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.event_level = level.into();
        self
    }

    /// Events at this level or more severe, and not captured as events,
    /// become breadcrumbs on the current request (default `INFO`); `None`:
    /// no breadcrumbs from `tracing`.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().breadcrumb_level(tracing::Level::WARN);
    /// # let _ = options;
    /// ```
    pub fn breadcrumb_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.breadcrumb_level = level.into();
        self
    }

    /// Spans at this level or more severe become Sentry spans (default
    /// `INFO`, the level of `#[instrument]`); `None`: no spans from `tracing`,
    /// database spans included (sqlx's query events, whatever their level,
    /// become `db` spans while spans are on).
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().span_level(tracing::Level::DEBUG);
    /// # let _ = options;
    /// ```
    pub fn span_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.span_level = level.into();
        self
    }

    /// Events at this level or more severe become Sentry Logs; `None`: no
    /// logs from `tracing`. Without this call,
    /// [`tracing_layers`](crate::tracing_layers) (what `init`
    /// installs) takes the level from the settings (`LOOKOUT_LOGS_LEVEL`,
    /// default `INFO`; none with `SENTRY_ENABLE_LOGS=false`), and
    /// [`sentry_layer`](crate::sentry_layer) uses `INFO`. Whatever
    /// the level, a client with logs off sends none. Independent of the
    /// log-line filter.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().log_level(tracing::Level::WARN);
    /// # let _ = options;
    /// ```
    pub fn log_level(mut self, level: impl Into<Option<Level>>) -> Self {
        self.log_level = level.into();
        self.log_level_set = true;
        self
    }

    /// Whether a span outside any traced request starts a transaction of its
    /// own (sentry-tracing's behaviour, sampled at the traces sample rate;
    /// useful for background workers). Default: off, so only spans inside a
    /// sampled request (or inside a transaction the application started)
    /// are recorded. Spans inside an *unsampled* request are never recorded.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().spans_outside_requests(true);
    /// # let _ = options;
    /// ```
    pub fn spans_outside_requests(mut self, on: bool) -> Self {
        self.spans_outside_requests = on;
        self
    }

    /// Filter directives for log lines (`EnvFilter` syntax) used instead of
    /// `RUST_LOG`. Unless a directive names `lookout` or a `lookout::`
    /// target, [`LOOKOUT_DIRECTIVES`] are
    /// added so request lines keep their ids. Invalid directives are skipped
    /// with a message on standard error.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().filter("warn,my_app=info");
    /// # let _ = options;
    /// ```
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// Where log lines are written (default: standard output). Colours are
    /// used only for a terminal on standard output.
    ///
    /// ```
    /// let options = lookout_tracing::TracingOptions::new().writer(std::io::stderr);
    /// # let _ = options;
    /// ```
    pub fn writer<W>(mut self, writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.writer = Some(BoxMakeWriter::new(writer));
        self
    }

    /// The log-line filter: [`filter`](Self::filter), else `RUST_LOG`, else
    /// [`DEFAULT_FILTER`], plus [`LOOKOUT_DIRECTIVES`] unless a directive
    /// names `lookout` or a `lookout::` target. Use it on your own fmt layer when you bring your own
    /// subscriber.
    ///
    /// ```
    /// let filter = lookout_tracing::TracingOptions::new().filter("warn").env_filter();
    /// assert!(filter.to_string().contains("lookout::request=info"));
    /// ```
    #[must_use]
    pub fn env_filter(&self) -> EnvFilter {
        let directives = self.directives();
        if mentions_lookout(&directives) {
            parse_filter(directives)
        } else {
            parse_filter(format!("{directives},{LOOKOUT_DIRECTIVES}"))
        }
    }

    /// The filter of lookout's own fmt layer: [`env_filter`](Self::env_filter)
    /// with the request span off unless a directive names it, since that
    /// layer writes the request's ids from its context.
    pub(crate) fn line_filter(&self) -> EnvFilter {
        let mut directives = self.directives();
        let names_request_span = directives
            .split(',')
            .any(|directive| directive_target(directive) == REQUEST_SPAN_TARGET);
        if !mentions_lookout(&directives) {
            directives.push(',');
            directives.push_str(CONSOLE_DIRECTIVE);
        }
        if !names_request_span {
            directives.push(',');
            directives.push_str(REQUEST_SPAN_OFF);
        }
        parse_filter(directives)
    }

    /// The log-line directives: [`filter`](Self::filter), else `RUST_LOG`,
    /// else [`DEFAULT_FILTER`].
    fn directives(&self) -> String {
        let from_env = || {
            std::env::var("RUST_LOG")
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        self.filter
            .clone()
            .or_else(from_env)
            .unwrap_or_else(|| DEFAULT_FILTER.to_owned())
    }
}

/// The console delivery lines' directive, one of [`LOOKOUT_DIRECTIVES`].
const CONSOLE_DIRECTIVE: &str = "lookout::console=info";

/// The request span's target, and the directive that turns it off.
const REQUEST_SPAN_TARGET: &str = crate::log_lines::REQUEST_SPAN_TARGET;
const REQUEST_SPAN_OFF: &str = "lookout::request=off";

/// The target a directive sets (`target[span]=level`), trimmed.
fn directive_target(directive: &str) -> &str {
    directive
        .split(['[', '='])
        .next()
        .unwrap_or_default()
        .trim()
}

fn parse_filter(directives: String) -> EnvFilter {
    EnvFilter::builder()
        .with_default_directive(LevelFilter::ERROR.into())
        .parse_lossy(directives)
}

/// Whether a directive sets the level of lookout's own targets.
fn mentions_lookout(directives: &str) -> bool {
    directives.split(',').any(|directive| {
        let target = directive_target(directive);
        target == "lookout" || target.starts_with("lookout::")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookout_directives_are_added_unless_the_user_set_them() {
        assert!(!mentions_lookout("info,lookout_demo=debug"));
        assert!(mentions_lookout("warn,lookout=debug"));
        assert!(mentions_lookout("lookout::request=off"));
        let filter = TracingOptions::new()
            .filter("warn")
            .env_filter()
            .to_string();
        assert!(filter.contains("lookout::request=info"), "{filter}");
        let filter = TracingOptions::new()
            .filter("warn,lookout::request=off")
            .env_filter()
            .to_string();
        assert!(!filter.contains("lookout::request=info"), "{filter}");
    }

    #[test]
    fn lookouts_own_line_filter_turns_the_request_span_off_unless_named() {
        let filter = TracingOptions::new()
            .filter("warn")
            .line_filter()
            .to_string();
        assert!(filter.contains("lookout::request=off"), "{filter}");
        assert!(filter.contains("lookout::console=info"), "{filter}");
        let filter = TracingOptions::new()
            .filter("warn,lookout=debug")
            .line_filter()
            .to_string();
        assert!(filter.contains("lookout::request=off"), "{filter}");
        assert!(!filter.contains("lookout::console=info"), "{filter}");
        let filter = TracingOptions::new()
            .filter("warn,lookout::request=info")
            .line_filter()
            .to_string();
        assert!(!filter.contains("lookout::request=off"), "{filter}");
    }
}
