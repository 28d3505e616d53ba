//! Response bodies that end the request's transaction with the body:
//! [`ResponseBody`] for `http-body` 1, [`BodyProgress`] for any other
//! chunk stream, and [`TrackedBody`], another framework's body with its
//! progress (what actix-web's `MessageBody` wraps).

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use lookout_scope::{Bound, RequestContext};

use crate::BodyEnd;

/// Tracks a streaming response body for its request: the transaction ends
/// when the stream ends (a `None`, or a chunk after which the body reports
/// its end), and as `cancelled` on a body error or when the body is dropped
/// before its end (client gone).
///
/// Framework-neutral: an adapter whose body trait is not `http-body` polls
/// its inner body inside [`context`](Self::context) and reports each poll to
/// [`observe`](Self::observe).
///
/// ```
/// use std::task::Poll;
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, RequestHead, ResponseHead, toolkit::BodyProgress};
///
/// let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
/// let mut progress = BodyProgress::new(finished.body);
/// progress.observe::<&str, ()>(&Poll::Ready(Some(Ok("chunk"))), || false);
/// assert!(!progress.is_done());
/// progress.observe::<&str, ()>(&Poll::Ready(None), || true);
/// assert!(progress.is_done());
/// ```
#[derive(Debug)]
pub struct BodyProgress {
    end: Option<BodyEnd>,
}

impl BodyProgress {
    /// Tracks the body whose end is `end`.
    pub fn new(end: BodyEnd) -> Self {
        Self { end: Some(end) }
    }

    /// Tracks the body whose end is `end`, unless the body has `ended`
    /// already (a body the server never polls: empty, or none at all),
    /// which ends the transaction now.
    pub fn unless_ended(end: BodyEnd, ended: bool) -> Option<Self> {
        if ended {
            end.complete();
            return None;
        }
        Some(Self::new(end))
    }

    /// The request's context, to poll the inner body in; `None` once done.
    pub fn context(&self) -> Option<&RequestContext> {
        self.end.as_ref().map(BodyEnd::context)
    }

    /// Whether the body has ended (or failed) and the transaction with it.
    pub fn is_done(&self) -> bool {
        self.end.is_none()
    }

    /// Reports one poll of the inner body. `at_end` says whether the body
    /// has no more data after a chunk (servers stop polling a body that
    /// says so, so that is its end too).
    pub fn observe<T, E>(
        &mut self,
        polled: &Poll<Option<Result<T, E>>>,
        at_end: impl FnOnce() -> bool,
    ) {
        match polled {
            Poll::Ready(None) => self.complete(),
            Poll::Ready(Some(Ok(_))) if at_end() => self.complete(),
            // The body failed: dropping the end marks it cancelled.
            Poll::Ready(Some(Err(_))) => drop(self.end.take()),
            _ => {}
        }
    }

    /// The body has been sent in full: the transaction ends now.
    pub fn complete(&mut self) {
        if let Some(end) = self.end.take() {
            end.complete();
        }
    }

    /// One poll of `body` by `poll`, tracked by `progress` when there is
    /// one: run in the request's context and [observed](Self::observe),
    /// `at_end` telling whether the body has ended after a chunk. An
    /// adapter's body type polls its inner body through it.
    pub fn poll<B: ?Sized, T, E>(
        progress: Option<&mut Self>,
        mut body: Pin<&mut B>,
        poll: impl FnOnce(Pin<&mut B>) -> Poll<Option<Result<T, E>>>,
        at_end: impl FnOnce(&B) -> bool,
    ) -> Poll<Option<Result<T, E>>> {
        let Some(progress) = progress else {
            return poll(body);
        };
        let polled = match progress.context() {
            Some(ctx) => ctx.enter(|| poll(body.as_mut())),
            None => poll(body.as_mut()),
        };
        progress.observe(&polled, || at_end(&body));
        polled
    }
}

pin_project_lite::pin_project! {
    /// A response body of another framework's body type, with its
    /// [`BodyProgress`]: each poll runs in the request's context and the
    /// transaction ends with the body. An adapter whose framework has its
    /// own body trait (actix-web's `MessageBody`) wraps one in its body type
    /// and implements the trait through [`poll`](Self::poll) and
    /// [`try_take`](Self::try_take).
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::task::Poll;
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::{Engine, RequestHead, ResponseHead, toolkit::TrackedBody};
    ///
    /// let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
    /// let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    /// // A body of two chunks, as a framework's body trait would poll it.
    /// let mut body = pin!(TrackedBody::new(vec!["a", "b"], finished.body, false));
    /// let poll_chunk = |chunks: std::pin::Pin<&mut Vec<&'static str>>| {
    ///     Poll::Ready(chunks.get_mut().pop().map(Ok::<_, ()>))
    /// };
    /// assert_eq!(body.as_mut().poll(poll_chunk, Vec::is_empty), Poll::Ready(Some(Ok("b"))));
    /// assert!(body.is_tracking());
    /// // The last chunk leaves the body empty: it has ended.
    /// assert_eq!(body.as_mut().poll(poll_chunk, Vec::is_empty), Poll::Ready(Some(Ok("a"))));
    /// assert!(!body.is_tracking());
    /// ```
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        progress: Option<BodyProgress>,
    }
}

impl<B> std::fmt::Debug for TrackedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedBody")
            .field("pending_end", &self.is_tracking())
            .finish_non_exhaustive()
    }
}

impl<B> TrackedBody<B> {
    /// `body`, ending the transaction with it; a body that has `ended`
    /// already (one the server never polls: empty, or none at all) ends
    /// the transaction now ([`BodyProgress::unless_ended`]).
    pub fn new(body: B, end: BodyEnd, ended: bool) -> Self {
        Self {
            progress: BodyProgress::unless_ended(end, ended),
            inner: body,
        }
    }

    /// `body` of a request lookout does not track here (an outer lookout
    /// middleware does): polled as it is.
    pub fn plain(body: B) -> Self {
        Self {
            inner: body,
            progress: None,
        }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Whether the transaction still waits for this body's end.
    pub fn is_tracking(&self) -> bool {
        self.progress.as_ref().is_some_and(|p| !p.is_done())
    }

    /// One poll of the wrapped body by `poll`, in the request's context and
    /// tracked ([`BodyProgress::poll`]); `at_end` says whether the body has
    /// ended after a chunk.
    pub fn poll<T, E>(
        self: Pin<&mut Self>,
        poll: impl FnOnce(Pin<&mut B>) -> Poll<Option<Result<T, E>>>,
        at_end: impl FnOnce(&B) -> bool,
    ) -> Poll<Option<Result<T, E>>> {
        let this = self.project();
        BodyProgress::poll(this.progress.as_mut(), this.inner, poll, at_end)
    }

    /// The whole body at once, when `take` can give it (a framework's
    /// "all bytes at hand" shortcut): the body has been produced in full
    /// and the transaction ends. Otherwise the body, still tracked.
    pub fn try_take<T>(self, take: impl FnOnce(B) -> Result<T, B>) -> Result<T, Self> {
        let Self {
            inner,
            mut progress,
        } = self;
        match take(inner) {
            Ok(taken) => {
                progress.iter_mut().for_each(BodyProgress::complete);
                Ok(taken)
            }
            Err(inner) => Err(Self { inner, progress }),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body (`http-body` 1) that runs each poll with the
    /// request's context current (events captured while a body streams
    /// belong to the request) and ends the transaction with the body
    /// ([`BodyProgress`]).
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
        progress: Option<BodyProgress>,
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
            .field("pending_end", &self.progress.is_some())
            .finish()
    }
}

impl<B: Body> ResponseBody<B> {
    /// `body`, ending the transaction with it. A body already at its end
    /// (servers never poll it) ends the transaction now.
    pub fn new(body: B, end: BodyEnd) -> Self {
        if body.is_end_stream() {
            end.complete();
            return Self::plain(body);
        }
        Self {
            kind: Kind::Bound {
                body: end.context().bind(body),
            },
            progress: Some(BodyProgress::new(end)),
        }
    }
}

impl<B> ResponseBody<B> {
    /// `body` of a request lookout does not track here (an outer
    /// middleware does): polled as it is.
    pub fn plain(body: B) -> Self {
        Self {
            kind: Kind::Plain { body },
            progress: None,
        }
    }

    /// An empty body (the `500` answering a panic).
    pub fn empty() -> Self {
        Self {
            kind: Kind::Empty,
            progress: None,
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
            KindProj::Bound { body } => body.in_context(|mut body| {
                let polled = body.as_mut().poll_frame(cx);
                if let Some(progress) = this.progress {
                    progress.observe(&polled, || body.is_end_stream());
                }
                polled
            }),
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
