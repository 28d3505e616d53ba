//! [`by_type`]: the built-in rule that names an error type found in the source chain.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;

use sentry_core::Level;
use sentry_core::protocol::LogLevel;

use crate::verdict::Kind;
use crate::{Classifier, Outcome, Verdict};

/// Tag `error_type=name` when an error of type `E` appears anywhere in the outcome's
/// error chain (the top-level error or any `source()` below it).
///
/// By default the verdict only labels: whether the outcome is captured, and at which
/// level, is left to the status-code rule. The setters change that.
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{by_type, Classifiers, Level, Outcome};
///
/// let classifiers = Classifiers::default()
///     .with(by_type::<std::io::Error>("io").level(Level::Warning));
///
/// let err = std::io::Error::other("disk full");
/// let outcome = Outcome::new(&Method::PUT, "/files/a", StatusCode::INSUFFICIENT_STORAGE)
///     .with_error(&err);
/// let decision = classifiers.decide(&outcome);
/// assert_eq!(decision.error_type(), Some("io"));
/// assert_eq!(decision.level(), Some(Level::Warning));
/// ```
pub fn by_type<E: Error + 'static>(name: impl Into<Cow<'static, str>>) -> ByType<E> {
    ByType {
        name: name.into(),
        action: None,
        level: None,
        log_level: None,
        fingerprint: None,
        error: PhantomData,
    }
}

/// Classifier made by [`by_type`].
#[must_use]
pub struct ByType<E> {
    name: Cow<'static, str>,
    action: Option<Kind>,
    level: Option<Level>,
    log_level: Option<LogLevel>,
    fingerprint: Option<Vec<Cow<'static, str>>>,
    // `fn() -> E`: the classifier owns no `E`, so it is Send + Sync whatever `E` is.
    error: PhantomData<fn() -> E>,
}

impl<E: Error + 'static> ByType<E> {
    /// Level of the event when the outcome is captured.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Classifier, Level, Outcome};
    ///
    /// let rule = by_type::<std::fmt::Error>("fmt").level(Level::Fatal);
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_GATEWAY).with_error(&std::fmt::Error);
    /// let verdict = rule.classify(&outcome).unwrap();
    /// assert_eq!(verdict.level_if_captured(), Some(Level::Fatal));
    /// // Whether to capture is still the status rule's call.
    /// assert_eq!(verdict.action(), None);
    /// ```
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Group the captured events by these parts.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Classifier, Outcome};
    ///
    /// let rule = by_type::<std::fmt::Error>("fmt").fingerprint(["fmt", "{{ default }}"]);
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_GATEWAY).with_error(&std::fmt::Error);
    /// let verdict = rule.classify(&outcome).unwrap();
    /// assert_eq!(verdict.fingerprint_parts().unwrap(), ["fmt", "{{ default }}"]);
    /// ```
    pub fn fingerprint<I, S>(mut self, parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.fingerprint = Some(parts.into_iter().map(Into::into).collect());
        self
    }

    /// Capture whenever the error is found, whatever the status (a 4xx included).
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Classifier, Outcome};
    ///
    /// let rule = by_type::<std::fmt::Error>("fmt").capture();
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_REQUEST).with_error(&std::fmt::Error);
    /// assert!(rule.classify(&outcome).unwrap().action().unwrap().is_capture());
    /// ```
    pub fn capture(mut self) -> Self {
        self.action = Some(Kind::Capture);
        self
    }

    /// Never capture when the error is found, whatever the status; record the request
    /// as a Sentry Log instead, at the status's default level (`error` for a 5xx, `warn`
    /// otherwise).
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Action, Classifiers, LogLevel, Outcome};
    ///
    /// let classifiers = Classifiers::default().with(by_type::<std::fmt::Error>("fmt").skip_capture());
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_GATEWAY).with_error(&std::fmt::Error);
    /// assert_eq!(classifiers.decide(&outcome).action(), Action::Log { level: LogLevel::Error });
    /// ```
    pub fn skip_capture(mut self) -> Self {
        self.action = Some(Kind::Log);
        self.log_level = None;
        self
    }

    /// Never capture when the error is found; record the request as a Sentry Log at
    /// `level`.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Action, Classifier, LogLevel, Outcome};
    ///
    /// let rule = by_type::<std::fmt::Error>("fmt").log(LogLevel::Info);
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_GATEWAY).with_error(&std::fmt::Error);
    /// assert_eq!(rule.classify(&outcome).unwrap().action(), Some(Action::Log { level: LogLevel::Info }));
    /// ```
    pub fn log(mut self, level: LogLevel) -> Self {
        self.action = Some(Kind::Log);
        self.log_level = Some(level);
        self
    }

    /// Neither capture nor log when the error is found, whatever the status.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{by_type, Action, Classifiers, Outcome};
    ///
    /// #[derive(Debug)]
    /// struct ClientWentAway;
    /// # impl std::fmt::Display for ClientWentAway {
    /// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("gone") }
    /// # }
    /// # impl std::error::Error for ClientWentAway {}
    /// let classifiers = Classifiers::default().with(by_type::<ClientWentAway>("client_gone").ignore());
    /// let outcome = Outcome::new(&Method::GET, "/", StatusCode::BAD_REQUEST).with_error(&ClientWentAway);
    /// assert_eq!(classifiers.decide(&outcome).action(), Action::Ignore);
    /// ```
    pub fn ignore(mut self) -> Self {
        self.action = Some(Kind::Ignore);
        self
    }
}

impl<E: Error + 'static> Classifier for ByType<E> {
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
        outcome.find_error::<E>()?;
        Some(Verdict {
            action: self.action,
            level: self.level,
            log_level: self.log_level,
            error_type: Some(self.name.clone()),
            fingerprint: self.fingerprint.clone(),
            tags: Default::default(),
        })
    }
}

impl<E> Clone for ByType<E> {
    fn clone(&self) -> Self {
        ByType {
            name: self.name.clone(),
            action: self.action,
            level: self.level,
            log_level: self.log_level,
            fingerprint: self.fingerprint.clone(),
            error: PhantomData,
        }
    }
}

impl<E> fmt::Debug for ByType<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByType")
            .field("type", &std::any::type_name::<E>())
            .field("name", &self.name)
            .field("action", &self.action)
            .field("level", &self.level)
            .field("log_level", &self.log_level)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}
