//! The delivery's self-report: what was queued, sent and dropped (by
//! reason), what waits now, and the last delivery error.
//!
//! Owns the live [`Counters`] the pipeline updates (atomics; a lock only for
//! the last error's message, taken on the error path) and their public faces:
//! [`DeliveryStats`] (shared by a [`Delivery`](super::Delivery) and its
//! transports) and the [`DeliverySnapshot`] it reads in one go. It does not
//! decide anything: the queue and the HTTP transport say what happened.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sentry_core::client_report::{Reason as TransportLossReason, Recorder};
use std::time::SystemTime;

use serde::Serialize;

use super::lock;
use super::queue::BoundedQueue;
use super::report::{ShutdownReport, Tally};
use super::spotlight::SpotlightStats;

/// Counters shared by a [`Delivery`](super::Delivery) and the transports it
/// creates: read them with [`snapshot`](Self::snapshot) (lookout-core's
/// `Engine::stats` does).
///
/// ```
/// use lookout_delivery::Delivery;
///
/// let delivery = Delivery::send();
/// let stats = delivery.stats().snapshot();
/// assert_eq!((stats.queued, stats.sent, stats.dropped.total()), (0, 0, 0));
/// assert!(stats.last_error.is_none());
/// ```
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub(super) queue: Mutex<Option<Arc<BoundedQueue>>>,
    /// The client's loss recorder, set when the queue is created: what is
    /// dropped before it reaches the queue is reported through it too.
    pub(super) recorder: OnceLock<Recorder>,
    pub(super) spotlight: Mutex<Option<Arc<SpotlightStats>>>,
    pub(super) tally: Arc<Tally>,
}

impl DeliveryStats {
    /// Envelopes dropped because the send queue was full (reported to Sentry
    /// as `queue_overflow` client reports).
    pub fn queue_dropped(&self) -> u64 {
        self.tally
            .counters
            .dropped_queue_full
            .load(Ordering::Relaxed)
    }

    /// What the send pipeline did with its envelopes, once the client was
    /// closed (`None` before, and when nothing is sent).
    ///
    /// ```
    /// use lookout_delivery::Delivery;
    ///
    /// let delivery = Delivery::send();
    /// assert_eq!(delivery.stats().shutdown_report(), None, "not shut down yet");
    /// ```
    #[must_use]
    pub fn shutdown_report(&self) -> Option<ShutdownReport> {
        self.tally.report()
    }

    /// The Spotlight pipeline's counters, when Spotlight is on.
    pub fn spotlight(&self) -> Option<Arc<SpotlightStats>> {
        lock(&self.spotlight).clone()
    }

    /// Whether the send queue is at one of its bounds now, so that an
    /// envelope handed to it would be dropped (`queue_full`). One atomic
    /// load: a sampled request asks before it starts its transaction.
    pub fn saturated(&self) -> bool {
        self.tally.counters.saturated.load(Ordering::Relaxed)
    }

    /// A transaction not recorded because the queue was full: counted as an
    /// envelope the queue took and dropped (`queue_full`, and a
    /// `queue_overflow` client report for one transaction and its span), as
    /// it would have been had it been built and handed over.
    pub fn transaction_shed(&self) {
        self.tally.accepted();
        Counters::add(&self.tally.counters.dropped_queue_full, 1);
        Counters::add(&self.tally.counters.transactions_shed, 1);
        if let Some(recorder) = self.recorder.get() {
            recorder.record_lost_data(
                &sentry_core::protocol::Transaction::default(),
                TransportLossReason::QueueOverflow,
            );
        }
    }

    /// A finished transaction a filter dropped before it was sent
    /// (`LOOKOUT_TRACE_IGNORE_STATUS_CODES`, `before_send_transaction`):
    /// counted in [`Dropped::event_processor`] and, when sending, reported
    /// to Sentry as an `event_processor` discard of one `transaction` and
    /// its spans (`span_count`: its child spans plus its root span).
    pub fn transaction_filtered(&self, span_count: u64) {
        use sentry_core::protocol::ClientReport;
        use sentry_core::protocol::client_report::{Category, Item, Reason};
        Counters::add(&self.tally.counters.dropped_event_processor, 1);
        if let Some(recorder) = self.recorder.get() {
            // The transport-facing recorder knows only transport reasons; a
            // report's own items keep theirs (`event_processor`).
            let report = ClientReport::new([
                Item::new(Category::Transaction, Reason::EventProcessor, 1),
                Item::new(Category::Span, Reason::EventProcessor, span_count),
            ]);
            recorder.record_lost_data(&report, TransportLossReason::InternalError);
        }
    }

    /// One more error event passed every `before_send`.
    pub fn event_prepared(&self) {
        Counters::add(&self.tally.counters.events_prepared, 1);
    }

    /// Every counter, read now. Cheap (a few atomic loads; the last error's
    /// lock only to copy its message), so a status route or a metrics
    /// exporter may call it on every scrape.
    #[must_use]
    pub fn snapshot(&self) -> DeliverySnapshot {
        let c = &self.tally.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        // Arrivals first: an event counted prepared but not arrived yet is
        // one being captured right now, never a negative count.
        let arrived = load(&c.events_arrived);
        let prepared = load(&c.events_prepared);
        let spotlight = self.spotlight();
        DeliverySnapshot {
            queued: self.tally.accepted_count(),
            queued_bytes: load(&c.queued_bytes),
            waiting: load(&c.waiting),
            waiting_bytes: load(&c.waiting_bytes),
            peak_waiting: load(&c.peak_waiting),
            peak_waiting_bytes: load(&c.peak_waiting_bytes),
            sent: self.tally.delivered_count(),
            sent_bytes: load(&c.sent_bytes),
            sent_wire_bytes: load(&c.sent_wire_bytes),
            dropped: Dropped {
                queue_full: load(&c.dropped_queue_full),
                transactions_shed: load(&c.transactions_shed),
                rate_limited: load(&c.dropped_rate_limited),
                network_error: load(&c.dropped_network_error),
                http_error: load(&c.dropped_http_error),
                sampled_out: prepared.saturating_sub(arrived),
                shutdown: load(&c.dropped_shutdown),
                event_processor: load(&c.dropped_event_processor),
            },
            last_error: lock(&c.last_error).clone(),
            spotlight: spotlight.map(|s| SpotlightSnapshot {
                delivered: s.delivered(),
                dropped: s.dropped(),
                failures: s.failures(),
            }),
        }
    }
}

/// The delivery's counters at one moment ([`DeliveryStats::snapshot`],
/// lookout-core's `Engine::stats`); serializes as the `stats`
/// object of the status route.
///
/// Envelopes are counted as the send queue sees them (one captured error,
/// one transaction, one batch of logs each); `queued` only grows, `waiting`
/// is what is in the queue now.
///
/// ```
/// use lookout_delivery::DeliverySnapshot;
///
/// let stats = DeliverySnapshot::default();
/// let json = serde_json::to_value(&stats).unwrap();
/// assert_eq!(json["dropped"]["queue_full"], 0);
/// assert_eq!(json["last_error"], serde_json::Value::Null);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliverySnapshot {
    /// Envelopes handed to the send queue so far (including those it then
    /// dropped).
    pub queued: u64,
    /// Serialized bytes the queue took in so far (envelopes dropped at the
    /// count bound were never serialized and are not in it).
    pub queued_bytes: u64,
    /// Envelopes waiting in the queue now (bounded by
    /// `LOOKOUT_QUEUE_MAX_ENVELOPES`).
    pub waiting: u64,
    /// Serialized bytes waiting for the network now (bounded by
    /// `LOOKOUT_QUEUE_MAX_BYTES`).
    pub waiting_bytes: u64,
    /// The most envelopes that ever waited at once.
    pub peak_waiting: u64,
    /// The most serialized bytes that ever waited at once.
    pub peak_waiting_bytes: u64,
    /// Envelopes Sentry confirmed with a 2xx answer.
    pub sent: u64,
    /// The bytes of the envelopes Sentry confirmed, serialized, before
    /// compression.
    pub sent_bytes: u64,
    /// The bytes of the envelopes Sentry confirmed as they went on the wire
    /// (compressed, `LOOKOUT_COMPRESSION`); the same as `sent_bytes` when
    /// nothing is compressed.
    pub sent_wire_bytes: u64,
    /// What was dropped, by reason.
    pub dropped: Dropped,
    /// The most recent failure to deliver, if any.
    pub last_error: Option<LastError>,
    /// The Spotlight copy's counters, when Spotlight is on.
    pub spotlight: Option<SpotlightSnapshot>,
}

/// Envelopes (or events) dropped, by reason; see [`DeliverySnapshot::dropped`].
///
/// ```
/// let dropped = lookout_delivery::Dropped::default();
/// assert_eq!(dropped.total(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Dropped {
    /// The send queue was full (its count or byte bound); reported to Sentry
    /// as `queue_overflow`.
    pub queue_full: u64,
    /// Of `queue_full`: sampled transactions never recorded because the
    /// queue was full when their request began (shed, not built).
    pub transactions_shed: u64,
    /// Held back whole while Sentry's rate limit (429, `Retry-After`,
    /// `X-Sentry-Rate-Limits`) covered everything in them, or answered `429`.
    /// An envelope sent with part of its items counts as sent.
    pub rate_limited: u64,
    /// The network failed: connection refused, no answer within the request
    /// timeout, a broken connection.
    pub network_error: u64,
    /// Sentry answered with an error status other than 429 (a 500, a 413).
    pub http_error: u64,
    /// Error events the error sample rate (`SENTRY_SAMPLE_RATE`) left out,
    /// in every delivery mode (unsampled traces never become envelopes and
    /// are not counted). While events are being captured it may be ahead by
    /// the few in between.
    pub sampled_out: u64,
    /// Still waiting when the shutdown deadline passed.
    pub shutdown: u64,
    /// Transactions a filter dropped before delivery: the request's status
    /// is in `LOOKOUT_TRACE_IGNORE_STATUS_CODES`, or the application's
    /// `before_send_transaction` returned `None`. Reported to Sentry as
    /// `event_processor` discards (categories `transaction` and `span`).
    pub event_processor: u64,
}

impl Dropped {
    /// Every envelope dropped for any reason, plus the sampled-out events.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.queue_full
            + self.rate_limited
            + self.network_error
            + self.http_error
            + self.sampled_out
            + self.shutdown
            + self.event_processor
    }
}

/// The most recent delivery failure: what happened and when.
///
/// The message names the failure and the Sentry host, never the DSN's keys
/// (they travel in a header, not in the URL). `at` serializes as an RFC 3339
/// UTC timestamp.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use lookout_delivery::LastError;
///
/// let error = LastError { message: "Sentry answered 500 Internal Server Error".into(), at: SystemTime::UNIX_EPOCH + Duration::from_secs(86_400) };
/// assert_eq!(serde_json::to_value(&error).unwrap()["at"], "1970-01-02T00:00:00Z");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// What failed (`connection refused`, `Sentry answered 500 ...`).
    pub message: String,
    /// When it failed.
    #[serde(serialize_with = "rfc3339")]
    pub at: SystemTime,
}

/// The Spotlight copy's counters in a [`DeliverySnapshot`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SpotlightSnapshot {
    /// Envelopes the sidecar accepted.
    pub delivered: u64,
    /// Envelopes dropped (the sidecar down or backing off, channel full).
    pub dropped: u64,
    /// Failed posts.
    pub failures: u64,
}

/// The live counters behind a [`DeliverySnapshot`], updated by the queue,
/// the HTTP transport and the client's `before_send`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued_bytes: AtomicU64,
    pub(crate) waiting: AtomicU64,
    pub(crate) waiting_bytes: AtomicU64,
    pub(crate) peak_waiting: AtomicU64,
    pub(crate) peak_waiting_bytes: AtomicU64,
    pub(crate) sent_bytes: AtomicU64,
    pub(crate) sent_wire_bytes: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) transactions_shed: AtomicU64,
    pub(crate) dropped_rate_limited: AtomicU64,
    pub(crate) dropped_network_error: AtomicU64,
    pub(crate) dropped_http_error: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    /// Transactions dropped by a filter before delivery.
    pub(crate) dropped_event_processor: AtomicU64,
    /// Error events that passed every `before_send` (sampling comes next).
    pub(crate) events_prepared: AtomicU64,
    /// Error events that reached the transport.
    pub(crate) events_arrived: AtomicU64,
    pub(crate) last_error: Mutex<Option<LastError>>,
    /// Whether the queue is at one of its bounds now: a sampled request
    /// then records no transaction (it would be dropped on arrival).
    pub(crate) saturated: AtomicBool,
}

impl Counters {
    /// One more of `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// What waits in the queue now (called where the queue changes, under
    /// its lock, so the gauges never go backwards out of order).
    pub(crate) fn waiting_now(&self, envelopes: usize, bytes: usize, saturated: bool) {
        if self.saturated.load(Ordering::Relaxed) != saturated {
            self.saturated.store(saturated, Ordering::Relaxed);
        }
        let (envelopes, bytes) = (envelopes as u64, bytes as u64);
        self.waiting.store(envelopes, Ordering::Relaxed);
        self.waiting_bytes.store(bytes, Ordering::Relaxed);
        self.peak_waiting.fetch_max(envelopes, Ordering::Relaxed);
        self.peak_waiting_bytes.fetch_max(bytes, Ordering::Relaxed);
    }

    /// Records a failure as the last error (the error path only).
    pub(crate) fn failed(&self, message: String) {
        *lock(&self.last_error) = Some(LastError {
            message,
            at: SystemTime::now(),
        });
    }
}

/// `at` as `YYYY-MM-DDTHH:MM:SSZ` (UTC; a time before 1970 as the epoch).
fn rfc3339<S: serde::Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_rfc3339(*at))
}

pub(crate) fn format_rfc3339(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = |secs| format_rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(at(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn sampled_out_is_what_passed_before_send_and_never_reached_the_transport() {
        let stats = DeliveryStats::default();
        let c = &stats.tally.counters;
        Counters::add(&c.events_prepared, 10);
        Counters::add(&c.events_arrived, 7);
        c.waiting_now(3, 300, false);
        c.waiting_now(1, 100, false);
        c.failed("Sentry answered 500 Internal Server Error".into());
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.dropped.sampled_out, 3);
        assert_eq!((snapshot.waiting, snapshot.waiting_bytes), (1, 100));
        assert_eq!(
            (snapshot.peak_waiting, snapshot.peak_waiting_bytes),
            (3, 300)
        );
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(
            json["last_error"]["message"],
            "Sentry answered 500 Internal Server Error"
        );
        assert!(json["last_error"]["at"].as_str().unwrap().ends_with('Z'));
    }
}
