//! The lanes: how many envelope requests may be in flight at once, which
//! envelopes must go one after another (check-ins), and [`Pending`], the
//! count of envelopes handed to the transport and not yet done with, which
//! flush waits on and the send queue paces itself by.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::lock;

/// How many envelope requests may be in flight at once (connections of the
/// sending thread's client). One at a time (what the `sentry` crate's
/// transport does) delivers one envelope per round trip, which an erroring
/// service outruns at a few thousand events per second even on loopback.
pub(super) const LANES: usize = 4;

/// How many envelopes the send queue hands the transport before it waits for
/// some to be done: enough to keep every lane busy while the thread prepares
/// the next ones, few enough that a Sentry that does not answer holds little.
pub(crate) const WINDOW: usize = 64;

/// Once the [`WINDOW`] is full, the send queue waits until fewer than this
/// many envelopes are pending (or its nap of 5 ms ends, whichever comes
/// first), then hands over what fits at once: one wake-up of the queue per
/// half window, not one per answered request (a transport that cannot keep
/// up spent a third of the queue's CPU on that ping-pong). Half a window
/// still keeps every lane busy meanwhile.
pub(crate) const REFILL_BELOW: usize = WINDOW / 2;

/// Whether a serialized envelope has a `check_in` item: its header line, then
/// per item a JSON header (`type`, `length`) and the payload.
pub(super) fn carries_check_in(envelope: &[u8]) -> bool {
    let mut rest = match memchr::memchr(b'\n', envelope) {
        Some(end) => &envelope[end + 1..],
        None => return false,
    };
    #[derive(serde::Deserialize)]
    struct ItemHeader<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<&'a str>,
        length: Option<usize>,
    }
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<ItemHeader<'_>>(&rest[..end]) else {
            return false;
        };
        if header.kind == Some("check_in") {
            return true;
        }
        rest = rest.get(end + 1..).unwrap_or_default();
        let payload = header
            .length
            .unwrap_or_else(|| memchr::memchr(b'\n', rest).unwrap_or(rest.len()))
            .min(rest.len());
        rest = &rest[payload..];
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    false
}

/// Envelopes handed to the HTTP transport and not yet done with (answered,
/// dropped by a rate limit, abandoned). Each is held by a [`Done`] that
/// counts it off when dropped, wherever that happens.
#[derive(Default)]
pub(crate) struct Pending {
    state: Mutex<PendingState>,
    changed: Condvar,
}

#[derive(Default)]
struct PendingState {
    count: usize,
    /// Threads waiting in [`Pending::wait_below`]: only then does a `Done`
    /// signal (no system call per envelope otherwise).
    waiters: usize,
    /// The highest count any of them waits to fall below (reset when none
    /// waits): a `Done` leaving at least this many pending wakes nobody.
    wake_below: usize,
    /// How many times a `Done` woke the waiters (tests read it).
    wakes: u64,
}

impl Pending {
    /// Counts one more envelope; it is done when the guard drops.
    pub(super) fn add(self: &Arc<Self>) -> Done {
        lock(&self.state).count += 1;
        Done(Arc::clone(self))
    }

    /// How many envelopes are pending now.
    pub(crate) fn count(&self) -> usize {
        lock(&self.state).count
    }

    /// Waits until fewer than `n` envelopes are pending, up to `deadline`;
    /// returns whether they are.
    pub(crate) fn wait_below(&self, n: usize, deadline: Instant) -> bool {
        let mut state = lock(&self.state);
        while state.count >= n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state.waiters += 1;
            state.wake_below = state.wake_below.max(n);
            state = self
                .changed
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
            state.waiters -= 1;
            if state.waiters == 0 {
                state.wake_below = 0;
            }
        }
        true
    }

    /// How many times waiters were woken so far.
    #[cfg(test)]
    fn wakes(&self) -> u64 {
        lock(&self.state).wakes
    }
}

/// One pending envelope; counted off when dropped.
pub(super) struct Done(Arc<Pending>);

impl Drop for Done {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.count = state.count.saturating_sub(1);
        if state.waiters > 0 && state.count < state.wake_below {
            state.wakes += 1;
            self.0.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::Envelope;
    use sentry_core::protocol::EnvelopeItem;

    #[test]
    fn pending_envelopes_are_counted_off_when_done_and_waiters_wake() {
        let pending = Arc::new(Pending::default());
        let first = pending.add();
        let second = pending.add();
        assert_eq!(pending.count(), 2);
        let soon = Instant::now() + std::time::Duration::from_millis(20);
        assert!(!pending.wait_below(2, soon), "two are pending");
        let waiter = {
            let pending = Arc::clone(&pending);
            std::thread::spawn(move || {
                pending.wait_below(1, Instant::now() + std::time::Duration::from_secs(10))
            })
        };
        drop(first);
        drop(second);
        assert!(waiter.join().unwrap(), "woken when the last was done");
        assert_eq!(pending.count(), 0);
    }

    #[test]
    fn a_waiter_is_woken_only_once_the_count_falls_below_what_it_waits_for() {
        let pending = Arc::new(Pending::default());
        let mut guards: Vec<Done> = (0..10).map(|_| pending.add()).collect();
        let waiter = {
            let pending = Arc::clone(&pending);
            std::thread::spawn(move || {
                pending.wait_below(2, Instant::now() + std::time::Duration::from_secs(10))
            })
        };
        while lock(&pending.state).waiters == 0 {
            std::thread::yield_now();
        }
        // Eight answers leave two pending: the waiter sleeps through them.
        guards.drain(..8);
        assert_eq!(pending.count(), 2);
        assert_eq!(pending.wakes(), 0, "no wake-up while 2 or more are pending");
        guards.pop();
        assert!(waiter.join().unwrap(), "woken when one was left");
        assert_eq!(pending.wakes(), 1);
        drop(guards);
        assert_eq!(pending.wakes(), 1, "nobody waits any more");
    }

    #[test]
    fn check_ins_are_told_apart_from_other_envelopes() {
        let mut check_in = Envelope::new();
        check_in.add_item(EnvelopeItem::MonitorCheckIn(
            sentry_core::protocol::MonitorCheckIn {
                check_in_id: sentry_core::types::Uuid::new_v4(),
                monitor_slug: "nightly".into(),
                status: sentry_core::protocol::MonitorCheckInStatus::InProgress,
                environment: None,
                duration: None,
                monitor_config: None,
            },
        ));
        let mut bytes = Vec::new();
        check_in.to_writer(&mut bytes).unwrap();
        assert!(carries_check_in(&bytes));
        let mut event = Vec::new();
        Envelope::from(sentry_core::protocol::Event {
            message: Some("{\"type\":\"check_in\"}".into()),
            ..Default::default()
        })
        .to_writer(&mut event)
        .unwrap();
        assert!(
            !carries_check_in(&event),
            "an event mentioning check_in in its payload"
        );
        assert!(!carries_check_in(b"not an envelope"));
    }
}
