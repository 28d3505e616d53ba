//! [`RequestPayload`]: actix-web's request payload, recording what the
//! handler reads of it for the request's events.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::{Version, header};
use actix_web::web::Bytes;
use futures_util::Stream;
use lookout_core::Engine;
use lookout_core::request_body::{BodyRecorder, BodyRecording};

pin_project_lite::pin_project! {
    /// A request's payload that hands each chunk the handler reads to
    /// lookout-core's [`BodyRecorder`] (a `Bytes` clone, never a copy) and
    /// is otherwise the payload itself. Nothing is read ahead; a payload the
    /// handler never reads records nothing
    /// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`).
    pub struct RequestPayload {
        #[pin]
        inner: Payload,
        recorder: BodyRecorder,
    }
}

impl std::fmt::Debug for RequestPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestPayload").finish_non_exhaustive()
    }
}

impl RequestPayload {
    /// Replaces `req`'s payload with a recording one, when `engine` records
    /// bodies and the request has one (no allocation otherwise).
    pub(crate) fn wrap(engine: &Engine, req: &mut ServiceRequest) {
        let headers = req.headers();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let content_length = text(header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let may_have_body =
            headers.contains_key(header::TRANSFER_ENCODING) || req.version() >= Version::HTTP_2;
        let Some(plan) = BodyRecording::new(
            engine,
            text(header::CONTENT_TYPE),
            content_length,
            may_have_body,
        ) else {
            return;
        };
        let payload = Self {
            inner: req.take_payload(),
            recorder: BodyRecorder::new(plan),
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(payload),
        });
    }
}

impl Stream for RequestPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let polled = this.inner.poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => this.recorder.chunk(chunk),
            Poll::Ready(None) => this.recorder.end(),
            _ => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
