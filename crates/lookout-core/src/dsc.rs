//! The Dynamic Sampling Context of a request: frozen once, on every envelope.
//!
//! A continued trace carries the caller's DSC, frozen at `begin`. A trace that
//! starts here gets a head-of-trace DSC with every field lookout knows, frozen
//! the first time it leaves the process (an outgoing request or an envelope).
//! After that nothing changes it, not even identifying the user.
//!
//! sentry-core 0.49 writes a partial DSC (trace id, public key, sample rate,
//! sampled) and only on transactions. lookout closes the gap without forking
//! it: the delivery hook ([`prepare`]) replaces the envelope `trace` header with
//! the request's frozen DSC, for error events and transactions alike.

use lookout_headers::DynamicSamplingContext;
use lookout_scope::RequestContext;
use sentry_core::Envelope;
use sentry_core::protocol::{Context, EnvelopeHeaders, EnvelopeItem};

use crate::engine::Shared;

/// The request's frozen DSC, freezing a head-of-trace one now if needed.
pub(crate) fn frozen<'a>(ctx: &'a RequestContext, engine: &Shared) -> &'a DynamicSamplingContext {
    ctx.frozen_dsc_or_init(|| head_of_trace(ctx, engine))
}

/// A head-of-trace DSC: everything this service knows about the trace.
fn head_of_trace(ctx: &RequestContext, engine: &Shared) -> DynamicSamplingContext {
    let trace = ctx.trace();
    let mut dsc = DynamicSamplingContext::new();
    dsc.trace_id = Some(trace.trace_id);
    dsc.public_key.clone_from(&engine.public_key);
    dsc.sample_rate = Some(trace.sample_rate);
    dsc.sample_rand = Some(trace.sample_rand);
    dsc.sampled = Some(trace.sampled);
    dsc.release.clone_from(&engine.release);
    dsc.environment.clone_from(&engine.environment);
    // Only a route template names the transaction; a raw URL never does.
    dsc.transaction = crate::toolkit::route::route_of(ctx)
        .map(|route| crate::engine::transaction_name(ctx.method(), &route));
    dsc.org_id.clone_from(&engine.org.org_id);
    dsc
}

/// The delivery hook: puts the current request's frozen DSC on `envelope`,
/// gives its transactions the request's scope (identity, tags: see
/// [`apply_request_to_transaction`](crate::events::apply_request_to_transaction))
/// runs the transaction filters ([`TransactionFilter`](crate::transaction_filter::TransactionFilter):
/// ignored status codes, `before_send_transaction`; a dropped transaction
/// leaves the envelope) and then the privacy scrubber over them (events were
/// scrubbed by `before_send` already; sentry-core has no such hook for
/// transactions).
///
/// Envelopes captured outside a request, or belonging to another trace than
/// the current request's, keep the `trace` header sentry-core wrote. The
/// envelope is rebuilt at most once, and its headers are moved, not copied.
pub(crate) fn prepare(
    envelope: Envelope,
    engine: &Shared,
    scrubber: &lookout_policy::Scrubber,
    filter: &crate::transaction_filter::TransactionFilter,
) -> Envelope {
    let ctx = request_of(&envelope);
    let dsc = ctx.as_ref().map(|ctx| frozen(ctx, engine));
    let has_transaction = envelope
        .items()
        .any(|item| matches!(item, EnvelopeItem::Transaction(_)));
    if !has_transaction {
        return match dsc {
            Some(dsc) => with_trace_header(envelope, dsc),
            None => envelope,
        };
    }
    let headers = match &dsc {
        Some(dsc) => trace_headers(&envelope, dsc),
        None => envelope.headers().clone(),
    };
    let mut scrubbed = Envelope::new().with_headers(headers);
    for item in envelope.into_items() {
        match item {
            EnvelopeItem::Transaction(mut transaction) => {
                if let Some(ctx) = &ctx {
                    crate::events::apply_request_to_transaction(ctx, &mut transaction);
                }
                // Filled, not yet scrubbed: what `before_send_transaction` sees.
                let Some(mut transaction) = filter.apply(ctx.as_ref(), transaction) else {
                    continue;
                };
                scrubber.scrub_transaction(&mut transaction);
                scrubbed.add_item(EnvelopeItem::Transaction(transaction));
            }
            other => scrubbed.add_item(other),
        }
    }
    scrubbed
}

/// The current request, if `envelope` belongs to it (its trace).
fn request_of(envelope: &Envelope) -> Option<RequestContext> {
    let ctx = lookout_scope::current()?;
    let trace_id: sentry_core::protocol::TraceId = ctx.trace().trace_id.into();
    if envelope_trace_id(envelope).is_some_and(|id| id != trace_id) {
        return None;
    }
    Some(ctx)
}

fn envelope_trace_id(envelope: &Envelope) -> Option<sentry_core::protocol::TraceId> {
    envelope.items().find_map(|item| {
        let contexts = match item {
            EnvelopeItem::Event(event) => &event.contexts,
            EnvelopeItem::Transaction(transaction) => &transaction.contexts,
            _ => return None,
        };
        match contexts.get("trace") {
            Some(Context::Trace(trace)) => Some(trace.trace_id),
            _ => None,
        }
    })
}

/// Replaces the envelope's `trace` header with `dsc` (removing it when the
/// frozen DSC is empty: the caller sent none, and we may not invent one).
fn with_trace_header(envelope: Envelope, dsc: &DynamicSamplingContext) -> Envelope {
    let headers = trace_headers(&envelope, dsc);
    envelope.with_headers(headers)
}

/// `envelope`'s headers with `dsc` as the `trace` header.
///
/// sentry-core 0.49 writes no envelope header but `event_id` and `trace`
/// (a test guards this), so the headers are rebuilt from those two.
fn trace_headers(envelope: &Envelope, dsc: &DynamicSamplingContext) -> EnvelopeHeaders {
    let mut headers = EnvelopeHeaders::new();
    if let Some(id) = envelope.uuid() {
        headers = headers.with_event_id(*id);
    }
    if !dsc.is_empty() {
        headers = headers.with_trace(dsc.into());
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::Event;

    /// What sentry-core's client sends: an event envelope, and a transaction
    /// envelope with its partial DSC. Rebuilding the headers from `event_id`
    /// and `trace` loses nothing only while that is all they hold.
    #[test]
    fn sentry_core_envelopes_hold_no_header_but_event_id_and_trace() {
        let event = Event::default();
        let id = event.event_id;
        let envelope: Envelope = event.into();
        let headers = serde_json::to_value(envelope.headers()).unwrap();
        assert_eq!(headers, serde_json::json!({ "event_id": id.to_string() }));

        let mut dsc = DynamicSamplingContext::new();
        dsc.release = Some("api@1".into());
        let stamped = with_trace_header(envelope, &dsc);
        let headers = serde_json::to_value(stamped.headers()).unwrap();
        assert_eq!(headers["event_id"], id.to_string());
        assert_eq!(headers["trace"]["release"], "api@1");
        assert_eq!(headers.as_object().unwrap().len(), 2);
    }

    #[test]
    fn an_empty_frozen_dsc_removes_the_trace_header() {
        let envelope =
            Envelope::new().with_headers(EnvelopeHeaders::new().with_trace(
                sentry_core::protocol::DynamicSamplingContext::new().with_sampled(true),
            ));
        let stamped = with_trace_header(envelope, &DynamicSamplingContext::new());
        let headers = serde_json::to_value(stamped.headers()).unwrap();
        assert!(headers.get("trace").is_none());
    }
}
