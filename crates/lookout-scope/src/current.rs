//! Which request the running code belongs to: a thread-local swapped around each poll.
//!
//! The thread-local is only ever set for the duration of one poll or one
//! [`RequestContext::enter`] call, and restored afterwards (also on panic), so a
//! worker thread never carries a request into the next task it runs. This module
//! also switches sentry's thread Hub to the request's Hub for the same span of
//! time, which is what makes `sentry_core::capture_*` land in the right request.

use std::cell::RefCell;

use sentry_core::HubSwitchGuard;

use crate::context::RequestContext;
use crate::error::NotInRequest;
use crate::user::User;

thread_local! {
    static CURRENT: RefCell<Option<RequestContext>> = const { RefCell::new(None) };
}

/// Makes a request current until dropped; restores the previous one.
///
/// Not `Send` (it holds a sentry `HubSwitchGuard`), so it can never be held
/// across an `.await`.
pub(crate) struct Entered {
    prev: Option<RequestContext>,
    _hub: Option<HubSwitchGuard>,
}

impl Entered {
    pub(crate) fn new(ctx: &RequestContext) -> Self {
        let hub = ctx.hub().cloned().map(HubSwitchGuard::new);
        let prev = CURRENT
            .try_with(|current| current.replace(Some(ctx.clone())))
            .ok()
            .flatten();
        Self { prev, _hub: hub }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // The replaced value is dropped after the `RefCell` borrow has ended.
        let _left = CURRENT.try_with(|current| current.replace(prev));
    }
}

/// The request the running code belongs to, or `None` outside of a request.
///
/// Never panics, on any thread, at any time.
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::RequestContext;
///
/// assert!(lookout_scope::current().is_none());
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// ctx.enter(|| {
///     let inside = lookout_scope::current().expect("inside the request");
///     assert_eq!(inside.request_id(), "req-1");
/// });
/// assert!(lookout_scope::current().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn current() -> Option<RequestContext> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Like [`current`], but with an error that explains where a request is bound.
///
/// ```
/// let err = lookout_scope::try_current().unwrap_err();
/// assert_eq!(err, lookout_scope::NotInRequest);
/// ```
pub fn try_current() -> Result<RequestContext, NotInRequest> {
    current().ok_or(NotInRequest)
}

/// Identifies the current request's user; see [`RequestContext::identify`].
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{RequestContext, User};
///
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// ctx.enter(|| lookout_scope::identify(User::id("42").role("admin")))?;
/// assert!(ctx.is_authenticated());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn identify(user: User) -> Result<(), NotInRequest> {
    try_current().map(|ctx| ctx.identify(user))
}

/// Marks the current request anonymous again (a logout); see
/// [`RequestContext::set_anonymous`]. Returns the user it was identified as.
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{RequestContext, User};
///
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// ctx.identify(User::id("42"));
/// let was = ctx.enter(lookout_scope::set_anonymous)?;
/// assert_eq!(was.and_then(|u| u.id).as_deref(), Some("42"));
/// assert!(!ctx.is_authenticated());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_anonymous() -> Result<Option<User>, NotInRequest> {
    try_current().map(|ctx| ctx.set_anonymous())
}

/// Adds the current request's data to `event` ([`RequestContext::apply_to`]);
/// an event captured outside a request gets the breadcrumbs of the lines
/// logged outside requests ([`record_process_breadcrumb`](crate::record_process_breadcrumb)).
///
/// Install it as the client's `before_send` (lookout-core does, before the
/// privacy scrubber), so every event captured inside a request carries its
/// request id, user, tags and trace:
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::ClientOptions;
///
/// let mut options = ClientOptions::default();
/// options.before_send = Some(Arc::new(lookout_scope::apply_to_event));
/// # let _ = options;
/// ```
pub fn apply_to_event(
    mut event: sentry_core::protocol::Event<'static>,
) -> Option<sentry_core::protocol::Event<'static>> {
    match current() {
        Some(ctx) => ctx.apply_to(&mut event),
        None => crate::context::apply_process_breadcrumbs(&mut event),
    }
    Some(event)
}
