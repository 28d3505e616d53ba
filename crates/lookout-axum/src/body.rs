//! [`ResponseBody`]: keeps the request's context bound while the body is
//! polled and ends the request's transaction when the body ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use lookout_core::BodyEnd;
use lookout_scope::Bound;

pin_project_lite::pin_project! {
    /// The response body of [`Lookout`](crate::Lookout).
    ///
    /// Each poll runs with the request's context current (events captured
    /// while a body streams belong to the request). The transaction ends at
    /// the end of the stream; a body dropped earlier (client gone) ends it
    /// as `cancelled`, and so does a body error.
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
        end: Option<BodyEnd>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Bound {
            #[pin]
            body: Bound<B>,
        },
        Plain {
            #[pin]
            body: B,
        },
        Empty,
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Bound { .. } => "bound",
            Kind::Plain { .. } => "plain",
            Kind::Empty => "empty",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("pending_end", &self.end.is_some())
            .finish()
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn bound(body: B, end: BodyEnd) -> Self {
        Self {
            kind: Kind::Bound {
                body: end.context().bind(body),
            },
            end: Some(end),
        }
    }

    pub(crate) fn plain(body: B) -> Self {
        Self {
            kind: Kind::Plain { body },
            end: None,
        }
    }

    pub(crate) fn empty() -> Self {
        Self {
            kind: Kind::Empty,
            end: None,
        }
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        match this.kind.project() {
            KindProj::Empty => Poll::Ready(None),
            KindProj::Plain { body } => body.poll_frame(cx),
            KindProj::Bound { body } => {
                let (polled, ended) = body.in_context(|mut body| {
                    let polled = body.as_mut().poll_frame(cx);
                    let ended = match &polled {
                        Poll::Ready(None) => true,
                        // hyper stops polling once the body says it ended.
                        Poll::Ready(Some(Ok(_))) => body.is_end_stream(),
                        _ => false,
                    };
                    (polled, ended)
                });
                if ended {
                    if let Some(end) = this.end.take() {
                        end.complete();
                    }
                } else if let Poll::Ready(Some(Err(_))) = &polled {
                    // The body failed: dropping the end marks it cancelled.
                    this.end.take();
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Bound { body } => body.get_ref().is_end_stream(),
            Kind::Plain { body } => body.is_end_stream(),
            Kind::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Bound { body } => body.get_ref().size_hint(),
            Kind::Plain { body } => body.size_hint(),
            Kind::Empty => SizeHint::with_exact(0),
        }
    }
}
