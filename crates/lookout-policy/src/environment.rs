//! The deployment environment: its name, how it is detected, and the
//! profile whose defaults it selects.
//!
//! Owns the detection order (`SENTRY_ENVIRONMENT`, then the host name, then
//! the build profile). It does not read variables itself: the caller passes
//! the explicit value and a [`Detection`].

use std::borrow::Cow;
use std::fmt;

use crate::provenance::{Detected, Source};

/// A deployment environment name, e.g. `production`. Custom names are allowed.
///
/// ```
/// use lookout_policy::{Environment, Profile};
///
/// assert_eq!(Environment::new("staging").profile(), Profile::Staging);
/// // A custom name keeps its name and uses the production profile's defaults.
/// let eu = Environment::new("production-eu");
/// assert_eq!(eu.as_str(), "production-eu");
/// assert_eq!(eu.profile(), Profile::Production);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Environment(Cow<'static, str>);

impl Environment {
    /// `development`: a developer's machine.
    pub const DEVELOPMENT: Self = Self(Cow::Borrowed("development"));
    /// `test`: automated tests.
    pub const TEST: Self = Self(Cow::Borrowed("test"));
    /// `staging`: a pre-production deployment.
    pub const STAGING: Self = Self(Cow::Borrowed("staging"));
    /// `production`.
    pub const PRODUCTION: Self = Self(Cow::Borrowed("production"));

    /// An environment with this name (kept as given).
    #[must_use]
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self(name.into())
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The profile whose defaults apply: the one of the same name, or
    /// [`Profile::Production`] for a custom name (the safe choice: low trace
    /// sampling, real delivery).
    #[must_use]
    pub fn profile(&self) -> Profile {
        match self.as_str() {
            "development" => Profile::Development,
            "test" => Profile::Test,
            "staging" => Profile::Staging,
            _ => Profile::Production,
        }
    }

    /// Whether this is the `development` environment.
    #[must_use]
    pub fn is_development(&self) -> bool {
        self.profile() == Profile::Development
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of per-environment defaults. The values themselves live in
/// [`SETTINGS`](crate::SETTINGS) (`profile_defaults` of each row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// traces 100%, console delivery, debug logging, human logs.
    Development,
    /// traces 50%.
    Test,
    /// traces 10%.
    Staging,
    /// traces 1%.
    Production,
}

impl Profile {
    /// The profile's name, as used in the settings table.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What lookout knows about the machine it runs on, used to detect the
/// environment when `SENTRY_ENVIRONMENT` is not set. Tests build one by hand.
///
/// ```
/// use lookout_policy::{Detection, Environment};
///
/// let laptop = Detection { host_name: Some("ada.local".into()), debug_build: false };
/// assert_eq!(laptop.environment().0, Environment::DEVELOPMENT);
/// let server = Detection { host_name: Some("api-7f9c".into()), debug_build: false };
/// assert_eq!(server.environment().0, Environment::PRODUCTION);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detection {
    /// The machine's host name, if known.
    pub host_name: Option<String>,
    /// Whether this is a debug build (`cfg!(debug_assertions)`).
    pub debug_build: bool,
}

impl Detection {
    /// A detection input with these values (for tests and embedders).
    #[must_use]
    pub fn new(host_name: Option<String>, debug_build: bool) -> Self {
        Self {
            host_name,
            debug_build,
        }
    }

    /// The running machine: its host name and whether lookout-policy was built
    /// with debug assertions (which follows the application's build profile
    /// unless a profile override says otherwise).
    #[must_use]
    pub fn current() -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        Self {
            host_name: (!host.is_empty()).then_some(host),
            debug_build: cfg!(debug_assertions),
        }
    }

    /// The environment detected without `SENTRY_ENVIRONMENT`, and what it was
    /// detected from.
    ///
    /// Host name rules (case-insensitive): `localhost`, `*.local`, or a name
    /// containing `local` or `test` -> development; a name containing
    /// `staging` or `stage` -> staging. Otherwise the build decides: debug ->
    /// development, release -> production.
    #[must_use]
    pub fn environment(&self) -> (Environment, Source) {
        if let Some(env) = self.host_name.as_deref().and_then(environment_from_host) {
            return (env, Source::Detection(Detected::HostName));
        }
        if self.debug_build {
            (
                Environment::DEVELOPMENT,
                Source::Detection(Detected::DebugBuild),
            )
        } else {
            (
                Environment::PRODUCTION,
                Source::Detection(Detected::ReleaseBuild),
            )
        }
    }
}

fn environment_from_host(host: &str) -> Option<Environment> {
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    // `localhost` and `*.local` contain `local`, so one test covers all three rules.
    if host.contains("local") || host.contains("test") {
        Some(Environment::DEVELOPMENT)
    } else if host.contains("staging") || host.contains("stage") {
        Some(Environment::STAGING)
    } else {
        None
    }
}
