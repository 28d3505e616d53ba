//! The delivery mode: what happens to an event once it is captured.
//!
//! Policy decides the mode (see [`DeliveryMode::decide`]); lookout-core carries
//! it out. Spotlight is not a mode but an extra copy, kept beside it in
//! [`Settings::spotlight`](crate::Settings::spotlight).

use std::fmt;

use crate::environment::Environment;

/// What happens to captured events.
///
/// ```
/// use lookout_policy::{DeliveryMode, Environment};
///
/// // A DSN outside development: send.
/// assert_eq!(DeliveryMode::decide(true, &Environment::PRODUCTION, false, false), DeliveryMode::Send);
/// // Development prints to the console unless sending there is switched on.
/// assert_eq!(DeliveryMode::decide(true, &Environment::DEVELOPMENT, false, false), DeliveryMode::Console);
/// assert_eq!(DeliveryMode::decide(true, &Environment::DEVELOPMENT, true, false), DeliveryMode::Send);
/// // No DSN outside development: off, or the console when SENTRY_DEBUG is on.
/// assert_eq!(DeliveryMode::decide(false, &Environment::PRODUCTION, false, false), DeliveryMode::Off);
/// assert_eq!(DeliveryMode::decide(false, &Environment::PRODUCTION, false, true), DeliveryMode::Console);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryMode {
    /// Send to the DSN over HTTP (bounded queue, honours rate limits).
    Send,
    /// Print each event as one readable line; send nothing.
    Console,
    /// Capture nothing beyond what is free (request ids, trace ids in logs).
    Off,
}

impl DeliveryMode {
    /// Decides the mode from whether a DSN is set, the environment,
    /// `LOOKOUT_SEND_IN_DEVELOPMENT` and `SENTRY_DEBUG`.
    ///
    /// - development: `Send` when a DSN is set and sending in development is
    ///   on, otherwise `Console`;
    /// - elsewhere: `Send` with a DSN; without one `Console` when debug is
    ///   on (so the events that would have been sent are visible), else `Off`.
    #[must_use]
    pub fn decide(
        has_dsn: bool,
        environment: &Environment,
        send_in_development: bool,
        debug: bool,
    ) -> Self {
        if environment.is_development() {
            if has_dsn && send_in_development {
                Self::Send
            } else {
                Self::Console
            }
        } else if has_dsn {
            Self::Send
        } else if debug {
            Self::Console
        } else {
            Self::Off
        }
    }

    /// The mode's name as shown in the summary line.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Console => "console",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for DeliveryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
