//! Sentry Logs: what every log captured inside a request carries, and the
//! one log a failure the classifiers do not capture leaves.
//!
//! - [`apply_request`] is the first step of the client's `before_send_log`
//!   (the application's callback and the scrubber come after it), so every
//!   log captured inside a request, whoever captured it (the `tracing`
//!   integration, `sentry::logger_*!`, `Hub::capture_log`, lookout itself),
//!   gets the request's trace id (sampled or not), its parent span,
//!   `request_id`, `http.route`, `http.request.method` and the user. As for
//!   events this happens when a log is captured, from the current request:
//!   a request that logs nothing pays for none of it.
//! - [`record_outcome`] is what `InFlight::finish` does for a
//!   [`Decision`] that logs: `METHOD /route -> STATUS` at the decision's
//!   level, when logs are on and the level reaches `LOOKOUT_LOGS_LEVEL`.
//!
//! Batching (at most 100 logs or 5 seconds per envelope, flushed when the
//! client closes) is sentry-core's log batcher; the envelopes it makes go
//! through lookout's delivery like any other. This module does not scrub:
//! lookout-policy's scrubber runs after it.

use lookout_classify::{Decision, Outcome, severity_number, tags};
use lookout_policy::LogLevel;
use lookout_scope::RequestContext;
use sentry_core::Hub;
use sentry_core::protocol::{Envelope, EnvelopeItem, ItemContainer, Log};

use crate::engine::Shared;

/// The attribute Sentry Logs name the parent span with.
const PARENT_SPAN: &str = "sentry.trace.parent_span_id";
/// Where sentry-core 0.49 puts the span of the scope it captures on (a key
/// Sentry does not read); lookout moves it to [`PARENT_SPAN`].
const SENTRY_CORE_PARENT_SPAN: &str = "parent_span_id";

/// Adds the current request's data to `log` (a `before_send_log` step);
/// outside a request only the severity number is filled in.
pub(crate) fn apply_request(mut log: Log) -> Log {
    if log.severity_number.is_none() {
        log.severity_number = Some(severity_number(log.level));
    }
    match lookout_scope::current() {
        Some(ctx) => apply_context(&ctx, &mut log),
        None => {
            if let Some(span) = log.attributes.remove(SENTRY_CORE_PARENT_SPAN) {
                log.attributes.entry(PARENT_SPAN.to_owned()).or_insert(span);
            }
        }
    }
    log
}

/// `ctx`'s trace, parent span, request id, route, method and user on `log`.
/// lookout's own attributes win over fields of the same name, as its tags
/// do on events.
fn apply_context(ctx: &RequestContext, log: &mut Log) {
    let trace = ctx.trace();
    // The scope's trace when unsampled is the process Hub's, not the request's.
    log.trace_id = Some(trace.trace_id.into());
    // sentry-core names the span of the scope the log was captured on (the
    // transaction, or the `tracing` span inside it); without one the
    // request's own span id is the parent, as its events say.
    let parent = log
        .attributes
        .remove(SENTRY_CORE_PARENT_SPAN)
        .unwrap_or_else(|| {
            let span: sentry_core::protocol::SpanId = trace.span_id.into();
            span.to_string().into()
        });
    log.attributes
        .entry(PARENT_SPAN.to_owned())
        .or_insert(parent);
    request_attributes(ctx, |key, value| {
        log.attributes.insert(key.to_owned(), value.into());
    });
}

/// The attributes a log or a metric captured inside `ctx`'s request
/// carries, handed to `put` in order: `request_id`, `http.request.method`,
/// `http.route` (a template learned after routing looked up now), the
/// job's name, and the user's `user.id` (`user.email` and `user.name` only
/// as the PII policy allows). lookout's own attributes win over the
/// application's of the same name, as its tags do on events.
pub(crate) fn request_attributes(ctx: &RequestContext, mut put: impl FnMut(&'static str, String)) {
    put(tags::REQUEST_ID, ctx.request_id().to_owned());
    if !ctx.method().is_empty() {
        put(tags::METHOD, ctx.method().to_owned());
    }
    if let Some(route) = crate::toolkit::route::route_of(ctx) {
        put(tags::ROUTE, route.as_ref().to_owned());
    }
    if let Some(job) = ctx.extension::<crate::job::JobName>() {
        put(crate::job::JOB_TAG, job.0.as_ref().to_owned());
    }
    if let Some(user) = ctx.user() {
        let user = user.to_sentry_user(ctx.pii());
        let fields = [
            ("user.id", user.id),
            ("user.email", user.email),
            ("user.name", user.username),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                put(key, value);
            }
        }
    }
}

/// Records `decision`'s log for `outcome` on the request's Hub, when the
/// decision is a log, logs are on ([`Shared::logs`] and the client's
/// `enable_logs`) and its level reaches the lowest level sent.
pub(crate) fn record_outcome(
    engine: &Shared,
    ctx: &RequestContext,
    hub: &Hub,
    outcome: &Outcome<'_>,
    decision: &Decision,
) {
    let (Some(level), Some(lowest)) = (decision.log_level(), engine.logs) else {
        return;
    };
    if rank(level) < rank(lowest) || !client_sends_logs(hub) {
        return;
    }
    if let Some(mut log) = lookout_classify::log(outcome, decision) {
        log.attributes
            .insert("sentry.origin".to_owned(), engine.origin.as_ref().into());
        ctx.enter(|| hub.capture_log(log));
    }
}

/// Whether `hub`'s client takes logs (`SENTRY_ENABLE_LOGS`).
fn client_sends_logs(hub: &Hub) -> bool {
    // Deprecated in sentry-core 0.49 only because manual captures ignore it;
    // it is the switch lookout's settings set.
    #[allow(deprecated)]
    hub.client()
        .is_some_and(|client| client.is_enabled() && client.options().enable_logs)
}

/// `level` in order of severity, `trace` lowest.
pub(crate) fn rank(level: LogLevel) -> u8 {
    match level {
        LogLevel::Trace => 0,
        LogLevel::Debug => 1,
        LogLevel::Info => 2,
        LogLevel::Warn => 3,
        LogLevel::Error => 4,
        LogLevel::Fatal => 5,
    }
}

/// Whether every item of `envelope` is a batch of logs: such an envelope
/// belongs to no one request (a batch mixes requests and traces), so it
/// gets no request's Dynamic Sampling Context.
pub(crate) fn carries_only_logs(envelope: &Envelope) -> bool {
    let mut items = envelope.items().peekable();
    items.peek().is_some()
        && items.all(|item| matches!(item, EnvelopeItem::ItemContainer(ItemContainer::Logs(_))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;
    use lookout_scope::User;
    use sentry_core::protocol::Value;

    fn log() -> Log {
        Log {
            level: LogLevel::Info,
            body: "loading user".into(),
            trace_id: None,
            timestamp: std::time::SystemTime::now(),
            severity_number: None,
            attributes: Default::default(),
        }
    }

    #[test]
    fn a_log_inside_a_request_carries_its_trace_ids_and_user() {
        let ctx = RequestContext::builder(RequestId::parse("req-7").unwrap())
            .method("GET")
            .build();
        ctx.set_route("/users/{id}");
        ctx.identify(User::id("42").email("ada@example.com").username("ada"));
        let mut shown = log();
        // A field of the same name loses to lookout's own attribute.
        shown
            .attributes
            .insert("request_id".into(), "spoofed".into());
        shown
            .attributes
            .insert(SENTRY_CORE_PARENT_SPAN.into(), "b7ad6b7169203331".into());
        let shown = ctx.enter(|| apply_request(shown));
        let trace = ctx.trace();
        let trace_id: sentry_core::protocol::TraceId = trace.trace_id.into();
        assert_eq!(shown.trace_id, Some(trace_id));
        let attribute = |key: &str| shown.attributes.get(key).map(|a| a.0.clone());
        assert_eq!(attribute("request_id"), Some("req-7".into()));
        assert_eq!(attribute("http.route"), Some("/users/{id}".into()));
        assert_eq!(attribute("http.request.method"), Some("GET".into()));
        assert_eq!(attribute("user.id"), Some("42".into()));
        // PII off (the default): neither email nor name.
        assert_eq!(attribute("user.email"), None);
        assert_eq!(attribute("user.name"), None);
        assert_eq!(attribute(PARENT_SPAN), Some("b7ad6b7169203331".into()));
        assert_eq!(attribute(SENTRY_CORE_PARENT_SPAN), None);
        assert_eq!(
            serde_json::to_value(shown.severity_number).unwrap(),
            9,
            "info"
        );

        // Without a span on the scope, the request's own span is the parent.
        let unsampled = ctx.enter(|| apply_request(log()));
        let span: sentry_core::protocol::SpanId = trace.span_id.into();
        assert_eq!(
            unsampled.attributes[PARENT_SPAN].0,
            Value::from(span.to_string())
        );
    }

    #[test]
    fn with_pii_on_the_user_email_and_name_are_attributes() {
        let ctx = RequestContext::builder(RequestId::parse("req-8").unwrap())
            .pii(lookout_policy::PiiPolicy::On)
            .build();
        ctx.identify(User::id("42").email("ada@example.com").username("ada"));
        let shown = ctx.enter(|| apply_request(log()));
        assert_eq!(shown.attributes["user.email"].0, "ada@example.com");
        assert_eq!(shown.attributes["user.name"].0, "ada");
    }

    #[test]
    fn outside_a_request_nothing_of_a_request_is_added() {
        let shown = apply_request(log());
        assert_eq!(shown.trace_id, None);
        assert!(!shown.attributes.contains_key("request_id"));
        assert!(shown.severity_number.is_some());
    }

    #[test]
    fn only_envelopes_of_logs_alone_are_left_without_a_dsc() {
        let mut logs = Envelope::new();
        logs.add_item(vec![log()]);
        assert!(carries_only_logs(&logs));
        let mut mixed = Envelope::new();
        mixed.add_item(vec![log()]);
        mixed.add_item(sentry_core::protocol::Event::default());
        assert!(!carries_only_logs(&mixed));
        assert!(!carries_only_logs(&Envelope::new()));
    }
}
