//! [`HttpResponder`]: [`Respond`] for `http::Response` results, the shape
//! tower, hyper and warp services answer with.

use std::marker::PhantomData;

use http::{Response, StatusCode};

use super::{ReportedError, Respond, ResponseBody, apply_headers, finish_panicked};
use crate::{InFlight, ResponseHead};

/// Finishes a request from a `Result<http::Response<B>, E>`: the status and
/// the [`ReportedError`] left in the response's extensions (removed before
/// the response is sent) go to `finish`, lookout's headers are added, and
/// the body becomes a [`ResponseBody`] that ends the transaction.
///
/// An `Err` means no response is sent at all: the request ends as cancelled
/// and the error is passed on.
pub struct HttpResponder<B>(PhantomData<fn() -> B>);

impl<B> HttpResponder<B> {
    /// The responder.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<B> Default for HttpResponder<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B> Clone for HttpResponder<B> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<B> std::fmt::Debug for HttpResponder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpResponder")
    }
}

impl<B: http_body::Body, E> Respond<Result<Response<B>, E>> for HttpResponder<B> {
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn respond(self, output: Result<Response<B>, E>, in_flight: InFlight) -> Self::Output {
        let response = output?;
        let (mut parts, body) = response.into_parts();
        let reported = parts.extensions.remove::<ReportedError>();
        let mut head = ResponseHead::new(parts.status);
        if let Some(reported) = &reported {
            head = head.with_typed_error(reported.error());
        }
        let finished = in_flight.finish(&head);
        apply_headers(&mut parts.headers, &finished.headers);
        Ok(Response::from_parts(
            parts,
            ResponseBody::new(body, finished.body),
        ))
    }

    fn panicked(self, in_flight: InFlight, message: &str) -> Self::Output {
        let headers = finish_panicked(in_flight, message);
        let mut response = Response::new(ResponseBody::empty());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        apply_headers(response.headers_mut(), &headers);
        Ok(response)
    }

    fn passthrough(self, output: Result<Response<B>, E>) -> Self::Output {
        output.map(|response| response.map(ResponseBody::plain))
    }
}
