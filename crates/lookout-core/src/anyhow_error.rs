//! [`AnyhowError`]: an [`anyhow::Error`] reported with the backtrace it
//! captured (feature `anyhow`).
//!
//! `anyhow::Error` is not a `std::error::Error`, so it cannot be reported
//! as it is; wrapped, it can, and lookout then knows to read the backtrace
//! anyhow captured where the error was created (with `RUST_BACKTRACE` or
//! `RUST_LIB_BACKTRACE` set) instead of taking a new one where the error
//! became a response. Without a captured backtrace the wrapper behaves as
//! any error: the frames are those of where it became the 5xx.

use std::error::Error;
use std::fmt;

/// An [`anyhow::Error`] as a `std::error::Error`, for
/// `Reported::new(AnyhowError(error))` in any adapter and for
/// `CurrentRequest::capture_error(&AnyhowError(error))`.
///
/// Its event has the frames anyhow captured when the error was created
/// (where it happened, not where it was answered) when anyhow captured
/// them, and the exception types of the error anyhow holds and its causes;
/// `by_type` classifiers match those types. Its `Display` is anyhow's (the
/// outermost context), its `source()` the next cause.
///
/// ```
/// use lookout_core::AnyhowError;
///
/// let error = anyhow::Error::new(std::io::Error::other("disk full")).context("saving the order");
/// let reported = AnyhowError::from(error);
/// assert_eq!(reported.to_string(), "saving the order");
/// assert_eq!(std::error::Error::source(&reported).unwrap().to_string(), "disk full");
/// ```
pub struct AnyhowError(pub anyhow::Error);

impl AnyhowError {
    /// The error anyhow holds, outermost context first, as the trait object
    /// the classifiers and the event read (its type is read from `Debug`).
    #[must_use]
    pub fn as_dyn(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl From<anyhow::Error> for AnyhowError {
    fn from(error: anyhow::Error) -> Self {
        Self(error)
    }
}

impl fmt::Display for AnyhowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for AnyhowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_dyn(), f)
    }
}

impl Error for AnyhowError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.as_dyn().source()
    }
}

/// `error` as an [`AnyhowError`], when it is one.
pub(crate) fn of<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a AnyhowError> {
    error.downcast_ref::<AnyhowError>()
}

/// The backtrace anyhow captured for `error`, as text, when it captured one.
pub(crate) fn captured_backtrace(error: &AnyhowError) -> Option<&std::backtrace::Backtrace> {
    let backtrace = error.0.backtrace();
    (backtrace.status() == std::backtrace::BacktraceStatus::Captured).then_some(backtrace)
}
