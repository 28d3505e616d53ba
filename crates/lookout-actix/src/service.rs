//! [`Lookout`]: the actix-web middleware service.

use std::cell::OnceCell;
use std::rc::Rc;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ResourceMap, Service, ServiceRequest, ServiceResponse, forward_ready};
use lookout_core::RequestHead;
use lookout_core::toolkit::{
    Instrumented, MiddlewareOptions, PendingRoute, PendingRouteFuture, begin_before_routing,
};

use crate::ResponseBody;
use crate::future::{ActixResponder, ResponseFuture};
use crate::headers::ActixHeaders;
use crate::request_body::record_payload;

/// The lookout middleware around the service `S`; made by
/// [`LookoutLayer`](crate::LookoutLayer) (`App::wrap` calls it).
/// `get_ref`, `get_mut` and `into_inner` reach the inner service.
///
/// Each request: [`begin`](lookout_core::Engine::begin) (request id, trace
/// continuation, sampling), the inner service runs with the request's
/// context bound, then [`finish`](lookout_core::InFlight::finish) classifies
/// the response (with the typed error a [`Reported`](crate::Reported)
/// carried, or the panic) and adds `x-request-id`; the transaction ends with
/// the response body.
///
/// The route template is read from the response's request after routing
/// (actix records the matched resource there, so `match_pattern()` costs a
/// walk down the resource tree instead of a second regex match of the
/// path). Until then it is a [`PendingRoute`]: whatever needs it inside the
/// handler (an event, a log, an outgoing call's DSC) matches the path
/// against the app's resource map, as actix's routing did. When sampling
/// depends on the route (a user sampler, templated ignored routes), it is
/// matched before `begin` instead (lookout-core's
/// [`begin_before_routing`]).
#[derive(Debug)]
pub struct Lookout<S> {
    service: S,
    options: MiddlewareOptions,
    /// The app's resource map, for templates looked up before routing
    /// ended (a handle on the same tree; taken from the first request).
    routes: OnceCell<Rc<ResourceMap>>,
}

impl<S> Lookout<S> {
    pub(crate) fn new(service: S, options: MiddlewareOptions) -> Self {
        Self {
            service,
            options,
            routes: OnceCell::new(),
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.service
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.service
    }
}

impl<S, B> Service<ServiceRequest> for Lookout<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<ResponseBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let engine = self.options.engine();
        let headers = ActixHeaders(req.headers());
        let head = RequestHead::new(req.method().as_str(), req.path(), &headers)
            .with_query(req.query_string());
        // Before routing, `match_pattern()` matches the path against the
        // whole resource map again: only when sampling needs it. No learner
        // in the request's extensions: lookout code inside routing learns
        // through the pending route below.
        let in_flight = begin_before_routing(engine, head, || req.match_pattern());
        let Some(in_flight) = in_flight else {
            let inner = PendingRouteFuture::new(self.service.call(req), None);
            return Instrumented::passthrough(inner, ActixResponder::new(None));
        };
        // What the handler reads of the body rides on its events.
        record_payload(engine, &mut req);
        let pending = in_flight.route_learner().map(|learner| {
            let routes = Rc::clone(
                self.routes
                    .get_or_init(|| Rc::new(req.resource_map().clone())),
            );
            let uri = req.uri().clone();
            PendingRoute::new(learner, move || routes.match_pattern(uri.path()))
        });
        let service = &self.service;
        Instrumented::call(
            in_flight,
            ActixResponder::new(pending.clone()),
            self.options.catches_panics(),
            || PendingRouteFuture::new(service.call(req), pending),
        )
    }
}
