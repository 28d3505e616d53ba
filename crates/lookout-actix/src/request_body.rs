//! [`RequestPayload`]: actix-web's request payload, recording what the
//! handler reads of it for the request's events.

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::Version;
use lookout_core::Engine;
use lookout_core::request_body::BodyRecording;
use lookout_core::toolkit::RequestBody;

use crate::headers::ActixHeaders;

/// A request's payload that hands each chunk the handler reads to
/// lookout-core's [`BodyRecorder`](lookout_core::request_body::BodyRecorder)
/// (a `Bytes` clone, never a copy) and is otherwise the payload itself:
/// lookout-core's [`RequestBody`] over actix's payload stream. Nothing is
/// read ahead; a payload the handler never reads records nothing
/// (`LOOKOUT_MAX_REQUEST_BODY_SIZE`).
pub type RequestPayload = RequestBody<Payload>;

/// Replaces `req`'s payload with a recording one, when `engine` records
/// bodies and the request has one (no allocation otherwise).
pub(crate) fn record_payload(engine: &Engine, req: &mut ServiceRequest) {
    let http2_or_later = req.version() >= Version::HTTP_2;
    let plan = BodyRecording::for_headers(engine, &ActixHeaders(req.headers()), http2_or_later);
    if plan.is_some() {
        let payload = RequestPayload::new(req.take_payload(), plan);
        req.set_payload(Payload::Stream {
            payload: Box::pin(payload),
        });
    }
}
