//! The trace context of a request's transaction as it is sent: its op, its
//! origin and its data (`http.request.method`, `sentry.source`,
//! `http.response.status_code`).
//!
//! sentry-core keeps a transaction's trace context inside the running
//! transaction and copies it whole when the transaction ends and into every
//! event captured under it. lookout leaves there what sentry-core and the
//! application use (ids, status, the application's own data and op) and
//! writes its own fields where they are sent, from the request's state, as
//! they stood when sentry-core would have copied them: on the transaction in
//! the delivery hook ([`crate::dsc::prepare`]), on the request's events in
//! `before_send` ([`crate::events::apply_request`]). Each string is then
//! allocated once per envelope instead of once when set and again per copy.
//!
//! - `op`: `http.server` (sentry-core's transaction starts with an empty
//!   one, [`OP_UNTIL_SENT`]);
//! - `origin`: the adapter's (the engine that began the request);
//! - `http.request.method`: the request's method;
//! - `sentry.source`: `route` once a template names the transaction, `url`
//!   once it ended without one (`InFlight::finish` or the request dropped);
//! - `http.response.status_code`: once the transaction has its status and
//!   the response is known.
//!
//! A value the application set itself on the transaction is kept. This
//! module does not name the transaction or set its status (sentry-core's
//! transaction keeps those).

use lookout_classify::tags;
use lookout_scope::RequestContext;
use sentry_core::protocol::{Context, Map, TraceContext, Value};

use crate::engine::Shared;

/// The op of a request's transaction.
pub(crate) const OP: &str = "http.server";

/// The op sentry-core's transaction of a request has until it is sent: empty
/// (no allocation, nothing to copy); an op the application sets stays.
pub(crate) const OP_UNTIL_SENT: &str = "";

/// Where a transaction is when its trace context is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    /// Its envelope is being sent: it has ended.
    Sent,
    /// An event is captured under it (it may have ended).
    Event,
}

/// Writes the request's fields into `contexts`' `trace` context, when that
/// is the trace context of `ctx`'s own transaction (a child span's, another
/// transaction's or an unsampled request's is left alone).
pub(crate) fn write(ctx: &RequestContext, contexts: &mut Map<String, Context>, moment: Moment) {
    if let Some(Context::Trace(trace)) = contexts.get_mut("trace") {
        write_trace(ctx, trace, moment);
    }
}

fn write_trace(ctx: &RequestContext, trace: &mut TraceContext, moment: Moment) {
    let request = ctx.trace();
    // Jobs open their context with no method and carry their own fields.
    if !request.sampled
        || ctx.method().is_empty()
        || ctx.hub().is_none()
        || trace.span_id != request.span_id.into()
        || trace.trace_id != request.trace_id.into()
    {
        return;
    }
    let Some(engine) = ctx.owner::<Shared>() else {
        return;
    };
    if trace.op.as_deref() == Some(OP_UNTIL_SENT) {
        trace.op = Some(OP.to_owned());
    }
    if trace.origin.is_none() {
        trace.origin = Some(engine.origin.clone().into_owned());
    }
    let data = &mut trace.data;
    data.entry(tags::METHOD.to_owned())
        .or_insert_with(|| Value::from(ctx.method()));
    let response = ctx.response();
    // `InFlight::finish` names a transaction without a route after its URL
    // before it records the response; a dropped request ends with a status.
    let ended = match moment {
        Moment::Sent => true,
        Moment::Event => response.is_some() || trace.status.is_some(),
    };
    let source = if ctx.route().is_some() {
        Some("route")
    } else {
        ended.then_some("url")
    };
    if let Some(source) = source {
        data.entry("sentry.source".to_owned())
            .or_insert_with(|| Value::from(source));
    }
    // `finish` records the response before it captures the request's event
    // and sets the status after: the status code comes with the status.
    let with_status = moment == Moment::Sent || trace.status.is_some();
    if let Some(response) = response
        && with_status
    {
        data.entry("http.response.status_code".to_owned())
            .or_insert_with(|| Value::from(response.status));
    }
}
