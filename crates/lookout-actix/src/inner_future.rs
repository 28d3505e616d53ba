//! [`InnerFuture`]: the inner service's future, polled with the request's
//! pending route template.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use lookout_core::toolkit::PendingRoute;

pin_project_lite::pin_project! {
    /// The inner service's future. While the template of its request is
    /// not learned yet (it is read from the response, after routing), each
    /// poll runs with it pending: an event, log or outgoing call inside the
    /// handler that needs it looks it up then
    /// ([`PendingRoute`]).
    pub struct InnerFuture<F> {
        #[pin]
        inner: F,
        pending: Option<PendingRoute>,
    }
}

impl<F> InnerFuture<F> {
    pub(crate) fn new(inner: F, pending: Option<PendingRoute>) -> Self {
        Self { inner, pending }
    }
}

impl<F> std::fmt::Debug for InnerFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InnerFuture")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for InnerFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        match this.pending {
            Some(pending) => pending.during(|| inner.poll(cx)),
            None => inner.poll(cx),
        }
    }
}
