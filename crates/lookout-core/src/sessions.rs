//! Release-health sessions in request mode: one session per request,
//! aggregated per minute as the Sentry SDKs send them, with no lock and no
//! allocation per request.
//!
//! sentry-core's request mode builds a `Session` per request (its release,
//! environment and a session id copied) and aggregates the ended sessions
//! under a mutex shared by every worker thread. Here a request adds one to an
//! atomic counter of its start minute; a background thread (every
//! [`HARVEST_EVERY`]) and every flush of the client (shutdown included) turn
//! the counters of past minutes into a `sessions` envelope item
//! (`SessionAggregates`) sent through the client like any other envelope.
//!
//! Four minute slots form a ring. A slot is reused four minutes after its
//! minute began, by which time the harvester has emptied it; a request that
//! started more than four minutes ago (a very long request) counts in the
//! minute its slot holds now.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentry_core::protocol::{
    EnvelopeItem, SessionAggregateItem, SessionAggregates, SessionAttributes,
};
use sentry_core::{Envelope, Hub};

/// How often past minutes are sent while the process runs.
pub(crate) const HARVEST_EVERY: Duration = Duration::from_secs(20);

/// How a request's session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Answered, nothing went wrong.
    Exited,
    /// Answered, an error was captured.
    Errored,
    /// The handler panicked, or an unhandled exception was captured.
    Crashed,
    /// Dropped before it was answered (client gone, timeout).
    Abnormal,
}

/// One minute's counters.
#[derive(Default)]
struct Slot {
    /// Minutes since the Unix epoch; 0 for a slot never used.
    minute: AtomicU64,
    exited: AtomicU32,
    errored: AtomicU32,
    crashed: AtomicU32,
    abnormal: AtomicU32,
}

/// The aggregator of one engine (shared by its clones and adapters).
pub(crate) struct Sessions {
    slots: [Slot; 4],
    release: String,
    environment: Option<String>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("release", &self.release)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// An aggregator for sessions of `release` in `environment`. With a
    /// `hub`, a background thread sends past minutes through its client
    /// every [`HARVEST_EVERY`]; it ends once the aggregator is dropped.
    pub(crate) fn start(
        release: String,
        environment: Option<String>,
        hub: Option<Arc<Hub>>,
    ) -> Arc<Sessions> {
        let sessions = Arc::new(Sessions {
            slots: Default::default(),
            release,
            environment,
        });
        let weak = Arc::downgrade(&sessions);
        let spawned = std::thread::Builder::new()
            .name("lookout-sessions".into())
            .spawn(move || harvest_loop(&weak, hub));
        // Without the thread, flushes still send everything.
        drop(spawned);
        sessions
    }

    /// Counts one request's session: a few atomic operations.
    pub(crate) fn record(&self, started: SystemTime, ended: Ended) {
        let minute = minute_of(started);
        let slot = &self.slots[(minute % 4) as usize];
        let held = slot.minute.load(Ordering::Acquire);
        if held < minute {
            // The slot's old minute was harvested long ago; whoever wins
            // the exchange, the slot now holds this minute (or a later one).
            let _ = slot
                .minute
                .compare_exchange(held, minute, Ordering::AcqRel, Ordering::Acquire);
        }
        let counter = match ended {
            Ended::Exited => &slot.exited,
            Ended::Errored => &slot.errored,
            Ended::Crashed => &slot.crashed,
            Ended::Abnormal => &slot.abnormal,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the counts (of past minutes only, or of all) as an envelope;
    /// `None` when there is nothing to send.
    pub(crate) fn take(&self, past_only: bool, now: SystemTime) -> Option<Envelope> {
        let current = minute_of(now);
        let mut aggregates = Vec::new();
        for slot in &self.slots {
            let minute = slot.minute.load(Ordering::Acquire);
            if minute == 0 || (past_only && minute >= current) {
                continue;
            }
            let item = SessionAggregateItem {
                started: UNIX_EPOCH + Duration::from_secs(minute * 60),
                distinct_id: None,
                exited: slot.exited.swap(0, Ordering::Relaxed),
                errored: slot.errored.swap(0, Ordering::Relaxed),
                abnormal: slot.abnormal.swap(0, Ordering::Relaxed),
                crashed: slot.crashed.swap(0, Ordering::Relaxed),
            };
            if item.exited + item.errored + item.abnormal + item.crashed > 0 {
                aggregates.push(item);
            }
        }
        if aggregates.is_empty() {
            return None;
        }
        aggregates.sort_by_key(|item| item.started);
        let mut envelope = Envelope::new();
        envelope.add_item(EnvelopeItem::SessionAggregates(SessionAggregates {
            aggregates,
            attributes: SessionAttributes {
                release: self.release.clone().into(),
                environment: self.environment.clone().map(Into::into),
                ip_address: None,
                user_agent: None,
            },
        }));
        Some(envelope)
    }
}

fn minute_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 60)
}

fn harvest_loop(sessions: &Weak<Sessions>, hub: Option<Arc<Hub>>) {
    loop {
        std::thread::sleep(HARVEST_EVERY);
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        let hub = hub.clone().unwrap_or_else(Hub::main);
        if let Some(envelope) = sessions.take(true, SystemTime::now())
            && let Some(client) = hub.client()
        {
            client.send_envelope(envelope);
        }
    }
}

impl lookout_delivery::Aggregates for Sessions {
    /// Every count so far, the current minute's too (a flush sends them).
    fn take(&self) -> Option<Envelope> {
        Sessions::take(self, false, SystemTime::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u64, second: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(minute * 60 + second)
    }

    fn counts(envelope: &Envelope) -> Vec<(u64, u32, u32, u32, u32)> {
        envelope
            .items()
            .flat_map(|item| match item {
                EnvelopeItem::SessionAggregates(a) => a.aggregates.clone(),
                _ => Vec::new(),
            })
            .map(|a| {
                let minute = a.started.duration_since(UNIX_EPOCH).unwrap().as_secs() / 60;
                (minute, a.exited, a.errored, a.crashed, a.abnormal)
            })
            .collect()
    }

    fn sessions() -> Arc<Sessions> {
        Arc::new(Sessions {
            slots: Default::default(),
            release: "api@1".into(),
            environment: Some("production".into()),
        })
    }

    #[test]
    fn requests_are_counted_per_start_minute_and_status() {
        let s = sessions();
        s.record(at(1000, 1), Ended::Exited);
        s.record(at(1000, 59), Ended::Exited);
        s.record(at(1000, 30), Ended::Errored);
        s.record(at(1001, 0), Ended::Crashed);
        s.record(at(1001, 5), Ended::Abnormal);
        let envelope = s.take(false, at(1001, 10)).unwrap();
        assert_eq!(counts(&envelope), [(1000, 2, 1, 0, 0), (1001, 0, 0, 1, 1)]);
        let EnvelopeItem::SessionAggregates(a) = envelope.items().next().unwrap() else {
            panic!("a sessions item")
        };
        assert_eq!(a.attributes.release, "api@1");
        assert_eq!(a.attributes.environment.as_deref(), Some("production"));
        assert!(s.take(false, at(1001, 10)).is_none(), "taken once");
    }

    #[test]
    fn the_harvest_leaves_the_running_minute_alone() {
        let s = sessions();
        s.record(at(1000, 1), Ended::Exited);
        s.record(at(1001, 1), Ended::Exited);
        let past = s.take(true, at(1001, 30)).unwrap();
        assert_eq!(counts(&past), [(1000, 1, 0, 0, 0)]);
        let rest = s.take(false, at(1001, 30)).unwrap();
        assert_eq!(counts(&rest), [(1001, 1, 0, 0, 0)]);
    }

    #[test]
    fn a_slot_is_reused_four_minutes_on() {
        let s = sessions();
        s.record(at(1000, 1), Ended::Exited);
        assert!(s.take(true, at(1003, 0)).is_some());
        s.record(at(1004, 1), Ended::Errored);
        let envelope = s.take(false, at(1004, 2)).unwrap();
        assert_eq!(counts(&envelope), [(1004, 0, 1, 0, 0)]);
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let s = sessions();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        s.record(at(1000, 0), Ended::Exited);
                    }
                });
            }
        });
        assert_eq!(
            counts(&s.take(false, at(1000, 0)).unwrap()),
            [(1000, 4000, 0, 0, 0)]
        );
    }
}
