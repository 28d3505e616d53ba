//! [`TypedError`]: an error that still knows its concrete type behind a
//! trait object.

use std::error::Error;

use lookout_classify::Outcome;

/// An error that still knows its concrete type behind a trait object.
///
/// Every `E: Error + Send + Sync + 'static` is one. An adapter that must carry
/// a handler's error type-erased (in a response extension, through a
/// framework's error type) keeps it in a
/// [`ReportedError`](crate::toolkit::ReportedError) and hands it to
/// [`ResponseHead::with_typed_error`](crate::ResponseHead::with_typed_error);
/// the classifier then sees the error by its concrete type
/// ([`Outcome::with_error`]), which `&dyn Error` cannot give it.
///
/// ```
/// use lookout_core::TypedError;
///
/// let error: Box<dyn TypedError> = Box::new(std::fmt::Error);
/// assert_eq!(error.type_name(), "core::fmt::Error");
/// ```
pub trait TypedError: Error + Send + Sync + 'static {
    /// `outcome` with this error attached by its concrete type.
    fn attach_to<'a>(&'a self, outcome: Outcome<'a>) -> Outcome<'a>;

    /// The concrete type's name ([`std::any::type_name`]).
    fn type_name(&self) -> &'static str;
}

/// `outcome` with `error` attached: by its concrete type, or, for an
/// [`AnyhowError`](crate::AnyhowError), as the error anyhow holds (so the
/// event and the classifiers see that error's type and causes, not the
/// wrapper's).
pub(crate) fn attach<'a>(error: &'a dyn TypedError, outcome: Outcome<'a>) -> Outcome<'a> {
    #[cfg(feature = "anyhow")]
    if let Some(anyhow) = crate::anyhow_error::of(error) {
        return outcome.with_error_dyn(anyhow.as_dyn());
    }
    error.attach_to(outcome)
}

impl<E: Error + Send + Sync + 'static> TypedError for E {
    fn attach_to<'a>(&'a self, outcome: Outcome<'a>) -> Outcome<'a> {
        outcome.with_error(self)
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<E>()
    }
}
