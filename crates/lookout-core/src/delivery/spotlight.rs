//! The Spotlight pipeline: a copy of every envelope to the local sidecar.
//!
//! Spotlight (`npx @spotlightjs/spotlight`) shows events, traces and logs on
//! the developer's machine. SDKs POST each envelope to
//! `http://localhost:8969/stream` with `Content-Type:
//! application/x-sentry-envelope`. This pipeline never blocks the caller: the
//! envelope is serialized and handed to a bounded channel; a dedicated thread
//! posts it. When the sidecar is down the thread backs off exponentially
//! (dropping what arrives meanwhile, it is a development viewer) and logs the
//! failure once per outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use sentry_core::Envelope;

/// The default sidecar address.
pub const DEFAULT_SPOTLIGHT_URL: &str = "http://localhost:8969/stream";

const CHANNEL_CAPACITY: usize = 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

enum Task {
    Post(Vec<u8>),
    Flush(SyncSender<()>),
}

/// Counters of the Spotlight pipeline, for tests and diagnostics.
#[derive(Debug, Default)]
pub struct SpotlightStats {
    delivered: AtomicU64,
    dropped: AtomicU64,
    failures: AtomicU64,
}

impl SpotlightStats {
    /// Envelopes the sidecar accepted.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Envelopes dropped: channel full, or the sidecar was down / backing off.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Failed POST attempts.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// Sends copies of envelopes to a Spotlight sidecar from a background thread.
pub(crate) struct Spotlight {
    sender: SyncSender<Task>,
    stats: Arc<SpotlightStats>,
}

impl Spotlight {
    /// Starts the pipeline thread for `url`.
    pub(crate) fn start(url: String) -> Self {
        let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
        let stats = Arc::new(SpotlightStats::default());
        let thread_stats = Arc::clone(&stats);
        let spawned = std::thread::Builder::new()
            .name("lookout-spotlight".into())
            .spawn(move || run(&url, &receiver, &thread_stats));
        if let Err(e) = spawned {
            tracing::warn!(target: "lookout::spotlight", "could not start the Spotlight thread: {e}");
        }
        Self { sender, stats }
    }

    /// Queues a copy of `envelope`; never blocks.
    pub(crate) fn send(&self, envelope: &Envelope) {
        let mut body = Vec::new();
        if envelope.to_writer(&mut body).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self.sender.try_send(Task::Post(body)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits up to `timeout` for everything queued so far to be handled.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = sync_channel(1);
        // Blocking is fine here (flush runs at shutdown); the worker always
        // makes progress because every request has a timeout.
        if self.sender.send(Task::Flush(done)).is_err() {
            return false;
        }
        wait.recv_timeout(timeout).is_ok()
    }

    pub(crate) fn stats(&self) -> Arc<SpotlightStats> {
        Arc::clone(&self.stats)
    }
}

fn run(url: &str, receiver: &Receiver<Task>, stats: &SpotlightStats) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(target: "lookout::spotlight", "Spotlight disabled: no runtime: {e}");
            return;
        }
    };
    // reqwest's connector needs the runtime's context while it is built.
    let _entered = runtime.enter();
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(target: "lookout::spotlight", "Spotlight disabled: no HTTP client: {e}");
            return;
        }
    };
    let mut backoff = Backoff::default();
    for task in receiver {
        let body = match task {
            Task::Post(body) => body,
            Task::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        if backoff.waiting(Instant::now()) {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let result = runtime.block_on(
            client
                .post(url)
                .header("content-type", "application/x-sentry-envelope")
                .body(body)
                .send(),
        );
        match result.map(|response| response.status()) {
            Ok(status) if status.is_success() => {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
                if backoff.recovered() {
                    tracing::info!(target: "lookout::spotlight", "Spotlight at {url} is reachable again");
                }
            }
            outcome => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                let reason = match outcome {
                    Ok(status) => format!("answered {status}"),
                    Err(e) => e.to_string(),
                };
                if backoff.failed(Instant::now()) {
                    tracing::warn!(
                        target: "lookout::spotlight",
                        "Spotlight at {url} is not reachable ({reason}); retrying with backoff, events are dropped meanwhile"
                    );
                }
            }
        }
    }
}

/// Exponential backoff that reports only the first failure of an outage.
#[derive(Debug, Default)]
struct Backoff {
    delay: Option<Duration>,
    until: Option<Instant>,
}

impl Backoff {
    fn waiting(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| now < until)
    }

    /// Records a failure; returns true when it starts a new outage (log it).
    fn failed(&mut self, now: Instant) -> bool {
        let first = self.delay.is_none();
        let delay = self
            .delay
            .map_or(FIRST_BACKOFF, |d| (d * 2).min(MAX_BACKOFF));
        self.delay = Some(delay);
        self.until = Some(now + delay);
        first
    }

    /// Records a success; returns true when it ends an outage.
    fn recovered(&mut self) -> bool {
        self.until = None;
        self.delay.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_logs_once_per_outage() {
        let mut backoff = Backoff::default();
        let now = Instant::now();
        assert!(!backoff.waiting(now));
        assert!(backoff.failed(now), "the first failure is logged");
        assert!(backoff.waiting(now));
        assert!(!backoff.waiting(now + FIRST_BACKOFF));
        assert!(
            !backoff.failed(now),
            "later failures of the same outage are not"
        );
        assert_eq!(backoff.delay, Some(FIRST_BACKOFF * 2));
        for _ in 0..20 {
            backoff.failed(now);
        }
        assert_eq!(backoff.delay, Some(MAX_BACKOFF));
        assert!(backoff.recovered());
        assert!(!backoff.waiting(now));
        assert!(backoff.failed(now), "a new outage is logged again");
    }

    #[test]
    fn a_sidecar_that_is_down_never_blocks_the_sender() {
        // Port 9 on loopback: nothing listens there.
        let spotlight = Spotlight::start("http://127.0.0.1:9/stream".to_owned());
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        // Every send returns at once: it either queues or drops, never waits on I/O.
        for _ in 0..5000 {
            spotlight.send(&envelope);
        }
        assert!(spotlight.flush(Duration::from_secs(10)));
        let stats = spotlight.stats();
        assert_eq!(stats.delivered(), 0);
        assert_eq!(stats.dropped(), 5000);
        assert!(stats.failures() >= 1);
    }
}
