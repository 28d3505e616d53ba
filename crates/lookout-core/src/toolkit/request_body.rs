//! [`RequestBody`]: a request body that records what the handler reads of
//! it, for the request's events: an `http-body` 1 body (axum and warp), or a
//! stream of `Bytes` chunks (actix-web's payload).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};

use crate::Engine;
use crate::request_body::{BodyRecorder, BodyRecording};

pin_project_lite::pin_project! {
    /// A request body that hands each chunk the handler reads to a
    /// [`BodyRecorder`] (a `Bytes` clone, never a copy), and is otherwise
    /// the body itself: same frames, same size hint, same end. It reads
    /// nothing ahead; a body the handler never reads records nothing.
    ///
    /// It is an `http-body` 1 [`Body`] over a `Body` (axum, warp) and a
    /// [`Stream`] over a stream of `Result<Bytes, E>` chunks (actix-web's
    /// payload: lookout-actix's `RequestPayload` is a
    /// `RequestBody<actix_web::dev::Payload>`).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use lookout_core::Engine;
    /// use lookout_core::toolkit::RequestBody;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let engine = Engine::builder().build();
    /// let request = http::Request::post("/orders")
    ///     .header("content-type", "application/json")
    ///     .header("content-length", "2")
    ///     .body(Full::new(Bytes::from_static(b"{}")))
    ///     .unwrap();
    /// let request = RequestBody::wrap_request(&engine, request);
    /// assert!(request.body().is_recording());
    /// let body = request.into_body().collect().await.unwrap().to_bytes();
    /// assert_eq!(body, "{}");
    /// # });
    /// ```
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        recorder: Option<BodyRecorder>,
    }
}

impl<B> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("recording", &self.is_recording())
            .finish_non_exhaustive()
    }
}

impl<B> RequestBody<B> {
    /// `body`, recorded as `plan` says (`None`: not recorded).
    pub fn new(body: B, plan: Option<BodyRecording>) -> Self {
        Self {
            inner: body,
            recorder: plan.map(BodyRecorder::new),
        }
    }

    /// `request` with its body wrapped, recorded as `engine` says for this
    /// request ([`BodyRecording::for_http`]).
    pub fn wrap_request(engine: &Engine, request: http::Request<B>) -> http::Request<Self> {
        let plan = BodyRecording::for_http(engine, &request);
        request.map(|body| Self::new(body, plan))
    }

    /// Whether this body is recorded.
    pub fn is_recording(&self) -> bool {
        self.recorder.is_some()
    }

    /// The wrapped body.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B> Body for RequestBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Some(recorder) = this.recorder {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        recorder.chunk(data);
                    }
                }
                Poll::Ready(None) => recorder.end(),
                _ => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A stream of chunks (actix-web's payload), recorded as it is read.
///
/// ```
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
/// use bytes::Bytes;
/// use futures_core::Stream;
/// use lookout_core::request_body::BodyRecording;
/// use lookout_core::toolkit::RequestBody;
///
/// /// A stream of one chunk.
/// struct Once(Option<Bytes>);
/// impl Stream for Once {
///     type Item = Result<Bytes, std::io::Error>;
///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
///         Poll::Ready(self.0.take().map(Ok))
///     }
/// }
///
/// let engine = lookout_core::Engine::builder().build();
/// let plan = BodyRecording::new(&engine, Some("text/plain"), Some(2), false);
/// let mut body = RequestBody::new(Once(Some(Bytes::from_static(b"hi"))), plan);
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// let chunk = Pin::new(&mut body).poll_next(&mut cx);
/// assert!(matches!(chunk, Poll::Ready(Some(Ok(bytes))) if bytes == "hi"));
/// assert!(matches!(Pin::new(&mut body).poll_next(&mut cx), Poll::Ready(None)));
/// ```
impl<S, E> Stream for RequestBody<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let polled = this.inner.poll_next(cx);
        if let Some(recorder) = this.recorder {
            match &polled {
                Poll::Ready(Some(Ok(chunk))) => recorder.chunk(chunk),
                Poll::Ready(None) => recorder.end(),
                _ => {}
            }
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
