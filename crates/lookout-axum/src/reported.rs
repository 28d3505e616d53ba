//! [`Reported`]: hands a handler's typed error to the layer, so the
//! classifier sees it by type, without changing the response.

use std::error::Error;

use axum::response::{IntoResponse, Response};
use lookout_core::toolkit::ReportedError;

lookout_core::adapter_reported! {
    /// A handler error the lookout layer classifies by its type.
    ///
    /// axum turns a handler's error into a response and the error is gone; a
    /// `Reported` keeps it on the response (as an extension) so that the layer
    /// passes it to the classifiers: `by_type::<E>("name")` rules match it or
    /// anything in its `source()` chain, and events name its concrete type.
    ///
    /// Two ways to use it:
    ///
    /// - Your own error enum: build the response as usual in its
    ///   `IntoResponse`, then [`attach`](Reported::attach) the error to it. Every
    ///   handler returning `Result<_, AppError>` is then covered, with `?`
    ///   working as before.
    /// - A cloneable error type that already implements `IntoResponse`: return
    ///   `Reported<E>` from the handler; the response is `E`'s own.
    ///
    /// # The `AppError` pattern
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use axum::response::{IntoResponse, Response};
    /// use lookout_axum::Reported;
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
    /// impl IntoResponse for AppError {
    ///     fn into_response(self) -> Response {
    ///         let status = match &self {
    ///             AppError::NotFound => StatusCode::NOT_FOUND,
    ///             AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///         };
    ///         let body = self.to_string();
    ///         // The response is unchanged; the layer now sees the error.
    ///         Reported::new(self).attach((status, body))
    ///     }
    /// }
    ///
    /// async fn order() -> Result<String, AppError> {
    ///     Err(std::io::Error::other("connection refused"))?
    /// }
    /// # let _ = order;
    /// let response = AppError::NotFound.into_response();
    /// assert_eq!(response.status(), StatusCode::NOT_FOUND);
    /// ```
    crate: "lookout_axum",
}

impl<E: Error + Send + Sync + 'static> Reported<E> {
    /// Leaves the error on `response` for the layer and returns the response
    /// (status, headers and body as given).
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use axum::response::IntoResponse;
    ///
    /// let error = std::io::Error::other("upstream timed out");
    /// let response = lookout_axum::Reported::new(error).attach(StatusCode::GATEWAY_TIMEOUT);
    /// assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    /// ```
    pub fn attach(self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        // A 5xx keeps the frames of this place for its event.
        let reported = ReportedError::new(self.0).answered(response.status());
        response.extensions_mut().insert(reported);
        response
    }
}

/// The response is `E`'s own; `E` is cloned once (on the error path only)
/// because `IntoResponse` consumes it. For error types that are not `Clone`,
/// use [`Reported::attach`] inside their `IntoResponse`.
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::{IntoResponse, Response};
/// use lookout_axum::Reported;
///
/// #[derive(Debug, Clone)]
/// struct Teapot;
/// impl std::fmt::Display for Teapot {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("teapot") }
/// }
/// impl std::error::Error for Teapot {}
/// impl IntoResponse for Teapot {
///     fn into_response(self) -> Response { StatusCode::IM_A_TEAPOT.into_response() }
/// }
///
/// async fn brew() -> Result<&'static str, Reported<Teapot>> {
///     Err(Teapot)?
/// }
/// # let _ = brew;
/// assert_eq!(Reported(Teapot).into_response().status(), StatusCode::IM_A_TEAPOT);
/// ```
impl<E> IntoResponse for Reported<E>
where
    E: Error + IntoResponse + Clone + Send + Sync + 'static,
{
    fn into_response(self) -> Response {
        let response = self.0.clone().into_response();
        self.attach(response)
    }
}
