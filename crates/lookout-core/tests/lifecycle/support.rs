//! Helpers shared by the lifecycle tests.
#![allow(unreachable_pub)]

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use lookout_core::testing::TestLookout;
use lookout_core::{Finished, RequestHead, ResponseHead};
use lookout_core::{OutgoingCall, OutgoingHeaders};
use sentry_core::Envelope;
use sentry_core::protocol::{Context, EnvelopeItem, Event, TraceContext, Transaction};
use serde_json::Value;

/// A header map from `(name, value)` pairs (values may repeat).
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// Answers a request 200 and completes its body.
pub fn answer_ok(in_flight: lookout_core::InFlight) {
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
}

/// One whole request: begin, finish with `status`, complete the body.
pub fn request(
    test: &TestLookout,
    method: &str,
    path: &str,
    route: Option<&str>,
    headers: &HeaderMap,
    status: StatusCode,
    panic: Option<&str>,
) -> FinishedSummary {
    let mut head = RequestHead::new(method, path, headers);
    if let Some(route) = route {
        head = head.with_route(route);
    }
    let in_flight = test.engine().begin(&head);
    let Finished {
        headers,
        decision,
        event_id,
        body,
        ..
    } = {
        let mut response = ResponseHead::new(status);
        if let Some(panic) = panic {
            response = response.with_panic(panic);
        }
        in_flight.finish(&response)
    };
    body.complete();
    FinishedSummary {
        headers,
        decision,
        event_id,
    }
}

/// What a finished request left, once its body completed.
#[allow(dead_code)]
pub struct FinishedSummary {
    pub headers: lookout_core::ResponseHeaders,
    pub decision: Option<lookout_classify::Decision>,
    pub event_id: Option<sentry_core::types::Uuid>,
}

/// The envelope's `trace` header (the DSC) as JSON, if present.
pub fn envelope_dsc(envelope: &Envelope) -> Option<Value> {
    let headers = serde_json::to_value(envelope.headers()).ok()?;
    headers.get("trace").cloned()
}

/// The one transaction among `envelopes`, with its envelope.
pub fn only_transaction(envelopes: &[Envelope]) -> (&Envelope, &Transaction<'static>) {
    let found: Vec<_> = envelopes
        .iter()
        .flat_map(|e| {
            e.items().filter_map(move |item| match item {
                EnvelopeItem::Transaction(tx) => Some((e, &**tx)),
                _ => None,
            })
        })
        .collect();
    assert_eq!(found.len(), 1, "exactly one transaction");
    found[0]
}

/// The `trace` context of an event.
pub fn trace_of(event: &Event<'_>) -> TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => (**trace).clone(),
        other => panic!("event without trace context: {other:?}"),
    }
}

/// Access to a transaction's trace context.
pub trait TransactionExt {
    /// The `trace` context.
    fn contexts_trace(&self) -> TraceContext;
}

impl TransactionExt for Transaction<'_> {
    fn contexts_trace(&self) -> TraceContext {
        match self.contexts.get("trace") {
            Some(Context::Trace(trace)) => (**trace).clone(),
            other => panic!("transaction without trace context: {other:?}"),
        }
    }
}

/// A typed service error with a source, like an application's own.
#[derive(Debug)]
pub struct ServiceError {
    message: &'static str,
    source: std::io::Error,
}

impl ServiceError {
    pub fn new(message: &'static str) -> Self {
        Self {
            message,
            source: std::io::Error::other("connection refused"),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The headers of one outgoing call from the current request (`None`
/// outside a request or for a URL that is not a propagation target); the
/// call's span ends at once with a 200.
pub fn outgoing_headers(url: &str, existing_baggage: Option<&str>) -> Option<OutgoingHeaders> {
    let call = OutgoingCall::start("GET", url, existing_baggage)?;
    let headers = call.headers().cloned();
    call.finish(StatusCode::OK);
    headers
}
