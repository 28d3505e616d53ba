//! [`Decision`]: the complete answer of a [`Classifiers`](crate::Classifiers) chain.
//!
//! Unlike a [`Verdict`](crate::Verdict), nothing in a decision is left open: the action
//! and level are set, and every capture or log carries an `error_type`. This is
//! what lookout-core acts on and what [`event`](crate::event) and
//! [`log`](crate::log()) turn into Sentry data.

use std::borrow::Cow;
use std::collections::BTreeMap;

use sentry_core::Level;
use sentry_core::protocol::LogLevel;

use crate::Action;

/// The final classification of one outcome; built by
/// [`Classifiers::decide`](crate::Classifiers::decide).
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub(crate) action: Action,
    pub(crate) error_type: Option<Cow<'static, str>>,
    pub(crate) handled: bool,
    pub(crate) fingerprint: Option<Vec<Cow<'static, str>>>,
    pub(crate) tags: BTreeMap<String, String>,
}

impl Decision {
    /// Capture, log or ignore.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The event level when the action is a capture.
    pub fn level(&self) -> Option<Level> {
        match self.action {
            Action::Capture { level } => Some(level),
            Action::Log { .. } | Action::Ignore => None,
        }
    }

    /// The log level when the action is a log.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{Classifiers, LogLevel, Outcome};
    ///
    /// let not_found = Outcome::new(&Method::GET, "/users/7", StatusCode::NOT_FOUND);
    /// assert_eq!(Classifiers::default().decide(&not_found).log_level(), Some(LogLevel::Warn));
    /// ```
    pub fn log_level(&self) -> Option<LogLevel> {
        match self.action {
            Action::Log { level } => Some(level),
            Action::Capture { .. } | Action::Ignore => None,
        }
    }

    /// Whether an event is to be sent.
    pub fn is_capture(&self) -> bool {
        self.action.is_capture()
    }

    /// Whether the request is to be recorded as a Sentry Log.
    pub fn is_log(&self) -> bool {
        self.action.is_log()
    }

    /// The `error_type` tag; always set for a capture or a log, set for an ignored
    /// outcome only when a classifier named it.
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// Whether the service's own rules knew this failure: `false` for panics and for
    /// errors only the fallback caught (`error_type=unhandled`). Becomes the exception
    /// mechanism's `handled` flag.
    pub fn handled(&self) -> bool {
        self.handled
    }

    /// The custom fingerprint, if a classifier set one.
    pub fn fingerprint(&self) -> Option<&[Cow<'static, str>]> {
        self.fingerprint.as_deref()
    }

    /// Extra tags from the winning verdict and the fallback (`error.rust_type`).
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
}
