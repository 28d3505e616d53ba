//! The settings table: every setting lookout reads, with its variable, type,
//! default, per-environment defaults, accepted values and description.
//!
//! This table is the single source of truth: [`Settings`](crate::Settings)
//! takes its defaults from it (parsed with the same parser as the variable),
//! and `cargo xtask docs` renders it into `docs/configuration.md`.

use std::fmt;

use crate::environment::Profile;

/// The type of a setting's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SettingKind {
    /// A Sentry DSN (`https://PUBLIC_KEY@HOST/PROJECT_ID`).
    Dsn,
    /// Free text.
    String,
    /// A number from 0 to 1.
    Rate,
    /// `true/false/1/0/yes/no/on/off`, case-insensitive.
    Bool,
    /// A whole number.
    Integer,
    /// A boolean or an `http(s)` URL (the Spotlight grammar).
    BoolOrUrl,
    /// Comma-separated regular expressions.
    RegexList,
    /// Comma-separated route paths.
    RouteList,
    /// One of a fixed set of words.
    Choice,
    /// Comma-separated HTTP status codes and ranges (`401-404`).
    StatusCodeList,
}

impl SettingKind {
    /// A short name for documentation tables.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Dsn => "DSN",
            Self::String => "string",
            Self::Rate => "rate",
            Self::Bool => "bool",
            Self::Integer => "integer",
            Self::BoolOrUrl => "bool or URL",
            Self::RegexList => "regex list",
            Self::RouteList => "route list",
            Self::Choice => "choice",
            Self::StatusCodeList => "status code list",
        }
    }
}

impl fmt::Display for SettingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of [`SETTINGS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettingSpec {
    /// The setting's name (also the [`Overrides`](crate::Overrides) setter where one exists).
    pub name: &'static str,
    /// The environment variable it is read from.
    pub env_var: &'static str,
    /// The type of its value.
    pub kind: SettingKind,
    /// The default in every environment, written as the variable would be;
    /// `None` when unset by default or derived (see `default_note`).
    pub default: Option<&'static str>,
    /// Per-environment defaults that replace `default` in that profile.
    pub profile_defaults: &'static [(Profile, &'static str)],
    /// How the default is derived when it is not a plain value (empty if it is).
    pub default_note: &'static str,
    /// The accepted values, in words (also used in error messages).
    pub accepted: &'static str,
    /// What the setting does.
    pub description: &'static str,
}

impl SettingSpec {
    /// The default text for `profile`: its profile default if it has one,
    /// else the plain default.
    ///
    /// ```
    /// use lookout_policy::{setting, Profile};
    ///
    /// let traces = setting("SENTRY_TRACES_SAMPLE_RATE").unwrap();
    /// assert_eq!(traces.default_for(Profile::Production), Some("0.01"));
    /// assert_eq!(traces.default_for(Profile::Development), Some("1.0"));
    /// ```
    #[must_use]
    pub fn default_for(&self, profile: Profile) -> Option<&'static str> {
        self.profile_default(profile).or(self.default)
    }

    /// The profile's own default, if this setting has one for `profile`.
    #[must_use]
    pub fn profile_default(&self, profile: Profile) -> Option<&'static str> {
        self.profile_defaults
            .iter()
            .find(|(p, _)| *p == profile)
            .map(|(_, v)| *v)
    }
}

/// The row of [`SETTINGS`] for an environment variable.
#[must_use]
pub fn setting(env_var: &str) -> Option<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.env_var == env_var)
}

pub(crate) const BOOL_ACCEPTED: &str = "true/false, 1/0, yes/no or on/off";
pub(crate) const RATE_ACCEPTED: &str = "a number from 0 to 1";

const ALL_PROFILES_TRACES: &[(Profile, &str)] = &[
    (Profile::Development, "1.0"),
    (Profile::Test, "0.5"),
    (Profile::Staging, "0.1"),
    (Profile::Production, "0.01"),
];

/// Every setting lookout reads, in the order the documentation lists them.
///
/// ```
/// use lookout_policy::SETTINGS;
///
/// for row in SETTINGS {
///     println!("{} ({}): {}", row.env_var, row.kind, row.description);
/// }
/// assert!(SETTINGS.iter().any(|row| row.env_var == "SENTRY_DSN"));
/// ```
pub static SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "dsn",
        env_var: "SENTRY_DSN",
        kind: SettingKind::Dsn,
        default: None,
        profile_defaults: &[],
        default_note: "unset: nothing is sent",
        accepted: "a Sentry DSN such as https://PUBLIC_KEY@o123.ingest.sentry.io/456",
        description: "Where events go. Unset outside development turns delivery off; an unparsable DSN is an error.",
    },
    SettingSpec {
        name: "environment",
        env_var: "SENTRY_ENVIRONMENT",
        kind: SettingKind::String,
        default: None,
        profile_defaults: &[],
        default_note: "detected: host name (localhost, *.local, names with local/test -> development; names with staging/stage -> staging), then the build (debug -> development, release -> production)",
        accepted: "a name of 1 to 64 characters without spaces or /, not None; development, test, staging and production select their profile, other names use the production profile",
        description: "The deployment environment; selects the profile of defaults.",
    },
    SettingSpec {
        name: "release",
        env_var: "SENTRY_RELEASE",
        kind: SettingKind::String,
        default: None,
        profile_defaults: &[],
        default_note: "APP_VERSION, then the application's name@version passed in code",
        accepted: "1 to 200 characters without /, \\, tabs or newlines, not ., .. or latest; e.g. api@1.4.2",
        description: "The release events and sessions belong to.",
    },
    SettingSpec {
        name: "app_version",
        env_var: "APP_VERSION",
        kind: SettingKind::String,
        default: None,
        profile_defaults: &[],
        default_note: "unset",
        accepted: "as SENTRY_RELEASE",
        description: "Fallback release when SENTRY_RELEASE is unset.",
    },
    SettingSpec {
        name: "traces_sample_rate",
        env_var: "SENTRY_TRACES_SAMPLE_RATE",
        kind: SettingKind::Rate,
        default: None,
        profile_defaults: ALL_PROFILES_TRACES,
        default_note: "",
        accepted: RATE_ACCEPTED,
        description: "Share of new traces that are sampled (a caller's decision is inherited).",
    },
    SettingSpec {
        name: "sample_rate",
        env_var: "SENTRY_SAMPLE_RATE",
        kind: SettingKind::Rate,
        default: Some("1.0"),
        profile_defaults: &[],
        default_note: "",
        accepted: RATE_ACCEPTED,
        description: "Share of error events that are sent.",
    },
    SettingSpec {
        name: "debug",
        env_var: "SENTRY_DEBUG",
        kind: SettingKind::Bool,
        default: Some("false"),
        profile_defaults: &[(Profile::Development, "true")],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Debug logging of the SDK; without a DSN outside development it also prints events to the console instead of dropping them.",
    },
    SettingSpec {
        name: "attach_stacktrace",
        env_var: "SENTRY_ATTACH_STACKTRACE",
        kind: SettingKind::Bool,
        default: Some("true"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Attach the capture site's stack trace to events without an exception (messages, `tracing` ERRORs without an error), as the official SDKs' `attach_stacktrace`. Panics and typed 5xx errors get their own frames either way.",
    },
    SettingSpec {
        name: "send_default_pii",
        env_var: "SENTRY_SEND_DEFAULT_PII",
        kind: SettingKind::Bool,
        default: Some("false"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Send personal data (user email, username, IP, cookies). Off: they are removed and denylisted keys are [Filtered].",
    },
    SettingSpec {
        name: "spotlight",
        env_var: "SENTRY_SPOTLIGHT",
        kind: SettingKind::BoolOrUrl,
        default: Some("false"),
        profile_defaults: &[],
        default_note: "",
        accepted: "true/t/y/yes/on/1 (http://localhost:8969/stream), false/f/n/no/off/0, or an http(s) URL",
        description: "Also send a copy of every envelope to the Spotlight sidecar.",
    },
    SettingSpec {
        name: "org_id",
        env_var: "SENTRY_ORG_ID",
        kind: SettingKind::Integer,
        default: None,
        profile_defaults: &[],
        default_note: "from the DSN host (o123.ingest.sentry.io -> 123)",
        accepted: "a whole number (the organization id)",
        description: "Organization id, propagated as sentry-org_id and checked on incoming traces.",
    },
    SettingSpec {
        name: "strict_trace_continuation",
        env_var: "SENTRY_STRICT_TRACE_CONTINUATION",
        kind: SettingKind::Bool,
        default: Some("false"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Start a new trace when exactly one side of an incoming trace has an org id.",
    },
    SettingSpec {
        name: "max_breadcrumbs",
        env_var: "SENTRY_MAX_BREADCRUMBS",
        kind: SettingKind::Integer,
        default: Some("100"),
        profile_defaults: &[],
        default_note: "",
        accepted: "a whole number from 0 to 1000",
        description: "Breadcrumbs kept per scope.",
    },
    SettingSpec {
        name: "send_in_development",
        env_var: "LOOKOUT_SEND_IN_DEVELOPMENT",
        kind: SettingKind::Bool,
        default: Some("false"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Send to the DSN in development too (otherwise development prints to the console).",
    },
    SettingSpec {
        name: "trace_propagation_targets",
        env_var: "LOOKOUT_TRACE_PROPAGATION_TARGETS",
        kind: SettingKind::RegexList,
        default: None,
        profile_defaults: &[],
        default_note: "all targets",
        accepted: "comma-separated regular expressions (a regex cannot contain a comma)",
        description: "Outgoing URLs that get sentry-trace and baggage headers.",
    },
    SettingSpec {
        name: "ignored_routes",
        env_var: "LOOKOUT_IGNORED_ROUTES",
        kind: SettingKind::RouteList,
        default: Some("/health,/healthz,/ready,/readyz,/livez,/metrics"),
        profile_defaults: &[],
        default_note: "",
        accepted: "comma-separated paths starting with /",
        description: "Routes never sampled for tracing unless the caller's trace was sampled.",
    },
    SettingSpec {
        name: "trace_ignore_status_codes",
        env_var: "LOOKOUT_TRACE_IGNORE_STATUS_CODES",
        kind: SettingKind::StatusCodeList,
        default: Some("401-404, 301-303, 305-399"),
        profile_defaults: &[],
        default_note: "",
        accepted: crate::status_codes::STATUS_CODES_ACCEPTED,
        description: "Requests answered with these status codes send no transaction (scanners' 404s and redirects cost no quota); the request keeps its sampling decision for propagation, and the dropped transaction is counted as an event_processor discard. Set it empty to keep every transaction.",
    },
    SettingSpec {
        name: "max_request_body_size",
        env_var: "LOOKOUT_MAX_REQUEST_BODY_SIZE",
        kind: SettingKind::Choice,
        default: Some("medium"),
        profile_defaults: &[],
        default_note: "",
        accepted: crate::request_body::REQUEST_BODY_ACCEPTED,
        description: "How much of a request's body a captured error event carries as request.data (what the handler read, never more): JSON and form bodies parsed and scrubbed, other text as is; binary bodies, file uploads and bodies over the limit are left out with a note.",
    },
    SettingSpec {
        name: "queue_max_envelopes",
        env_var: "LOOKOUT_QUEUE_MAX_ENVELOPES",
        kind: SettingKind::Integer,
        default: Some("10000"),
        profile_defaults: &[],
        default_note: "",
        accepted: "a whole number from 1 to 1000000",
        description: "Bound of the outgoing envelope queue, by count; past it envelopes are dropped and counted.",
    },
    SettingSpec {
        name: "queue_max_bytes",
        env_var: "LOOKOUT_QUEUE_MAX_BYTES",
        kind: SettingKind::Integer,
        default: Some("67108864"),
        profile_defaults: &[],
        default_note: "",
        accepted: "a whole number of bytes from 1024 to 4294967296",
        description: "Bound of the outgoing envelope queue, by size (64 MiB by default).",
    },
    SettingSpec {
        name: "compression",
        env_var: "LOOKOUT_COMPRESSION",
        kind: SettingKind::Choice,
        default: Some("zstd"),
        profile_defaults: &[],
        default_note: "",
        accepted: crate::compression::COMPRESSION_ACCEPTED,
        description: "How envelopes sent to Sentry are compressed (content-encoding): zstd (its fast level -1 for batches of logs, level 1 for other envelopes), gzip at level 6, or off. The console and Spotlight always get them uncompressed.",
    },
    SettingSpec {
        name: "server_timing",
        env_var: "LOOKOUT_SERVER_TIMING",
        kind: SettingKind::Bool,
        default: Some("false"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Add a server-timing header with sentry-trace and baggage to responses, so a browser SDK can link its page load.",
    },
    SettingSpec {
        name: "propagate_traceparent",
        env_var: "LOOKOUT_PROPAGATE_TRACEPARENT",
        kind: SettingKind::Bool,
        default: Some("true"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Also send a W3C traceparent header on outgoing calls.",
    },
    SettingSpec {
        name: "log_format",
        env_var: "LOOKOUT_LOG_FORMAT",
        kind: SettingKind::Choice,
        default: Some("json"),
        profile_defaults: &[(Profile::Development, "human")],
        default_note: "",
        accepted: "human or json",
        description: "Format of log lines written by the tracing subscriber.",
    },
    SettingSpec {
        name: "enable_logs",
        env_var: "SENTRY_ENABLE_LOGS",
        kind: SettingKind::Bool,
        default: Some("true"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Sentry Logs: tracing events inside a request (at LOOKOUT_LOGS_LEVEL or more severe) and the failures the classifiers do not capture become logs on the request's trace, sent where events go.",
    },
    SettingSpec {
        name: "logs_level",
        env_var: "LOOKOUT_LOGS_LEVEL",
        kind: SettingKind::Choice,
        default: Some("info"),
        profile_defaults: &[],
        default_note: "",
        accepted: "trace, debug, info, warn or error",
        description: "The lowest level sent as a Sentry Log; independent of the log-line filter (RUST_LOG).",
    },
    SettingSpec {
        name: "auto_session_tracking",
        env_var: "SENTRY_AUTO_SESSION_TRACKING",
        kind: SettingKind::Bool,
        default: Some("true"),
        profile_defaults: &[],
        default_note: "",
        accepted: BOOL_ACCEPTED,
        description: "Release health: one session per request. Needs a release; without one it is off and the summary line says so.",
    },
    SettingSpec {
        name: "shutdown_timeout_ms",
        env_var: "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
        kind: SettingKind::Integer,
        default: Some("2000"),
        profile_defaults: &[],
        default_note: "",
        accepted: "a whole number of milliseconds from 0 to 600000",
        description: "How long shutdown waits to flush queued envelopes.",
    },
];
