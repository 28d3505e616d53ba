//! Request data on every event, applied when an event is captured.
//!
//! Any event captured inside a request (a classified failure, a `tracing`
//! ERROR, a manual `capture_message`) gets the request data its transaction
//! has (method, URL, query string, headers; scrubbed later), the tags `request_id`,
//! `http.route`, `http.request.method`, `authenticated` (and `user_role`),
//! the user, the trace context, the request's transaction name (sampled or
//! not) and, once the handler answered, the request breadcrumb. Doing it at
//! capture time, from the current request, keeps the request path free of
//! that work when nothing is captured.

use lookout_classify::tags;
use lookout_scope::ResponseSummary;
use sentry_core::Level;
use sentry_core::protocol::{Breadcrumb, Event, Map, Value};

use crate::engine::transaction_name;
use crate::lifecycle::span_context::{self, Moment};

/// Adds the current request's data to `event` (a `before_send` step).
pub(crate) fn apply_request(mut event: Event<'static>) -> Event<'static> {
    let Some(ctx) = lookout_scope::current() else {
        // Outside requests: the lines logged outside requests.
        lookout_scope::apply_process_breadcrumbs(&mut event);
        return event;
    };
    // The origin and data of the request's transaction, when the event was
    // captured under it (sentry-core copied the rest of its trace context).
    span_context::write(&ctx, &mut event.contexts, Moment::Event);
    // Request id, user, authenticated / user_role, trace context.
    ctx.apply_to(&mut event);
    let method = ctx.method();
    if !method.is_empty() {
        event
            .tags
            .entry(tags::METHOD.to_owned())
            .or_insert_with(|| method.to_owned());
    }
    // A template learned after routing may be looked up now.
    let route = crate::toolkit::route::route_of(&ctx);
    if let Some(route) = &route {
        event
            .tags
            .entry(tags::ROUTE.to_owned())
            .or_insert_with(|| route.to_string());
        if event.transaction.is_none() {
            event.transaction = Some(transaction_name(method, route));
        }
    }
    // The request's URL and headers, as its transaction has them.
    crate::lifecycle::request_data::apply_to_event(&ctx, &mut event);
    // What the handler read of the request's body, as `request.data`.
    crate::request_body::apply(&ctx, &mut event);
    if let Some(response) = ctx.response() {
        event
            .breadcrumbs
            .values
            .push(request_breadcrumb(method, route.as_deref(), response));
    }
    event
}

/// Adds `ctx`'s data to a transaction of its request as it is sent: the
/// same identity tags and user as its events (`request_id`, `authenticated`,
/// `user_role`, the PII-filtered user), and `http.route`,
/// `http.request.method`, `http.status_code`; the request's own transaction
/// also gets its origin and trace data ([`span_context`]). The request data
/// (method, URL, query, headers) was set when the transaction started; the
/// delivery hook's scrubber runs after this.
pub(crate) fn apply_request_to_transaction(
    ctx: &lookout_scope::RequestContext,
    transaction: &mut sentry_core::protocol::Transaction<'_>,
) {
    span_context::write(ctx, &mut transaction.contexts, Moment::Sent);
    ctx.apply_to_transaction(transaction);
    let tags_of = &mut transaction.tags;
    let method = ctx.method();
    if !method.is_empty() {
        tags_of
            .entry(tags::METHOD.to_owned())
            .or_insert_with(|| method.to_owned());
    }
    if let Some(route) = ctx.route() {
        tags_of
            .entry(tags::ROUTE.to_owned())
            .or_insert_with(|| route.to_string());
    }
    if let Some(response) = ctx.response() {
        tags_of
            .entry(tags::STATUS_CODE.to_owned())
            .or_insert_with(|| response.status.to_string());
    }
}

/// `METHOD route -> status in N ms`: the one breadcrumb a finished request
/// leaves. It is built when an event of that request is captured (only such
/// events can see the request's scope), so a request that captures nothing
/// pays nothing for it.
fn request_breadcrumb(method: &str, route: Option<&str>, response: ResponseSummary) -> Breadcrumb {
    let status = response.status;
    let label = route.unwrap_or("<unmatched route>");
    let mut data = Map::new();
    data.insert("method".to_owned(), Value::from(method));
    data.insert("status_code".to_owned(), Value::from(status));
    if let Some(route) = route {
        data.insert(tags::ROUTE.to_owned(), Value::from(route));
    }
    Breadcrumb {
        ty: "http".to_owned(),
        category: Some("http.server".to_owned()),
        level: match status {
            500.. => Level::Error,
            400..=499 => Level::Warning,
            _ => Level::Info,
        },
        message: Some(format!(
            "{method} {label} -> {status} in {} ms",
            response.latency.as_millis()
        )),
        data,
        ..Breadcrumb::default()
    }
}
