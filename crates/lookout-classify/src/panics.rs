//! [`Panics`]: the built-in rule for handlers that panicked.

use sentry_core::Level;

use crate::{Classifier, Outcome, Verdict};

/// Capture every panic at [`Level::Error`] with `error_type=panic`.
///
/// [`Classifiers`](crate::Classifiers) asks this rule before any other, so no user rule
/// can silence a panic: it is a bug in the service, not a failure mode. The level is
/// `error`, not `fatal`, because the server survives a panicking handler. The event's
/// exception carries the mechanism `panic`, unhandled (see [`event`](crate::event)).
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{Action, Classifier, Level, Outcome, Panics};
///
/// let outcome = Outcome::new(&Method::GET, "/", StatusCode::INTERNAL_SERVER_ERROR).with_panic("oops");
/// let verdict = Panics.classify(&outcome).unwrap();
/// assert_eq!(verdict.action(), Some(Action::Capture { level: Level::Error }));
/// assert_eq!(verdict.error_type_name(), Some("panic"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Panics;

impl Classifier for Panics {
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
        outcome.panic()?;
        Some(Verdict::capture(Level::Error).error_type(crate::error_types::PANIC))
    }
}
