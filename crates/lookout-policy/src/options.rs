//! Code-level overrides: what the application sets in code, above the
//! environment variables.
//!
//! Owns the builder only; [`Overrides::resolve`] hands over to
//! [`Settings`](crate::Settings) for precedence and validation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::protocol::{Breadcrumb, Event, Log, LogLevel, Metric, Transaction};

use crate::compression::Compression;
use crate::environment::Detection;
use crate::request_body::RequestBodySize;
use crate::sampling::{SamplerContext, TracesSampler};
use crate::value::LogFormat;

/// A `before_send` / `before_breadcrumb` callback, as in `sentry_core`.
pub type BeforeCallback<T> = Arc<dyn Fn(T) -> Option<T> + Send + Sync>;

/// Settings chosen in code. A value set here wins over its environment
/// variable (as in every Sentry SDK) and is validated the same way; what is
/// left unset comes from the environment, then the profile.
///
/// ```
/// use lookout_policy::{Detection, Overrides, Source};
///
/// let settings = Overrides::new()
///     .app_release("api@1.4.2")
///     .traces_sample_rate(0.2)
///     .detection(Detection::new(Some("web-1".into()), false))
///     .resolve([("SENTRY_ENVIRONMENT", "staging")])?;
/// assert_eq!(settings.release.value.as_deref(), Some("api@1.4.2"));
/// assert_eq!(settings.traces_sample_rate.value, 0.2);
/// assert_eq!(settings.traces_sample_rate.source, Source::Code);
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
#[non_exhaustive]
pub struct Overrides {
    pub(crate) dsn: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) app_release: Option<String>,
    pub(crate) traces_sample_rate: Option<f64>,
    pub(crate) sample_rate: Option<f64>,
    pub(crate) debug: Option<bool>,
    pub(crate) attach_stacktrace: Option<bool>,
    pub(crate) send_default_pii: Option<bool>,
    pub(crate) spotlight: Option<String>,
    pub(crate) org_id: Option<u64>,
    pub(crate) strict_trace_continuation: Option<bool>,
    pub(crate) max_breadcrumbs: Option<usize>,
    pub(crate) send_in_development: Option<bool>,
    pub(crate) trace_propagation_targets: Option<Vec<String>>,
    pub(crate) ignored_routes: Option<Vec<String>>,
    pub(crate) trace_ignore_status_codes: Option<Vec<std::ops::RangeInclusive<u16>>>,
    pub(crate) max_request_body_size: Option<RequestBodySize>,
    pub(crate) queue_max_envelopes: Option<usize>,
    pub(crate) queue_max_bytes: Option<u64>,
    pub(crate) compression: Option<Compression>,
    pub(crate) server_timing: Option<bool>,
    pub(crate) propagate_traceparent: Option<bool>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) enable_logs: Option<bool>,
    pub(crate) logs_level: Option<LogLevel>,
    pub(crate) auto_session_tracking: Option<bool>,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) traces_sampler: Option<Arc<TracesSampler>>,
    pub(crate) before_send: Option<BeforeCallback<Event<'static>>>,
    pub(crate) before_breadcrumb: Option<BeforeCallback<Breadcrumb>>,
    pub(crate) before_send_log: Option<BeforeCallback<Log>>,
    pub(crate) before_send_metric: Option<BeforeCallback<Metric>>,
    pub(crate) before_send_transaction: Option<BeforeCallback<Transaction<'static>>>,
    pub(crate) detection: Option<Detection>,
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overrides")
            .field("dsn", &self.dsn.as_ref().map(|_| "<set>"))
            .field("environment", &self.environment)
            .field("release", &self.release)
            .field("app_release", &self.app_release)
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("sample_rate", &self.sample_rate)
            .field("detection", &self.detection)
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty = $example:literal) => {
        $(#[$doc])*
        ///
        /// ```
        #[doc = concat!("let options = lookout_policy::Overrides::new().", stringify!($name), "(", $example, ");")]
        /// ```
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
}

impl Overrides {
    /// No overrides: everything comes from the environment and the profile.
    pub fn new() -> Self {
        Self::default()
    }

    setter!(
        /// The DSN (validated like `SENTRY_DSN`).
        dsn: impl Into<String> = "\"https://public@o1.ingest.sentry.io/2\""
    );
    setter!(
        /// The environment name, skipping detection.
        environment: impl Into<String> = "\"staging\""
    );
    setter!(
        /// The release, above `SENTRY_RELEASE`.
        release: impl Into<String> = "\"api@1.4.2\""
    );
    setter!(
        /// The application's `name@version`: the release used when neither
        /// `SENTRY_RELEASE` nor `APP_VERSION` is set (the facade passes
        /// `concat!(env!("CARGO_PKG_NAME"), "@", env!("CARGO_PKG_VERSION"))`).
        app_release: impl Into<String> = "\"api@1.4.2\""
    );
    setter!(
        /// Share of new traces sampled (0..=1).
        traces_sample_rate: f64 = "0.25"
    );
    setter!(
        /// Share of error events sent (0..=1).
        sample_rate: f64 = "1.0"
    );
    setter!(
        /// SDK debug logging.
        debug: bool = "true"
    );
    setter!(
        /// The capture site's frames on events without an exception.
        attach_stacktrace: bool = "false"
    );
    setter!(
        /// Whether personal data may be sent.
        send_default_pii: bool = "false"
    );
    setter!(
        /// Spotlight, with the `SENTRY_SPOTLIGHT` grammar (`"true"`, `"false"` or a URL).
        spotlight: impl Into<String> = "\"http://localhost:8969/stream\""
    );
    setter!(
        /// The organization id (otherwise from the DSN host).
        org_id: u64 = "123"
    );
    setter!(
        /// Strict trace continuation.
        strict_trace_continuation: bool = "true"
    );
    setter!(
        /// Breadcrumbs kept per scope.
        max_breadcrumbs: usize = "50"
    );
    setter!(
        /// Send to the DSN in development too.
        send_in_development: bool = "true"
    );
    setter!(
        /// Regexes of outgoing URLs that get trace headers (an empty list: none).
        trace_propagation_targets: Vec<String> = "vec![\"^https://api\\\\.internal/\".into()]"
    );
    setter!(
        /// Routes never sampled unless the caller's trace was.
        ignored_routes: Vec<String> = "vec![\"/health\".into()]"
    );
    setter!(
        /// Status codes whose requests send no transaction (an empty list: every transaction is sent).
        trace_ignore_status_codes: Vec<std::ops::RangeInclusive<u16>> = "vec![401..=404, 301..=303, 305..=399]"
    );
    setter!(
        /// How much of a request's body a captured event carries.
        max_request_body_size: RequestBodySize = "lookout_policy::RequestBodySize::Small"
    );
    setter!(
        /// Bound of the outgoing queue, by count.
        queue_max_envelopes: usize = "10_000"
    );
    setter!(
        /// Bound of the outgoing queue, in bytes.
        queue_max_bytes: u64 = "64 << 20"
    );
    setter!(
        /// How envelopes sent to Sentry are compressed (`LOOKOUT_COMPRESSION`).
        compression: Compression = "lookout_policy::Compression::Gzip"
    );
    setter!(
        /// `server-timing` response header with the trace.
        server_timing: bool = "true"
    );
    setter!(
        /// W3C `traceparent` on outgoing calls.
        propagate_traceparent: bool = "false"
    );
    setter!(
        /// Log line format.
        log_format: LogFormat = "lookout_policy::LogFormat::Json"
    );
    setter!(
        /// Sentry Logs from `tracing` events and uncaptured failures.
        enable_logs: bool = "false"
    );
    setter!(
        /// The lowest level sent as a Sentry Log (`Fatal` is refused).
        logs_level: LogLevel = "lookout_policy::LogLevel::Warn"
    );
    setter!(
        /// Release health (one session per request; needs a release).
        auto_session_tracking: bool = "false"
    );
    setter!(
        /// How long shutdown waits to flush.
        shutdown_timeout: std::time::Duration = "std::time::Duration::from_secs(5)"
    );
    setter!(
        /// Host name and build profile to detect the environment from
        /// (default: [`Detection::current`]).
        detection: Detection = "lookout_policy::Detection::new(Some(\"web-1\".into()), false)"
    );

    /// A user sampler (see [`TracesSampler`]).
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new()
    ///     .traces_sampler(|ctx| (ctx.route == Some("/checkout")).then_some(1.0));
    /// ```
    pub fn traces_sampler<F>(mut self, sampler: F) -> Self
    where
        F: Fn(&SamplerContext<'_>) -> Option<f64> + Send + Sync + 'static,
    {
        self.traces_sampler = Some(Arc::new(sampler));
        self
    }

    /// The application's own `before_send`; lookout's scrubber runs after it.
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new().before_send(|event| Some(event));
    /// ```
    pub fn before_send<F>(mut self, callback: F) -> Self
    where
        F: Fn(Event<'static>) -> Option<Event<'static>> + Send + Sync + 'static,
    {
        self.before_send = Some(Arc::new(callback));
        self
    }

    /// The application's own `before_send_log`; lookout's scrubber runs after it.
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new()
    ///     .before_send_log(|log| (!log.body.starts_with("health")).then_some(log));
    /// ```
    pub fn before_send_log<F>(mut self, callback: F) -> Self
    where
        F: Fn(Log) -> Option<Log> + Send + Sync + 'static,
    {
        self.before_send_log = Some(Arc::new(callback));
        self
    }

    /// The application's own `before_send_metric`; lookout's scrubber runs
    /// after it (and lookout-core adds the request's trace and attributes
    /// before it). `None` drops the metric.
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new()
    ///     .before_send_metric(|metric| (!metric.name.starts_with("debug.")).then_some(metric));
    /// ```
    pub fn before_send_metric<F>(mut self, callback: F) -> Self
    where
        F: Fn(Metric) -> Option<Metric> + Send + Sync + 'static,
    {
        self.before_send_metric = Some(Arc::new(callback));
        self
    }

    /// The application's own `before_send_transaction`: it sees each
    /// finished transaction after lookout filled it (the request's user,
    /// tags and trace data) and before the scrubber, and may change it or
    /// drop it (`None`). A dropped transaction is counted as an
    /// `event_processor` discard.
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new().before_send_transaction(|tx| {
    ///     (tx.name.as_deref() != Some("GET /internal/poll")).then_some(tx)
    /// });
    /// ```
    pub fn before_send_transaction<F>(mut self, callback: F) -> Self
    where
        F: Fn(Transaction<'static>) -> Option<Transaction<'static>> + Send + Sync + 'static,
    {
        self.before_send_transaction = Some(Arc::new(callback));
        self
    }

    /// The application's own `before_breadcrumb`; lookout's scrubber runs after it.
    ///
    /// ```
    /// let options = lookout_policy::Overrides::new().before_breadcrumb(|crumb| Some(crumb));
    /// ```
    pub fn before_breadcrumb<F>(mut self, callback: F) -> Self
    where
        F: Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    {
        self.before_breadcrumb = Some(Arc::new(callback));
        self
    }
}
