//! [`ResponseBody`]: an actix-web response body that streams inside its
//! request and ends the transaction with it.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use lookout_core::BodyEnd;
use lookout_core::toolkit::BodyProgress;

pin_project_lite::pin_project! {
    /// The response body of a request lookout handles: each poll runs with
    /// the request's context current (events captured while the body
    /// streams belong to the request), and the transaction ends when the
    /// body ends, or as `cancelled` when actix drops it early (client gone).
    /// The tracking itself is lookout-core's
    /// [`BodyProgress`].
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        progress: Option<BodyProgress>,
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("pending_end", &self.progress.is_some())
            .finish_non_exhaustive()
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
        let progress = BodyProgress::unless_ended(end, at_end(body.size()));
        Self {
            inner: body,
            progress,
        }
    }
}

impl<B> ResponseBody<B> {
    /// `body` of a request lookout does not track here (an outer lookout
    /// middleware does): polled as it is.
    pub(crate) fn plain(body: B) -> Self {
        Self {
            inner: body,
            progress: None,
        }
    }
}

impl<B: MessageBody> MessageBody for ResponseBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let progress = this.progress.as_mut();
        BodyProgress::poll(
            progress,
            this.inner,
            |b| b.poll_next(cx),
            |b| at_end(b.size()),
        )
    }

    /// A body whose bytes are all at hand is handed over whole (actix's
    /// `BoxBody` asks for that): it has been produced in full, the
    /// transaction ends.
    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let Self {
            inner,
            mut progress,
        } = self;
        match inner.try_into_bytes() {
            Ok(bytes) => {
                progress.iter_mut().for_each(BodyProgress::complete);
                Ok(bytes)
            }
            Err(inner) => Err(Self { inner, progress }),
        }
    }
}
