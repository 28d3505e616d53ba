//! [`ReportedError`]: the carrier that hands a handler's typed error to
//! `finish` through a framework that turns errors into responses.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::TypedError;

/// A handler's error, kept with its concrete type where the framework would
/// otherwise lose it: axum's `IntoResponse`, actix-web's `ResponseError`,
/// warp's rejections and `recover`. The adapter's wrapper (`Reported<E>`)
/// leaves one in the response's extensions; the middleware takes it out and
/// hands it to [`ResponseHead::with_typed_error`](crate::ResponseHead::with_typed_error),
/// so `by_type` classifiers match it and the event names its type.
///
/// ```
/// use lookout_core::toolkit::ReportedError;
///
/// let mut response = http::Response::new(());
/// response.extensions_mut().insert(ReportedError::new(std::fmt::Error));
/// let reported = response.extensions_mut().remove::<ReportedError>().unwrap();
/// assert_eq!(reported.error().type_name(), "core::fmt::Error");
/// ```
#[derive(Clone)]
pub struct ReportedError(Arc<dyn TypedError>);

impl ReportedError {
    /// Carries `error`.
    pub fn new<E: Error + Send + Sync + 'static>(error: E) -> Self {
        Self(Arc::new(error))
    }

    /// Carries an error the adapter shares with a view of its own (actix-web
    /// keeps the same error as its `ResponseError` to build the response):
    /// one allocation for both.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_core::toolkit::ReportedError;
    ///
    /// let error = Arc::new(std::fmt::Error);
    /// let reported = ReportedError::from_arc(Arc::clone(&error));
    /// assert_eq!(reported.error().type_name(), "core::fmt::Error");
    /// ```
    pub fn from_arc<E: Error + Send + Sync + 'static>(error: Arc<E>) -> Self {
        Self(error)
    }

    /// The error, with its concrete type known.
    pub fn error(&self) -> &dyn TypedError {
        &*self.0
    }

    /// Says the error became a response with `status`. For a 5xx (what is
    /// captured by default) the frames of this place are kept for the
    /// event: the adapter calls it where the framework turns the error into
    /// its response, so the event shows the handler's frames. A 4xx costs
    /// nothing. Returns `self`.
    ///
    /// ```
    /// use lookout_core::toolkit::ReportedError;
    ///
    /// let reported = ReportedError::new(std::fmt::Error).answered(http::StatusCode::BAD_GATEWAY);
    /// # let _ = reported;
    /// ```
    #[must_use]
    pub fn answered(self, status: http::StatusCode) -> Self {
        crate::stacktrace::note_reported(self.error(), status);
        self
    }
}

impl fmt::Debug for ReportedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReportedError")
            .field(&self.0.type_name())
            .finish()
    }
}

/// Defines an adapter's `Reported<E>` (`new`, `get_ref`, `into_inner`,
/// `From<E>`, `Display`), the same on every framework whose error hook takes
/// the error by value (axum's `IntoResponse`, actix-web's `ResponseError`).
/// The adapter adds `attach` and its framework's error hook, leaving a
/// [`ReportedError`] where its middleware finds it.
///
/// ```
/// mod adapter {
///     lookout_core::adapter_reported! {
///         /// A handler error the middleware classifies by its type.
///         crate: "adapter",
///     }
/// }
/// let reported = adapter::Reported::new(std::fmt::Error);
/// assert_eq!(reported.get_ref(), &std::fmt::Error);
/// assert_eq!(reported.to_string(), std::fmt::Error.to_string());
/// ```
#[macro_export]
macro_rules! adapter_reported {
    ($(#[$meta:meta])* crate: $krate:literal $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct Reported<E>(pub E);

        impl<E> Reported<E> {
            /// Wraps `error`.
            ///
            /// ```
            #[doc = concat!("let reported = ", $krate, "::Reported::new(std::fmt::Error);")]
            /// assert_eq!(reported.into_inner(), std::fmt::Error);
            /// ```
            pub fn new(error: E) -> Self {
                Self(error)
            }

            /// The wrapped error, by reference.
            ///
            /// ```
            #[doc = concat!("let reported = ", $krate, "::Reported::from(std::fmt::Error);")]
            /// let _error: &std::fmt::Error = reported.get_ref();
            /// ```
            pub fn get_ref(&self) -> &E {
                &self.0
            }

            /// The wrapped error.
            ///
            /// ```
            #[doc = concat!("let reported = ", $krate, "::Reported::from(std::fmt::Error);")]
            /// let _error: std::fmt::Error = reported.into_inner();
            /// ```
            pub fn into_inner(self) -> E {
                self.0
            }
        }

        impl<E> ::std::convert::From<E> for Reported<E> {
            fn from(error: E) -> Self {
                Self(error)
            }
        }

        impl<E: ::std::fmt::Display> ::std::fmt::Display for Reported<E> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
