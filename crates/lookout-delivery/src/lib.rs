//! lookout's delivery: where envelopes go once sentry-core has built them.
//!
//! [`Delivery`] is a [`TransportFactory`] for any `sentry-core` client (the
//! plain `sentry` crate's too). Its transport runs every envelope through, in
//! order:
//!
//! 1. the envelope hook (lookout-core stamps the request's frozen Dynamic
//!    Sampling Context on error events and transactions alike);
//! 2. the console sink (development: one readable line per event and per
//!    log);
//! 3. the outgoing hook (lookout-core writes Relay's `_meta` for a request
//!    body it left out);
//! 4. the Spotlight copy (when `SENTRY_SPOTLIGHT` is set), never blocking;
//! 5. the send queue (when sending): bounded by count and bytes, in front of
//!    lookout's HTTP transport (reqwest with rustls on its own thread), which
//!    keeps the envelope headers and honours 429, `Retry-After` and
//!    per-category `X-Sentry-Rate-Limits`, and compresses each body (zstd by
//!    default, `LOOKOUT_COMPRESSION`). Drops past the bound become
//!    `queue_overflow` client reports.
//!
//! High-volume items (Sentry Logs) reach it through a [`batch::Batch`]: a
//! request writes its item's JSON straight into an envelope's bytes (the
//! stripe its thread picks), and the item that brings it to 1 MiB hands the
//! envelope over.
//!
//! Flush and shutdown share one deadline across the stages (the queue, the
//! HTTP transport, the Spotlight copy), never one timeout each. At the
//! shutdown deadline whatever is still waiting or in flight is dropped and
//! counted ([`DeliveryStats::shutdown_report`]); no thread of this crate is
//! waited for past it, so a Sentry that cannot be reached never keeps the
//! process alive.
//!
//! This crate decides nothing: lookout-policy chose the mode, lookout-core
//! what an envelope carries.
//!
//! ```
//! use std::sync::Arc;
//! use lookout_delivery::{Delivery, QueueLimits};
//!
//! // Production: send to the DSN's Sentry, with a larger queue.
//! let delivery = Delivery::send().with_queue_limits(QueueLimits { max_envelopes: 20_000, max_bytes: 128 << 20 });
//! let mut options = sentry_core::ClientOptions::default();
//! options.dsn = "https://public@o1.ingest.sentry.io/1".parse().ok();
//! options.transport = Some(Arc::new(delivery.clone()));
//! let client = sentry_core::Client::from(options);
//! assert!(client.is_enabled());
//! client.close(Some(std::time::Duration::from_millis(100)));
//! assert_eq!(delivery.stats().snapshot().dropped.queue_full, 0);
//! ```

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentry_core::{Envelope, Transport, TransportFactory, TransportOptions};

pub mod batch;
mod console;
mod http;
mod losses;
mod queue;
mod report;
mod spotlight;
mod stats;

/// How envelopes sent to Sentry are compressed (`LOOKOUT_COMPRESSION`).
pub use lookout_policy::Compression;

pub use console::{
    ConsoleSink, collecting_console, line as console_line, log_line as console_log_line,
    metric_line as console_metric_line, tracing_sink,
};
pub use queue::QueueLimits;
pub use report::ShutdownReport;
pub use spotlight::SpotlightStats;
pub use stats::{DeliverySnapshot, DeliveryStats, Dropped, LastError, SpotlightSnapshot};

use queue::{BoundedQueue, Confirmation, INNER_CHANNEL_CAPACITY};
use report::Tally;
use spotlight::Spotlight;
use stats::Counters;

/// A function that may rewrite an envelope before it is delivered. An
/// envelope it empties of every item is not delivered.
pub type EnvelopeHook = Arc<dyn Fn(Envelope) -> Envelope + Send + Sync>;

/// Counts kept between flushes (lookout-core's request-mode sessions) that
/// a delivery sends as one envelope ahead of every flush and at shutdown.
pub trait Aggregates: Send + Sync {
    /// What was counted since the last call, as one envelope, or `None`
    /// when nothing was.
    fn take(&self) -> Option<Envelope>;
}

/// How envelopes are delivered.
///
/// ```
/// use lookout_delivery::{Delivery, QueueLimits};
///
/// // Development: console lines plus a copy to a running Spotlight sidecar.
/// let delivery = Delivery::console().with_spotlight("http://localhost:8969/stream");
/// # let _ = delivery;
/// // Production: send, with a larger queue.
/// let delivery = Delivery::send().with_queue_limits(QueueLimits { max_envelopes: 20_000, max_bytes: 128 << 20 });
/// # let _ = delivery;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Delivery {
    send: bool,
    console: Option<ConsoleSink>,
    spotlight: Option<String>,
    limits: QueueLimits,
    compression: Compression,
    inner: Option<Arc<dyn TransportFactory>>,
    hook: Option<EnvelopeHook>,
    outgoing: Option<EnvelopeHook>,
    stats: Arc<DeliveryStats>,
    /// Request-mode session counts, sent on every flush and at shutdown.
    sessions: Option<Arc<dyn Aggregates>>,
    /// Batches of high-volume items (lookout's Sentry Logs) written by
    /// their own thread and handed to this delivery.
    batches: Vec<Arc<dyn batch::Flush>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("send", &self.send)
            .field("console", &self.console.is_some())
            .field("spotlight", &self.spotlight)
            .field("limits", &self.limits)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BoundedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedQueue").finish_non_exhaustive()
    }
}

impl Delivery {
    /// Nothing is delivered (no DSN outside development).
    pub fn off() -> Self {
        Self::default()
    }

    /// Envelopes are sent to Sentry over HTTP (rustls).
    pub fn send() -> Self {
        Self {
            send: true,
            ..Self::default()
        }
    }

    /// Each event and each log is printed as one line through `tracing`,
    /// nothing is sent.
    pub fn console() -> Self {
        Self {
            console: Some(tracing_sink()),
            ..Self::default()
        }
    }

    /// Also prints console lines (through `sink`), whatever else is on.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use lookout_delivery::Delivery;
    ///
    /// let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    /// let sink = Arc::clone(&lines);
    /// let delivery = Delivery::off().with_console(Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned())));
    /// assert!(delivery.is_active());
    /// ```
    pub fn with_console(mut self, sink: ConsoleSink) -> Self {
        self.console = Some(sink);
        self
    }

    /// Also posts a copy of every envelope to a Spotlight sidecar at `url`.
    ///
    /// ```
    /// let delivery = lookout_delivery::Delivery::off().with_spotlight("http://localhost:8969/stream");
    /// assert!(delivery.is_active());
    /// ```
    pub fn with_spotlight(mut self, url: impl Into<String>) -> Self {
        self.spotlight = Some(url.into());
        self
    }

    /// Sets the send queue's bounds.
    ///
    /// ```
    /// use lookout_delivery::{Delivery, QueueLimits};
    /// let delivery = Delivery::send().with_queue_limits(QueueLimits { max_envelopes: 100, max_bytes: 1 << 20 });
    /// # let _ = delivery;
    /// ```
    pub fn with_queue_limits(mut self, limits: QueueLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how the HTTP transport compresses what it sends (zstd by
    /// default; `LOOKOUT_COMPRESSION`). Compression happens on the
    /// transport's own threads; the console and the Spotlight copy always
    /// get envelopes uncompressed, and a transport set with
    /// [`Delivery::with_transport`] gets them as they are.
    ///
    /// ```
    /// use lookout_delivery::{Compression, Delivery};
    /// let delivery = Delivery::send().with_compression(Compression::Gzip);
    /// assert_eq!(delivery.compression(), Compression::Gzip);
    /// assert_eq!(Delivery::send().compression(), Compression::Zstd);
    /// ```
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// How the HTTP transport compresses what it sends.
    #[must_use]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Replaces the HTTP transport behind the send queue (tests use an
    /// in-process capture; see `lookout_core::testing`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::test::TestTransport;
    /// let delivery = lookout_delivery::Delivery::send().with_transport(Arc::new(TestTransport::new()));
    /// # let _ = delivery;
    /// ```
    pub fn with_transport(mut self, factory: Arc<dyn TransportFactory>) -> Self {
        self.inner = Some(factory);
        self
    }

    /// Sets the hook every envelope passes through first.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let delivery = lookout_delivery::Delivery::console().with_hook(Arc::new(|envelope| envelope));
    /// # let _ = delivery;
    /// ```
    pub fn with_hook(mut self, hook: EnvelopeHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Sets the hook every envelope passes through after the console line
    /// is printed and before it leaves the process (Spotlight, the send
    /// queue). lookout-core writes what sentry-types cannot express here
    /// (Relay's `_meta`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let delivery = lookout_delivery::Delivery::send().with_outgoing_hook(Arc::new(|envelope| envelope));
    /// # let _ = delivery;
    /// ```
    pub fn with_outgoing_hook(mut self, hook: EnvelopeHook) -> Self {
        self.outgoing = Some(hook);
        self
    }

    /// Sends what `aggregates` counted (lookout-core's sessions) as one
    /// envelope ahead of every flush and at shutdown.
    pub fn with_aggregates(mut self, aggregates: Arc<dyn Aggregates>) -> Self {
        self.sessions = Some(aggregates);
        self
    }

    /// Hands the envelopes of `batch` to this delivery (its thread starts
    /// with the transport) and flushes it ahead of every flush.
    pub fn with_batch(mut self, batch: Arc<dyn batch::Flush>) -> Self {
        self.batches.push(batch);
        self
    }

    /// Whether events and logs are printed as console lines.
    #[must_use]
    pub fn has_console(&self) -> bool {
        self.console.is_some()
    }

    /// Whether anything is delivered at all.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.send || self.console.is_some() || self.spotlight.is_some()
    }

    /// Whether envelopes are sent to Sentry.
    #[must_use]
    pub fn is_sending(&self) -> bool {
        self.send
    }

    /// The counters of this delivery's transports.
    #[must_use]
    pub fn stats(&self) -> Arc<DeliveryStats> {
        Arc::clone(&self.stats)
    }
}

impl TransportFactory for Delivery {
    fn create_transport_with_options(&self, mut options: TransportOptions) -> Arc<dyn Transport> {
        let spotlight = self.spotlight.clone().map(|url| {
            let spotlight = Spotlight::start(url);
            *lock(&self.stats.spotlight) = Some(spotlight.stats());
            spotlight
        });
        let spares = Arc::new(batch::Spares::default());
        let queue = self.send.then(|| {
            let recorder = options.client_report_recorder.clone();
            let _ = self.stats.recorder.set(recorder.clone());
            options.transport_channel_capacity = NonZeroUsize::new(INNER_CHANNEL_CAPACITY);
            let tally = Arc::clone(&self.stats.tally);
            let (inner, confirmation): (Arc<dyn Transport>, _) = match &self.inner {
                Some(factory) => (
                    factory.create_transport_with_options(options),
                    Confirmation::ByFlush,
                ),
                None => {
                    let transport = http::HttpTransport::new(
                        options,
                        Arc::clone(&tally),
                        self.compression,
                        Arc::clone(&spares),
                    );
                    let transport = Arc::new(transport);
                    (
                        Arc::clone(&transport) as Arc<dyn Transport>,
                        Confirmation::ByTransport(transport),
                    )
                }
            };
            let queue = Arc::new(BoundedQueue::new(
                inner,
                self.limits,
                recorder,
                tally,
                confirmation,
            ));
            *lock(&self.stats.queue) = Some(Arc::clone(&queue));
            queue
        });
        let transport = Arc::new(DeliveryTransport {
            hook: self.hook.clone(),
            outgoing: self.outgoing.clone(),
            console: self.console.clone(),
            spotlight,
            queue,
            tally: Arc::clone(&self.stats.tally),
            sessions: self.sessions.clone(),
            batches: self.batches.clone(),
            recorder: self.stats.recorder.get().cloned(),
            spares,
        });
        let forward: Arc<dyn batch::Forward> = transport.clone();
        for batch in &self.batches {
            if self.send {
                // A quarter of the queue's byte bound: a batch is never
                // dropped for its weight alone, and a few can wait at once.
                batch.limit_weight(self.limits.max_bytes / 4);
            }
            Arc::clone(batch).attach(Arc::downgrade(&forward));
        }
        transport
    }
}

struct DeliveryTransport {
    hook: Option<EnvelopeHook>,
    outgoing: Option<EnvelopeHook>,
    console: Option<ConsoleSink>,
    spotlight: Option<Spotlight>,
    queue: Option<Arc<BoundedQueue>>,
    tally: Arc<Tally>,
    sessions: Option<Arc<dyn Aggregates>>,
    batches: Vec<Arc<dyn batch::Flush>>,
    recorder: Option<sentry_core::client_report::Recorder>,
    /// Batch buffers lookout's HTTP transport has sent, for the next batches.
    spares: Arc<batch::Spares>,
}

impl batch::Forward for DeliveryTransport {
    /// A batch's envelope: no request's, so no hook (no DSC) and no
    /// console line (batches are not made in console mode).
    fn forward(&self, envelope: Vec<u8>) {
        if let Some(spotlight) = &self.spotlight {
            spotlight.send_bytes(envelope.clone());
        }
        if let Some(queue) = &self.queue {
            queue.push_serialized(envelope);
        }
    }

    fn spare(&self, room: usize) -> Option<Vec<u8>> {
        self.spares.take(room)
    }

    fn dropped(&self, n: u64) {
        Counters::add(&self.tally.counters.dropped_queue_full, n);
        if let Some(recorder) = &self.recorder {
            // Client reports count logs by their envelope item.
            let mut lost = Envelope::new();
            let logs: Vec<sentry_core::protocol::Log> = (0..n).map(|_| batch::lost_log()).collect();
            lost.add_item(logs);
            recorder.record_lost_data(&lost, sentry_core::client_report::Reason::QueueOverflow);
        }
    }
}

impl DeliveryTransport {
    /// Whatever sessions were counted, as one envelope, ahead of a flush.
    fn send_sessions(&self) {
        if let Some(envelope) = self.sessions.as_ref().and_then(|s| s.take()) {
            self.send_envelope(envelope);
        }
    }
}

impl Transport for DeliveryTransport {
    fn send_envelope(&self, envelope: Envelope) {
        if envelope
            .items()
            .any(|item| matches!(item, sentry_core::protocol::EnvelopeItem::Event(_)))
        {
            // It passed sampling (see `DeliveryStats::snapshot`'s `sampled_out`).
            Counters::add(&self.tally.counters.events_arrived, 1);
        }
        let envelope = match &self.hook {
            Some(hook) => {
                let had_items = envelope.items().next().is_some();
                let envelope = hook(envelope);
                // The hook dropped everything in it (a filtered transaction).
                if had_items && envelope.items().next().is_none() {
                    return;
                }
                envelope
            }
            None => envelope,
        };
        if let Some(sink) = &self.console {
            console::print(&envelope, sink);
        }
        // Past the console (which reads events as typed).
        let envelope = match &self.outgoing {
            Some(hook) => hook(envelope),
            None => envelope,
        };
        if let Some(spotlight) = &self.spotlight {
            spotlight.send(&envelope);
        }
        if let Some(queue) = &self.queue {
            queue.push(envelope);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        // One deadline for both: the Spotlight thread works on its own
        // meanwhile, so waiting for the queue first costs it nothing.
        let deadline = deadline_after(timeout);
        for batch in &self.batches {
            batch.flush();
        }
        self.send_sessions();
        let queue = self.queue.as_ref().is_none_or(|q| q.flush(deadline));
        let spotlight = self.spotlight.as_ref().is_none_or(|s| s.flush(deadline));
        queue && spotlight
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = deadline_after(timeout);
        for batch in &self.batches {
            batch.shutdown();
        }
        self.send_sessions();
        let queue = self.queue.as_ref().map(|q| q.shutdown(deadline));
        if let Some(sent) = queue {
            self.tally.close(!sent);
        }
        let spotlight = self.spotlight.as_ref().is_none_or(|s| s.shutdown(deadline));
        queue.unwrap_or(true) && spotlight
    }
}

/// `timeout` from now (a practically endless wait when it is too long to add).
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
