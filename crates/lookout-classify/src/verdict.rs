//! [`Verdict`]: what one classifier says about an outcome, and [`Action`].
//!
//! Three actions: capture an event at a level, record the failure as one
//! Sentry Log at a level (on the request's trace, when logs are on), or
//! ignore it.
//!
//! A verdict may leave parts open (whether to capture, the level, the error type); the
//! [`Classifiers`](crate::Classifiers) chain fills them in and hands out a complete
//! [`Decision`](crate::Decision). This module does not decide anything itself.

use std::borrow::Cow;
use std::collections::BTreeMap;

use std::hash::{Hash, Hasher};

use sentry_core::Level;
use sentry_core::protocol::LogLevel;

/// What to do with a finished request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Send an event at this level.
    Capture {
        /// Level of the event.
        level: Level,
    },
    /// Send no event; record the request as one Sentry Log at this level
    /// (`METHOD /route -> STATUS`, on the request's trace), when logs are on.
    Log {
        /// Level of the log.
        level: LogLevel,
    },
    /// Do nothing.
    Ignore,
}

// `LogLevel` is a field-less enum whose `PartialEq` is total, but sentry-types
// derives neither `Eq` nor `Hash` for it.
impl Eq for Action {}

impl Hash for Action {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Action::Capture { level } => level.hash(state),
            Action::Log { level } => log_level_rank(*level).hash(state),
            Action::Ignore => {}
        }
    }
}

/// `LogLevel` in order of severity, `trace` lowest.
pub(crate) fn log_level_rank(level: LogLevel) -> u8 {
    match level {
        LogLevel::Trace => 0,
        LogLevel::Debug => 1,
        LogLevel::Info => 2,
        LogLevel::Warn => 3,
        LogLevel::Error => 4,
        LogLevel::Fatal => 5,
    }
}

impl Action {
    /// Whether this action sends an event.
    ///
    /// ```
    /// use lookout_classify::{Action, Level, LogLevel};
    ///
    /// assert!(Action::Capture { level: Level::Error }.is_capture());
    /// assert!(!Action::Log { level: LogLevel::Warn }.is_capture());
    /// ```
    pub fn is_capture(&self) -> bool {
        matches!(self, Action::Capture { .. })
    }

    /// Whether this action records the request as a Sentry Log.
    ///
    /// ```
    /// use lookout_classify::{Action, LogLevel};
    ///
    /// assert!(Action::Log { level: LogLevel::Warn }.is_log());
    /// assert!(!Action::Ignore.is_log());
    /// ```
    pub fn is_log(&self) -> bool {
        matches!(self, Action::Log { .. })
    }
}

/// The log level of a failure recorded as a log without an explicit level:
/// `error` for a 5xx, `warn` otherwise.
pub(crate) fn default_log_level(status: u16) -> LogLevel {
    if status >= 500 {
        LogLevel::Error
    } else {
        LogLevel::Warn
    }
}

/// Whether to capture, and how to label what is captured; returned by a
/// [`Classifier`](crate::Classifier).
///
/// Start from [`Verdict::capture`], [`Verdict::log`], [`Verdict::ignore`] or, to
/// label without deciding, [`Verdict::annotate`]; then chain the setters. Anything left
/// open is filled in by the defaults of [`Classifiers`](crate::Classifiers): the action
/// and level by the status-code rule, the error type by the fallback (`unhandled` for an
/// error, `http_status` for a bare status).
///
/// ```
/// use lookout_classify::{Level, Verdict};
///
/// let verdict = Verdict::capture(Level::Warning)
///     .error_type("payment_declined")
///     .fingerprint(["payment", "declined"])
///     .tag("psp", "acme");
/// assert_eq!(verdict.error_type_name(), Some("payment_declined"));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
#[must_use]
pub struct Verdict {
    pub(crate) action: Option<Kind>,
    pub(crate) level: Option<Level>,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) error_type: Option<Cow<'static, str>>,
    pub(crate) fingerprint: Option<Vec<Cow<'static, str>>>,
    pub(crate) tags: BTreeMap<String, String>,
}

/// The action without its level: the level of a verdict may be set on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Capture,
    Log,
    Ignore,
}

impl Verdict {
    /// Capture an event at `level`.
    ///
    /// ```
    /// use lookout_classify::{Action, Level, Verdict};
    ///
    /// let verdict = Verdict::capture(Level::Fatal);
    /// assert_eq!(verdict.action(), Some(Action::Capture { level: Level::Fatal }));
    /// ```
    pub fn capture(level: Level) -> Self {
        Verdict {
            action: Some(Kind::Capture),
            level: Some(level),
            ..Verdict::default()
        }
    }

    /// Do not capture; record the request as one Sentry Log at `level`
    /// (what the defaults do for a 4xx, at `warn`).
    ///
    /// ```
    /// use lookout_classify::{Action, LogLevel, Verdict};
    ///
    /// let verdict = Verdict::log(LogLevel::Info).error_type("login_failed");
    /// assert_eq!(verdict.action(), Some(Action::Log { level: LogLevel::Info }));
    /// ```
    pub fn log(level: LogLevel) -> Self {
        Verdict {
            action: Some(Kind::Log),
            log_level: Some(level),
            ..Verdict::default()
        }
    }

    /// Neither capture nor log: nothing is sent for this outcome.
    ///
    /// ```
    /// use lookout_classify::{Action, Verdict};
    ///
    /// assert_eq!(Verdict::ignore().action(), Some(Action::Ignore));
    /// ```
    pub fn ignore() -> Self {
        Verdict {
            action: Some(Kind::Ignore),
            ..Verdict::default()
        }
    }

    /// Label the outcome but let the defaults decide whether to capture it.
    ///
    /// ```
    /// use lookout_classify::Verdict;
    ///
    /// let verdict = Verdict::annotate().error_type("db");
    /// assert_eq!(verdict.action(), None);
    /// ```
    pub fn annotate() -> Self {
        Verdict::default()
    }

    /// The level of the event if it is captured, whoever decides the capture.
    ///
    /// ```
    /// use lookout_classify::{Level, Verdict};
    ///
    /// let verdict = Verdict::annotate().level(Level::Warning);
    /// assert_eq!(verdict.level_if_captured(), Some(Level::Warning));
    /// ```
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// The `error_type` tag, a short stable name for the kind of failure.
    ///
    /// ```
    /// use lookout_classify::Verdict;
    ///
    /// use lookout_classify::LogLevel;
    ///
    /// assert_eq!(Verdict::log(LogLevel::Warn).error_type("auth").error_type_name(), Some("auth"));
    /// ```
    pub fn error_type(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.error_type = Some(name.into());
        self
    }

    /// Group captured events by these parts instead of Sentry's default grouping.
    ///
    /// `"{{ default }}"` as a part keeps Sentry's grouping and refines it.
    ///
    /// ```
    /// use lookout_classify::{Level, Verdict};
    ///
    /// let verdict = Verdict::capture(Level::Error).fingerprint(["{{ default }}", "upstream-timeout"]);
    /// assert_eq!(verdict.fingerprint_parts().map(<[_]>::len), Some(2));
    /// ```
    pub fn fingerprint<I, S>(mut self, parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.fingerprint = Some(parts.into_iter().map(Into::into).collect());
        self
    }

    /// An extra tag on the event (or attribute of the log).
    ///
    /// The tags lookout sets itself (`error_type`, `http.status_code`, `http.route`) win
    /// over extra tags of the same name.
    ///
    /// ```
    /// use lookout_classify::Verdict;
    ///
    /// let verdict = Verdict::annotate().tag("tenant", "acme");
    /// assert_eq!(verdict.tags().get("tenant").map(String::as_str), Some("acme"));
    /// ```
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }
}

impl Verdict {
    /// The action, or `None` when the verdict leaves it to the defaults; a capture without
    /// an explicit level reports [`Level::Error`], a log without one
    /// [`LogLevel::Warn`] (the [`Classifiers`](crate::Classifiers) chain completes it
    /// by status: `error` for a 5xx).
    pub fn action(&self) -> Option<Action> {
        self.action
            .map(|kind| kind.with_levels(self.level, self.log_level, 400))
    }

    /// The level set for a capture, if any.
    pub fn level_if_captured(&self) -> Option<Level> {
        self.level
    }

    /// The level set for a log, if any.
    ///
    /// ```
    /// use lookout_classify::{LogLevel, Verdict};
    ///
    /// assert_eq!(Verdict::log(LogLevel::Error).log_level_if_logged(), Some(LogLevel::Error));
    /// ```
    pub fn log_level_if_logged(&self) -> Option<LogLevel> {
        self.log_level
    }

    /// The `error_type` set by this verdict, if any.
    pub fn error_type_name(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// The fingerprint set by this verdict, if any.
    pub fn fingerprint_parts(&self) -> Option<&[Cow<'static, str>]> {
        self.fingerprint.as_deref()
    }

    /// The extra tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
}

impl Kind {
    /// The action with its level: the one given, else `error` for a capture
    /// and the status's default for a log.
    pub(crate) fn with_levels(
        self,
        level: Option<Level>,
        log_level: Option<LogLevel>,
        status: u16,
    ) -> Action {
        match self {
            Kind::Capture => Action::Capture {
                level: level.unwrap_or(Level::Error),
            },
            Kind::Log => Action::Log {
                level: log_level.unwrap_or_else(|| default_log_level(status)),
            },
            Kind::Ignore => Action::Ignore,
        }
    }
}
