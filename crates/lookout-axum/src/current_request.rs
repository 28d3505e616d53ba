//! [`CurrentRequest`]: the extractor for the request lookout is handling.

use std::convert::Infallible;
use std::fmt;

use axum::extract::{FromRequestParts, MatchedPath, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use lookout_scope::{RequestContext, RequestTrace, User};

use crate::service::Marker;

/// The request lookout is handling: its id, its trace, and the user it acts
/// for. Extract it in handlers and in `axum::middleware::from_fn` middleware
/// (for example right after authentication, to identify the user).
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
#[derive(Clone, Debug)]
pub struct CurrentRequest {
    ctx: RequestContext,
}

impl CurrentRequest {
    /// The current request, from anywhere inside it (code the layer runs,
    /// or a task spawned with `lookout_scope::spawn_in_request`).
    ///
    /// ```
    /// assert!(lookout_axum::CurrentRequest::get().is_none(), "outside a request");
    /// ```
    #[must_use]
    pub fn get() -> Option<Self> {
        lookout_scope::current().map(|ctx| Self { ctx })
    }

    fn from_parts(parts: &Parts) -> Option<Self> {
        match parts.extensions.get::<Marker>() {
            Some(marker) => {
                // Inside routing now: tell a layer outside it the template.
                marker.learn(parts.extensions.get::<MatchedPath>());
                Some(Self {
                    ctx: marker.ctx.clone(),
                })
            }
            None => Self::get(),
        }
    }

    /// The request id (the caller's `x-request-id` when valid, otherwise a
    /// new one); the response carries it too.
    #[must_use]
    pub fn request_id(&self) -> &str {
        self.ctx.request_id()
    }

    /// The trace id, as 32 hex digits.
    #[must_use]
    pub fn trace_id(&self) -> String {
        self.ctx.trace().trace_id.to_string()
    }

    /// The request's trace: ids, parent, sampling decision.
    #[must_use]
    pub fn trace(&self) -> RequestTrace {
        self.ctx.trace()
    }

    /// Identifies the user this request acts for: events of this request
    /// (and only this one) carry the user, and the tags
    /// `authenticated=true` and `user_role`.
    ///
    /// ```
    /// # use lookout_axum::User;
    /// # fn f(current: lookout_axum::CurrentRequest) {
    /// current.identify(User::id("42").email("ada@example.com").role("admin"));
    /// # }
    /// ```
    pub fn identify(&self, user: User) {
        self.ctx.identify(user);
    }

    /// Makes the request anonymous again (a logout); returns the user it was
    /// identified as.
    pub fn set_anonymous(&self) -> Option<User> {
        self.ctx.set_anonymous()
    }

    /// The identified user, if any.
    #[must_use]
    pub fn user(&self) -> Option<User> {
        self.ctx.user()
    }

    /// The request's full context (tags, breadcrumbs, binding spawned work).
    #[must_use]
    pub fn context(&self) -> &RequestContext {
        &self.ctx
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

/// [`CurrentRequest`] was extracted where no lookout layer handles the
/// request; answered with a `500` naming the missing layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotInstrumented;

impl fmt::Display for NotInstrumented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "lookout_axum::CurrentRequest needs the lookout layer in front of this route: \
             add `.layer(lookout_axum::layer())` to the Router",
        )
    }
}

impl std::error::Error for NotInstrumented {}

impl IntoResponse for NotInstrumented {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
