//! [`RequestContext`]: the shared allocation behind every clone, and what
//! the request was created with.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use lookout_headers::{DynamicSamplingContext, RequestId};
use lookout_policy::PiiPolicy;
use sentry_core::Hub;

use crate::response::ResponseSummary;
use crate::trace::RequestTrace;
use crate::user::User;

/// One request's context: its id, its trace, its user and, when a Sentry
/// client is bound, its own [`Hub`].
///
/// Cloning is cheap (one reference count); every clone is the same request.
/// Build it with [`RequestContext::builder`] (or [`RequestContext::new`]),
/// bind it to the request's future with [`Bound`](crate::Bound) /
/// [`InRequestExt::in_request`](crate::InRequestExt::in_request), and reach it
/// from anywhere inside the request with [`current`](crate::current()).
///
/// With no client bound there is no Hub at all: creating, binding and dropping
/// a context is one allocation (which also holds the request id), and
/// identifying a user stores it without copying.
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{RequestContext, User};
///
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// assert!(!ctx.is_authenticated());
/// ctx.identify(User::id("42").role("admin"));
/// assert!(ctx.is_authenticated());
/// assert_eq!(ctx.user().and_then(|u| u.role).as_deref(), Some("admin"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RequestContext {
    pub(super) inner: Arc<Inner>,
}

/// The one allocation behind every clone of a context.
pub(super) struct Inner {
    pub(super) request_id: RequestId,
    pub(super) trace: RequestTrace,
    pub(super) method: Cow<'static, str>,
    pub(super) tracestate: Option<String>,
    /// The frozen DSC, in a set-once slot of its own (see `frozen_dsc.rs`),
    /// inside the context's one allocation: every envelope and outgoing
    /// request of the request reads it by reference.
    pub(super) frozen_dsc: OnceLock<DynamicSamplingContext>,
    /// The caller's DSC as its Sentry baggage members, when the builder was
    /// given them: `frozen_dsc` is made from them the first time it is read.
    pub(super) incoming_dsc: Option<Box<str>>,
    pub(super) owner: Option<Arc<dyn Any + Send + Sync>>,
    pub(super) pii: PiiPolicy,
    /// The request's own Hub; `None` when no enabled client was bound.
    pub(super) hub: Option<Arc<Hub>>,
    /// The Hub `hub` was derived from, so that a request started while this
    /// one is current derives from the same place instead of from this request.
    pub(super) parent: Option<Arc<Hub>>,
    /// Also serialises this crate's writes to the Hub's scope, which sentry
    /// performs as read-copy-write.
    pub(super) state: Mutex<State>,
    /// Other crates' request-scoped values, one per type (see `extensions.rs`).
    pub(super) extensions: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
    /// What captured events mean for the request's session (`health.rs`).
    pub(super) health: AtomicU8,
    /// The request's breadcrumbs (`breadcrumbs.rs`), at most `max_breadcrumbs`.
    pub(super) breadcrumbs: Mutex<super::breadcrumbs::Ring>,
    /// The client's `max_breadcrumbs` when the context was built.
    pub(super) max_breadcrumbs: usize,
    /// The request's head as text, for its events (`head.rs`): inside this
    /// allocation up to `HEAD_INLINE` bytes.
    pub(super) head: OnceLock<super::head::HeadText>,
}

/// What the request learns while it runs.
pub(super) struct State {
    /// Shared, so that a reader borrows it without holding the lock.
    pub(super) user: Option<Arc<User>>,
    pub(super) route: Option<Arc<str>>,
    pub(super) response: Option<ResponseSummary>,
}

impl RequestContext {
    /// The request id.
    #[must_use]
    pub fn request_id(&self) -> &str {
        self.inner.request_id.as_str()
    }

    /// The request id as an owned value (a cheap copy: ids of up to 40
    /// characters live inline, longer ones are shared).
    #[must_use]
    pub fn request_id_owned(&self) -> RequestId {
        self.inner.request_id.clone()
    }

    /// The request's trace context.
    #[must_use]
    pub fn trace(&self) -> RequestTrace {
        self.inner.trace
    }

    /// The request method given to the builder (empty if none was).
    #[must_use]
    pub fn method(&self) -> &str {
        &self.inner.method
    }

    /// The caller's `tracestate`, if one came with the request.
    #[must_use]
    pub fn tracestate(&self) -> Option<&str> {
        self.inner.tracestate.as_deref()
    }

    /// The owner given to the builder, if it is a `T`.
    #[must_use]
    pub fn owner<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.inner
            .owner
            .as_ref()
            .and_then(|owner| Arc::clone(owner).downcast::<T>().ok())
    }

    /// The PII policy applied to this request's user.
    #[must_use]
    pub fn pii(&self) -> PiiPolicy {
        self.inner.pii
    }

    /// The request's own Hub, `None` when no enabled client was bound at
    /// creation (then nothing of this request is sent anywhere).
    ///
    /// lookout-core uses it to start transactions and capture events. Do not
    /// push scopes on it from concurrent sub-tasks of the request: the Hub is
    /// shared by all of them.
    #[must_use]
    pub fn hub(&self) -> Option<&Arc<Hub>> {
        self.inner.hub.as_ref()
    }

    /// Whether `self` and `other` are clones of the same request context.
    #[must_use]
    pub fn same_request(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.request_id())
            .field("method", &self.method())
            .field("route", &self.route())
            .field("trace", &self.inner.trace)
            .field("authenticated", &self.is_authenticated())
            .field("has_hub", &self.inner.hub.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bound;
    use lookout_headers::RequestId;

    fn ctx() -> RequestContext {
        RequestContext::builder(RequestId::generate())
            .parent_hub(Arc::new(Hub::new(None, Default::default())))
            .build()
    }

    #[test]
    fn context_is_send_and_sync_so_tasks_can_carry_it() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RequestContext>();
        assert_send_sync::<Bound<std::future::Ready<()>>>();
    }

    #[test]
    fn clones_are_the_same_request() {
        let a = ctx();
        let b = a.clone();
        b.identify(User::id("42"));
        assert!(a.same_request(&b));
        assert!(a.is_authenticated());
        assert!(!a.same_request(&ctx()));
    }

    #[test]
    fn debug_shows_the_id_and_state_but_not_the_user() {
        let ctx = ctx();
        ctx.identify(User::id("42").email("ada@example.com"));
        let debug = format!("{ctx:?}");
        assert!(debug.contains(ctx.request_id()));
        assert!(debug.contains("authenticated: true"));
        assert!(!debug.contains("ada@example.com"));
    }
}
