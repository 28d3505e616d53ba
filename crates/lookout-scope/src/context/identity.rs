//! Who the request's user is: identified, or anonymous.

use std::sync::Arc;

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
        self.state().user = Some(Arc::new(user));
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
        self.state()
            .user
            .take()
            .map(|user| Arc::try_unwrap(user).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// The identified user as given to [`RequestContext::identify`] (all
    /// fields, whatever the PII policy), or `None` while anonymous. Kept even
    /// when no client is bound.
    #[must_use]
    pub fn user(&self) -> Option<User> {
        self.state().user.as_deref().cloned()
    }

    /// Runs `f` with the identified user borrowed (no copy of its fields),
    /// or `None` while anonymous. The request's state is not locked while
    /// `f` runs, so `f` may use this context (log a line, identify another
    /// user: `f` still sees the user it was given).
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
        let user = self.state().user.clone();
        f(user.as_deref())
    }

    /// Whether a user is identified.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.state().user.is_some()
    }
}

#[cfg(test)]
mod tests {
    use lookout_headers::RequestId;

    use super::*;

    #[test]
    fn with_user_runs_without_the_lock_so_its_closure_may_use_the_context() {
        let ctx = RequestContext::new(RequestId::parse("req-1").unwrap());
        ctx.identify(User::id("42"));
        // Inside the closure: what a line logged there does (its log reads
        // the user), and identifying again.
        let seen = ctx.with_user(|user| {
            let inner = ctx.with_user(|again| again.and_then(|u| u.id.clone()));
            ctx.identify(User::id("43"));
            (user.and_then(|u| u.id.clone()), inner)
        });
        assert_eq!(seen, (Some("42".to_owned()), Some("42".to_owned())));
        assert_eq!(ctx.user().and_then(|u| u.id), Some("43".to_owned()));
        assert_eq!(
            ctx.set_anonymous().and_then(|u| u.id),
            Some("43".to_owned())
        );
        assert!(!ctx.is_authenticated());
    }
}
