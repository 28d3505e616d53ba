//! Trace metrics (`sentry_core::metrics`: counters, gauges,
//! distributions): what every metric captured inside a request carries.
//!
//! [`apply_request`] is the first step of the client's `before_send_metric`
//! (the application's callback and the scrubber come after it), so every
//! metric captured inside a request gets the request's trace id (sampled or
//! not), its span (the span sentry-core found on the scope, else the
//! request's own), `request_id`, `http.route`, `http.request.method` and
//! the user, as its logs do. It happens when a metric is captured, from
//! the current request: a request that records no metric pays for none of
//! it.
//!
//! Batching is sentry-core's (its metrics batcher, flushed when the client
//! closes); the envelopes it makes (`trace_metric` items, rate-limit
//! category `trace_metric`) go through lookout's delivery like any other,
//! Spotlight copy included. A batch mixes requests, so it gets no request's
//! Dynamic Sampling Context ([`carries_only_metrics`]).

use lookout_scope::RequestContext;
use sentry_core::protocol::{Envelope, EnvelopeItem, ItemContainer, LogAttribute, Metric, Value};

/// Adds the current request's data to `metric` (a `before_send_metric`
/// step); outside a request the metric is left as sentry-core made it.
pub(crate) fn apply_request(mut metric: Metric) -> Metric {
    if let Some(ctx) = lookout_scope::current() {
        apply_context(&ctx, &mut metric);
    }
    metric
}

/// `ctx`'s trace, span, request id, route, method and user on `metric`.
/// lookout's own attributes win over the application's of the same name,
/// as on logs.
fn apply_context(ctx: &RequestContext, metric: &mut Metric) {
    let trace = ctx.trace();
    // The scope's trace when unsampled is the process Hub's, not the request's.
    metric.trace_id = trace.trace_id.into();
    if metric.span_id.is_none() {
        metric.span_id = Some(trace.span_id.into());
    }
    crate::logs::request_attributes(ctx, |key, value| {
        metric
            .attributes
            .insert(key.into(), LogAttribute(Value::String(value)));
    });
}

/// Whether every item of `envelope` is a batch of metrics: such an
/// envelope belongs to no one request, so it gets no request's DSC.
pub(crate) fn carries_only_metrics(envelope: &Envelope) -> bool {
    let mut items = envelope.items().peekable();
    items.peek().is_some()
        && items.all(|item| matches!(item, EnvelopeItem::ItemContainer(ItemContainer::Metrics(_))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;
    use lookout_scope::User;
    use sentry_core::protocol::{MetricType, SpanId, TraceId};

    fn metric() -> Metric {
        Metric {
            r#type: MetricType::Counter,
            name: "orders.lookup".into(),
            value: 1.0,
            timestamp: std::time::SystemTime::now(),
            trace_id: TraceId::default(),
            span_id: None,
            unit: None,
            attributes: Default::default(),
        }
    }

    #[test]
    fn a_metric_inside_a_request_carries_its_trace_span_ids_and_user() {
        let ctx = RequestContext::builder(RequestId::parse("req-9").unwrap())
            .method("GET")
            .build();
        ctx.set_route("/orders/{id}");
        ctx.identify(User::id("42").email("ada@example.com"));
        let mut seen = metric();
        seen.attributes
            .insert("request_id".into(), "spoofed".into());
        let seen = ctx.enter(|| apply_request(seen));
        let trace = ctx.trace();
        let trace_id: TraceId = trace.trace_id.into();
        let span_id: SpanId = trace.span_id.into();
        assert_eq!(seen.trace_id, trace_id);
        assert_eq!(seen.span_id, Some(span_id), "the request's own span");
        let attribute = |key: &str| seen.attributes.get(key).map(|a| a.0.clone());
        assert_eq!(attribute("request_id"), Some("req-9".into()));
        assert_eq!(attribute("http.route"), Some("/orders/{id}".into()));
        assert_eq!(attribute("http.request.method"), Some("GET".into()));
        assert_eq!(attribute("user.id"), Some("42".into()));
        assert_eq!(attribute("user.email"), None, "PII off");

        // A span sentry-core found on the scope stays.
        let mut inner = metric();
        let tracing_span = SpanId::default();
        inner.span_id = Some(tracing_span);
        assert_eq!(
            ctx.enter(|| apply_request(inner)).span_id,
            Some(tracing_span)
        );
    }

    #[test]
    fn outside_a_request_a_metric_is_left_as_it_is() {
        let before = metric();
        assert_eq!(apply_request(before.clone()), before);
    }

    #[test]
    fn only_envelopes_of_metrics_alone_are_left_without_a_dsc() {
        let mut metrics = Envelope::new();
        metrics.add_item(vec![metric()]);
        assert!(carries_only_metrics(&metrics));
        let mut mixed = Envelope::new();
        mixed.add_item(vec![metric()]);
        mixed.add_item(sentry_core::protocol::Event::default());
        assert!(!carries_only_metrics(&mixed));
        assert!(!carries_only_metrics(&Envelope::new()));
    }
}
