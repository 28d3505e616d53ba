//! The [`Classifier`] trait and its implementation for closures.

use crate::{Outcome, Verdict};

/// Looks at a finished request and says what should happen to it.
///
/// Return `None` to have no opinion, so the next classifier in the
/// [`Classifiers`](crate::Classifiers) chain is asked; return a [`Verdict`] to decide.
/// The trait is object-safe and implemented for closures
/// `Fn(&Outcome<'_>) -> Option<Verdict> + Send + Sync`.
///
/// A classifier runs for every request, including successful ones: return `None` early
/// and allocate only once the outcome is one you care about.
///
/// # Example
///
/// ```
/// use http::{Method, StatusCode};
/// use lookout_classify::{Classifier, Level, Outcome, Verdict};
///
/// /// Payment callbacks are rare and important: alert on any failure.
/// struct PaymentCallbacks;
///
/// impl Classifier for PaymentCallbacks {
///     fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
///         let failed = outcome.status().is_client_error() || outcome.status().is_server_error();
///         (failed && outcome.route() == Some("/payments/callback"))
///             .then(|| Verdict::capture(Level::Warning).error_type("payment_callback"))
///     }
/// }
///
/// let outcome = Outcome::new(&Method::POST, "/payments/callback", StatusCode::BAD_REQUEST)
///     .with_route("/payments/callback");
/// assert!(PaymentCallbacks.classify(&outcome).is_some());
///
/// // The same rule as a closure.
/// let rule = |outcome: &Outcome<'_>| {
///     (outcome.status() == StatusCode::CONFLICT).then(Verdict::ignore)
/// };
/// assert!(rule.classify(&outcome).is_none());
/// ```
pub trait Classifier: Send + Sync {
    /// The verdict on `outcome`, or `None` for no opinion.
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict>;
}

impl<F> Classifier for F
where
    F: Fn(&Outcome<'_>) -> Option<Verdict> + Send + Sync,
{
    fn classify(&self, outcome: &Outcome<'_>) -> Option<Verdict> {
        self(outcome)
    }
}
