//! Resolved settings: every value lookout uses, with where it came from.
//!
//! Owns precedence (code, then variable, then profile default, then plain
//! default; the environment itself: code, variable, detection) and the
//! summary line. Defaults are read from [`SETTINGS`](crate::SETTINGS) and
//! parsed with the same parsers as the variables.
//!
//! This file holds [`Settings`] itself; resolving it is in `settings/`:
//! `resolve` (every setting, in order), `resolver` (one setting's
//! precedence), `release` (the release's own), `vars` (the variables read)
//! and `summary` (the start-up line).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::protocol::{Breadcrumb, Event, Log, LogLevel, Metric, Transaction};
use sentry_core::types::Dsn;

use crate::compression::Compression;
use crate::delivery::DeliveryMode;
use crate::environment::{Environment, Profile};
use crate::error::ConfigError;
use crate::options::{BeforeCallback, Overrides};
use crate::pii::PiiPolicy;
use crate::provenance::Resolved;
use crate::request_body::RequestBodySize;
use crate::sampling::{Sampling, TracesSampler};
use crate::status_codes::StatusCodes;
use crate::targets::PropagationTargets;
use crate::value::LogFormat;

mod release;
mod resolve;
mod resolver;
mod summary;
pub use summary::dsn_address;
mod vars;

/// Every setting lookout uses, resolved and validated, each with its
/// [`Source`](crate::Source).
///
/// ```
/// use lookout_policy::{DeliveryMode, Detection, Overrides, Source};
///
/// let settings = Overrides::new()
///     .detection(Detection::new(Some("api-7f9c".into()), false))
///     .resolve([
///         ("SENTRY_DSN", "https://public@o123.ingest.sentry.io/456"),
///         ("SENTRY_RELEASE", "api@1.4.2"),
///     ])?;
/// assert_eq!(settings.environment.value.as_str(), "production");
/// assert_eq!(settings.traces_sample_rate.value, 0.01);
/// assert_eq!(settings.org_id.value, Some(123));
/// assert_eq!(settings.delivery, DeliveryMode::Send);
/// assert_eq!(
///     settings.summary(),
///     "lookout: environment=production (release build) release=api@1.4.2 (SENTRY_RELEASE) \
///      traces=1% (profile production) errors=100% delivery=send dsn=o123.ingest.sentry.io/456 pii=off"
/// );
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// `SENTRY_DSN`.
    pub dsn: Resolved<Option<Dsn>>,
    /// `SENTRY_ENVIRONMENT`, or detected.
    pub environment: Resolved<Environment>,
    /// `SENTRY_RELEASE`, `APP_VERSION`, or the application's `name@version`.
    pub release: Resolved<Option<String>>,
    /// `SENTRY_TRACES_SAMPLE_RATE`.
    pub traces_sample_rate: Resolved<f64>,
    /// `SENTRY_SAMPLE_RATE` (errors).
    pub sample_rate: Resolved<f64>,
    /// `SENTRY_DEBUG`.
    pub debug: Resolved<bool>,
    /// `SENTRY_ATTACH_STACKTRACE`.
    pub attach_stacktrace: Resolved<bool>,
    /// `SENTRY_SEND_DEFAULT_PII`.
    pub send_default_pii: Resolved<bool>,
    /// `SENTRY_SPOTLIGHT`: the sidecar URL when on.
    pub spotlight: Resolved<Option<String>>,
    /// `SENTRY_ORG_ID`, or from the DSN host.
    pub org_id: Resolved<Option<u64>>,
    /// `SENTRY_STRICT_TRACE_CONTINUATION`.
    pub strict_trace_continuation: Resolved<bool>,
    /// `SENTRY_MAX_BREADCRUMBS`.
    pub max_breadcrumbs: Resolved<usize>,
    /// `LOOKOUT_SEND_IN_DEVELOPMENT`.
    pub send_in_development: Resolved<bool>,
    /// `LOOKOUT_TRACE_PROPAGATION_TARGETS`.
    pub trace_propagation_targets: Resolved<PropagationTargets>,
    /// `LOOKOUT_IGNORED_ROUTES`.
    pub ignored_routes: Resolved<Vec<String>>,
    /// `LOOKOUT_TRACE_IGNORE_STATUS_CODES`: requests answered with these
    /// send no transaction.
    pub trace_ignore_status_codes: Resolved<StatusCodes>,
    /// `LOOKOUT_MAX_REQUEST_BODY_SIZE`.
    pub max_request_body_size: Resolved<RequestBodySize>,
    /// `LOOKOUT_QUEUE_MAX_ENVELOPES`.
    pub queue_max_envelopes: Resolved<usize>,
    /// `LOOKOUT_QUEUE_MAX_BYTES`.
    pub queue_max_bytes: Resolved<u64>,
    /// `LOOKOUT_COMPRESSION`: how envelopes sent to Sentry are compressed.
    pub compression: Resolved<Compression>,
    /// `LOOKOUT_SERVER_TIMING`.
    pub server_timing: Resolved<bool>,
    /// `LOOKOUT_PROPAGATE_TRACEPARENT`.
    pub propagate_traceparent: Resolved<bool>,
    /// `LOOKOUT_LOG_FORMAT`.
    pub log_format: Resolved<LogFormat>,
    /// `SENTRY_ENABLE_LOGS`.
    pub enable_logs: Resolved<bool>,
    /// `LOOKOUT_LOGS_LEVEL`: the lowest level sent as a Sentry Log.
    pub logs_level: Resolved<LogLevel>,
    /// `SENTRY_AUTO_SESSION_TRACKING` as configured; see
    /// [`Settings::sessions_enabled`] for whether sessions actually run.
    pub auto_session_tracking: Resolved<bool>,
    /// `LOOKOUT_SHUTDOWN_TIMEOUT_MS`.
    pub shutdown_timeout: Resolved<Duration>,
    /// What happens to captured events, decided from the values above.
    pub delivery: DeliveryMode,
    /// The application's sampler, if set in code.
    pub traces_sampler: Option<Arc<TracesSampler>>,
    /// The application's `before_send`, if set in code (the scrubber runs after it).
    pub before_send: Option<BeforeCallback<Event<'static>>>,
    /// The application's `before_breadcrumb`, if set in code (the scrubber runs after it).
    pub before_breadcrumb: Option<BeforeCallback<Breadcrumb>>,
    /// The application's `before_send_log`, if set in code (the scrubber runs after it).
    pub before_send_log: Option<BeforeCallback<Log>>,
    /// The application's `before_send_metric`, if set in code (the scrubber runs after it).
    pub before_send_metric: Option<BeforeCallback<Metric>>,
    /// The application's `before_send_transaction`, if set in code (lookout
    /// fills the transaction before it, the scrubber runs after it).
    pub before_send_transaction: Option<BeforeCallback<Transaction<'static>>>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the DSN itself: its secret key must not reach a log.
        f.debug_struct("Settings")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the process environment, detects the machine, and resolves.
    pub fn from_env() -> Result<Self, ConfigError> {
        Overrides::new().resolve_env()
    }

    /// Resolves from these variables (the process environment is not read),
    /// detecting the machine with
    /// [`Detection::current`](crate::Detection::current). Tests pass an
    /// explicit [`Detection`](crate::Detection) through
    /// [`Overrides::detection`] and [`Overrides::resolve`].
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Overrides::new().resolve(vars)
    }

    /// The PII policy (`send_default_pii`).
    #[must_use]
    pub fn pii(&self) -> PiiPolicy {
        PiiPolicy::from_send_default_pii(self.send_default_pii.value)
    }

    /// The profile of the resolved environment.
    #[must_use]
    pub fn profile(&self) -> Profile {
        self.environment.value.profile()
    }

    /// Whether release health runs: auto session tracking is on and there is
    /// a release (sessions without a release are refused by Sentry).
    #[must_use]
    pub fn sessions_enabled(&self) -> bool {
        self.auto_session_tracking.value && self.release.value.is_some()
    }

    /// The lowest level sent as a Sentry Log, or `None` when logs are off
    /// (`SENTRY_ENABLE_LOGS=false`).
    ///
    /// ```
    /// use lookout_policy::{LogLevel, Settings};
    ///
    /// let settings = Settings::from_vars([("LOOKOUT_LOGS_LEVEL", "warn")])?;
    /// assert_eq!(settings.logs(), Some(LogLevel::Warn));
    /// let off = Settings::from_vars([("SENTRY_ENABLE_LOGS", "false")])?;
    /// assert_eq!(off.logs(), None);
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn logs(&self) -> Option<LogLevel> {
        self.enable_logs.value.then_some(self.logs_level.value)
    }

    /// The sampling policy: traces rate, ignored routes, user sampler.
    #[must_use]
    pub fn sampling(&self) -> Sampling {
        Sampling::new(self.traces_sample_rate.value)
            .ignored_routes(self.ignored_routes.value.iter().cloned())
            .sampler_arc(self.traces_sampler.clone())
    }
}
