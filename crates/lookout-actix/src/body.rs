//! [`ResponseBody`]: an actix-web response body that streams inside its
//! request and ends the transaction with it.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use lookout_core::BodyEnd;
use lookout_core::toolkit::TrackedBody;

pin_project_lite::pin_project! {
    /// The response body of a request lookout handles: each poll runs with
    /// the request's context current (events captured while the body
    /// streams belong to the request), and the transaction ends when the
    /// body ends, or as `cancelled` when actix drops it early (client gone).
    /// The tracking itself is lookout-core's [`TrackedBody`]; this type
    /// makes it a `MessageBody`.
    pub struct ResponseBody<B> {
        #[pin]
        inner: TrackedBody<B>,
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ResponseBody").field(&self.inner).finish()
    }
}

/// actix never polls a body of this size: it has ended already.
fn at_end(size: BodySize) -> bool {
    matches!(size, BodySize::None | BodySize::Sized(0))
}

impl<B: MessageBody> ResponseBody<B> {
    /// `body`, ending the transaction with it. A body actix will not poll
    /// (empty, or none at all) ends the transaction now.
    pub(crate) fn new(body: B, end: BodyEnd) -> Self {
        let ended = at_end(body.size());
        let inner = TrackedBody::new(body, end, ended);
        Self { inner }
    }

    /// `body` of a request lookout does not track here (an outer lookout
    /// middleware does): polled as it is.
    pub(crate) fn plain(body: B) -> Self {
        let inner = TrackedBody::plain(body);
        Self { inner }
    }
}

impl<B: MessageBody> MessageBody for ResponseBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.get_ref().size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let inner = self.project().inner;
        inner.poll(|body| body.poll_next(cx), |body| at_end(body.size()))
    }

    /// A body whose bytes are all at hand is handed over whole (actix's
    /// `BoxBody` asks for that): it has been produced in full, the
    /// transaction ends.
    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let taken = self.inner.try_take(B::try_into_bytes);
        taken.map_err(|inner| Self { inner })
    }
}
