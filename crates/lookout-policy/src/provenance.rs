//! Where a resolved setting came from.
//!
//! Owns [`Source`] and [`Resolved`]; it does not decide precedence (that is
//! [`Settings`](crate::Settings)' job).

use std::fmt;

use crate::environment::Profile;

/// Where a resolved value came from, shown in the summary line.
///
/// ```
/// use lookout_policy::{Settings, Source};
///
/// let settings = Settings::from_vars([("SENTRY_ENVIRONMENT", "production")])?;
/// assert_eq!(settings.environment.source, Source::Variable("SENTRY_ENVIRONMENT"));
/// assert_eq!(settings.environment.source.to_string(), "SENTRY_ENVIRONMENT");
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// An environment variable.
    Variable(&'static str),
    /// The default of the environment's profile (e.g. `profile production`).
    Profile(Profile),
    /// Set in code through [`Overrides`](crate::Overrides).
    Code,
    /// Detected from the machine (host name or build profile).
    Detection(Detected),
    /// The built-in default, the same in every environment.
    Default,
}

/// What a detected value was detected from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detected {
    /// The host name (`localhost`, `*.local`, `...staging...`).
    HostName,
    /// A debug build (`debug_assertions` on).
    DebugBuild,
    /// A release build (`debug_assertions` off).
    ReleaseBuild,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Variable(name) => f.write_str(name),
            Self::Profile(env) => write!(f, "profile {env}"),
            Self::Code => f.write_str("code"),
            Self::Detection(Detected::HostName) => f.write_str("host name"),
            Self::Detection(Detected::DebugBuild) => f.write_str("debug build"),
            Self::Detection(Detected::ReleaseBuild) => f.write_str("release build"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A resolved setting: its value and where the value came from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Resolved<T> {
    /// The value in force.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Resolved<T> {
    /// Pairs a value with its source.
    #[must_use]
    pub const fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }

    /// Whether the value was chosen explicitly (a variable or code) rather
    /// than defaulted or detected.
    #[must_use]
    pub fn is_explicit(&self) -> bool {
        matches!(self.source, Source::Variable(_) | Source::Code)
    }
}
