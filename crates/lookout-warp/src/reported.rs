//! [`Reported`]: hands a typed error to the middleware through warp's
//! rejections and `recover`, so the classifier sees it by type, without
//! changing the response.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use lookout_core::toolkit::ReportedError;
use warp::reply::Response;
use warp::{Rejection, Reply};

/// A handler error the lookout middleware classifies by its type.
///
/// warp turns an error into a response in `recover` (or in a `Reply`) and
/// the error is gone; a `Reported` keeps it on the response (as an
/// extension) so that the middleware passes it to the classifiers:
/// `by_type::<E>("name")` rules match it or anything in its `source()`
/// chain, and events name its concrete type.
///
/// It is also a warp rejection ([`warp::reject::Reject`]): reject with it,
/// and in `recover` find it and [`attach`](Reported::attach) it to the reply
/// you answer with. The error is shared (not cloned) between the rejection
/// and the response, so `E` need not be `Clone`.
///
/// # The `AppError` pattern
///
/// ```
/// use std::convert::Infallible;
/// use warp::http::StatusCode;
/// use warp::{Filter, Rejection, Reply};
/// use lookout_warp::Reported;
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
/// // Handlers reject with the error, `?` included.
/// impl From<AppError> for Rejection {
///     fn from(error: AppError) -> Rejection {
///         Reported::new(error).reject()
///     }
/// }
///
/// async fn order() -> Result<String, Rejection> {
///     Err(AppError::Database(std::io::Error::other("connection refused")))?
/// }
///
/// // One `recover` for the app: the response as without lookout, and the
/// // middleware now sees the error.
/// async fn answer(rejection: Rejection) -> Result<impl Reply, Rejection> {
///     let Some(reported) = rejection.find::<Reported<AppError>>() else {
///         return Err(rejection);
///     };
///     let status = match reported.get_ref() {
///         AppError::NotFound => StatusCode::NOT_FOUND,
///         AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
///     };
///     let body = reported.get_ref().to_string();
///     Ok(reported.attach(warp::reply::with_status(body, status)))
/// }
///
/// let routes = warp::path!("order")
///     .and(lookout_warp::route("/order"))
///     .and_then(order)
///     .recover(answer);
/// # let _ = routes;
/// let response = Reported::new(AppError::NotFound).attach(StatusCode::NOT_FOUND);
/// assert_eq!(response.status(), StatusCode::NOT_FOUND);
/// ```
#[derive(Debug)]
pub struct Reported<E>(Arc<E>);

impl<E> Reported<E> {
    /// Wraps `error`.
    ///
    /// ```
    /// let reported = lookout_warp::Reported::new(std::fmt::Error);
    /// assert_eq!(reported.get_ref(), &std::fmt::Error);
    /// ```
    pub fn new(error: E) -> Self {
        Self(Arc::new(error))
    }

    /// The wrapped error, by reference.
    ///
    /// ```
    /// let reported = lookout_warp::Reported::from(std::fmt::Error);
    /// let _error: &std::fmt::Error = reported.get_ref();
    /// ```
    pub fn get_ref(&self) -> &E {
        &self.0
    }

    /// The wrapped error, shared (warp's `recover` sees a rejection only by
    /// reference, so the error lives in an `Arc`).
    ///
    /// ```
    /// let reported = lookout_warp::Reported::new(std::fmt::Error);
    /// assert_eq!(*reported.into_inner(), std::fmt::Error);
    /// ```
    pub fn into_inner(self) -> Arc<E> {
        self.0
    }
}

impl<E: Error + Send + Sync + 'static> Reported<E> {
    /// The rejection carrying this error (`warp::reject::custom(self)`).
    ///
    /// ```
    /// let rejection = lookout_warp::Reported::new(std::fmt::Error).reject();
    /// assert!(rejection.find::<lookout_warp::Reported<std::fmt::Error>>().is_some());
    /// ```
    pub fn reject(self) -> Rejection {
        warp::reject::custom(self)
    }

    /// Leaves the error on `reply`'s response for the middleware and returns
    /// the response (status, headers and body as given). It takes `&self`
    /// (not `self`, as on axum and actix): in `recover` a rejection is only
    /// seen by reference.
    ///
    /// ```
    /// use warp::http::StatusCode;
    ///
    /// let error = std::io::Error::other("upstream timed out");
    /// let response = lookout_warp::Reported::new(error).attach(StatusCode::GATEWAY_TIMEOUT);
    /// assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    /// ```
    pub fn attach(&self, reply: impl Reply) -> Response {
        let mut response = reply.into_response();
        // A 5xx keeps the frames of this place for its event.
        let reported = ReportedError::from_arc(Arc::clone(&self.0)).answered(response.status());
        response.extensions_mut().insert(reported);
        response
    }
}

impl<E> Clone for Reported<E> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<E> From<E> for Reported<E> {
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

impl<E: fmt::Display> fmt::Display for Reported<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A rejection: in `recover`, `rejection.find::<Reported<E>>()`.
impl<E: fmt::Debug + Send + Sync + 'static> warp::reject::Reject for Reported<E> {}

/// The response is `E`'s own; `E` is cloned once (on the error path only)
/// because `Reply` consumes it. For error types that are not `Clone`, use
/// [`Reported::attach`].
///
/// ```
/// use warp::http::StatusCode;
/// use warp::{Filter, Reply};
/// use lookout_warp::Reported;
///
/// #[derive(Debug, Clone)]
/// struct Teapot;
/// impl std::fmt::Display for Teapot {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("teapot") }
/// }
/// impl std::error::Error for Teapot {}
/// impl Reply for Teapot {
///     fn into_response(self) -> warp::reply::Response { StatusCode::IM_A_TEAPOT.into_response() }
/// }
///
/// let brew = warp::path!("brew").map(|| Err::<&str, _>(Reported::new(Teapot)));
/// # let _ = brew;
/// assert_eq!(Reported::new(Teapot).into_response().status(), StatusCode::IM_A_TEAPOT);
/// ```
impl<E> Reply for Reported<E>
where
    E: Error + Reply + Clone + Send + Sync + 'static,
{
    fn into_response(self) -> Response {
        let response = E::clone(&self.0).into_response();
        self.attach(response)
    }
}
