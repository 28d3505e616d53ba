//! [`CurrentRequest`] and the [`current`] filter that extracts it.

use lookout_core::toolkit::{self, RouteLearner};
use warp::{Filter, Rejection};

lookout_core::adapter_current_request! {
    /// The request lookout is handling: its id, its trace, and the user it acts
    /// for ([`lookout_core::toolkit::CurrentRequest`], whose methods it
    /// dereferences to). Extract it with [`current`] in handlers and in
    /// filters (for example right after authentication, to identify the user).
    ///
    /// ```
    /// use warp::Filter;
    /// use lookout_warp::{CurrentRequest, User};
    ///
    /// // An authentication filter: identifies the user, extracts nothing.
    /// let auth = lookout_warp::current()
    ///     .and(warp::header::optional::<String>("authorization"))
    ///     .map(|current: CurrentRequest, authorization: Option<String>| {
    ///         if let Some(id) = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")) {
    ///             current.identify(User::id(id).role("member"));
    ///         }
    ///     })
    ///     .untuple_one();
    ///
    /// let me = warp::path!("me")
    ///     .and(lookout_warp::route("/me"))
    ///     .and(auth)
    ///     .and(lookout_warp::current())
    ///     .map(|current: CurrentRequest| {
    ///         format!("request {} in trace {}", current.request_id(), current.trace_id())
    ///     });
    /// # let _ = me;
    /// ```
    crate: "lookout_warp",
    /// [`current`] was used where lookout does not handle the request. An
    /// unhandled rejection: warp answers `500` with its `Debug`, which names
    /// what is missing.
    NotInstrumented: "lookout_warp::current() needs lookout in front of the filter: \
         serve it with `lookout_warp::serve(routes)` or `warp::serve(lookout_warp::wrap(routes))`",
}

/// Extracts the [`CurrentRequest`]. Rejects with [`NotInstrumented`] (an
/// unhandled rejection, answered `500`) where lookout does not handle the
/// request; use `warp::any().map(CurrentRequest::get)` to tolerate that.
///
/// ```
/// use warp::Filter;
///
/// let echo = warp::path!("id")
///     .and(lookout_warp::current())
///     .map(|current: lookout_warp::CurrentRequest| current.request_id().to_owned());
/// # let _ = echo;
/// ```
pub fn current() -> impl Filter<Extract = (CurrentRequest,), Error = Rejection> + Copy {
    warp::ext::optional::<RouteLearner>().and_then(|learner: Option<RouteLearner>| {
        std::future::ready(
            toolkit::CurrentRequest::resolve(learner.as_ref(), None)
                .map(CurrentRequest::from)
                .ok_or_else(|| warp::reject::custom(NotInstrumented)),
        )
    })
}

impl warp::reject::Reject for NotInstrumented {}
