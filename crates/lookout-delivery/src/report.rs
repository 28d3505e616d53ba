//! What the send pipeline did with the envelopes it was given, as counted
//! when it shut down.
//!
//! The count is a balance, not a list of failure paths: every envelope the
//! send queue accepted is either confirmed by Sentry (a 2xx answer) or lost,
//! whatever lost it (a bound, a refused connection, an error status, a rate
//! limit, the shutdown deadline). A path nobody thought of cannot make an
//! envelope vanish from the count.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Records the items of a serialized envelope as lost for `reason` in
/// client reports, so a batch of logs counts every `log_item` and its
/// bytes. A batch of lookout's own (one container of logs or metrics) is
/// measured where it lies ([`crate::losses`]); anything else is parsed back
/// (only on such a failure).
pub(crate) fn record_lost_bytes(
    recorder: &sentry_core::client_report::Recorder,
    bytes: &[u8],
    reason: sentry_core::client_report::Reason,
) {
    let batch =
        discard_reason(reason).and_then(|discard| crate::losses::batch_report(bytes, discard));
    if let Some(report) = batch {
        recorder.record_lost_data(&report, reason);
    } else if let Ok(envelope) = sentry_core::Envelope::from_slice(bytes) {
        recorder.record_lost_data(&envelope, reason);
    }
}

/// The client report's discard reason for a transport's loss reason, as
/// sentry-core converts it; `None` for a reason it added since (the
/// envelope is then parsed and recorded by sentry-core itself).
fn discard_reason(
    reason: sentry_core::client_report::Reason,
) -> Option<sentry_core::protocol::client_report::Reason> {
    use sentry_core::client_report::Reason as Loss;
    use sentry_core::protocol::client_report::Reason as Discard;
    match reason {
        Loss::SendError => Some(Discard::SendError),
        Loss::InternalError => Some(Discard::InternalSdkError),
        Loss::NetworkError => Some(Discard::NetworkError),
        Loss::RatelimitBackoff => Some(Discard::RatelimitBackoff),
        Loss::QueueOverflow => Some(Discard::QueueOverflow),
        _ => None,
    }
}

/// What the send pipeline did with the envelopes it was given, counted when
/// it shut down (see [`DeliveryStats::shutdown_report`](super::DeliveryStats::shutdown_report)).
///
/// ```
/// use lookout_delivery::ShutdownReport;
///
/// let report = ShutdownReport::default();
/// assert_eq!((report.accepted, report.delivered, report.lost), (0, 0, 0));
/// assert!(!report.timed_out);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Envelopes handed to the send queue (including those it dropped at its
    /// bounds).
    pub accepted: u64,
    /// Envelopes Sentry confirmed with a 2xx answer before the deadline.
    pub delivered: u64,
    /// Envelopes that did not reach Sentry: dropped at the queue's bounds,
    /// refused or failed on the network, answered with an error status, rate
    /// limited, or still waiting or in flight when the shutdown deadline
    /// passed (those are dropped, nothing waits for them).
    pub lost: u64,
    /// Whether the shutdown deadline passed with envelopes still on their way.
    pub timed_out: bool,
}

/// The counters behind a [`ShutdownReport`], shared by the send queue and the
/// HTTP transport.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    accepted: AtomicU64,
    delivered: AtomicU64,
    report: OnceLock<ShutdownReport>,
    /// The live counters behind [`DeliveryStats::snapshot`](super::DeliveryStats::snapshot).
    pub(crate) counters: super::stats::Counters,
}

impl Tally {
    /// One more envelope handed to the send queue.
    pub(crate) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// `count` more envelopes confirmed.
    pub(crate) fn delivered(&self, count: u64) {
        self.delivered.fetch_add(count, Ordering::Relaxed);
    }

    /// Envelopes handed to the send queue so far.
    pub(crate) fn accepted_count(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Envelopes confirmed so far (at most the accepted ones).
    pub(crate) fn delivered_count(&self) -> u64 {
        self.delivered
            .load(Ordering::Relaxed)
            .min(self.accepted_count())
    }

    /// Freezes the counts (the first call wins): what is confirmed after the
    /// deadline came too late to be counted, the process may be gone by then.
    pub(crate) fn close(&self, timed_out: bool) -> ShutdownReport {
        *self.report.get_or_init(|| {
            let accepted = self.accepted.load(Ordering::Relaxed);
            let delivered = self.delivered.load(Ordering::Relaxed).min(accepted);
            ShutdownReport {
                accepted,
                delivered,
                lost: accepted - delivered,
                timed_out,
            }
        })
    }

    /// The frozen counts, once [`close`](Self::close) ran.
    pub(crate) fn report(&self) -> Option<ShutdownReport> {
        self.report.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_confirmed_is_lost_and_the_first_close_freezes_the_counts() {
        let tally = Tally::default();
        for _ in 0..5 {
            tally.accepted();
        }
        tally.delivered(2);
        assert_eq!(tally.report(), None, "nothing frozen before shutdown");
        let report = tally.close(true);
        assert_eq!(
            (report.accepted, report.delivered, report.lost),
            (5, 2, 3),
            "{report:?}"
        );
        assert!(report.timed_out);
        // A confirmation arriving after the deadline does not change the report.
        tally.delivered(3);
        assert_eq!(tally.close(false), report);
        assert_eq!(tally.report(), Some(report));
    }
}
