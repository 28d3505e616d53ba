//! Making the request current: around a closure, a future or a body, or in
//! a spawned task.

use crate::bound::Bound;
use crate::current::Entered;

use super::request_context::RequestContext;

impl RequestContext {
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
}
