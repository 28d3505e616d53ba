//! A bounded outgoing queue in front of the real HTTP transport.
//!
//! The official SDKs keep 30-100 envelopes in their transport channel and
//! silently drop most of a burst. lookout keeps its own queue, bounded by count
//! and by bytes (both from lookout-policy's settings):
//!
//! - a request only appends the envelope to the intake (a lock and a push),
//!   so no request pays for serialization. The worker collects the intake
//!   every [`NAP`] while envelopes keep coming and sleeps when they stop; a
//!   request wakes it only from that sleep (or when [`WAKE_AT`] envelopes
//!   wait), so a busy service pays no system call per envelope;
//! - the worker serializes each envelope once, exactly measuring it (a batch
//!   of logs arrives serialized, [`BoundedQueue::push_serialized`], and is
//!   kept as it came), and keeps
//!   the bytes in the ready queue: the byte bound applies there, where a slow
//!   network makes envelopes wait; the count bound applies to both stages;
//! - the worker hands the ready bytes to the inner transport as raw envelopes
//!   (nothing is serialized twice), draining it after every [`FORWARD_BATCH`]
//!   so its small channel never overflows.
//!
//! What does not fit a bound is dropped whole and recorded as a
//! `queue_overflow` client report, which sentry-core attaches to the next
//! envelope it sends.
//!
//! Shutdown has a deadline. Until then the queue drains; at the deadline what
//! still waits is dropped (counted lost in the [`Tally`]; no client report, as
//! no envelope will carry one any more), the inner transport abandons what it
//! holds, and the worker is joined only if it has already stopped: a worker
//! blocked on a network that does not answer is left behind, never waited for.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sentry_core::client_report::{Reason as TransportLossReason, Recorder};
use sentry_core::{Envelope, Transport};

use super::http::{HttpTransport, REFILL_BELOW, REQUEST_TIMEOUT, WINDOW};
use super::report::Tally;
use super::stats::Counters;

/// How many envelopes the worker hands to the inner transport before it waits
/// for them to be sent. Must stay below [`INNER_CHANNEL_CAPACITY`].
pub(crate) const FORWARD_BATCH: usize = 16;

/// The inner transport's channel capacity (the `sentry` default is 30).
pub(crate) const INNER_CHANNEL_CAPACITY: usize = 64;

/// How long the worker waits for more envelopes before it collects the
/// intake again (the extra delivery latency under load).
pub(crate) const NAP: Duration = Duration::from_millis(5);

/// The buffer an envelope is serialized into starts with this much room:
/// a transaction's or a small event's size.
const SERIALIZE_ROOM: usize = 2048;

/// A request wakes a napping worker early when this many envelopes wait.
pub(crate) const WAKE_AT: usize = 256;

/// The most dropped batches waiting for the worker to report them.
const UNREPORTED_MAX: usize = 4;

/// How long the worker waits for the inner transport to send a batch: long
/// enough for every request of a batch to run into its own timeout, so the
/// worker never hands over more while a batch is still on its way (the inner
/// channel stays below its capacity even when the network hangs).
const CONFIRM_TIMEOUT: Duration = REQUEST_TIMEOUT.saturating_mul(FORWARD_BATCH as u32 + 1);

/// Who confirms that an envelope reached Sentry (for the [`Tally`]).
#[derive(Clone)]
pub(crate) enum Confirmation {
    /// The inner transport counts what Sentry answered with a 2xx
    /// (lookout's HTTP transport). The queue hands it envelopes while fewer
    /// than [`WINDOW`] of them are pending there, and never flushes it to
    /// pace itself. It takes the queue's serialized bytes as they are.
    ByTransport(Arc<HttpTransport>),
    /// Another transport (tests, an in-process capture): what it took and
    /// then flushed counts as delivered.
    ByFlush,
}

/// Bounds of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// The most envelopes waiting at once.
    pub max_envelopes: usize,
    /// The most serialized bytes waiting for the network at once.
    pub max_bytes: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_envelopes: 10_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// An envelope as it was pushed: to be serialized, or already bytes (a
/// batch's, written as it filled), which the queue then never copies.
// Envelopes stay inline, as the intake held them before: boxing them would
// cost every request's envelope an allocation.
#[allow(clippy::large_enum_variant)]
enum Pushed {
    Envelope(Envelope),
    Serialized(Vec<u8>),
}

impl Pushed {
    /// The serialized envelope (`None`: sentry-types could not write it),
    /// and the envelope itself when it was pushed as one (what a drop is
    /// then reported from).
    fn serialize(self) -> (Option<Vec<u8>>, Option<Envelope>) {
        match self {
            Pushed::Envelope(envelope) => {
                // Room for a transaction at once (growing from nothing
                // reallocated and copied it about ten times).
                let mut bytes = Vec::with_capacity(SERIALIZE_ROOM);
                let written = envelope.to_writer(&mut bytes).is_ok();
                (written.then_some(bytes), Some(envelope))
            }
            Pushed::Serialized(bytes) => (Some(bytes), None),
        }
    }
}

/// A dropped envelope, kept until its client report is recorded (outside
/// the lock).
// As `Pushed`: the envelope stays inline.
#[allow(clippy::large_enum_variant)]
enum Lost {
    Envelope(Envelope),
    Bytes(Vec<u8>),
}

#[derive(Default)]
struct State {
    /// Envelopes as requests (or batches, serialized) left them.
    intake: Vec<Pushed>,
    /// Serialized envelopes waiting for the inner transport.
    ready: VecDeque<Vec<u8>>,
    /// Bytes in `ready`.
    bytes: usize,
    /// Envelopes taken by the worker and not yet confirmed sent.
    in_flight: usize,
    /// Whether the worker sleeps until woken (it was idle for a whole nap).
    sleeping: bool,
    /// Whether the worker naps (it wakes by itself within [`NAP`]).
    napping: bool,
    shutdown: bool,
    /// Set when shutdown passed its deadline: the worker stops, what is left
    /// is dropped.
    abandoned: bool,
    /// Set by the worker as it exits (or when it could not be started).
    worker_stopped: bool,
    dropped: u64,
    /// Batches dropped at push whose client report the worker records:
    /// measuring a full batch for it takes a couple of milliseconds, which
    /// the thread that logged (holding its stripe) should not wait for. At
    /// most [`UNREPORTED_MAX`]; past that the pushing thread reports its own.
    unreported: Vec<Vec<u8>>,
}

impl State {
    fn waiting(&self) -> usize {
        self.intake.len() + self.ready.len()
    }

    /// Whether the count bound is reached: a pushed envelope is dropped.
    fn count_full(&self, limits: &QueueLimits) -> bool {
        self.waiting() >= limits.max_envelopes
    }

    fn is_drained(&self) -> bool {
        // Unreported drops count: a flush returns once their report is
        // recorded, so the next envelope carries it.
        self.intake.is_empty()
            && self.ready.is_empty()
            && self.in_flight == 0
            && self.unreported.is_empty()
    }
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when work arrives or on shutdown.
    work: Condvar,
    /// Signalled when everything taken so far has been sent.
    idle: Condvar,
    limits: QueueLimits,
    recorder: Recorder,
    tally: Arc<Tally>,
    confirmation: Confirmation,
}

impl Shared {
    /// Publishes what waits now to the stats' gauges (under the lock).
    fn publish(&self, state: &State) {
        let saturated = state.count_full(&self.limits) || state.bytes >= self.limits.max_bytes;
        self.tally
            .counters
            .waiting_now(state.waiting(), state.bytes, saturated);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked while holding it;
        // the queue itself is still consistent (every mutation is one step).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a dropped envelope (under the lock); its client report is
    /// [`Shared::report_lost`]'s, after the lock is released.
    fn count_drop(&self, state: &mut State) {
        state.dropped += 1;
        Counters::add(&self.tally.counters.dropped_queue_full, 1);
    }

    /// Records dropped bytes (a batch's envelope) as `queue_overflow` in
    /// client reports, counting what they held (a batch's logs and their
    /// size, [`crate::report::record_lost_bytes`]). Called without the lock.
    fn report_lost_bytes(&self, bytes: &[u8]) {
        crate::report::record_lost_bytes(&self.recorder, bytes, TransportLossReason::QueueOverflow);
    }

    /// Records a dropped envelope as `queue_overflow` in client reports.
    /// Called without the lock: a raw envelope is reported from its bytes.
    fn report_lost(&self, envelope: &Envelope) {
        match raw_bytes(envelope) {
            Some(bytes) => self.report_lost_bytes(&bytes),
            None => self
                .recorder
                .record_lost_data(envelope, TransportLossReason::QueueOverflow),
        }
    }
}

/// A raw envelope's bytes (already serialized: sentry-types sees no items
/// in it, so its report would count nothing), for a report that counts
/// what it holds. lookout's own batches come as bytes
/// ([`BoundedQueue::push_serialized`]); this is for a raw envelope sent
/// through the client. `None` for an envelope of items.
fn raw_bytes(envelope: &Envelope) -> Option<Vec<u8>> {
    if envelope.items().next().is_some() {
        return None;
    }
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).ok()?;
    Some(bytes)
}

/// A bounded queue with a worker thread that forwards to an inner transport.
pub(crate) struct BoundedQueue {
    shared: Arc<Shared>,
    inner: Arc<dyn Transport>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl BoundedQueue {
    pub(crate) fn new(
        inner: Arc<dyn Transport>,
        limits: QueueLimits,
        recorder: Recorder,
        tally: Arc<Tally>,
        confirmation: Confirmation,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            idle: Condvar::new(),
            limits,
            recorder,
            tally,
            confirmation,
        });
        let worker = {
            let shared = Arc::clone(&shared);
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("lookout-queue".into())
                .spawn(move || run_worker(&shared, inner.as_ref()))
                .ok()
        };
        if worker.is_none() {
            shared.lock().worker_stopped = true;
        }
        Self {
            shared,
            inner,
            worker: Mutex::new(worker),
        }
    }

    /// Enqueues `envelope`, or drops it (recorded as `queue_overflow`) when
    /// the count bound is reached. Never blocks on I/O, never serializes.
    pub(crate) fn push(&self, envelope: Envelope) {
        if let Some(Pushed::Envelope(envelope)) = self.enqueue(Pushed::Envelope(envelope)) {
            self.shared.report_lost(&envelope);
        }
    }

    /// Enqueues a serialized envelope (a batch's), which the queue sends as
    /// it is, or drops it as [`BoundedQueue::push`] does.
    /// The drop's client report is the worker's ([`State::unreported`]).
    pub(crate) fn push_serialized(&self, bytes: Vec<u8>) {
        let Some(Pushed::Serialized(bytes)) = self.enqueue(Pushed::Serialized(bytes)) else {
            return;
        };
        let mut state = self.shared.lock();
        if state.unreported.len() < UNREPORTED_MAX && !state.worker_stopped {
            state.unreported.push(bytes);
            let wake = state.sleeping || state.napping;
            drop(state);
            if wake {
                self.shared.work.notify_one();
            }
        } else {
            drop(state);
            self.shared.report_lost_bytes(&bytes);
        }
    }

    /// Appends `pushed` to the intake; gives it back when it was dropped
    /// (counted; its client report is the caller's, without the lock).
    fn enqueue(&self, pushed: Pushed) -> Option<Pushed> {
        self.shared.tally.accepted();
        let mut state = self.shared.lock();
        if state.shutdown || state.count_full(&self.shared.limits) {
            self.shared.count_drop(&mut state);
            return Some(pushed);
        }
        state.intake.push(pushed);
        self.shared.publish(&state);
        let wake = state.sleeping || (state.napping && state.intake.len() >= WAKE_AT);
        drop(state);
        if wake {
            self.shared.work.notify_one();
        }
        None
    }

    /// How many envelopes were dropped because a bound was reached.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }

    /// Waits until everything queued has been handed over and sent, up to `deadline`.
    pub(crate) fn flush(&self, deadline: Instant) -> bool {
        let mut state = self.shared.lock();
        if !state.is_drained() {
            // Don't wait for the worker's nap to end.
            self.shared.work.notify_one();
        }
        while !state.is_drained() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .idle
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        drop(state);
        let left = deadline.saturating_duration_since(Instant::now());
        self.inner.flush(left)
    }

    /// Flushes until `deadline`, then stops the worker and the inner
    /// transport. Returns by the deadline (give or take the bookkeeping),
    /// whatever the network does; returns whether everything was sent.
    pub(crate) fn shutdown(&self, deadline: Instant) -> bool {
        let flushed = self.flush(deadline);
        {
            let mut state = self.shared.lock();
            state.shutdown = true;
            if !flushed {
                // Too late for what still waits: the tally counts it lost.
                let left = state.waiting() + state.in_flight;
                Counters::add(&self.shared.tally.counters.dropped_shutdown, left as u64);
                state.abandoned = true;
                state.intake.clear();
                state.ready.clear();
                state.bytes = 0;
                self.shared.publish(&state);
            }
        }
        self.shared.work.notify_all();
        // Abandons what the inner transport still holds once the time is up.
        let sent = self
            .inner
            .shutdown(deadline.saturating_duration_since(Instant::now()));
        self.join_worker_until(deadline);
        flushed && sent
    }

    /// Joins the worker if it stops by `deadline`; otherwise lets it go (it
    /// exits on its own once the inner transport returns).
    fn join_worker_until(&self, deadline: Instant) {
        let mut state = self.shared.lock();
        while !state.worker_stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .shared
                .idle
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        let stopped = state.worker_stopped;
        drop(state);
        let worker = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(worker) = worker.filter(|_| stopped) {
            let _ = worker.join();
        }
    }
}

impl Drop for BoundedQueue {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
    }
}

fn run_worker(shared: &Shared, inner: &dyn Transport) {
    let _stopped = Stopped(shared);
    // Envelopes handed to the inner transport since it was last drained.
    let mut unconfirmed = 0;
    // Their serialized size (counted sent when a flush confirms them).
    let mut unconfirmed_bytes = 0;
    // Swapped with the state's intake each round: both keep their room, so
    // a request's push does not allocate because the worker just took the
    // intake's buffer.
    let mut intake = Vec::with_capacity(WAKE_AT);
    // Whether the last round found work: then nap, expecting more.
    let mut busy = false;
    loop {
        let mut state = shared.lock();
        if state.abandoned {
            return;
        }
        if !state.unreported.is_empty() {
            // Batches dropped at push: reported here, outside the lock.
            let unreported = std::mem::take(&mut state.unreported);
            drop(state);
            for bytes in &unreported {
                shared.report_lost_bytes(bytes);
            }
            continue;
        }
        if busy && state.ready.is_empty() && !state.shutdown {
            // Let envelopes accumulate for a moment: collecting them in
            // batches spares every request a wake-up system call.
            state.napping = true;
            state = shared
                .work
                .wait_timeout(state, NAP)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
            state.napping = false;
            busy = !state.intake.is_empty();
        }
        if state.intake.is_empty() && state.ready.is_empty() {
            if unconfirmed > 0 {
                // Idle: make sure what was handed over is sent before sleeping,
                // so `flush` (which waits for `in_flight == 0`) sees it done.
                drop(state);
                confirm(shared, inner, &mut unconfirmed, &mut unconfirmed_bytes);
                continue;
            }
            if state.is_drained() {
                // Everything taken was sent or dropped: wake `flush` callers.
                shared.idle.notify_all();
            }
            if !state.unreported.is_empty() {
                // Dropped while it napped: reported before it sleeps.
                continue;
            }
            if state.shutdown {
                return;
            }
            state.sleeping = true;
            state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
            state.sleeping = false;
            continue;
        }
        busy = true;
        if let Confirmation::ByTransport(transport) = &shared.confirmation
            && !state.ready.is_empty()
            && transport.pending().count() >= WINDOW
        {
            // The transport holds all it may: wait until half of it is
            // answered (at most a nap), leaving the intake where the count
            // bound sees it, then look again (the loop sees shutdown
            // meanwhile).
            drop(state);
            transport
                .pending()
                .wait_below(REFILL_BELOW, Instant::now() + NAP);
            continue;
        }

        // Serialize what requests left, outside the lock, then apply the byte bound.
        std::mem::swap(&mut intake, &mut state.intake);
        state.in_flight += intake.len();
        drop(state);
        let serialized: Vec<_> = intake.drain(..).map(Pushed::serialize).collect();
        let mut state = shared.lock();
        if state.abandoned {
            // Shutdown passed its deadline meanwhile: these are lost too.
            return;
        }
        let mut lost = Vec::new();
        for serialized in serialized {
            state.in_flight -= 1;
            match serialized {
                (Some(bytes), _) if state.bytes + bytes.len() <= shared.limits.max_bytes => {
                    state.bytes += bytes.len();
                    Counters::add(&shared.tally.counters.queued_bytes, bytes.len() as u64);
                    state.ready.push_back(bytes);
                }
                // Past the byte bound (or not written): reported from the
                // envelope when it was pushed as one, else from its bytes.
                (bytes, envelope) => {
                    shared.count_drop(&mut state);
                    lost.extend(envelope.map(Lost::Envelope).or(bytes.map(Lost::Bytes)));
                }
            }
        }

        // Hand ready envelopes over: lookout's transport while it has room,
        // another one draining it every batch.
        let take = match &shared.confirmation {
            Confirmation::ByTransport(transport) => state
                .ready
                .len()
                .min(WINDOW.saturating_sub(transport.pending().count())),
            Confirmation::ByFlush => state.ready.len().min(FORWARD_BATCH - unconfirmed),
        };
        let batch: Vec<Vec<u8>> = state.ready.drain(..take).collect();
        let batch_bytes = batch.iter().map(Vec::len).sum::<usize>();
        state.bytes -= batch_bytes;
        state.in_flight += batch.len();
        shared.publish(&state);
        drop(state);
        for lost in &lost {
            match lost {
                Lost::Envelope(envelope) => shared.report_lost(envelope),
                Lost::Bytes(bytes) => shared.report_lost_bytes(bytes),
            }
        }
        let handed = batch.len();
        for bytes in batch {
            match &shared.confirmation {
                // No envelope around the bytes, no copy of them back out.
                Confirmation::ByTransport(transport) => transport.send_serialized(bytes),
                Confirmation::ByFlush => {
                    if let Ok(raw) = Envelope::from_bytes_raw(bytes) {
                        inner.send_envelope(raw);
                    }
                }
            }
        }
        if let Confirmation::ByTransport(_) = shared.confirmation {
            // The transport's now: its flush waits for them.
            shared.lock().in_flight -= handed;
            continue;
        }
        unconfirmed += handed;
        unconfirmed_bytes += batch_bytes;
        if unconfirmed >= FORWARD_BATCH {
            // Back-pressure: wait until the inner transport has sent what it
            // holds, so its small channel never overflows.
            confirm(shared, inner, &mut unconfirmed, &mut unconfirmed_bytes);
        }
    }
}

/// Waits until the inner transport has sent the `unconfirmed` envelopes it
/// was handed (each request has its own timeout; shutdown makes the inner
/// transport abandon them), then marks them done.
fn confirm(
    shared: &Shared,
    inner: &dyn Transport,
    unconfirmed: &mut usize,
    unconfirmed_bytes: &mut usize,
) {
    let sent = inner.flush(CONFIRM_TIMEOUT);
    if sent && matches!(shared.confirmation, Confirmation::ByFlush) {
        shared.tally.delivered(*unconfirmed as u64);
        Counters::add(&shared.tally.counters.sent_bytes, *unconfirmed_bytes as u64);
        // Another transport takes the bytes as they are.
        Counters::add(
            &shared.tally.counters.sent_wire_bytes,
            *unconfirmed_bytes as u64,
        );
    }
    *unconfirmed = 0;
    *unconfirmed_bytes = 0;
    let mut state = shared.lock();
    state.in_flight = 0;
    if state.is_drained() {
        shared.idle.notify_all();
    }
}

/// Tells `join_worker_until` that the worker has exited, however it exits.
struct Stopped<'a>(&'a Shared);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let unreported = {
            let mut state = self.0.lock();
            state.worker_stopped = true;
            std::mem::take(&mut state.unreported)
        };
        for bytes in &unreported {
            self.0.report_lost_bytes(bytes);
        }
        self.0.idle.notify_all();
    }
}

/// The size of `envelope` on the wire, without allocating a buffer for it.
#[cfg(test)]
pub(crate) fn serialized_len(envelope: &Envelope) -> usize {
    let mut counter = ByteCounter(0);
    let _ = envelope.to_writer(&mut counter);
    counter.0
}

#[cfg(test)]
struct ByteCounter(usize);

#[cfg(test)]
impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{EnvelopeItem, Event};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An inner transport that is slow, counts what it received and checks
    /// that each envelope parses back with its event.
    #[derive(Default)]
    struct SlowCounting {
        received: AtomicUsize,
    }

    impl Transport for SlowCounting {
        fn send_envelope(&self, envelope: Envelope) {
            std::thread::sleep(Duration::from_micros(50));
            let mut bytes = Vec::new();
            envelope.to_writer(&mut bytes).unwrap();
            let parsed = Envelope::from_slice(&bytes).unwrap();
            assert!(matches!(
                parsed.items().next(),
                Some(EnvelopeItem::Event(_))
            ));
            self.received.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn queue_for(inner: Arc<dyn Transport>, limits: QueueLimits) -> BoundedQueue {
        queue_and_tally(inner, limits).0
    }

    /// A queue with `limits`, and the tally it counts into.
    fn queue_and_tally(
        inner: Arc<dyn Transport>,
        limits: QueueLimits,
    ) -> (BoundedQueue, Arc<Tally>) {
        let tally = Arc::new(Tally::default());
        let queue = BoundedQueue::new(
            inner,
            limits,
            Recorder::default(),
            Arc::clone(&tally),
            Confirmation::ByFlush,
        );
        (queue, tally)
    }

    fn in_secs(secs: u64) -> Instant {
        Instant::now() + Duration::from_secs(secs)
    }

    /// An inner transport whose network never answers: a flush waits for
    /// its whole timeout and fails, as the HTTP transport's would while a
    /// request hangs (up to the worker's long confirm timeout).
    #[derive(Default)]
    struct BlackHole {
        received: AtomicUsize,
        shut_down: AtomicUsize,
    }

    impl Transport for BlackHole {
        fn send_envelope(&self, _: Envelope) {
            self.received.fetch_add(1, Ordering::SeqCst);
        }

        fn flush(&self, timeout: Duration) -> bool {
            std::thread::sleep(timeout);
            false
        }

        fn shutdown(&self, _: Duration) -> bool {
            self.shut_down.fetch_add(1, Ordering::SeqCst);
            false
        }
    }

    fn event_envelope(message: &str) -> Envelope {
        let event = Event {
            message: Some(message.to_owned()),
            ..Default::default()
        };
        let mut envelope = Envelope::new();
        envelope.add_item(event);
        envelope
    }

    #[test]
    fn a_burst_of_3000_within_the_default_bounds_is_delivered_in_full() {
        let inner = Arc::new(SlowCounting::default());
        let queue = queue_for(inner.clone(), QueueLimits::default());
        for i in 0..3000 {
            queue.push(event_envelope(&format!("error {i}")));
        }
        assert!(queue.flush(in_secs(30)));
        assert_eq!(inner.received.load(Ordering::SeqCst), 3000);
        assert_eq!(queue.dropped(), 0);
    }

    #[test]
    fn a_dropped_raw_envelope_is_reported_as_the_log_items_it_holds() {
        use sentry_core::protocol::client_report::{Category, LossSource as _, Reason};
        let raw = Envelope::from_bytes_raw(
            b"{}\n{\"type\":\"log\",\"item_count\":  2,\"content_type\":\"application/vnd.sentry.items.log+json\"}\n{\"items\":[{\"timestamp\":1796591188.5,\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"level\":\"info\",\"body\":\"a\",\"attributes\":{}},{\"timestamp\":1796591188.5,\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"level\":\"info\",\"body\":\"b\",\"attributes\":{}}]}\n"
                .to_vec(),
        )
        .unwrap();
        assert_eq!(
            raw.losses().count(),
            0,
            "sentry-types sees nothing in a raw envelope"
        );
        let bytes = raw_bytes(&raw).expect("a raw envelope is reported from its bytes");
        let report = crate::losses::batch_report(&bytes, Reason::QueueOverflow)
            .expect("the bytes are measured as the batch they hold");
        let logs: u64 = report
            .losses()
            .filter(|loss| loss.category == Category::LogItem)
            .map(|loss| loss.quantity)
            .sum();
        assert_eq!(logs, 2);
        assert!(
            raw_bytes(&event_envelope("x")).is_none(),
            "an envelope of items is reported as it is"
        );
    }

    /// Holds every envelope until opened, saying when one waits.
    #[derive(Default)]
    struct Gate {
        state: Mutex<(bool, usize)>,
        changed: Condvar,
    }

    impl Gate {
        fn open(&self) {
            self.state.lock().unwrap().0 = true;
            self.changed.notify_all();
        }

        fn wait_for_one_held(&self) {
            let mut state = self.state.lock().unwrap();
            while state.1 == 0 {
                state = self.changed.wait(state).unwrap();
            }
        }
    }

    impl Transport for Gate {
        fn send_envelope(&self, _: Envelope) {
            let mut state = self.state.lock().unwrap();
            state.1 += 1;
            self.changed.notify_all();
            while !state.0 {
                state = self.changed.wait(state).unwrap();
            }
        }
    }

    #[test]
    fn a_batch_dropped_at_push_is_reported_by_the_worker_and_a_flush_waits_for_it() {
        let gate = Arc::new(Gate::default());
        let limits = QueueLimits {
            max_envelopes: 1,
            max_bytes: usize::MAX,
        };
        let queue = queue_for(gate.clone(), limits);
        queue.push(event_envelope("held"));
        // The worker is inside the transport now: it can report nothing.
        gate.wait_for_one_held();
        queue.push(event_envelope("waiting"));
        let mut batch = Vec::new();
        event_envelope("a batch").to_writer(&mut batch).unwrap();
        queue.push_serialized(batch);
        assert_eq!(queue.dropped(), 1, "past the count bound");
        assert_eq!(
            queue.shared.lock().unreported.len(),
            1,
            "left for the worker, not parsed by the pushing thread"
        );
        gate.open();
        // A flush returns once the report is recorded (the next envelope
        // carries it).
        assert!(queue.flush(in_secs(10)));
        assert!(queue.shared.lock().unreported.is_empty(), "reported");
    }

    #[test]
    fn envelopes_past_the_count_bound_are_dropped_and_counted() {
        let inner = Arc::new(SlowCounting::default());
        let limits = QueueLimits {
            max_envelopes: 5,
            max_bytes: usize::MAX,
        };
        let queue = queue_for(inner.clone(), limits);
        for i in 0..200 {
            queue.push(event_envelope(&format!("error {i}")));
        }
        assert!(queue.flush(in_secs(10)));
        let received = inner.received.load(Ordering::SeqCst) as u64;
        assert!(
            queue.dropped() > 0,
            "a 5-envelope bound must drop part of 200"
        );
        assert_eq!(received + queue.dropped(), 200);
    }

    #[test]
    fn the_saturated_flag_is_up_exactly_while_the_count_bound_is_reached() {
        let inner = Arc::new(SlowCounting::default());
        let limits = QueueLimits {
            max_envelopes: 3,
            max_bytes: usize::MAX,
        };
        let queue = queue_for(inner, limits);
        let saturated = || {
            queue
                .shared
                .tally
                .counters
                .saturated
                .load(Ordering::Relaxed)
        };
        let mut seen_up = false;
        for i in 0..200 {
            queue.push(event_envelope(&format!("error {i}")));
            let waiting = queue.shared.lock().waiting();
            seen_up |= saturated();
            assert!(waiting <= 3);
        }
        assert!(
            seen_up,
            "a 3-envelope bound is reached by a 200-envelope burst"
        );
        assert!(queue.flush(in_secs(10)));
        assert!(!saturated(), "down again once the queue drained");
    }

    #[test]
    fn envelopes_past_the_byte_bound_are_dropped_whole() {
        let inner = Arc::new(SlowCounting::default());
        let one = serialized_len(&event_envelope("x"));
        let limits = QueueLimits {
            max_envelopes: usize::MAX,
            max_bytes: one / 2,
        };
        let queue = queue_for(inner.clone(), limits);
        queue.push(event_envelope("x"));
        assert!(queue.flush(in_secs(5)));
        assert_eq!(inner.received.load(Ordering::SeqCst), 0);
        assert_eq!(queue.dropped(), 1);
    }

    #[test]
    fn the_byte_bound_holds_what_waits_for_the_network() {
        // Room for two serialized envelopes: a burst keeps at most two waiting.
        let inner = Arc::new(SlowCounting::default());
        let one = serialized_len(&event_envelope("same size"));
        let limits = QueueLimits {
            max_envelopes: usize::MAX,
            max_bytes: one * 2,
        };
        let queue = queue_for(inner.clone(), limits);
        for _ in 0..100 {
            queue.push(event_envelope("same size"));
        }
        assert!(queue.flush(in_secs(10)));
        let received = inner.received.load(Ordering::SeqCst) as u64;
        assert_eq!(received + queue.dropped(), 100);
    }

    #[test]
    fn serialized_len_matches_the_written_envelope() {
        let envelope = event_envelope("hello");
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        assert_eq!(serialized_len(&envelope), bytes.len());
    }

    #[test]
    fn shutdown_returns_by_its_deadline_when_the_network_hangs_and_counts_the_rest_lost() {
        let inner = Arc::new(BlackHole::default());
        let (queue, tally) = queue_and_tally(inner.clone(), QueueLimits::default());
        let queue = Arc::new(queue);
        for i in 0..1000 {
            queue.push(event_envelope(&format!("error {i}")));
        }
        // The worker hands a batch over and then waits (for minutes) on a
        // flush that never succeeds. Shutdown must not wait for it.
        let stopper = Arc::clone(&queue);
        let (done, returned) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_millis(300);
            let _ = done.send(stopper.shutdown(deadline));
        });
        // A generous bound, not a measurement: the old shutdown joined the worker.
        let sent = returned
            .recv_timeout(Duration::from_secs(20))
            .expect("shutdown returned although the network never answered");
        assert!(!sent, "nothing was sent");
        assert_eq!(inner.shut_down.load(Ordering::SeqCst), 1);
        let report = tally.close(!sent);
        assert_eq!(
            (report.accepted, report.delivered, report.lost),
            (1000, 0, 1000)
        );
        // What was left in the queue is gone, not sent later.
        let state = queue.shared.lock();
        assert!(state.intake.is_empty() && state.ready.is_empty());
        assert!(inner.received.load(Ordering::SeqCst) <= FORWARD_BATCH);
    }

    #[test]
    fn a_shutdown_within_the_deadline_joins_the_worker_and_counts_everything_delivered() {
        let inner = Arc::new(SlowCounting::default());
        let (queue, tally) = queue_and_tally(inner.clone(), QueueLimits::default());
        for i in 0..100 {
            queue.push(event_envelope(&format!("error {i}")));
        }
        assert!(queue.shutdown(in_secs(30)));
        assert!(queue.shared.lock().worker_stopped);
        assert!(queue.worker.lock().unwrap().is_none(), "joined");
        let report = tally.close(false);
        assert_eq!(
            (report.accepted, report.delivered, report.lost),
            (100, 100, 0)
        );
    }
}
