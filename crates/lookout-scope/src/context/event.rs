//! Writing the request's data (tags, user, trace context) into an event as
//! it is captured.

use sentry_core::protocol::{Context, Event, Map, Transaction};

use super::request_context::RequestContext;
use lookout_classify::tags::{AUTHENTICATED, REQUEST_ID, USER_ROLE};

impl RequestContext {
    /// Writes this request's data into `event`: the tags `request_id`,
    /// `authenticated` (and `user_role`), the identified user (filtered by the
    /// [`PiiPolicy`](lookout_policy::PiiPolicy)), the request's breadcrumbs
    /// (merged by time with the event's own), and the request's `trace`
    /// context when the event has none of this trace (a span of a sampled
    /// transaction keeps its own).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, User};
    /// use sentry_core::protocol::Event;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-9")?);
    /// ctx.identify(User::id("42").role("admin").email("ada@example.com"));
    /// let mut event = Event::default();
    /// ctx.apply_to(&mut event);
    /// assert_eq!(event.tags["request_id"], "req-9");
    /// assert_eq!(event.tags["user_role"], "admin");
    /// assert_eq!(event.user.as_ref().unwrap().email, None); // PII off
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_to(&self, event: &mut Event<'_>) {
        if let Some(user) = self.write_identity(&mut event.tags) {
            event.user = Some(user);
        }
        self.apply_breadcrumbs(event);
        let trace = self.inner.trace;
        let ours = sentry_core::protocol::TraceId::from(trace.trace_id);
        let has_ours = matches!(
            event.contexts.get("trace"),
            Some(Context::Trace(t)) if t.trace_id == ours
        );
        if !has_ours {
            event
                .contexts
                .insert("trace".to_owned(), trace.to_sentry_context().into());
        }
    }

    /// Writes this request's identity into a transaction as it is sent: the
    /// tags `request_id`, `authenticated` (and `user_role`) and the identified
    /// user (filtered by the [`PiiPolicy`](lookout_policy::PiiPolicy)), the
    /// same as on the request's events. A user identified after the
    /// transaction started is on it too: this runs when it ends.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, User};
    /// use sentry_core::protocol::Transaction;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-9")?);
    /// let mut anonymous = Transaction::default();
    /// ctx.apply_to_transaction(&mut anonymous);
    /// assert_eq!(anonymous.tags["authenticated"], "false");
    /// ctx.identify(User::id("42").role("admin"));
    /// let mut tx = Transaction::default();
    /// ctx.apply_to_transaction(&mut tx);
    /// assert_eq!(tx.tags["user_role"], "admin");
    /// assert_eq!(tx.user.unwrap().id.as_deref(), Some("42"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_to_transaction(&self, transaction: &mut Transaction<'_>) {
        if let Some(user) = self.write_identity(&mut transaction.tags) {
            transaction.user = Some(user);
        }
    }

    /// The identity tags into `tags`; the user to set, if identified.
    fn write_identity(
        &self,
        tags: &mut Map<String, String>,
    ) -> Option<sentry_core::protocol::User> {
        let user = self.state().user.clone();
        tags.entry(REQUEST_ID.to_owned())
            .or_insert_with(|| self.request_id().to_owned());
        tags.insert(AUTHENTICATED.to_owned(), user.is_some().to_string());
        match user.as_ref().and_then(|u| u.role.clone()) {
            Some(role) => {
                tags.insert(USER_ROLE.to_owned(), role);
            }
            None => {
                tags.remove(USER_ROLE);
            }
        }
        user.map(|user| user.to_sentry_user(self.inner.pii))
    }
}
