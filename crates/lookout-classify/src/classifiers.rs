//! [`Classifiers`]: user rules in order, then the built-in defaults.
//!
//! This module owns precedence and the fallback that completes an open verdict. It does
//! not own any rule itself: those live in their own files.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::type_name::{short_type_name, truncate_tag};
use crate::verdict::Kind;
use crate::{Classifier, Decision, Outcome, Panics, StatusCodes, Verdict};
use crate::{error_types, tags};

/// A chain of classifiers: the first that returns a verdict wins, the defaults come last.
///
/// The order in which an outcome is looked at:
///
/// 1. [`Panics`]: a panic is always captured, before any user rule.
/// 2. The user classifiers, in the order they were added with [`Classifiers::with`].
/// 3. The status-code rule ([`StatusCodes::default`] unless replaced with
///    [`Classifiers::status_codes`]).
///
/// What the winning verdict leaves open is completed by the defaults: the action and level
/// by the status-code rule; the `error_type` by the fallback, `unhandled` (with the tag
/// `error.rust_type`) when an error is captured and `http_status` when there is only a status.
/// A log of an error no classifier named (a 404's `NotFound`) has no `error_type`, only the
/// `error.rust_type` tag: the handler answered it.
///
/// Cloning is cheap (one `Arc`), so one chain can be shared by every request.
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{Action, Classifiers, Level, Outcome, Verdict};
///
/// let classifiers = Classifiers::default()
///     // Our health check returns 503 while warming up: not an incident.
///     .with_fn(|outcome| (outcome.route() == Some("/health")).then(Verdict::ignore));
///
/// let health = Outcome::new(&Method::GET, "/health", StatusCode::SERVICE_UNAVAILABLE)
///     .with_route("/health");
/// assert_eq!(classifiers.decide(&health).action(), Action::Ignore);
///
/// let other = Outcome::new(&Method::GET, "/users", StatusCode::SERVICE_UNAVAILABLE);
/// let decision = classifiers.decide(&other);
/// assert_eq!(decision.action(), Action::Capture { level: Level::Error });
/// assert_eq!(decision.error_type(), Some("http_status"));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Classifiers {
    user: Arc<Vec<Arc<dyn Classifier>>>,
    status: StatusCodes,
}

impl Classifiers {
    /// The built-in defaults only; the same as [`Classifiers::default`].
    ///
    /// ```
    /// use lookout_classify::Classifiers;
    ///
    /// assert_eq!(Classifiers::new().len(), 0);
    /// ```
    pub fn new() -> Self {
        Classifiers::default()
    }

    /// Add a classifier after the ones already added and before the defaults.
    ///
    /// ```
    /// use lookout_classify::{by_type, Classifiers};
    ///
    /// let classifiers = Classifiers::default()
    ///     .with(by_type::<std::io::Error>("io"))
    ///     .with(by_type::<std::fmt::Error>("fmt"));
    /// assert_eq!(classifiers.len(), 2);
    /// ```
    pub fn with(mut self, classifier: impl Classifier + 'static) -> Self {
        Arc::make_mut(&mut self.user).push(Arc::new(classifier));
        self
    }

    /// Add a closure as a classifier; unlike [`Classifiers::with`], the closure's argument
    /// type is inferred.
    ///
    /// ```
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{Action, Classifiers, Outcome, Verdict};
    ///
    /// let classifiers = Classifiers::default()
    ///     .with_fn(|outcome| outcome.path().starts_with("/wp-admin").then(Verdict::ignore));
    /// let probe = Outcome::new(&Method::GET, "/wp-admin/login.php", StatusCode::INTERNAL_SERVER_ERROR);
    /// assert_eq!(classifiers.decide(&probe).action(), Action::Ignore);
    /// ```
    pub fn with_fn<F>(self, classifier: F) -> Self
    where
        F: Fn(&Outcome<'_>) -> Option<Verdict> + Send + Sync + 'static,
    {
        self.with(classifier)
    }

    /// Add a classifier that is already shared.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_classify::{by_type, Classifier, Classifiers};
    ///
    /// let shared: Arc<dyn Classifier> = Arc::new(by_type::<std::io::Error>("io"));
    /// let classifiers = Classifiers::default().with_shared(shared);
    /// assert_eq!(classifiers.len(), 1);
    /// ```
    pub fn with_shared(mut self, classifier: Arc<dyn Classifier>) -> Self {
        Arc::make_mut(&mut self.user).push(classifier);
        self
    }

    /// Replace the status-code rule.
    ///
    /// ```
    /// use lookout_classify::{Classifiers, StatusCodes};
    ///
    /// use http::{Method, StatusCode};
    /// use lookout_classify::{Action, Level, Outcome};
    ///
    /// let classifiers = Classifiers::default().status_codes(StatusCodes::default().capture(429..=429));
    /// let limited = Outcome::new(&Method::GET, "/", StatusCode::TOO_MANY_REQUESTS);
    /// assert_eq!(classifiers.decide(&limited).action(), Action::Capture { level: Level::Error });
    /// ```
    pub fn status_codes(mut self, status: StatusCodes) -> Self {
        self.status = status;
        self
    }

    /// Number of user classifiers.
    pub fn len(&self) -> usize {
        self.user.len()
    }

    /// Whether no user classifier was added.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }

    /// Classify `outcome`: ask the chain and complete the winning verdict.
    ///
    /// Allocation-free for outcomes without an error or a panic whose rules allocate
    /// nothing (the defaults do not), so it is fine to call for every request.
    pub fn decide(&self, outcome: &Outcome<'_>) -> Decision {
        let winner = Panics
            .classify(outcome)
            .or_else(|| self.user.iter().find_map(|rule| rule.classify(outcome)));
        let base = self.status.verdict(outcome);
        complete(outcome, winner, base)
    }
}

/// Fill what `winner` leaves open from `base` (the status rule) and the fallback.
fn complete(outcome: &Outcome<'_>, winner: Option<Verdict>, base: Verdict) -> Decision {
    let (kind, level, log_level, error_type, fingerprint, mut tags) = match winner {
        Some(v) => (
            v.action.or(base.action),
            v.level.or(base.level),
            v.log_level.or(base.log_level),
            v.error_type,
            v.fingerprint,
            v.tags,
        ),
        None => (
            base.action,
            base.level,
            base.log_level,
            None,
            None,
            base.tags,
        ),
    };
    // `StatusCodes::verdict` never leaves the action open.
    let action =
        kind.unwrap_or(Kind::Ignore)
            .with_levels(level, log_level, outcome.status().as_u16());

    let panicked = outcome.panic().is_some();
    let mut handled = !panicked;
    let error_type = match error_type {
        Some(name) => Some(name),
        None if action == crate::Action::Ignore => None,
        None if panicked => Some(Cow::Borrowed(error_types::PANIC)),
        None => match outcome.error() {
            Some(error) => {
                let rust_type = match outcome.error_rust_type() {
                    Some(name) if !name.contains("dyn ") => name.trim_start_matches('&').to_owned(),
                    _ => short_type_name(error).into_owned(),
                };
                tags.insert(tags::RUST_TYPE.to_owned(), truncate_tag(rust_type));
                // An error no rule knows is `unhandled` when it becomes an
                // event; a 4xx log of one (a `NotFound` the handler answered)
                // was handled: no type but what a classifier names.
                if action.is_capture() {
                    handled = false;
                    Some(Cow::Borrowed(error_types::UNHANDLED))
                } else {
                    None
                }
            }
            None => Some(Cow::Borrowed(error_types::HTTP_STATUS)),
        },
    };

    Decision {
        action,
        error_type,
        handled,
        fingerprint,
        tags,
    }
}

impl fmt::Debug for Classifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifiers")
            .field("user_classifiers", &self.user.len())
            .field("status", &self.status)
            .finish()
    }
}
