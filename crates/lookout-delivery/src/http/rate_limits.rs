//! Rate limits that keep the envelope headers: the per-category limits
//! Sentry announces (`X-Sentry-Rate-Limits`, `Retry-After`, 429) applied to
//! an envelope's items, the `monitor` category sentry 0.49's `RateLimiter`
//! does not know, and the backoff while every category is limited.

use std::sync::{Arc, Mutex};

use sentry::transports::{RateLimiter, RateLimitingCategory};
use sentry_core::Envelope;
use sentry_core::client_report::{Reason as LossReason, Recorder};
use sentry_core::protocol::{EnvelopeItem, ItemContainer};

use crate::lock;

/// Until when every category is rate limited (429 without categories,
/// `Retry-After`, or an `X-Sentry-Rate-Limits` group without categories).
#[derive(Clone, Default)]
pub(super) struct Backoff(Arc<Mutex<Option<std::time::Instant>>>);

impl Backoff {
    pub(super) fn update(&self, limits: &RateLimiter) {
        let until = limits
            .is_disabled(RateLimitingCategory::Any)
            .map(|left| std::time::Instant::now() + left);
        *lock(&self.0) = until;
    }

    pub(super) fn in_force(&self) -> bool {
        lock(&self.0).is_some_and(|until| std::time::Instant::now() < until)
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

/// The body to send for the serialized envelope `raw` after dropping the
/// items whose category is rate limited, with the envelope headers kept;
/// `None` when nothing is left. Dropped items are recorded as
/// `ratelimit_backoff`. Without any limit in force the bytes go as they are
/// (no parsing, no copy).
pub(super) fn within_limits(
    raw: Vec<u8>,
    limits: &RateLimiter,
    monitor_limit: &MonitorLimit,
    recorder: &Recorder,
) -> Option<Vec<u8>> {
    let monitors = monitor_limit.is_enabled();
    if monitors && categories().into_iter().all(|c| limits.is_enabled(c)) {
        return Some(raw);
    }
    let typed = Envelope::from_slice(&raw).ok()?;
    let mut kept = Envelope::new().with_headers(typed.headers().clone());
    let mut any = false;
    for item in typed.into_items() {
        let allowed = match item {
            // sentry 0.49's RateLimiter has no `monitor` category.
            EnvelopeItem::MonitorCheckIn(_) => monitors && limits.is_enabled(category(&item)),
            _ => limits.is_enabled(category(&item)),
        };
        if allowed {
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

/// The `monitor` rate-limit category (cron check-ins) of
/// `X-Sentry-Rate-Limits`, which sentry 0.49's `RateLimiter` does not know.
#[derive(Clone, Default)]
pub(super) struct MonitorLimit(Arc<std::sync::Mutex<Option<std::time::SystemTime>>>);

impl MonitorLimit {
    /// Reads the groups naming `monitor` from a `X-Sentry-Rate-Limits`
    /// value (`<seconds>:<category>;...:<scope>[:<reason>]`, comma-separated).
    pub(super) fn update_from_sentry_header(&self, header: &str) {
        for group in header.split(',') {
            let mut parts = group.trim().split(':');
            let (Some(seconds), Some(categories)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(seconds) = seconds.parse::<f64>() else {
                continue;
            };
            if categories.split(';').any(|c| c == "monitor") {
                let until = std::time::SystemTime::now()
                    + std::time::Duration::from_secs(seconds.max(0.0).ceil() as u64);
                *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
            }
        }
    }

    /// Whether check-ins may be sent now.
    pub(super) fn is_enabled(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|until| std::time::SystemTime::now() >= until)
    }
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
    use crate::http::mixed;
    use sentry_core::protocol::Event;

    #[test]
    fn without_limits_the_envelope_goes_whole_with_its_headers() {
        let body = within_limits(
            bytes(&mixed()),
            &RateLimiter::new(),
            &MonitorLimit::default(),
            &Recorder::default(),
        )
        .unwrap();
        let parsed = Envelope::from_slice(&body).unwrap();
        assert_eq!(parsed.items().count(), 2);
        let headers = serde_json::to_value(parsed.headers()).unwrap();
        assert_eq!(headers["trace"]["release"], "api@1");
    }

    #[test]
    fn a_limited_category_is_dropped_and_the_headers_stay() {
        let body = under_limits("60:transaction:organization", &mixed()).unwrap();
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

    fn log_and_event() -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(vec![sentry_core::protocol::Log {
            level: sentry_core::protocol::LogLevel::Warn,
            body: "GET /x -> 404".into(),
            trace_id: None,
            timestamp: std::time::SystemTime::now(),
            severity_number: None,
            attributes: Default::default(),
        }]);
        envelope.add_item(Event::default());
        envelope
    }

    fn item_types(body: &[u8]) -> Vec<&'static str> {
        Envelope::from_slice(body)
            .unwrap()
            .items()
            .map(|item| match item {
                EnvelopeItem::Event(_) => "event",
                EnvelopeItem::ItemContainer(ItemContainer::Logs(_)) => "log",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_log_item_limit_drops_logs_and_keeps_errors_and_the_reverse() {
        let body = under_limits("60:log_item:organization", &log_and_event()).unwrap();
        assert_eq!(item_types(&body), ["event"]);

        let body = under_limits("60:error:organization", &log_and_event()).unwrap();
        assert_eq!(item_types(&body), ["log"]);
    }

    #[test]
    fn nothing_is_sent_when_every_item_is_limited() {
        assert!(under_limits("60:error;transaction:organization", &mixed()).is_none());
    }

    fn check_in_and_event() -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(EnvelopeItem::MonitorCheckIn(
            sentry_core::protocol::MonitorCheckIn {
                check_in_id: sentry_core::types::Uuid::new_v4(),
                monitor_slug: "nightly".into(),
                status: sentry_core::protocol::MonitorCheckInStatus::Ok,
                environment: None,
                duration: None,
                monitor_config: None,
            },
        ));
        envelope.add_item(Event::default());
        envelope
    }

    /// sentry's own RateLimiter ignores the `monitor` category: a 429 for
    /// check-ins would otherwise not stop them.
    #[test]
    fn a_monitor_limit_drops_check_ins_and_keeps_errors() {
        let limits = RateLimiter::new();
        let monitors = MonitorLimit::default();
        let body = within_limits(
            bytes(&check_in_and_event()),
            &limits,
            &monitors,
            &Recorder::default(),
        )
        .unwrap();
        assert_eq!(item_types(&body), ["other", "event"], "the check-in goes");
        monitors.update_from_sentry_header("60:monitor:organization:quota, 5:log_item:project");
        let body = within_limits(
            bytes(&check_in_and_event()),
            &limits,
            &monitors,
            &Recorder::default(),
        )
        .unwrap();
        assert_eq!(item_types(&body), ["event"]);
        let expired = MonitorLimit::default();
        expired.update_from_sentry_header("0:monitor:organization");
        assert!(expired.is_enabled(), "a zero-second limit is over at once");
    }

    fn bytes(envelope: &Envelope) -> Vec<u8> {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        bytes
    }

    /// `envelope` as sent under the limits of one `X-Sentry-Rate-Limits` value.
    fn under_limits(header: &str, envelope: &Envelope) -> Option<Vec<u8>> {
        let mut limits = RateLimiter::new();
        limits.update_from_sentry_header(header);
        within_limits(
            bytes(envelope),
            &limits,
            &MonitorLimit::default(),
            &Recorder::default(),
        )
    }
}
