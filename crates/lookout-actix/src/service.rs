//! [`LookoutMiddleware`]: the actix-web middleware service.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use lookout_core::RequestHead;
use lookout_core::toolkit::{self, EngineHandle, Instrumented};

use crate::headers::ActixHeaders;
use crate::responder::ActixResponder;
use crate::{ResponseBody, ResponseFuture};

/// The lookout middleware around the service `S`; made by
/// [`Lookout`](crate::Lookout) (`App::wrap` calls it).
///
/// Each request: [`begin`](lookout_core::Engine::begin) (request id, trace
/// continuation, sampling, route template from actix's `match_pattern()`),
/// the inner service runs with the request's context bound, then
/// [`finish`](lookout_core::InFlight::finish) classifies the response (with
/// the typed error a [`Reported`](crate::Reported) carried, or the panic)
/// and adds `x-request-id`; the transaction ends with the response body.
pub struct LookoutMiddleware<S> {
    service: S,
    engine: EngineHandle,
    catch_panics: bool,
}

impl<S> std::fmt::Debug for LookoutMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookoutMiddleware")
            .field("engine", &self.engine)
            .field("catch_panics", &self.catch_panics)
            .finish_non_exhaustive()
    }
}

impl<S> LookoutMiddleware<S> {
    pub(crate) fn from_parts(service: S, engine: EngineHandle, catch_panics: bool) -> Self {
        Self {
            service,
            engine,
            catch_panics,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.service
    }
}

impl<S, B> Service<ServiceRequest> for LookoutMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ResponseBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let in_flight = {
            // actix matches the template against its resource map before
            // routing too: wherever the middleware sits, the route is known.
            let route = req.match_pattern();
            let headers = ActixHeaders(req.headers());
            let mut head = RequestHead::new(req.method().as_str(), req.path(), &headers)
                .with_query(req.query_string());
            if let Some(route) = &route {
                head = head.with_route(route);
            }
            // No `RouteLearner`: with the template known at `begin`, there
            // is nothing to learn inside routing.
            toolkit::begin(self.engine.get(), &head, None)
        };
        let Some(in_flight) = in_flight else {
            return Instrumented::passthrough(self.service.call(req), ActixResponder::new());
        };
        let service = &self.service;
        Instrumented::call(in_flight, ActixResponder::new(), self.catch_panics, || {
            service.call(req)
        })
    }
}
