//! The error returned when a setting has a value lookout refuses.
//!
//! Owns the wording of configuration errors; it deliberately carries no
//! secret: DSN values are redacted before they are stored here.

use std::borrow::Cow;

/// A setting had a value lookout refuses.
///
/// The message names the variable (or the [`Overrides`](crate::Overrides) setter
/// when the value came from code), the value, and what is accepted:
///
/// ```
/// use lookout_policy::Settings;
///
/// let err = Settings::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.5")]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"SENTRY_TRACES_SAMPLE_RATE="1.5": expected a number from 0 to 1"#
/// );
/// assert_eq!(err.variable(), "SENTRY_TRACES_SAMPLE_RATE");
/// // `Debug` reads the same, so `main() -> Result<(), Box<dyn Error>>` and
/// // `?` print the message rather than the enum's fields:
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value that does not have the accepted form.
    #[error("{variable}=\"{value}\": expected {expected}")]
    Invalid {
        /// The environment variable, or `Overrides::<setter>` for a value set in code.
        variable: Cow<'static, str>,
        /// The refused value (a DSN's secret key is redacted).
        value: String,
        /// What is accepted, in words.
        expected: Cow<'static, str>,
    },
}

/// The same words as `Display`: a `main` returning `Result<_, Box<dyn Error>>`
/// prints an error with `Debug`, and the message is what a developer needs
/// there (the parts stay available through [`variable`](Self::variable),
/// [`value`](Self::value) and [`expected`](Self::expected)).
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl ConfigError {
    pub(crate) fn invalid(
        variable: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
        expected: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Invalid {
            variable: variable.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// The variable (or `Overrides::<setter>`) whose value was refused.
    #[must_use]
    pub fn variable(&self) -> &str {
        match self {
            Self::Invalid { variable, .. } => variable,
        }
    }

    /// The refused value (a DSN's secret key is redacted).
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            Self::Invalid { value, .. } => value,
        }
    }

    /// What would have been accepted.
    #[must_use]
    pub fn expected(&self) -> &str {
        match self {
            Self::Invalid { expected, .. } => expected,
        }
    }
}
