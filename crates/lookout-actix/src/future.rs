//! [`ResponseFuture`]: the response future of [`Lookout`](crate::Lookout),
//! and [`ActixResponder`], how it finishes a request from actix-web's
//! service results.

use std::marker::PhantomData;

use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::error::InternalError;
use lookout_core::toolkit::{
    Instrumented, PendingRoute, PendingRouteFuture, ReportedError, Respond, finish_after_routing,
    finish_panicked,
};
use lookout_core::{InFlight, ResponseHead, ResponseHeaders};

use crate::ResponseBody;
use crate::headers::{apply_headers, status};
use crate::reported::Carried;

/// The response future of [`Lookout`](crate::Lookout): the inner service's
/// future run inside its request (lookout-core's [`Instrumented`]), with the
/// request's route template available until it is learned
/// ([`PendingRouteFuture`]).
pub type ResponseFuture<F, B> = Instrumented<PendingRouteFuture<F>, ActixResponder<B>>;

/// Finishes a request from what the inner actix service answered: the
/// status, and the handler's error (a [`Reported`](crate::Reported) by its
/// type, any other `actix_web::Error` through its `dyn Error`), go to
/// `finish`; lookout's headers are added; the body becomes a
/// [`ResponseBody`] that ends the transaction.
///
/// An `Err` is passed on unchanged (outer middleware and actix still see
/// the same error) and gets lookout's headers on the response actix builds
/// from it.
///
/// The route template, when not learned yet, is read from the response's
/// request (actix recorded the matched resource there; lookout-core's
/// [`finish_after_routing`]); an `Err` or a panic carries no request, so it
/// is looked up through the [`PendingRoute`].
#[derive(Debug)]
pub struct ActixResponder<B> {
    pending: Option<PendingRoute>,
    body: PhantomData<fn() -> B>,
}

impl<B> ActixResponder<B> {
    pub(crate) fn new(pending: Option<PendingRoute>) -> Self {
        Self {
            pending,
            body: PhantomData,
        }
    }

    /// Learns the template the response cannot give (an `Err`, a panic).
    fn look_up_route(&self) {
        if let Some(pending) = &self.pending {
            pending.resolve();
        }
    }
}

/// The head `finish` sees for a response (or error) with this status and
/// error: the error by its type when lookout carried it, else as `dyn Error`.
fn head<'a>(
    status: http::StatusCode,
    attached: Option<&'a ReportedError>,
    error: Option<&'a actix_web::Error>,
) -> ResponseHead<'a> {
    let carried = error.and_then(|error| error.as_error::<Carried>());
    let typed = attached.or(carried.map(|carried| &carried.reported));
    let error = error.map(|error| error as &(dyn std::error::Error + 'static));
    ResponseHead::new(status).with_errors(typed.map(ReportedError::error), error)
}

/// Adds lookout's headers to the response actix will build from `error`.
fn add_headers(error: &mut actix_web::Error, headers: ResponseHeaders) {
    error.add_response_mapper(move |mut response| {
        apply_headers(response.headers_mut(), &headers);
        response
    });
}

impl<B: actix_web::body::MessageBody> Respond<Result<ServiceResponse<B>, actix_web::Error>>
    for ActixResponder<B>
{
    type Output = Result<ServiceResponse<ResponseBody<B>>, actix_web::Error>;

    fn respond(
        self,
        output: Result<ServiceResponse<B>, actix_web::Error>,
        in_flight: InFlight,
    ) -> Self::Output {
        match output {
            Ok(mut response) => {
                let attached = response
                    .response_mut()
                    .extensions_mut()
                    .remove::<ReportedError>();
                let head = head(
                    status(response.status()),
                    attached.as_ref(),
                    response.response().error(),
                );
                // After routing, actix finds the template by the matched
                // resource's position, without matching the path again.
                let route = || response.request().match_pattern();
                let finished = finish_after_routing(in_flight, head, route);
                apply_headers(response.headers_mut(), &finished.headers);
                Ok(response.map_body(|_, body| ResponseBody::new(body, finished.body)))
            }
            Err(mut error) => {
                self.look_up_route();
                let finished = in_flight.finish(&head(
                    status(error.as_response_error().status_code()),
                    None,
                    Some(&error),
                ));
                // actix builds this response after us: nothing to track.
                finished.body.complete();
                add_headers(&mut error, finished.headers);
                Err(error)
            }
        }
    }

    fn panicked(self, in_flight: InFlight, message: &str) -> Self::Output {
        self.look_up_route();
        // An empty `500` (the panic's message goes to Sentry, never to the
        // client); an error, the request having gone with the handler.
        let response = HttpResponse::InternalServerError().finish();
        let mut error =
            InternalError::from_response("the request handler panicked", response).into();
        add_headers(&mut error, finish_panicked(in_flight, message));
        Err(error)
    }

    fn passthrough(self, output: Result<ServiceResponse<B>, actix_web::Error>) -> Self::Output {
        output.map(|response| response.map_body(|_, body| ResponseBody::plain(body)))
    }
}
