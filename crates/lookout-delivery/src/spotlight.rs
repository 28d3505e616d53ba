//! The Spotlight pipeline: a copy of every envelope to the local sidecar.
//!
//! Spotlight (`npx @spotlightjs/spotlight`) shows events, traces and logs on
//! the developer's machine. SDKs POST each envelope to
//! `http://localhost:8969/stream` with `Content-Type:
//! application/x-sentry-envelope`. This pipeline never blocks the caller: the
//! envelope is serialized and handed to a bounded channel; a dedicated thread
//! posts it. When the sidecar is down the thread backs off exponentially
//! (dropping what arrives meanwhile, it is a development viewer) and logs the
//! failure once per outage. The default address is lookout-policy's
//! `SPOTLIGHT_DEFAULT_URL` (`SENTRY_SPOTLIGHT=1`).
//!
//! Nothing waits for the thread past a deadline: flush and shutdown give up
//! at theirs, and at shutdown what is still queued is dropped (counted in
//! [`SpotlightStats::dropped`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sentry_core::Envelope;

const CHANNEL_CAPACITY: usize = 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The sidecar runs on this machine: a connection takes no time or fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// Envelopes dropped: channel full, the sidecar was down / backing off,
    /// or still queued when delivery shut down.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Failed POST attempts.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// What the caller and the pipeline thread share.
#[derive(Default)]
struct Shared {
    stats: Arc<SpotlightStats>,
    /// Envelopes queued and not yet handled (posted or dropped).
    pending: Mutex<usize>,
    /// Signalled when `pending` drops to zero.
    idle: Condvar,
    /// Set at shutdown: what is still queued is dropped, not posted.
    closed: AtomicBool,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One queued envelope handled.
    fn handled(&self) {
        let mut pending = self.pending();
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.idle.notify_all();
        }
    }
}

/// Sends copies of envelopes to a Spotlight sidecar from a background thread.
///
/// The thread is never joined: a sidecar that hangs cannot keep the process
/// alive, and flush and shutdown wait no longer than their deadline.
pub(crate) struct Spotlight {
    sender: SyncSender<Vec<u8>>,
    shared: Arc<Shared>,
}

impl Spotlight {
    /// Starts the pipeline thread for `url`.
    pub(crate) fn start(url: String) -> Self {
        let (sender, receiver) = sync_channel(CHANNEL_CAPACITY);
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("lookout-spotlight".into())
            .spawn(move || run(&url, &receiver, &thread_shared));
        if let Err(e) = spawned {
            tracing::warn!(target: "lookout::spotlight", "could not start the Spotlight thread: {e}");
        }
        Self { sender, shared }
    }

    /// Queues a copy of `envelope`; never blocks.
    pub(crate) fn send(&self, envelope: &Envelope) {
        let mut body = Vec::new();
        if envelope.to_writer(&mut body).is_err() {
            self.shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.send_bytes(body);
    }

    /// Sends a serialized envelope (a batch's) as [`Spotlight::send`] does.
    pub(crate) fn send_bytes(&self, body: Vec<u8>) {
        let stats = &self.shared.stats;
        *self.shared.pending() += 1;
        match self.sender.try_send(body) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                self.shared.handled();
            }
        }
    }

    /// Waits until everything queued so far was handled, up to `deadline`.
    pub(crate) fn flush(&self, deadline: Instant) -> bool {
        let mut pending = self.shared.pending();
        while *pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = self
                .shared
                .idle
                .wait_timeout(pending, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        true
    }

    /// Flushes until `deadline`, then drops what is still queued.
    pub(crate) fn shutdown(&self, deadline: Instant) -> bool {
        let flushed = self.flush(deadline);
        self.shared.closed.store(true, Ordering::Relaxed);
        flushed
    }

    pub(crate) fn stats(&self) -> Arc<SpotlightStats> {
        Arc::clone(&self.shared.stats)
    }
}

fn run(url: &str, receiver: &Receiver<Vec<u8>>, shared: &Shared) {
    let stats = &shared.stats;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(target: "lookout::spotlight", "Spotlight disabled: no runtime: {e}");
            drain(receiver, shared);
            return;
        }
    };
    // reqwest's connector needs the runtime's context while it is built.
    let _entered = runtime.enter();
    let client = match reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(target: "lookout::spotlight", "Spotlight disabled: no HTTP client: {e}");
            drain(receiver, shared);
            return;
        }
    };
    let mut backoff = Backoff::default();
    for body in receiver {
        if shared.closed.load(Ordering::Relaxed) || backoff.waiting(Instant::now()) {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            shared.handled();
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
        shared.handled();
    }
}

/// Without a client: drop everything, so that flushes do not wait for it.
fn drain(receiver: &Receiver<Vec<u8>>, shared: &Shared) {
    for _ in receiver {
        shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
        shared.handled();
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
        assert!(spotlight.flush(Instant::now() + Duration::from_secs(10)));
        let stats = spotlight.stats();
        assert_eq!(stats.delivered(), 0);
        assert_eq!(stats.dropped(), 5000);
        assert!(stats.failures() >= 1);
    }

    #[test]
    fn shutdown_keeps_its_deadline_when_the_sidecar_never_answers() {
        // Accepts connections (the kernel does, from the backlog), never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/stream", listener.local_addr().unwrap());
        let spotlight = Arc::new(Spotlight::start(url));
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        // One post hangs, the channel behind it is full.
        for _ in 0..CHANNEL_CAPACITY + 100 {
            spotlight.send(&envelope);
        }
        let (done, returned) = std::sync::mpsc::channel();
        let stopping = Arc::clone(&spotlight);
        std::thread::spawn(move || {
            let _ = done.send(stopping.shutdown(Instant::now() + Duration::from_millis(200)));
        });
        // Generous, and still below the hanging post's request timeout: a
        // flush that queued behind the full channel would wait for that post.
        let flushed = returned
            .recv_timeout(REQUEST_TIMEOUT / 2)
            .expect("shutdown returned by its deadline");
        assert!(!flushed, "the hanging post was not waited for");
        drop(listener);
    }
}
