//! [`carry`]: what a job payload stores to continue the request's trace.

use std::time::SystemTime;

use lookout_headers::SpanId;
use sentry_core::protocol::Value;

use super::PUBLISH_OP;
use crate::propagation::headers_for;

/// What a job's payload stores to continue the trace of the request that
/// enqueued it. Serializable (serde), so it travels in any queue.
///
/// ```
/// let carried = lookout_core::job::Carried::new(
///     "771a43a4192642f0b136d5159a501700-a8c2d5f4e3b21907-1",
///     Some("sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sampled=true".into()),
/// )
/// .with_user_id("42");
/// let json = serde_json::to_string(&carried)?;
/// let back: lookout_core::job::Carried = serde_json::from_str(&json)?;
/// assert_eq!(back, carried);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Carried {
    /// `sentry-trace`: the trace, the enqueueing span, the sampling decision.
    pub sentry_trace: String,
    /// `baggage`: the request's frozen Dynamic Sampling Context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baggage: Option<String>,
    /// The id of the user the request acted for, if identified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The enqueueing request's id: the job's events carry it as their
    /// `request_id` (validated again when the job runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Carried {
    /// What a caller outside lookout stored: a `sentry-trace` and a
    /// `baggage` (e.g. received from another SDK).
    pub fn new(sentry_trace: impl Into<String>, baggage: Option<String>) -> Self {
        Self {
            sentry_trace: sentry_trace.into(),
            baggage,
            user_id: None,
            request_id: None,
        }
    }

    /// The same, acting for the user `id`.
    #[must_use]
    pub fn with_user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }
}

/// What a job enqueued now from the current request must carry; `None`
/// outside a request. Inside a sampled request this records a
/// `queue.publish` child span, which the job's transaction continues from.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::{Engine, RequestHead, job};
///
/// assert!(job::carry().is_none(), "outside a request");
/// let in_flight = Engine::builder().build().begin(&RequestHead::new("POST", "/", &HeaderMap::new()));
/// let carried = in_flight.context().enter(job::carry).unwrap();
/// assert!(carried.sentry_trace.starts_with(&in_flight.context().trace().trace_id.to_string()));
/// # drop(in_flight);
/// ```
pub fn carry() -> Option<Carried> {
    let ctx = lookout_scope::current()?;
    let engine = crate::propagation::engine_of(&ctx);
    let span_id = SpanId::random();
    if ctx.trace().sampled
        && let Some(hub) = ctx.hub()
        && let Some(parent) = hub.configure_scope(|scope| scope.get_span())
    {
        let span = parent.start_child_with_details(
            PUBLISH_OP,
            "enqueue job",
            span_id.into(),
            SystemTime::now(),
        );
        span.set_data("sentry.origin", Value::from("auto.queue.lookout"));
        span.finish();
    }
    let headers = headers_for(&ctx, &engine, span_id, None);
    Some(Carried {
        sentry_trace: headers.sentry_trace,
        baggage: headers.baggage,
        user_id: ctx.user().and_then(|user| user.id),
        request_id: Some(ctx.request_id().to_owned()),
    })
}
