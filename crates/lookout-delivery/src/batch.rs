//! Batching high-volume items (Sentry Logs) without a hand-off per item.
//!
//! A request writes its item's JSON object straight into a [`Batch`]'s
//! stripe, on its own thread: a stripe is a buffer already laid out as one
//! envelope (its header, the item header, `{"items":[`) behind a lock of its
//! own, and each thread writes to the stripe its index picks, so two
//! threads rarely meet on a lock and no item waits in a queue for another
//! thread. Whatever the item borrowed (the recorded line, the request's
//! context) is read where it was made and freed by the thread that made it.
//! The item that brings a stripe to [`MAX_BYTES`] hands the stripe's
//! envelope to the delivery (Spotlight copy, send queue, compression,
//! HTTP): batches are bounded by their weight in bytes, as Sentry's
//! BatchProcessor specification bounds them (1 MiB; develop.sentry.dev, SDK
//! telemetry, Batch Processor), about a thousand of the demo's logs, so the
//! cost of each HTTP request is shared by that many items (a batch of 100
//! logs, the simple approach the Logs page starts from, paid about 0.6 µs
//! of the sending thread per log). The batch's own thread only wakes every [`INTERVAL`] to hand over
//! what is left in the stripes, so an item waits at most that long. Flush
//! and shutdown hand over what is in the stripes first, on the caller's
//! thread, so a batch never outlives the client.
//!
//! The wire format is the envelope item of the Logs protocol: one item
//! `{"type":"log","item_count":N,"content_type":"application/vnd.sentry.items.log+json"}`
//! with the payload `{"items":[...]}`, as sentry-core's batcher writes it.
//! `N` is written in a fixed width of [`COUNT_WIDTH`] characters, padded
//! with spaces on the left (`"item_count":     42`: JSON whitespace), so
//! the header is laid out before the items and the count filled in when the
//! stripe is handed over, without copying the items behind a header written
//! last.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::lock;

/// An envelope is handed over once its items weigh this many bytes (the
/// BatchProcessor specification's maximum batch weight): it may go past it
/// by its last item.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Items wait at most this long before they are sent.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// The item count's width in the item header: room for the most items an
/// envelope can hold (`{}` at least two bytes each, up to [`MAX_BYTES`]).
pub const COUNT_WIDTH: usize = 7;

/// The room a stripe's first envelope reserves: the whole batch and its
/// last item.
pub(crate) const ROOM: usize = MAX_BYTES + 16 * 1024;

/// The most stripes a batch keeps (each fills to [`MAX_BYTES`]): enough
/// for the threads of a runtime to rarely share one, few enough to bound
/// the memory.
const MAX_STRIPES: usize = 8;

/// Where a batch hands its envelopes.
pub trait Forward: Send + Sync {
    /// Delivers an envelope of batched items, serialized (as
    /// `Envelope::to_writer` writes it).
    fn forward(&self, envelope: Vec<u8>);
    /// Counts `n` items dropped before they were written.
    fn dropped(&self, n: u64);
    /// An empty buffer of at least `room` bytes' capacity that an earlier
    /// envelope left behind once it was sent, for the next envelope (its
    /// pages are in memory already); `None` by default.
    fn spare(&self, room: usize) -> Option<Vec<u8>> {
        let _ = room;
        None
    }
}

/// Buffers of sent batch envelopes, kept for the next envelopes: a stripe
/// filling a fresh 1 MiB buffer faulted its pages in one by one, about
/// 0.1 µs per log on the logging thread.
#[derive(Default)]
pub(crate) struct Spares(Mutex<Vec<Vec<u8>>>);

/// The most buffers [`Spares`] keeps (each about [`MAX_BYTES`]).
const SPARES_MAX: usize = 4;

impl Spares {
    /// Keeps `buffer` (emptied) when a stripe can start an envelope in it
    /// (a whole batch's room, [`ROOM`], up to twice that) and fewer than
    /// [`SPARES_MAX`] are kept; drops it otherwise (an event's or a
    /// transaction's buffer, however large, is never kept).
    pub(crate) fn put(&self, mut buffer: Vec<u8>) {
        if !(ROOM..=2 * ROOM).contains(&buffer.capacity()) {
            return;
        }
        let mut spares = lock(&self.0);
        if spares.len() < SPARES_MAX {
            buffer.clear();
            spares.push(buffer);
        }
    }

    /// A kept buffer of at least `room` bytes' capacity.
    pub(crate) fn take(&self, room: usize) -> Option<Vec<u8>> {
        let mut spares = lock(&self.0);
        let at = spares.iter().position(|b| b.capacity() >= room)?;
        Some(spares.swap_remove(at))
    }
}

/// What a delivery needs of a batch.
pub trait Flush: Send + Sync {
    /// Starts the batch's thread, handing envelopes to `to`.
    fn attach(self: Arc<Self>, to: Weak<dyn Forward>);
    /// Writes and hands over whatever is pending, now.
    fn flush(&self);
    /// Flushes, then stops the thread.
    fn shutdown(&self);
    /// Keeps each envelope under `bytes` (the send queue's byte bound
    /// shared by the envelopes that wait: a batch never outweighs it).
    /// Nothing by default.
    fn limit_weight(&self, bytes: usize) {
        let _ = bytes;
    }
}

/// A batch of envelope items of one type, written by the threads that
/// make them into striped envelope buffers.
///
/// ```
/// use lookout_delivery::batch::Batch;
///
/// let batch = Batch::new("log", "application/vnd.sentry.items.log+json");
/// batch.push(|out| out.extend_from_slice(br#"{"body":"ready"}"#));
/// assert_eq!(batch.pending(), 1);
/// ```
pub struct Batch {
    item_type: &'static str,
    content_type: &'static str,
    stripes: Box<[Mutex<Stripe>]>,
    stopping: AtomicBool,
    /// The weight at which a stripe's envelope is handed over: [`MAX_BYTES`],
    /// or less under a small send queue ([`Flush::limit_weight`]).
    max_bytes: AtomicUsize,
    /// The interval thread's sleep, cut short by shutdown.
    sleep: Mutex<()>,
    wake: Condvar,
    forward: Mutex<Option<Weak<dyn Forward>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// One stripe: an envelope being filled.
struct Stripe {
    /// The envelope's bytes so far: the header (the item count still
    /// blank), then the items, comma-separated.
    bytes: Vec<u8>,
    count: usize,
    /// The room the last envelope took (at least [`ROOM`]): the next one
    /// reserves as much when its first item arrives (a stripe whose full
    /// envelope was handed over holds no buffer until then; one whose
    /// partial envelope was copied out keeps its buffer).
    room: usize,
}

/// Cuts a stripe's bytes back to `to` when dropped (unless `to` was set to
/// `usize::MAX`: the item was written whole).
struct Rollback<'a> {
    bytes: &'a mut Vec<u8>,
    to: usize,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.to != usize::MAX {
            self.bytes.truncate(self.to);
        }
    }
}

/// The stripe the current thread writes to: threads are numbered as they
/// first write, so that the threads of a runtime spread over the stripes.
fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    // Stripe 0 for a thread whose locals are being destroyed.
    INDEX.try_with(|index| *index).unwrap_or(0)
}

impl Batch {
    /// A batch of envelope items of `item_type` (e.g. `log`) with
    /// `content_type`.
    #[must_use]
    pub fn new(item_type: &'static str, content_type: &'static str) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let stripes = (0..(2 * threads).clamp(2, MAX_STRIPES))
            .map(|_| {
                Mutex::new(Stripe {
                    bytes: Vec::new(),
                    count: 0,
                    room: ROOM,
                })
            })
            .collect();
        Self {
            item_type,
            content_type,
            stripes,
            stopping: AtomicBool::new(false),
            max_bytes: AtomicUsize::new(MAX_BYTES),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            forward: Mutex::new(None),
            thread: Mutex::new(None),
        }
    }

    /// Writes one item's JSON object (`{...}`, no trailing comma) with
    /// `write`, on the caller's thread, into the caller's stripe; the item
    /// that fills the stripe hands its envelope over. Dropped (and counted)
    /// once the batch has stopped.
    pub fn push(&self, write: impl FnOnce(&mut Vec<u8>)) {
        let mut stripe = lock(&self.stripes[stripe_index() % self.stripes.len()]);
        // Read under the stripe's lock: shutdown sets it before it takes
        // the stripes, so no item is left in a stripe after shutdown.
        if self.stopping.load(Ordering::Acquire) {
            drop(stripe);
            self.count_dropped(1);
            return;
        }
        let stripe = &mut *stripe;
        let (count, room) = (stripe.count, stripe.room);
        {
            // A `write` that panics leaves no half-written item behind: the
            // stripe is cut back to where it was.
            let mut item = Rollback {
                to: stripe.bytes.len(),
                bytes: &mut stripe.bytes,
            };
            if count == 0 {
                self.start(item.bytes, room);
            } else {
                item.bytes.push(b',');
            }
            write(item.bytes);
            item.to = usize::MAX;
        }
        stripe.count += 1;
        if stripe.bytes.len() >= self.max_bytes.load(Ordering::Relaxed) {
            // Handed over under the stripe's lock: a flush that takes this
            // stripe next finds the envelope in the send queue.
            self.hand_over(stripe);
        }
    }

    /// How many items wait in the stripes.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.stripes.iter().map(|stripe| lock(stripe).count).sum()
    }

    fn count_dropped(&self, n: u64) {
        if let Some(forward) = self.forward() {
            forward.dropped(n);
        }
    }

    fn forward(&self) -> Option<Arc<dyn Forward>> {
        lock(&self.forward).as_ref().and_then(Weak::upgrade)
    }

    /// The envelope's head: the envelope header, the item header with its
    /// count left blank, the opening of the payload (in a spare buffer of
    /// the forward's when it has one).
    fn start(&self, bytes: &mut Vec<u8>, room: usize) {
        if bytes.capacity() < room
            && let Some(spare) = self.forward().and_then(|f| f.spare(room))
        {
            *bytes = spare;
        }
        bytes.reserve(room);
        let _ = write!(
            bytes,
            "{{}}\n{{\"type\":\"{}\",\"item_count\":{:COUNT_WIDTH$},\"content_type\":\"{}\"}}\n{{\"items\":[",
            self.item_type, "", self.content_type
        );
    }

    /// Where the [`COUNT_WIDTH`] characters of the item count are in an
    /// envelope's bytes.
    fn count_at(&self) -> usize {
        "{}\n{\"type\":\"".len() + self.item_type.len() + "\",\"item_count\":".len()
    }

    /// Closes the stripe's envelope, fills in its count and hands it over;
    /// the stripe's next envelope reserves as much room when it starts.
    fn hand_over(&self, stripe: &mut Stripe) {
        let count = std::mem::take(&mut stripe.count);
        if count == 0 {
            return;
        }
        stripe.room = (stripe.bytes.len() + 3).max(ROOM);
        stripe.bytes.extend_from_slice(b"]}\n");
        let at = self.count_at();
        let digits = format!("{count:>COUNT_WIDTH$}");
        stripe.bytes[at..at + COUNT_WIDTH].copy_from_slice(&digits.as_bytes()[..COUNT_WIDTH]);
        let bytes = if stripe.bytes.len() < stripe.bytes.capacity() / 2 {
            // A partial batch (the interval's, a flush's, or one under a
            // small weight limit) goes in a buffer of its size: the send
            // queue bounds what waits by length, not by the mebibyte a
            // stripe reserves. The stripe keeps its own for the next one.
            let sent = stripe.bytes.clone();
            stripe.bytes.clear();
            sent
        } else {
            std::mem::take(&mut stripe.bytes)
        };
        let Some(forward) = self.forward() else {
            return;
        };
        forward.forward(bytes);
    }

    /// Hands over every stripe that holds items.
    fn hand_over_all(&self) {
        for stripe in &self.stripes {
            self.hand_over(&mut lock(stripe));
        }
    }

    fn run(&self) {
        let mut sleep = lock(&self.sleep);
        loop {
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            sleep = self
                .wake
                .wait_timeout(sleep, INTERVAL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            drop(sleep);
            self.hand_over_all();
            sleep = lock(&self.sleep);
        }
    }
}

impl Flush for Batch {
    fn attach(self: Arc<Self>, to: Weak<dyn Forward>) {
        *lock(&self.forward) = Some(to);
        let batch = Arc::clone(&self);
        let spawned = std::thread::Builder::new()
            .name(format!("lookout-{}-batch", self.item_type))
            .spawn(move || batch.run());
        if let Ok(handle) = spawned {
            *lock(&self.thread) = Some(handle);
        }
    }

    fn flush(&self) {
        self.hand_over_all();
    }

    fn limit_weight(&self, bytes: usize) {
        self.max_bytes
            .store(bytes.clamp(1, MAX_BYTES), Ordering::Relaxed);
    }

    fn shutdown(&self) {
        {
            let _sleep = lock(&self.sleep);
            self.stopping.store(true, Ordering::Release);
        }
        self.wake.notify_one();
        self.hand_over_all();
        if let Some(handle) = lock(&self.thread).take() {
            // The thread only waits on the condvar: it ends at once.
            let _ = handle.join();
        }
    }
}

/// A placeholder log standing for one dropped log in a client report.
pub(crate) fn lost_log() -> sentry_core::protocol::Log {
    sentry_core::protocol::Log {
        level: sentry_core::protocol::LogLevel::Info,
        body: String::new(),
        trace_id: None,
        timestamp: std::time::SystemTime::now(),
        severity_number: None,
        attributes: sentry_core::protocol::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::Envelope;
    use sentry_core::protocol::{EnvelopeItem, ItemContainer};

    /// Keeps what a batch hands over, parsed back with sentry-types.
    #[derive(Default)]
    struct Collect {
        envelopes: Mutex<Vec<Vec<u8>>>,
        dropped: AtomicUsize,
        /// Spare buffers it gives the batch, as the delivery does.
        spares: Spares,
        /// How many times the batch asked for one.
        spares_asked: AtomicUsize,
    }

    impl Forward for Collect {
        fn forward(&self, envelope: Vec<u8>) {
            lock(&self.envelopes).push(envelope);
        }
        fn dropped(&self, n: u64) {
            self.dropped.fetch_add(n as usize, Ordering::Relaxed);
        }
        fn spare(&self, room: usize) -> Option<Vec<u8>> {
            self.spares_asked.fetch_add(1, Ordering::Relaxed);
            self.spares.take(room)
        }
    }

    impl Collect {
        /// The bodies of the logs of each envelope handed over.
        fn logs(&self) -> Vec<Vec<String>> {
            lock(&self.envelopes)
                .iter()
                .map(|bytes| {
                    let envelope = Envelope::from_slice(bytes).expect("sentry-types parses it");
                    let mut items = envelope.items();
                    let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = items.next()
                    else {
                        panic!("one container of logs: {}", String::from_utf8_lossy(bytes));
                    };
                    assert!(items.next().is_none());
                    logs.iter().map(|log| log.body.clone()).collect()
                })
                .collect()
        }
    }

    fn attached() -> (Arc<Batch>, Arc<Collect>) {
        let batch = Arc::new(Batch::new("log", "application/vnd.sentry.items.log+json"));
        let collect = Arc::new(Collect::default());
        let to: Arc<dyn Forward> = collect.clone();
        Arc::clone(&batch).attach(Arc::downgrade(&to));
        // The batch holds a weak reference: keep the strong one alive.
        std::mem::forget(to);
        (batch, collect)
    }

    fn log(out: &mut Vec<u8>, body: &str) {
        write!(
            out,
            r#"{{"timestamp":1796591188.5,"trace_id":"771a43a4192642f0b136d5159a501700","level":"info","body":"{body}","attributes":{{}}}}"#
        )
        .unwrap();
    }

    #[test]
    fn the_item_that_brings_a_stripe_to_a_mebibyte_hands_over_one_envelope_that_sentry_types_parses()
     {
        let (batch, collect) = attached();
        let mut pushed = 0;
        loop {
            batch.push(|out| log(out, &format!("line {pushed}")));
            pushed += 1;
            if batch.pending() == 0 {
                break;
            }
        }
        let raw = lock(&collect.envelopes)[0].clone();
        let one = {
            let mut item = Vec::new();
            log(&mut item, &format!("line {}", pushed - 1));
            item.len() + 1
        };
        assert!(
            raw.len() >= MAX_BYTES && raw.len() < MAX_BYTES + one + 200,
            "{} bytes: handed over at the item that reached {MAX_BYTES}",
            raw.len()
        );
        let logs = collect.logs();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].len(), pushed);
        assert_eq!(logs[0][pushed - 1], format!("line {}", pushed - 1));
        assert!(
            String::from_utf8_lossy(&raw)
                .contains(&format!("\"item_count\":{pushed:>COUNT_WIDTH$},")),
            "the count in its fixed width"
        );
        batch.shutdown();
    }

    #[test]
    fn under_a_weight_limit_a_stripe_is_handed_over_at_that_weight() {
        let (batch, collect) = attached();
        // What the delivery sets under a 64 KiB send queue.
        batch.limit_weight(64 * 1024 / 4);
        let mut pushed = 0;
        while lock(&collect.envelopes).is_empty() {
            batch.push(|out| log(out, "line"));
            pushed += 1;
        }
        let raw = lock(&collect.envelopes)[0].clone();
        assert!(
            (16 * 1024..16 * 1024 + 400).contains(&raw.len()),
            "{} bytes after {pushed} items",
            raw.len()
        );
        assert_eq!(collect.logs()[0].len(), pushed);
        batch.shutdown();
    }

    /// Pushes logs until a stripe hands a whole batch over; returns it.
    fn fill_a_batch(batch: &Batch, collect: &Collect) -> Vec<u8> {
        while lock(&collect.envelopes).is_empty() {
            batch.push(|out| log(out, "line"));
        }
        lock(&collect.envelopes).pop().unwrap()
    }

    #[test]
    fn a_stripe_starts_its_next_envelope_in_a_sent_envelopes_buffer() {
        let (batch, collect) = attached();
        let sent = fill_a_batch(&batch, &collect);
        let (address, capacity) = (sent.as_ptr(), sent.capacity());
        assert!(capacity >= ROOM, "a stripe reserves a whole batch");
        // The transport, done with it, keeps it for the next envelope.
        collect.spares.put(sent);
        let next = fill_a_batch(&batch, &collect);
        assert_eq!(
            (next.as_ptr(), next.capacity()),
            (address, capacity),
            "the same buffer, its pages already in memory"
        );
        let parsed = Envelope::from_slice(&next).expect("sentry-types parses it");
        assert_eq!(parsed.items().count(), 1);
        batch.shutdown();
    }

    #[test]
    fn a_partial_envelope_goes_in_a_buffer_of_its_size_and_the_stripe_keeps_its_own() {
        let (batch, collect) = attached();
        for round in 0..3 {
            for n in 0..7 {
                batch.push(|out| log(out, &format!("line {n}")));
            }
            batch.flush();
            let sent = lock(&collect.envelopes).pop().unwrap();
            assert_eq!(sent.capacity(), sent.len(), "round {round}: sized to fit");
            assert!(Envelope::from_slice(&sent).is_ok());
        }
        // Only the first envelope needed a buffer; the stripe kept it.
        assert_eq!(collect.spares_asked.load(Ordering::Relaxed), 1);
        batch.shutdown();
    }

    #[test]
    fn spares_keep_a_few_batch_sized_buffers_and_hand_out_one_big_enough() {
        let spares = Spares::default();
        spares.put(Vec::with_capacity(2048));
        assert!(
            spares.take(0).is_none(),
            "a transaction's buffer is not kept"
        );
        spares.put(Vec::with_capacity(MAX_BYTES));
        assert!(
            spares.take(0).is_none(),
            "an event's mebibyte is less than a stripe asks for: not kept"
        );
        for _ in 0..SPARES_MAX + 2 {
            let mut buffer = Vec::with_capacity(ROOM);
            buffer.push(1);
            spares.put(buffer);
        }
        assert_eq!(lock(&spares.0).len(), SPARES_MAX);
        assert!(spares.take(2 * ROOM).is_none(), "none big enough");
        let buffer = spares.take(ROOM).unwrap();
        assert!(buffer.is_empty() && buffer.capacity() >= ROOM);
        assert_eq!(lock(&spares.0).len(), SPARES_MAX - 1);
    }

    #[test]
    fn a_flush_hands_over_a_partial_stripe_with_its_count() {
        let (batch, collect) = attached();
        for n in 0..7 {
            batch.push(|out| log(out, &format!("line {n}")));
        }
        assert_eq!(batch.pending(), 7);
        batch.flush();
        let raw = lock(&collect.envelopes)[0].clone();
        assert!(
            String::from_utf8_lossy(&raw).contains(r#""item_count":      7,"#),
            "the count in its fixed width"
        );
        assert_eq!(
            collect.logs(),
            [(0..7).map(|n| format!("line {n}")).collect::<Vec<_>>()]
        );
        // Nothing left: a second flush hands over nothing.
        batch.flush();
        assert_eq!(collect.logs().len(), 1);
        batch.shutdown();
    }

    #[test]
    fn an_item_whose_writer_panics_leaves_the_envelope_whole() {
        let (batch, collect) = attached();
        batch.push(|out| log(out, "before"));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch.push(|out| {
                out.extend_from_slice(br#"{"timestamp":1796591188.5,"bo"#);
                panic!("a LogLine that panics half-way");
            });
        }));
        assert!(panicked.is_err());
        batch.push(|out| log(out, "after"));
        batch.flush();
        assert_eq!(
            collect.logs(),
            [vec!["before".to_owned(), "after".to_owned()]]
        );
        batch.shutdown();
    }

    #[test]
    fn items_after_shutdown_are_counted_as_dropped_and_pending_ones_are_handed_over() {
        let (batch, collect) = attached();
        batch.push(|out| log(out, "before"));
        batch.shutdown();
        batch.push(|out| log(out, "after"));
        assert_eq!(collect.logs(), [vec!["before".to_owned()]]);
        assert_eq!(collect.dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn threads_write_to_stripes_of_their_own_and_no_item_is_lost() {
        let (batch, collect) = attached();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let batch = &batch;
                scope.spawn(move || {
                    for n in 0..12_000 {
                        batch.push(|out| log(out, &format!("{thread}-{n}")));
                    }
                });
            }
        });
        batch.flush();
        assert!(
            lock(&collect.envelopes)
                .iter()
                .any(|raw| raw.len() >= MAX_BYTES),
            "a full stripe was handed over before the flush"
        );
        let mut all: Vec<String> = collect.logs().into_iter().flatten().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 48_000);
        batch.shutdown();
    }
}
