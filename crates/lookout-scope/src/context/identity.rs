//! Who the request's user is: identified, or anonymous.

use super::request_context::RequestContext;
use crate::user::User;

impl RequestContext {
    /// Sets the user of this request, and only of this request.
    ///
    /// The context keeps the user as given (see [`RequestContext::user`]); the
    /// request's scope gets it filtered by the
    /// [`PiiPolicy`](lookout_policy::PiiPolicy), plus the tags
    /// `authenticated=true` and `user_role=<role>` (removed if the new user
    /// has no role). Identifying again replaces the user.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, User};
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// ctx.identify(User::id("42").email("ada@example.com"));
    /// let user = ctx.user().unwrap();
    /// assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn identify(&self, user: User) {
        self.state().user = Some(user);
    }

    /// Marks the request anonymous again (a logout): no user on its scope,
    /// `authenticated=false`, no `user_role`. Returns the user it had.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, User};
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// ctx.identify(User::id("42"));
    /// assert!(ctx.set_anonymous().is_some());
    /// assert!(!ctx.is_authenticated());
    /// assert_eq!(ctx.user(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_anonymous(&self) -> Option<User> {
        self.state().user.take()
    }

    /// The identified user as given to [`RequestContext::identify`] (all
    /// fields, whatever the PII policy), or `None` while anonymous. Kept even
    /// when no client is bound.
    #[must_use]
    pub fn user(&self) -> Option<User> {
        self.state().user.clone()
    }

    /// Runs `f` with the identified user borrowed (no copy of it), or
    /// `None` while anonymous. The request's state is locked meanwhile: keep
    /// `f` short and do not call back into this context from it.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, User};
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// ctx.identify(User::id("42"));
    /// assert_eq!(ctx.with_user(|user| user.and_then(|u| u.id.clone())), Some("42".to_owned()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_user<R>(&self, f: impl FnOnce(Option<&User>) -> R) -> R {
        f(self.state().user.as_ref())
    }

    /// Whether a user is identified.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.state().user.is_some()
    }
}
