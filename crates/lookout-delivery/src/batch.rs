//! Batching high-volume items (Sentry Logs) off the request's path.
//!
//! A request pushes its item into a [`Batch`] (a lock and a `Vec` push: no
//! serialization, no Sentry model, no map); the batch's own thread wakes at
//! [`MAX_ITEMS`] items or every [`INTERVAL`], writes the items straight to
//! one envelope's bytes with the writer it was given, and hands the envelope
//! to the delivery (Spotlight copy, send queue, compression, HTTP). Flush
//! and shutdown write what is pending first, on the caller's thread, so a
//! batch never outlives the client.
//!
//! The wire format is the envelope item of the Logs protocol: one item
//! `{"type":"log","item_count":N,"content_type":"application/vnd.sentry.items.log+json"}`
//! with the payload `{"items":[...]}`, as sentry-core's batcher writes it.

use std::io::Write as _;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use sentry_core::Envelope;

use super::lock;

/// At most this many items per envelope (as sentry-core's batcher).
pub const MAX_ITEMS: usize = 100;
/// Items wait at most this long before they are sent.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Items waiting for the batch thread at most; past it new items are
/// dropped and counted (a thread that cannot keep up must not grow memory).
pub const MAX_PENDING: usize = 100 * MAX_ITEMS;

/// How a batch writes one item's JSON object (`{...}`, no trailing comma).
pub type WriteItem<T> = Box<dyn Fn(&T, &mut Vec<u8>) + Send + Sync>;

/// Where a batch hands its envelopes.
pub trait Forward: Send + Sync {
    /// Delivers an envelope of batched items (already serialized).
    fn forward(&self, envelope: Envelope);
    /// Counts `n` items dropped before they were written.
    fn dropped(&self, n: u64);
}

/// What a delivery needs of a batch, whatever its item type.
pub trait Flush: Send + Sync {
    /// Starts the batch's thread, handing envelopes to `to`.
    fn attach(self: Arc<Self>, to: Weak<dyn Forward>);
    /// Writes and hands over whatever is pending, now.
    fn flush(&self);
    /// Flushes, then stops the thread.
    fn shutdown(&self);
}

/// A batch of items of type `T`, serialized by its thread.
pub struct Batch<T> {
    item_type: &'static str,
    content_type: &'static str,
    write: WriteItem<T>,
    state: Mutex<State<T>>,
    /// Held while items taken from `state` are written and handed over, so
    /// a flush waits for a batch the thread is writing (its envelope then
    /// is in the send queue the flush drains next).
    writing: Mutex<()>,
    wake: Condvar,
    forward: Mutex<Option<Weak<dyn Forward>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct State<T> {
    pending: Vec<T>,
    stopping: bool,
}

impl<T: Send + 'static> Batch<T> {
    /// A batch of envelope items of `item_type` (e.g. `log`) with
    /// `content_type`, each written by `write`.
    #[must_use]
    pub fn new(item_type: &'static str, content_type: &'static str, write: WriteItem<T>) -> Self {
        Self {
            item_type,
            content_type,
            write,
            state: Mutex::new(State {
                pending: Vec::new(),
                stopping: false,
            }),
            writing: Mutex::new(()),
            wake: Condvar::new(),
            forward: Mutex::new(None),
            thread: Mutex::new(None),
        }
    }

    /// Queues `item`; the batch thread writes it. Dropped (and counted)
    /// when [`MAX_PENDING`] items already wait or the batch has stopped.
    pub fn push(&self, item: T) {
        let mut state = lock(&self.state);
        if state.stopping || state.pending.len() >= MAX_PENDING {
            drop(state);
            self.count_dropped(1);
            return;
        }
        state.pending.push(item);
        let full = state.pending.len() == MAX_ITEMS;
        drop(state);
        if full {
            self.wake.notify_one();
        }
    }

    fn count_dropped(&self, n: u64) {
        if let Some(forward) = lock(&self.forward).as_ref().and_then(Weak::upgrade) {
            forward.dropped(n);
        }
    }

    /// Takes what is pending and hands it over as envelopes of at most
    /// [`MAX_ITEMS`] items.
    fn write_out(&self, items: Vec<T>) {
        if items.is_empty() {
            return;
        }
        let Some(forward) = lock(&self.forward).as_ref().and_then(Weak::upgrade) else {
            return;
        };
        for chunk in items.chunks(MAX_ITEMS) {
            if let Some(envelope) = self.envelope(chunk) {
                forward.forward(envelope);
            }
        }
    }

    /// One envelope of `items`, written straight to bytes: the envelope
    /// header, the item header (a container's carries its count, no
    /// length), the payload.
    fn envelope(&self, items: &[T]) -> Option<Envelope> {
        let mut bytes = Vec::with_capacity(160 + items.len() * 1024);
        let _ = write!(
            bytes,
            "{{}}\n{{\"type\":\"{}\",\"item_count\":{},\"content_type\":\"{}\"}}\n{{\"items\":[",
            self.item_type,
            items.len(),
            self.content_type
        );
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                bytes.push(b',');
            }
            (self.write)(item, &mut bytes);
        }
        bytes.extend_from_slice(b"]}\n");
        Envelope::from_bytes_raw(bytes).ok()
    }

    fn run(&self) {
        let mut state = lock(&self.state);
        loop {
            if state.stopping {
                return;
            }
            if state.pending.len() < MAX_ITEMS {
                state = self
                    .wake
                    .wait_timeout(state, INTERVAL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if state.pending.is_empty() {
                continue;
            }
            drop(state);
            // Taken and written under `writing`: a flush meanwhile waits.
            let writing = lock(&self.writing);
            // The next batch's room is made here, on this thread, not by
            // the requests that push into it.
            let items = std::mem::replace(
                &mut lock(&self.state).pending,
                Vec::with_capacity(MAX_ITEMS),
            );
            self.write_out(items);
            drop(writing);
            state = lock(&self.state);
        }
    }
}

impl<T: Send + 'static> Flush for Batch<T> {
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
        let _writing = lock(&self.writing);
        let items = std::mem::take(&mut lock(&self.state).pending);
        self.write_out(items);
    }

    fn shutdown(&self) {
        let _writing = lock(&self.writing);
        let items = {
            let mut state = lock(&self.state);
            state.stopping = true;
            std::mem::take(&mut state.pending)
        };
        self.wake.notify_one();
        self.write_out(items);
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
