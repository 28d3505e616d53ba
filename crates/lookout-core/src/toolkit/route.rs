//! [`RouteLearner`]: late route learning for a middleware outside routing.

use std::sync::Arc;

use lookout_scope::RequestContext;

/// The route template learned after `begin`, read by `finish`.
pub(crate) struct LearnedRoute(pub(crate) Arc<str>);

/// Tells a middleware that began a request without its route template (it
/// runs before routing) the template learned inside routing; `finish` names
/// the transaction after it. The first template learned wins.
///
/// Adapters put the learner from
/// [`InFlight::route_learner`](crate::InFlight::route_learner) in their
/// request's extensions; lookout code inside routing (a second middleware,
/// the [`CurrentRequest`](super::CurrentRequest) extractor) finds it there,
/// calls [`learn`](Self::learn) and passes the request through.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, RequestHead, ResponseHead};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()));
/// let learner = in_flight.route_learner().expect("the route was not known");
/// learner.learn(Some("/users/{id}"));
/// assert_eq!(learner.learned().as_deref(), Some("/users/{id}"));
/// in_flight.finish(&ResponseHead::new(StatusCode::OK)).body.complete();
/// ```
#[derive(Clone)]
pub struct RouteLearner {
    ctx: RequestContext,
}

impl std::fmt::Debug for RouteLearner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteLearner")
            .field("request_id", &self.ctx.request_id())
            .field("learned", &self.learned())
            .finish()
    }
}

impl RouteLearner {
    pub(crate) fn new(ctx: RequestContext) -> Self {
        Self { ctx }
    }

    /// Reports the template (when routing matched one); a template learned
    /// earlier is kept.
    pub fn learn(&self, route: Option<&str>) {
        if let Some(route) = route
            && self.ctx.extension::<LearnedRoute>().is_none()
        {
            self.ctx.insert_extension(LearnedRoute(Arc::from(route)));
        }
    }

    /// The template learned so far.
    pub fn learned(&self) -> Option<Arc<str>> {
        self.ctx.extension::<LearnedRoute>().map(|l| l.0.clone())
    }

    /// The context of the request that is learning.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }
}
