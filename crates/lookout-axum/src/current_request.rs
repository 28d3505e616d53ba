//! [`CurrentRequest`]: the extractor for the request lookout is handling.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, MatchedPath, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use lookout_core::toolkit::{self, RouteLearner};

lookout_core::adapter_current_request! {
    /// The request lookout is handling: its id, its trace, and the user it acts
    /// for ([`lookout_core::toolkit::CurrentRequest`], whose methods it
    /// dereferences to). Extract it in handlers and in
    /// `axum::middleware::from_fn` middleware (for example right after
    /// authentication, to identify the user).
    ///
    /// ```
    /// use axum::{Router, middleware, routing::get};
    /// use axum::extract::Request;
    /// use axum::middleware::Next;
    /// use axum::response::Response;
    /// use lookout_axum::{CurrentRequest, User};
    ///
    /// async fn auth(current: CurrentRequest, request: Request, next: Next) -> Response {
    ///     // ... after checking the session:
    ///     current.identify(User::id("42").role("admin"));
    ///     next.run(request).await
    /// }
    ///
    /// async fn me(current: CurrentRequest) -> String {
    ///     format!("request {} in trace {}", current.request_id(), current.trace_id())
    /// }
    ///
    /// let app: Router = Router::new()
    ///     .route("/me", get(me))
    ///     .route_layer(middleware::from_fn(auth))
    ///     .layer(lookout_axum::layer());
    /// # let _ = app;
    /// ```
    ///
    /// Without the lookout layer in front, extraction fails with a `500`
    /// ([`NotInstrumented`]); extract `Option<CurrentRequest>` to tolerate that.
    crate: "lookout_axum",
    /// [`CurrentRequest`] was extracted where no lookout layer handles the
    /// request; answered with a `500` naming the missing layer.
    NotInstrumented: "lookout_axum::CurrentRequest needs the lookout layer in front of this route: \
         add `.layer(lookout_axum::layer())` to the Router",
}

impl CurrentRequest {
    fn from_parts(parts: &Parts) -> Option<Self> {
        toolkit::CurrentRequest::resolve(
            parts.extensions.get::<RouteLearner>(),
            parts
                .extensions
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
        )
        .map(Self::from)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentRequest {
    type Rejection = NotInstrumented;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NotInstrumented> {
        Self::from_parts(parts).ok_or(NotInstrumented)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(Self::from_parts(parts))
    }
}

impl IntoResponse for NotInstrumented {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
