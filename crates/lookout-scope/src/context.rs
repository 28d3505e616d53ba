//! The per-request context: request id, trace, user, and (only when a client is
//! bound) the request's own sentry Hub.
//!
//! Everything a request sets lives here or in that Hub's scope, so nothing a
//! request does is visible to another. Binding the context to running code is
//! the job of [`crate::current`] and [`crate::Bound`]; this module does not
//! touch thread-locals itself.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use lookout_headers::{DynamicSamplingContext, RequestId};
use lookout_policy::PiiPolicy;
use sentry_core::protocol::{Context, Event};
use sentry_core::{Hub, IntoBreadcrumbs};

use crate::bound::Bound;
use crate::current::{Entered, current};
use crate::response::ResponseSummary;
use crate::trace::RequestTrace;
use crate::user::User;

/// The tag carrying the request id on every event of the request.
pub const TAG_REQUEST_ID: &str = "request_id";
/// The tag saying whether the request's user is identified (`true`/`false`).
pub const TAG_AUTHENTICATED: &str = "authenticated";
/// The tag carrying the identified user's role, when one was given.
pub const TAG_USER_ROLE: &str = "user_role";

/// One request's context: its id, its trace, its user and, when a Sentry
/// client is bound, its own [`Hub`].
///
/// Cloning is cheap (one reference count); every clone is the same request.
/// Build it with [`RequestContext::builder`] (or [`RequestContext::new`]),
/// bind it to the request's future with [`Bound`] /
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
    inner: Arc<Inner>,
}

struct Inner {
    request_id: RequestId,
    trace: RequestTrace,
    method: Cow<'static, str>,
    tracestate: Option<String>,
    frozen_dsc: OnceLock<Arc<DynamicSamplingContext>>,
    owner: Option<Arc<dyn Any + Send + Sync>>,
    pii: PiiPolicy,
    /// The request's own Hub; `None` when no enabled client was bound.
    hub: Option<Arc<Hub>>,
    /// The Hub `hub` was derived from, so that a request started while this
    /// one is current derives from the same place instead of from this request.
    parent: Option<Arc<Hub>>,
    /// Also serialises this crate's writes to the Hub's scope, which sentry
    /// performs as read-copy-write.
    state: Mutex<State>,
    extensions: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

struct State {
    user: Option<User>,
    route: Option<Arc<str>>,
    response: Option<ResponseSummary>,
}

/// Builds a [`RequestContext`]; see [`RequestContext::builder`].
#[derive(Debug)]
#[must_use]
pub struct RequestContextBuilder {
    request_id: RequestId,
    trace: Option<RequestTrace>,
    method: Cow<'static, str>,
    tracestate: Option<String>,
    frozen_dsc: Option<DynamicSamplingContext>,
    owner: Option<Arc<dyn Any + Send + Sync>>,
    pii: Option<PiiPolicy>,
    parent: Option<Arc<Hub>>,
}

impl RequestContextBuilder {
    /// The request's trace (default: [`RequestTrace::new_root`]).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, RequestTrace};
    ///
    /// let trace = RequestTrace::new_root();
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).trace(trace).build();
    /// assert_eq!(ctx.trace(), trace);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace(mut self, trace: RequestTrace) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Which user fields may reach Sentry (default: the bound client's
    /// `send_default_pii`, or [`PiiPolicy::Off`] without a client).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_policy::PiiPolicy;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).pii(PiiPolicy::On).build();
    /// assert_eq!(ctx.pii(), PiiPolicy::On);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pii(mut self, pii: PiiPolicy) -> Self {
        self.pii = Some(pii);
        self
    }

    /// Derive the request's Hub from `hub` instead of the default: the thread's
    /// current Hub, or, when called inside another request, the Hub that
    /// request was derived from (never the other request's own Hub).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    /// use sentry_core::Hub;
    ///
    /// // A Hub without a client: the request gets no Hub of its own.
    /// let process = Arc::new(Hub::new(None, Default::default()));
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).parent_hub(process).build();
    /// assert!(ctx.hub().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parent_hub(mut self, hub: Arc<Hub>) -> Self {
        self.parent = Some(hub);
        self
    }

    /// The request method (`GET`, `POST`, ...; default: empty). The standard
    /// methods are stored without allocating.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::generate()).method("POST").build();
    /// assert_eq!(ctx.method(), "POST");
    /// ```
    pub fn method(mut self, method: &str) -> Self {
        self.method = intern_method(method);
        self
    }

    /// The `tracestate` received from the caller, passed on with `traceparent`.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::generate())
    ///     .tracestate("congo=t61rcWkgMzE".to_owned())
    ///     .build();
    /// assert_eq!(ctx.tracestate(), Some("congo=t61rcWkgMzE"));
    /// ```
    pub fn tracestate(mut self, tracestate: String) -> Self {
        self.tracestate = Some(tracestate);
        self
    }

    /// The Dynamic Sampling Context the caller sent, frozen from the start:
    /// [`RequestContext::frozen_dsc_or_init`] will never replace it.
    ///
    /// ```
    /// use lookout_headers::{DynamicSamplingContext, RequestId};
    /// use lookout_scope::RequestContext;
    ///
    /// let mut dsc = DynamicSamplingContext::new();
    /// dsc.sample_rate = Some(0.5);
    /// let ctx = RequestContext::builder(RequestId::generate()).frozen_dsc(dsc).build();
    /// assert_eq!(ctx.frozen_dsc().and_then(|d| d.sample_rate), Some(0.5));
    /// ```
    pub fn frozen_dsc(mut self, dsc: DynamicSamplingContext) -> Self {
        self.frozen_dsc = Some(dsc);
        self
    }

    /// Who created the request (lookout-core passes its engine), readable
    /// with [`RequestContext::owner`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// struct Engine;
    /// let ctx = RequestContext::builder(RequestId::generate()).owner(Arc::new(Engine)).build();
    /// assert!(ctx.owner::<Engine>().is_some());
    /// assert!(ctx.owner::<String>().is_none());
    /// ```
    pub fn owner(mut self, owner: Arc<dyn Any + Send + Sync>) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Creates the context. When the parent Hub has an enabled client, a Hub
    /// is derived for this request. Nothing is written to its scope: the
    /// request's data (request id, user, tags, trace) is applied to each
    /// event when it is captured, by [`apply_to_event`](crate::apply_to_event)
    /// (install it as the client's `before_send`; lookout-core does), so a
    /// request that captures nothing pays for none of it.
    #[must_use]
    pub fn build(self) -> RequestContext {
        let trace = self.trace.unwrap_or_else(RequestTrace::new_root);
        let parent = self.parent.unwrap_or_else(default_parent);
        let client = parent.client().filter(|client| client.is_enabled());
        let (pii, hub, parent) = match client {
            None => (self.pii.unwrap_or_default(), None, None),
            Some(client) => {
                let pii = self.pii.unwrap_or_else(|| {
                    PiiPolicy::from_send_default_pii(client.options().send_default_pii)
                });
                let hub = Arc::new(Hub::new_from_top(&parent));
                (pii, Some(hub), Some(parent))
            }
        };
        RequestContext {
            inner: Arc::new(Inner {
                request_id: self.request_id,
                trace,
                method: self.method,
                tracestate: self.tracestate,
                frozen_dsc: self
                    .frozen_dsc
                    .map(Arc::new)
                    .map_or_else(OnceLock::new, OnceLock::from),
                owner: self.owner,
                pii,
                hub,
                parent,
                state: Mutex::new(State {
                    user: None,
                    route: None,
                    response: None,
                }),
                extensions: Mutex::new(Vec::new()),
            }),
        }
    }
}

/// The standard methods as `'static` strings, so the common case allocates nothing.
fn intern_method(method: &str) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    match STANDARD.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method.to_owned()),
    }
}

fn default_parent() -> Arc<Hub> {
    current()
        .and_then(|ctx| ctx.inner.parent.clone())
        .unwrap_or_else(Hub::current)
}

impl RequestContext {
    /// Starts building the context of the request with this id.
    ///
    /// The id is moved into the context's one allocation (lookout-core
    /// validates or generates it from `x-request-id`).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, RequestTrace};
    ///
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?)
    ///     .trace(RequestTrace::new_root())
    ///     .build();
    /// assert_eq!(ctx.request_id(), "req-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(request_id: RequestId) -> RequestContextBuilder {
        RequestContextBuilder {
            request_id,
            trace: None,
            method: Cow::Borrowed(""),
            tracestate: None,
            frozen_dsc: None,
            owner: None,
            pii: None,
            parent: None,
        }
    }

    /// The context of the request with this id, with a new root trace and the
    /// defaults of [`RequestContextBuilder`].
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// assert_eq!(ctx.request_id(), "req-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(request_id: RequestId) -> Self {
        Self::builder(request_id).build()
    }

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

    /// The route template (`/users/{id}`), once known.
    #[must_use]
    pub fn route(&self) -> Option<Arc<str>> {
        self.state().route.clone()
    }

    /// Records the route template, once the router has matched it. Stored
    /// only; lookout-core decides what to name or tag with it.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// assert_eq!(ctx.route(), None);
    /// ctx.set_route("/users/{id}");
    /// assert_eq!(ctx.route().as_deref(), Some("/users/{id}"));
    /// ```
    pub fn set_route(&self, route: &str) {
        self.state().route = Some(Arc::from(route));
    }

    /// The caller's `tracestate`, if one came with the request.
    #[must_use]
    pub fn tracestate(&self) -> Option<&str> {
        self.inner.tracestate.as_deref()
    }

    /// The frozen Dynamic Sampling Context, if it has been frozen yet.
    #[must_use]
    pub fn frozen_dsc(&self) -> Option<Arc<DynamicSamplingContext>> {
        self.inner.frozen_dsc.get().cloned()
    }

    /// The frozen Dynamic Sampling Context, freezing the one `init` makes if
    /// none is frozen yet (a head-of-trace DSC the first time it leaves the
    /// process). Once frozen it never changes; concurrent callers all get the
    /// same value.
    ///
    /// ```
    /// use lookout_headers::{DynamicSamplingContext, RequestId};
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// let first = ctx.frozen_dsc_or_init(|| {
    ///     let mut dsc = DynamicSamplingContext::new();
    ///     dsc.release = Some("1.0".into());
    ///     dsc
    /// });
    /// let again = ctx.frozen_dsc_or_init(DynamicSamplingContext::new);
    /// assert_eq!(again.release.as_deref(), Some("1.0"));
    /// # let _ = first;
    /// ```
    pub fn frozen_dsc_or_init(
        &self,
        init: impl FnOnce() -> DynamicSamplingContext,
    ) -> Arc<DynamicSamplingContext> {
        Arc::clone(self.inner.frozen_dsc.get_or_init(|| Arc::new(init())))
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

    /// Sets the user of this request, and only of this request.
    ///
    /// The context keeps the user as given (see [`RequestContext::user`]); the
    /// request's scope gets it filtered by the [`PiiPolicy`], plus the tags
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

    /// Records how the request was answered (lookout-core does this when the
    /// handler finished), for events captured afterwards.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, ResponseSummary};
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// ctx.set_response(ResponseSummary { status: 200, latency: Duration::from_millis(3) });
    /// assert_eq!(ctx.response().map(|r| r.status), Some(200));
    /// ```
    pub fn set_response(&self, summary: ResponseSummary) {
        self.state().response = Some(summary);
    }

    /// How the request was answered, once it was.
    #[must_use]
    pub fn response(&self) -> Option<ResponseSummary> {
        self.state().response
    }

    /// Writes this request's data into `event`: the tags `request_id`,
    /// `authenticated` (and `user_role`), the identified user (filtered by the
    /// [`PiiPolicy`]), and the request's `trace` context when the event has
    /// none of this trace (a span of a sampled transaction keeps its own).
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
        let user = self.state().user.clone();
        let tags = &mut event.tags;
        tags.entry(TAG_REQUEST_ID.to_owned())
            .or_insert_with(|| self.request_id().to_owned());
        tags.insert(TAG_AUTHENTICATED.to_owned(), user.is_some().to_string());
        match user.as_ref().and_then(|u| u.role.clone()) {
            Some(role) => {
                tags.insert(TAG_USER_ROLE.to_owned(), role);
            }
            None => {
                tags.remove(TAG_USER_ROLE);
            }
        }
        if let Some(user) = &user {
            event.user = Some(user.to_sentry_user(self.inner.pii));
        }
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

    /// The identified user as given to [`RequestContext::identify`] (all
    /// fields, whatever the PII policy), or `None` while anonymous. Kept even
    /// when no client is bound.
    #[must_use]
    pub fn user(&self) -> Option<User> {
        self.state().user.clone()
    }

    /// Whether a user is identified.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.state().user.is_some()
    }

    /// Sets a tag on this request's events (nothing without a client).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// RequestContext::new(RequestId::parse("req-1")?).set_tag("http.route", "/users/{id}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_tag(&self, key: &str, value: impl ToString) {
        if let Some(hub) = &self.inner.hub {
            let _state = self.state();
            hub.configure_scope(|scope| scope.set_tag(key, value));
        }
    }

    /// Records a breadcrumb on this request only. At most the client's
    /// `max_breadcrumbs` are kept (the oldest go first); nothing is kept
    /// without a client.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    /// use sentry_core::Breadcrumb;
    ///
    /// RequestContext::new(RequestId::parse("req-1")?).add_breadcrumb(Breadcrumb {
    ///     message: Some("cache miss".into()),
    ///     ..Default::default()
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_breadcrumb<B: IntoBreadcrumbs>(&self, breadcrumb: B) {
        if let Some(hub) = &self.inner.hub {
            hub.add_breadcrumb(breadcrumb);
        }
    }

    /// Runs `f` with this request current: [`current`](crate::current()) returns
    /// it and sentry's `Hub::current()` is the request's Hub. The previous
    /// state is restored afterwards, also if `f` panics.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// let id = ctx.enter(|| lookout_scope::current().map(|c| c.request_id().to_string()));
    /// assert_eq!(id.as_deref(), Some("req-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = Entered::new(self);
        f()
    }

    /// Binds this request to `inner` (a future, or a response body an adapter
    /// polls through [`Bound::in_context`]).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// let fut = ctx.bind(async { lookout_scope::current().is_some() });
    /// # let _ = fut;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind<T>(&self, inner: T) -> Bound<T> {
        Bound::new(self.clone(), inner)
    }

    /// Spawns `future` on the current tokio runtime, bound to this request.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime, like `tokio::spawn`.
    #[cfg(feature = "tokio")]
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(self.bind(future))
    }

    /// Stores a value of type `T` with this request, replacing a previous `T`.
    ///
    /// This is the slot lookout-core keeps request-scoped data of its own in,
    /// such as the frozen Dynamic Sampling Context. Costs nothing until used.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// struct FrozenDsc(&'static str);
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// ctx.insert_extension(FrozenDsc("sentry-trace_id=..."));
    /// assert_eq!(ctx.extension::<FrozenDsc>().unwrap().0, "sentry-trace_id=...");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_extension<T: Any + Send + Sync>(&self, value: T) -> Option<Arc<T>> {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
        let mut extensions = self.extensions();
        let previous = match extensions.iter_mut().find(|e| (**e).is::<T>()) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                extensions.push(value);
                None
            }
        };
        previous.and_then(|p| p.downcast::<T>().ok())
    }

    /// The stored value of type `T`, if any.
    #[must_use]
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.extensions()
            .iter()
            .find_map(|e| Arc::clone(e).downcast::<T>().ok())
    }

    /// The stored `T`, or the value `init` makes, stored first. Use this for
    /// values that are set once and must not change afterwards (a DSC frozen
    /// the first time it leaves the process): concurrent callers all get the
    /// same value. `init` runs under this context's extension lock, so it
    /// must not read or write extensions of the same context.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// let first = ctx.extension_or_insert_with(|| 1_u32);
    /// let second = ctx.extension_or_insert_with(|| 2_u32);
    /// assert_eq!((*first, *second), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extension_or_insert_with<T: Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> T,
    ) -> Arc<T> {
        let mut extensions = self.extensions();
        if let Some(found) = extensions
            .iter()
            .find_map(|e| Arc::clone(e).downcast::<T>().ok())
        {
            return found;
        }
        let value = Arc::new(init());
        extensions.push(value.clone());
        value
    }

    /// Whether `self` and `other` are clones of the same request context.
    #[must_use]
    pub fn same_request(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn extensions(&self) -> MutexGuard<'_, Vec<Arc<dyn Any + Send + Sync>>> {
        self.inner
            .extensions
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
    fn extensions_are_typed_and_replaceable() {
        let ctx = ctx();
        assert!(ctx.extension::<u32>().is_none());
        assert!(ctx.insert_extension(1_u32).is_none());
        assert!(ctx.insert_extension("dsc").is_none());
        let previous = ctx.insert_extension(2_u32);
        assert_eq!(previous.as_deref(), Some(&1));
        assert_eq!(ctx.extension::<u32>().as_deref(), Some(&2));
        assert_eq!(ctx.extension::<&str>().as_deref(), Some(&"dsc"));
        // Set-once values do not change once stored.
        assert_eq!(*ctx.extension_or_insert_with(|| 3_u32), 2);
    }

    #[test]
    fn standard_methods_are_interned_and_others_kept() {
        assert!(matches!(intern_method("PATCH"), Cow::Borrowed("PATCH")));
        assert!(matches!(intern_method("PROPFIND"), Cow::Owned(m) if m == "PROPFIND"));
        assert!(matches!(intern_method("get"), Cow::Owned(m) if m == "get"));
    }

    #[test]
    fn an_incoming_dsc_stays_frozen() {
        let mut incoming = DynamicSamplingContext::new();
        incoming.release = Some("caller".into());
        let ctx = RequestContext::builder(RequestId::generate())
            .frozen_dsc(incoming)
            .build();
        let mut ours = DynamicSamplingContext::new();
        ours.release = Some("ours".into());
        let frozen = ctx.frozen_dsc_or_init(|| ours);
        assert_eq!(frozen.release.as_deref(), Some("caller"));
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
