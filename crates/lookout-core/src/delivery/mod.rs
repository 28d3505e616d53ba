//! Delivery: where envelopes go once sentry-core has built them.
//!
//! lookout plugs one [`TransportFactory`] into the client. Its transport runs
//! every envelope through, in order:
//!
//! 1. the envelope hook (lookout-core stamps the request's frozen Dynamic
//!    Sampling Context on error events and transactions alike);
//! 2. the console sink (development: one readable line per event);
//! 3. the Spotlight copy (when `SENTRY_SPOTLIGHT` is set), never blocking;
//! 4. the send queue (when sending): bounded by count and bytes, in front of
//!    lookout's HTTP transport (reqwest with rustls on the `sentry` crate's
//!    transport thread), which keeps the envelope headers and honours 429,
//!    `Retry-After` and per-category `X-Sentry-Rate-Limits`. Drops past the
//!    bound become `queue_overflow` client reports.
//!
//! This module decides nothing: lookout-policy chose the mode.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_core::{Envelope, Transport, TransportFactory, TransportOptions};

mod console;
mod http;
mod queue;
mod spotlight;

pub use console::{ConsoleSink, line as console_line, tracing_sink};
pub use queue::QueueLimits;
pub use spotlight::{DEFAULT_SPOTLIGHT_URL, SpotlightStats};

use queue::{BoundedQueue, INNER_CHANNEL_CAPACITY};
use spotlight::Spotlight;

/// A function that may rewrite an envelope before it is delivered.
pub type EnvelopeHook = Arc<dyn Fn(Envelope) -> Envelope + Send + Sync>;

/// How envelopes are delivered.
///
/// ```
/// use lookout_core::delivery::{Delivery, QueueLimits};
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
    inner: Option<Arc<dyn TransportFactory>>,
    hook: Option<EnvelopeHook>,
    stats: Arc<DeliveryStats>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("send", &self.send)
            .field("console", &self.console.is_some())
            .field("spotlight", &self.spotlight)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Counters shared by a [`Delivery`] and the transports it creates.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    queue: Mutex<Option<Arc<BoundedQueue>>>,
    spotlight: Mutex<Option<Arc<SpotlightStats>>>,
}

impl DeliveryStats {
    /// Envelopes dropped because the send queue was full (reported to Sentry
    /// as `queue_overflow` client reports).
    pub fn queue_dropped(&self) -> u64 {
        lock(&self.queue).as_ref().map_or(0, |q| q.dropped())
    }

    /// The Spotlight pipeline's counters, when Spotlight is on.
    pub fn spotlight(&self) -> Option<Arc<SpotlightStats>> {
        lock(&self.spotlight).clone()
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

    /// Each event is printed as one line through `tracing`, nothing is sent.
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
    /// use lookout_core::delivery::Delivery;
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
    /// let delivery = lookout_core::delivery::Delivery::off().with_spotlight("http://localhost:8969/stream");
    /// assert!(delivery.is_active());
    /// ```
    pub fn with_spotlight(mut self, url: impl Into<String>) -> Self {
        self.spotlight = Some(url.into());
        self
    }

    /// Sets the send queue's bounds.
    ///
    /// ```
    /// use lookout_core::delivery::{Delivery, QueueLimits};
    /// let delivery = Delivery::send().with_queue_limits(QueueLimits { max_envelopes: 100, max_bytes: 1 << 20 });
    /// # let _ = delivery;
    /// ```
    pub fn with_queue_limits(mut self, limits: QueueLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the HTTP transport behind the send queue (tests use an
    /// in-process capture; see `lookout_core::testing`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::test::TestTransport;
    /// let delivery = lookout_core::delivery::Delivery::send().with_transport(Arc::new(TestTransport::new()));
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
    /// let delivery = lookout_core::delivery::Delivery::console().with_hook(Arc::new(|envelope| envelope));
    /// # let _ = delivery;
    /// ```
    pub fn with_hook(mut self, hook: EnvelopeHook) -> Self {
        self.hook = Some(hook);
        self
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
        let queue = self.send.then(|| {
            let recorder = options.client_report_recorder.clone();
            options.transport_channel_capacity = NonZeroUsize::new(INNER_CHANNEL_CAPACITY);
            let inner: Arc<dyn Transport> = match &self.inner {
                Some(factory) => factory.create_transport_with_options(options),
                None => Arc::new(http::HttpTransport::new(options)),
            };
            let queue = Arc::new(BoundedQueue::new(inner, self.limits, recorder));
            *lock(&self.stats.queue) = Some(Arc::clone(&queue));
            queue
        });
        Arc::new(DeliveryTransport {
            hook: self.hook.clone(),
            console: self.console.clone(),
            spotlight,
            queue,
        })
    }
}

struct DeliveryTransport {
    hook: Option<EnvelopeHook>,
    console: Option<ConsoleSink>,
    spotlight: Option<Spotlight>,
    queue: Option<Arc<BoundedQueue>>,
}

impl Transport for DeliveryTransport {
    fn send_envelope(&self, envelope: Envelope) {
        let envelope = match &self.hook {
            Some(hook) => hook(envelope),
            None => envelope,
        };
        if let Some(sink) = &self.console {
            console::print(&envelope, sink);
        }
        if let Some(spotlight) = &self.spotlight {
            spotlight.send(&envelope);
        }
        if let Some(queue) = &self.queue {
            queue.push(envelope);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let queue = self.queue.as_ref().is_none_or(|q| q.flush(timeout));
        let spotlight = self.spotlight.as_ref().is_none_or(|s| s.flush(timeout));
        queue && spotlight
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let spotlight = self.spotlight.as_ref().is_none_or(|s| s.flush(timeout));
        let queue = self.queue.as_ref().is_none_or(|q| q.shutdown(timeout));
        queue && spotlight
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
