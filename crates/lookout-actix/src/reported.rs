//! [`Reported`]: hands a handler's typed error to the middleware, so the
//! classifier sees it by type, without changing the response.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use lookout_core::toolkit::ReportedError;

use crate::headers::status;

lookout_core::adapter_reported! {
    /// A handler error the lookout middleware classifies by its type.
    ///
    /// actix-web keeps a handler's error only as a `dyn ResponseError`, which is
    /// not a `std::error::Error`: the classifiers could not see its type or its
    /// `source()` chain. A `Reported<E>` converts into an `actix_web::Error`
    /// that still answers exactly as `E` does (`E::status_code`,
    /// `E::error_response`) and lets the middleware hand `E` itself to the
    /// classifiers: `by_type::<E>("name")` rules match it or anything in its
    /// `source()` chain, and events name its concrete type. This works both for
    /// handlers (the error becomes the response's error) and for middleware
    /// that returns `Err`.
    ///
    /// Two ways to use it:
    ///
    /// - Your own error enum implementing `ResponseError` (the response as
    ///   without lookout): return `Result<T, Reported<AppError>>` from handlers.
    ///   `?` on an `AppError` works as before; convert other errors to
    ///   `AppError` first (`.map_err(AppError::from)?`), as Rust's `?` converts
    ///   only once.
    /// - A response built by hand: [`attach`](Reported::attach) the error to it.
    ///
    /// # The `AppError` pattern
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use actix_web::{HttpResponse, ResponseError};
    /// use lookout_actix::Reported;
    ///
    /// #[derive(Debug)]
    /// enum AppError {
    ///     NotFound,
    ///     Database(std::io::Error),
    /// }
    ///
    /// impl std::fmt::Display for AppError {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         match self {
    ///             AppError::NotFound => f.write_str("not found"),
    ///             AppError::Database(_) => f.write_str("database unavailable"),
    ///         }
    ///     }
    /// }
    ///
    /// impl std::error::Error for AppError {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    ///         match self {
    ///             AppError::Database(e) => Some(e),
    ///             AppError::NotFound => None,
    ///         }
    ///     }
    /// }
    ///
    /// impl From<std::io::Error> for AppError {
    ///     fn from(e: std::io::Error) -> Self {
    ///         AppError::Database(e)
    ///     }
    /// }
    ///
    /// // The response, exactly as without lookout.
    /// impl ResponseError for AppError {
    ///     fn status_code(&self) -> StatusCode {
    ///         match self {
    ///             AppError::NotFound => StatusCode::NOT_FOUND,
    ///             AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///         }
    ///     }
    /// }
    ///
    /// fn load() -> Result<String, std::io::Error> {
    ///     Err(std::io::Error::other("connection refused"))
    /// }
    ///
    /// // Handlers say `Reported<AppError>`; the middleware now sees the error.
    /// async fn order() -> Result<String, Reported<AppError>> {
    ///     let order = load().map_err(AppError::from)?;
    ///     Ok(order)
    /// }
    ///
    /// async fn item() -> Result<String, Reported<AppError>> {
    ///     Err(AppError::NotFound)?
    /// }
    /// # let _ = (order, item);
    /// let error = actix_web::Error::from(Reported::new(AppError::NotFound));
    /// assert_eq!(error.error_response().status(), StatusCode::NOT_FOUND);
    /// ```
    crate: "lookout_actix",
}

impl<E: Error + Send + Sync + 'static> Reported<E> {
    /// Leaves the error on `response` for the middleware and returns the
    /// response (status, headers and body as given): for a handler that
    /// answers an `HttpResponse` it built itself.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    ///
    /// let error = std::io::Error::other("upstream timed out");
    /// let response = lookout_actix::Reported::new(error).attach(HttpResponse::GatewayTimeout().finish());
    /// assert_eq!(response.status(), actix_web::http::StatusCode::GATEWAY_TIMEOUT);
    /// ```
    pub fn attach(self, mut response: HttpResponse) -> HttpResponse {
        // A 5xx keeps the frames of this place for its event.
        let reported = ReportedError::new(self.0).answered(status(response.status()));
        response.extensions_mut().insert(reported);
        response
    }

    /// The `E` inside an `actix_web::Error` made from a `Reported<E>`: for
    /// an outer middleware or an error handler that inspects errors by type
    /// (`actix_web::Error::as_error::<E>` sees the carrier instead).
    ///
    /// ```
    /// use lookout_actix::Reported;
    ///
    /// let error = actix_web::Error::from(Reported::new(actix_web::error::PayloadError::Overflow));
    /// assert!(Reported::<actix_web::error::PayloadError>::find(&error).is_some());
    /// assert!(Reported::<std::fmt::Error>::find(&error).is_none());
    /// ```
    pub fn find(error: &actix_web::Error) -> Option<&E> {
        let carried = error.as_error::<Carried>()?;
        let error: &(dyn Error + 'static) = carried.reported.error();
        error.downcast_ref::<E>()
    }
}

/// Answers exactly as `E` does; the middleware finds `E` inside.
impl<E> From<Reported<E>> for actix_web::Error
where
    E: ResponseError + Error + Send + Sync + 'static,
{
    fn from(reported: Reported<E>) -> Self {
        let error = Arc::new(reported.0);
        let response: Arc<dyn ResponseError + Send + Sync> = error.clone();
        // Where the handler's `?` made it an actix error: a 5xx keeps the
        // frames of this place for its event.
        let answered = status(response.status_code());
        actix_web::Error::from(Carried {
            reported: ReportedError::from_arc(error).answered(answered),
            response,
        })
    }
}

/// What an `actix_web::Error` made from a [`Reported`] holds: one error, seen
/// as a [`ReportedError`] by the middleware and as its `ResponseError` by
/// actix. Not generic, so the middleware can find it without knowing `E`.
pub(crate) struct Carried {
    pub(crate) reported: ReportedError,
    response: Arc<dyn ResponseError + Send + Sync>,
}

impl fmt::Debug for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.response, f)
    }
}

impl fmt::Display for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.response, f)
    }
}

impl ResponseError for Carried {
    fn status_code(&self) -> StatusCode {
        self.response.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.response.error_response()
    }
}
