//! Request data on every event, applied when an event is captured.
//!
//! Any event captured inside a request (a classified failure, a `tracing`
//! ERROR, a manual `capture_message`) gets the tags `request_id`,
//! `http.route`, `http.request.method`, `authenticated` (and `user_role`)
//! and the request's transaction name, sampled or not. Doing it at capture
//! time, from the current request, keeps the request path free of that work
//! when nothing is captured.

use lookout_classify::ROUTE_TAG;
use lookout_scope::{TAG_AUTHENTICATED, TAG_REQUEST_ID, TAG_USER_ROLE};
use sentry_core::protocol::Event;

use crate::engine::transaction_name;

/// The tag carrying the request method.
pub const METHOD_TAG: &str = "http.request.method";

/// Adds the current request's data to `event` (a `before_send` step).
pub(crate) fn apply_request(mut event: Event<'static>) -> Event<'static> {
    let Some(ctx) = lookout_scope::current() else {
        return event;
    };
    let tags = &mut event.tags;
    tags.entry(TAG_REQUEST_ID.to_owned())
        .or_insert_with(|| ctx.request_id().to_owned());
    let method = ctx.method();
    if !method.is_empty() {
        tags.entry(METHOD_TAG.to_owned())
            .or_insert_with(|| method.to_owned());
    }
    let user = ctx.user();
    tags.insert(TAG_AUTHENTICATED.to_owned(), user.is_some().to_string());
    if let Some(role) = user.as_ref().and_then(|u| u.role.clone()) {
        tags.insert(TAG_USER_ROLE.to_owned(), role);
    }
    if let Some(route) = ctx.route() {
        tags.entry(ROUTE_TAG.to_owned())
            .or_insert_with(|| route.to_string());
        if event.transaction.is_none() {
            event.transaction = Some(transaction_name(method, &route));
        }
    }
    event
}
