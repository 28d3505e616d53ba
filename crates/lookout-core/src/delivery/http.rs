//! The HTTP transport: envelopes to Sentry over reqwest (rustls), with their
//! headers intact and every rate limit honoured.
//!
//! The `sentry` crate's own HTTP transport (0.49) applies per-category rate
//! limits with `Envelope::filter`, which rebuilds the envelope from its items
//! and drops the envelope headers: the `trace` header (the frozen DSC),
//! `event_id` and `sent_at` would never reach Sentry. This transport runs on
//! the same `sentry` transport thread (bounded channel, 429 / `Retry-After` /
//! `X-Sentry-Rate-Limits` bookkeeping in [`RateLimiter`]) but hands it the
//! envelope as raw bytes, and applies the per-category limits itself while
//! keeping the headers.

use std::time::Duration;

use sentry::transports::{
    RateLimiter, RateLimitingCategory, TokioTransportThread, TokioTransportThreadOptions,
};
use sentry_core::client_report::{Reason as LossReason, Recorder};
use sentry_core::protocol::{EnvelopeItem, ItemContainer};
use sentry_core::{Envelope, Transport, TransportOptions};

/// Sends envelopes to the DSN's envelope endpoint from a background thread.
pub(crate) struct HttpTransport {
    thread: TokioTransportThread,
}

impl HttpTransport {
    pub(crate) fn new(options: TransportOptions) -> Self {
        let TransportOptions {
            dsn,
            user_agent,
            client_report_recorder,
            transport_channel_capacity,
            ..
        } = options;
        let auth = dsn.to_auth(Some(&user_agent)).to_string();
        let url = dsn.envelope_api_url().to_string();
        // reqwest builds its rustls configuration here; failing that, the
        // client without TLS still reaches plain-HTTP endpoints (local relays).
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let recorder = client_report_recorder.clone();
        let send = move |envelope: Envelope, mut limits: RateLimiter| {
            let body = within_limits(&envelope, &limits, &recorder);
            let request = body.map(|body| {
                let sent = bytes::Bytes::from(body);
                (
                    client
                        .post(&url)
                        .header("X-Sentry-Auth", &auth)
                        .header("Content-Type", "application/x-sentry-envelope")
                        .body(sent.clone())
                        .send(),
                    sent,
                )
            });
            let recorder = recorder.clone();
            async move {
                let Some((request, sent)) = request else {
                    return limits;
                };
                match request.await {
                    Ok(response) => {
                        let headers = response.headers();
                        if let Some(value) = header(headers, "x-sentry-rate-limits") {
                            limits.update_from_sentry_header(value);
                        } else if let Some(value) = header(headers, "retry-after") {
                            limits.update_from_retry_after(value);
                        } else if response.status().as_u16() == 429 {
                            limits.update_from_429();
                        }
                        let status = response.status().as_u16();
                        // Relay records rate-limited data itself; other failures are ours to report.
                        if (400..=599).contains(&status) && status != 429 {
                            record_lost(&recorder, &sent, LossReason::SendError);
                        }
                    }
                    Err(_) => record_lost(&recorder, &sent, LossReason::NetworkError),
                }
                limits
            }
        };
        let mut thread = TokioTransportThreadOptions::new(send)
            .with_client_report_recorder(client_report_recorder);
        if let Some(capacity) = transport_channel_capacity {
            thread = thread.with_channel_capacity(capacity.get());
        }
        Self {
            thread: thread.spawn_thread(),
        }
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // Raw, so the transport thread's own filter passes it on whole. The
        // send queue already hands over raw envelopes (no items to iterate).
        if envelope.items().next().is_none() {
            self.thread.send(envelope);
            return;
        }
        let mut bytes = Vec::new();
        if envelope.to_writer(&mut bytes).is_err() {
            return;
        }
        if let Ok(raw) = Envelope::from_bytes_raw(bytes) {
            self.thread.send(raw);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.thread.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.thread.flush(timeout)
    }
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Records the items of a sent body as lost (parsed back only on failure).
fn record_lost(recorder: &Recorder, body: &[u8], reason: LossReason) {
    if let Ok(envelope) = Envelope::from_slice(body) {
        recorder.record_lost_data(&envelope, reason);
    }
}

fn categories() -> [RateLimitingCategory; 7] {
    [
        RateLimitingCategory::Any,
        RateLimitingCategory::Error,
        RateLimitingCategory::Session,
        RateLimitingCategory::Transaction,
        RateLimitingCategory::Attachment,
        RateLimitingCategory::LogItem,
        RateLimitingCategory::TraceMetric,
    ]
}

/// The body to send for `envelope` after dropping the items whose category
/// is rate limited, with the envelope headers kept; `None` when nothing is
/// left. Dropped items are recorded as `ratelimit_backoff`. Without any limit
/// in force the bytes go as they are (no parsing).
fn within_limits(
    envelope: &Envelope,
    limits: &RateLimiter,
    recorder: &Recorder,
) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    envelope.to_writer(&mut raw).ok()?;
    if categories().into_iter().all(|c| limits.is_enabled(c)) {
        return Some(raw);
    }
    let typed = Envelope::from_slice(&raw).ok()?;
    let mut kept = Envelope::new().with_headers(typed.headers().clone());
    let mut any = false;
    for item in typed.into_items() {
        if limits.is_enabled(category(&item)) {
            kept.add_item(item);
            any = true;
        } else {
            recorder.record_lost_data(&item, LossReason::RatelimitBackoff);
        }
    }
    if !any {
        return None;
    }
    let mut body = Vec::new();
    kept.to_writer(&mut body).ok()?;
    Some(body)
}

/// The rate-limit category of an item (the same mapping the `sentry` crate uses).
fn category(item: &EnvelopeItem) -> RateLimitingCategory {
    match item {
        EnvelopeItem::Event(_) => RateLimitingCategory::Error,
        EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => {
            RateLimitingCategory::Session
        }
        EnvelopeItem::Transaction(_) => RateLimitingCategory::Transaction,
        EnvelopeItem::Attachment(_) => RateLimitingCategory::Attachment,
        EnvelopeItem::ItemContainer(ItemContainer::Logs(_)) => RateLimitingCategory::LogItem,
        EnvelopeItem::ItemContainer(ItemContainer::Metrics(_)) => RateLimitingCategory::TraceMetric,
        _ => RateLimitingCategory::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{Event, Transaction};

    fn mixed() -> Envelope {
        let trace =
            sentry_core::protocol::DynamicSamplingContext::new().with_release("api@1".into());
        let mut envelope = Envelope::new()
            .with_headers(sentry_core::protocol::EnvelopeHeaders::new().with_trace(trace));
        envelope.add_item(Event::default());
        envelope.add_item(Transaction::default());
        envelope
    }

    #[test]
    fn without_limits_the_envelope_goes_whole_with_its_headers() {
        let body = within_limits(&mixed(), &RateLimiter::new(), &Recorder::default()).unwrap();
        let parsed = Envelope::from_slice(&body).unwrap();
        assert_eq!(parsed.items().count(), 2);
        let headers = serde_json::to_value(parsed.headers()).unwrap();
        assert_eq!(headers["trace"]["release"], "api@1");
    }

    #[test]
    fn a_limited_category_is_dropped_and_the_headers_stay() {
        let mut limits = RateLimiter::new();
        limits.update_from_sentry_header("60:transaction:organization");
        let body = within_limits(&mixed(), &limits, &Recorder::default()).unwrap();
        let parsed = Envelope::from_slice(&body).unwrap();
        assert_eq!(parsed.items().count(), 1);
        assert!(matches!(
            parsed.items().next(),
            Some(EnvelopeItem::Event(_))
        ));
        let headers = serde_json::to_value(parsed.headers()).unwrap();
        assert_eq!(
            headers["trace"]["release"], "api@1",
            "headers survive the filter"
        );
    }

    #[test]
    fn nothing_is_sent_when_every_item_is_limited() {
        let mut limits = RateLimiter::new();
        limits.update_from_sentry_header("60:error;transaction:organization");
        assert!(within_limits(&mixed(), &limits, &Recorder::default()).is_none());
    }
}
