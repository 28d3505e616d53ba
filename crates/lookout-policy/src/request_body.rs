//! How much of a request's body an error event may carry
//! (`LOOKOUT_MAX_REQUEST_BODY_SIZE`), with the limits of the Python and
//! JavaScript SDKs' `max_request_body_size`.
//!
//! Owns the words and their byte limits; recording and attaching the body
//! is lookout-core's.

use std::borrow::Cow;
use std::fmt;

use crate::error::ConfigError;

type Name = Cow<'static, str>;

/// The words `LOOKOUT_MAX_REQUEST_BODY_SIZE` accepts.
pub(crate) const REQUEST_BODY_ACCEPTED: &str =
    "never, small (1,000 bytes), medium (10,000 bytes) or always (up to 1 MB)";

/// How much of a request's body a captured event carries as `request.data`.
///
/// ```
/// use lookout_policy::{RequestBodySize, Settings};
///
/// let settings = Settings::from_vars([("LOOKOUT_MAX_REQUEST_BODY_SIZE", "small")])?;
/// assert_eq!(settings.max_request_body_size.value, RequestBodySize::Small);
/// assert_eq!(RequestBodySize::Small.limit(), Some(1_000));
/// assert_eq!(RequestBodySize::Never.limit(), None);
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestBodySize {
    /// Bodies are never recorded.
    Never,
    /// Bodies of at most 1,000 bytes.
    Small,
    /// Bodies of at most 10,000 bytes (the default, as in the other SDKs).
    #[default]
    Medium,
    /// Every body, up to lookout's cap of 1 MB.
    Always,
}

impl RequestBodySize {
    /// lookout's cap for [`Always`](Self::Always): 1 MB.
    pub const ALWAYS_CAP: usize = 1 << 20;

    /// The most bytes recorded, or `None` when bodies are never recorded.
    #[must_use]
    pub const fn limit(self) -> Option<usize> {
        match self {
            Self::Never => None,
            Self::Small => Some(1_000),
            Self::Medium => Some(10_000),
            Self::Always => Some(Self::ALWAYS_CAP),
        }
    }

    /// The word used in `LOOKOUT_MAX_REQUEST_BODY_SIZE`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Always => "always",
        }
    }
}

impl fmt::Display for RequestBodySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `LOOKOUT_MAX_REQUEST_BODY_SIZE`.
pub(crate) fn parse_request_body_size(
    name: &Name,
    raw: &str,
) -> Result<RequestBodySize, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "never" => Ok(RequestBodySize::Never),
        "small" => Ok(RequestBodySize::Small),
        "medium" => Ok(RequestBodySize::Medium),
        "always" => Ok(RequestBodySize::Always),
        _ => Err(ConfigError::invalid(
            name.clone(),
            raw,
            REQUEST_BODY_ACCEPTED,
        )),
    }
}
