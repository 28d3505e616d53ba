//! How envelopes sent to Sentry are compressed (`LOOKOUT_COMPRESSION`).
//!
//! Policy only names the encoding; lookout-delivery compresses on its
//! sending thread, off the request's path. Relay and Sentry accept the
//! `content-encoding`s `gzip`, `deflate`, `br` and `zstd`; lookout offers
//! the two its measurements chose between (docs/benchmarks.md,
//! "Compression"): zstd (the default: the least CPU per byte saved; its
//! fast level -1 for a batch of logs, about 13× on 100 logs, and level 1
//! for a transaction or an event, about 2×) and gzip, for a proxy in front
//! of a self-hosted Relay that does not know zstd.

use std::borrow::Cow;
use std::fmt;

use crate::error::ConfigError;

/// A setting's name as the resolver passes it.
type Name = Cow<'static, str>;

/// The words `LOOKOUT_COMPRESSION` accepts.
pub(crate) const COMPRESSION_ACCEPTED: &str = "zstd, gzip or off";

/// How envelopes sent to Sentry are compressed. The console and Spotlight
/// always get them uncompressed.
///
/// ```
/// use lookout_policy::{Compression, Settings};
///
/// let settings = Settings::from_vars([("LOOKOUT_COMPRESSION", "gzip")])?;
/// assert_eq!(settings.compression.value, Compression::Gzip);
/// assert_eq!(Compression::Gzip.content_encoding(), Some("gzip"));
/// assert_eq!(Compression::default(), Compression::Zstd);
/// assert_eq!(Compression::Off.content_encoding(), None);
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// zstd (`content-encoding: zstd`): level -1 for a body of 16 KiB and
    /// more (a batch of logs), level 1 for smaller ones.
    #[default]
    Zstd,
    /// gzip at level 6 (`content-encoding: gzip`).
    Gzip,
    /// Envelopes are sent as they are.
    Off,
}

impl Compression {
    /// The word used in `LOOKOUT_COMPRESSION`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::Off => "off",
        }
    }

    /// The `content-encoding` header value of a compressed envelope, or
    /// `None` when envelopes go uncompressed.
    #[must_use]
    pub const fn content_encoding(self) -> Option<&'static str> {
        match self {
            Self::Zstd => Some("zstd"),
            Self::Gzip => Some("gzip"),
            Self::Off => None,
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `LOOKOUT_COMPRESSION` (case-insensitive, spaces trimmed).
pub(crate) fn parse_compression(name: &Name, raw: &str) -> Result<Compression, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "zstd" => Ok(Compression::Zstd),
        "gzip" => Ok(Compression::Gzip),
        "off" => Ok(Compression::Off),
        _ => Err(ConfigError::invalid(
            name.clone(),
            raw,
            COMPRESSION_ACCEPTED,
        )),
    }
}
