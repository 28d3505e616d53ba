//! Keeping a request current while its future (or response body) is polled.
//!
//! [`Bound`] enters the request around every poll and leaves it before
//! returning, so the request follows its future across threads and never
//! lingers on a thread after the poll. It is runtime and framework agnostic;
//! the tokio spawning helpers live in the `spawn` module.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context::RequestContext;
use crate::current::Entered;

pin_project_lite::pin_project! {
    /// A value (usually a future or a response body) bound to a request: each
    /// time it is polled, the request is current (see
    /// [`current`](crate::current())) and its Hub is sentry's current Hub.
    ///
    /// As a future it polls the inner future inside the request. For other
    /// pollable types (an `http_body::Body`, a `Stream`), an adapter wraps
    /// `Bound<B>` in its own type and forwards each poll through
    /// [`Bound::in_context`].
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{InRequestExt, RequestContext, User};
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// async {
    ///     tokio::task::yield_now().await;
    ///     lookout_scope::identify(User::id("42")).unwrap();
    /// }
    /// .in_request(ctx.clone())
    /// .await;
    /// assert!(ctx.is_authenticated());
    /// # });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct Bound<T> {
        ctx: RequestContext,
        #[pin]
        inner: T,
    }
}

impl<T> Bound<T> {
    /// Binds `inner` to the request `ctx`.
    #[must_use]
    pub fn new(ctx: RequestContext, inner: T) -> Self {
        Self { ctx, inner }
    }

    /// The request this value is bound to.
    #[must_use]
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// The wrapped value.
    #[must_use]
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably (not inside the request).
    #[must_use]
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The pinned wrapped value (not inside the request).
    #[must_use]
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the value.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Runs `f` on the pinned inner value with the request current; this is
    /// how an adapter polls a bound body or stream.
    ///
    /// ```
    /// use std::pin::pin;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{Bound, RequestContext};
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// let mut bound = pin!(Bound::new(ctx, 5_u8));
    /// let seen = bound.as_mut().in_context(|n| {
    ///     (*n, lookout_scope::current().map(|c| c.request_id().to_string()))
    /// });
    /// assert_eq!(seen, (5, Some("req-1".to_owned())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_context<R>(self: Pin<&mut Self>, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
        let this = self.project();
        let _entered = Entered::new(this.ctx);
        f(this.inner)
    }
}

impl<F: Future> Future for Bound<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.in_context(|inner| inner.poll(cx))
    }
}

impl<T: fmt::Debug> fmt::Debug for Bound<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("ctx", &self.ctx)
            .field("inner", &self.inner)
            .finish()
    }
}

/// Binds futures to a request: `future.in_request(ctx)`.
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{InRequestExt, RequestContext};
///
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let id = async { lookout_scope::current().map(|c| c.request_id().to_string()) }
///     .in_request(ctx)
///     .await;
/// assert_eq!(id.as_deref(), Some("req-1"));
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait InRequestExt: Future + Sized {
    /// Polls this future with `ctx` current.
    fn in_request(self, ctx: RequestContext) -> Bound<Self> {
        Bound::new(ctx, self)
    }
}

impl<F: Future> InRequestExt for F {}
