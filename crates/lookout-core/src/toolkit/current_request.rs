//! [`CurrentRequest`]: the request lookout is handling, as handlers and
//! middleware see it on every framework.

use lookout_scope::{RequestContext, RequestTrace, User};

use super::RouteLearner;

/// The request lookout is handling: its id, its trace, and the user it acts
/// for. Each adapter hands it out through its framework's extractor (axum
/// `FromRequestParts`, actix-web `FromRequest`, a warp filter); the methods
/// are these, on every framework.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::{Engine, RequestHead, toolkit::CurrentRequest};
/// use lookout_core::User;
///
/// assert!(CurrentRequest::get().is_none(), "outside a request");
/// let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// in_flight.context().enter(|| {
///     let current = CurrentRequest::get().expect("inside the request");
///     current.identify(User::id("42").role("admin"));
///     assert!(current.user().is_some());
///     assert_eq!(current.trace_id().len(), 32);
/// });
/// # drop(in_flight);
/// ```
#[derive(Clone, Debug)]
pub struct CurrentRequest {
    ctx: RequestContext,
}

impl CurrentRequest {
    /// The current request, from anywhere inside it (code the middleware
    /// runs, or a task spawned with `spawn_in_request`).
    #[must_use]
    pub fn get() -> Option<Self> {
        lookout_scope::current().map(Self::from_context)
    }

    /// The request of this context.
    #[must_use]
    pub fn from_context(ctx: RequestContext) -> Self {
        Self { ctx }
    }

    /// What an adapter's extractor returns: the request of `learner` (the
    /// [`RouteLearner`] an outer middleware left in the request's
    /// extensions), which learns `route` (the framework's matched template),
    /// else the current request.
    #[must_use]
    pub fn resolve(learner: Option<&RouteLearner>, route: Option<&str>) -> Option<Self> {
        match learner {
            Some(learner) => {
                // Inside routing now: tell the middleware outside it the template.
                learner.learn(route);
                Some(Self::from_context(learner.context().clone()))
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
    /// # use lookout_core::User;
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
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
