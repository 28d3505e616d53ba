//! [`route`]: the filter that names a request's transaction after its route
//! template.

use std::convert::Infallible;

use lookout_core::toolkit::RouteLearner;
use warp::Filter;

/// Names the request after `template` (`/users/{id}`): the transaction
/// becomes `GET /users/{id}` with source `route`, events get the
/// `http.route` tag, and a trace that starts here carries the name on
/// outgoing calls made after this filter ran.
///
/// warp matches paths with filters and has no templates, so each route says
/// its own. Put it after the filters that decide the route matches (the
/// path, the method), right before the handler: the first template learned
/// for a request wins, and a branch that rejects after this filter would
/// have named it. A request that reaches no `route` keeps its raw path
/// (source `url`, never the query string). Extracts nothing and never
/// rejects; outside lookout it does nothing.
///
/// ```
/// use warp::Filter;
///
/// let user = warp::path!("users" / u32)
///     .and(warp::get())
///     .and(lookout_warp::route("/users/{id}"))
///     .map(|id: u32| format!("user {id}"));
/// # let _ = user;
/// ```
///
/// The sampling decision was made before any filter ran, so route-based
/// sampling rules see the raw path on warp.
pub fn route(template: &'static str) -> impl Filter<Extract = (), Error = Infallible> + Copy {
    warp::ext::optional::<RouteLearner>()
        .map(move |learner: Option<RouteLearner>| {
            if let Some(learner) = learner {
                learner.learn(Some(template));
            }
        })
        .untuple_one()
}
