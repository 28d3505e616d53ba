//! [`HttpTransport`]: the `Transport` the send queue hands envelopes to.
//! One sending thread (a current-thread tokio runtime) posts up to [`LANES`]
//! envelopes at once, check-ins one after another; envelopes are dropped
//! while Sentry asked for no envelope at all; flush waits for what is
//! pending, and shutdown returns within its deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lookout_policy::Compression;
use sentry::transports::RateLimiter;
use sentry_core::client_report::{Reason as LossReason, Recorder};
use sentry_core::{Envelope, Transport, TransportOptions};
use tokio::sync::{mpsc, watch};

use super::lane::{Job, Lane, Shared};
use super::lanes::{LANES, Pending, carries_check_in};
use super::rate_limits::{Backoff, MonitorLimit};
use crate::lock;
use crate::report::Tally;
use crate::stats::Counters;

/// How long a connection to Sentry may take to open. Short: an endpoint that
/// does not accept within it is down, and the queue keeps what waits.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one envelope request may take in all (connect, upload, answer).
/// Envelopes are small; a request that takes longer is stuck, and its
/// envelope is lost (`network_error`) rather than holding up the rest.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends envelopes to the DSN's envelope endpoint from its own thread.
///
/// The thread runs one tokio runtime with one reqwest client: it takes the
/// next envelope while up to [`LANES`] requests are in flight, so a busy
/// service's envelopes share wake-ups instead of costing a thread switch
/// each, and one slow round trip does not hold up the others. Check-ins go
/// one after another, in order (a monitor's `in_progress` before its `ok`).
///
/// Shutdown never waits past its deadline: what is still in flight or
/// waiting then is abandoned (the request futures are dropped, later
/// envelopes are not sent), and the thread is let go rather than joined, so
/// it cannot keep the process alive.
pub(crate) struct HttpTransport {
    /// Where envelopes go to the sending thread; `None` once shut down.
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// Envelopes handed over and not yet done with.
    pending: Arc<Pending>,
    /// Set at the shutdown deadline: requests in flight stop, none start.
    abandon: watch::Sender<bool>,
    /// Until when Sentry asked for no envelope at all.
    backoff: Backoff,
    recorder: Recorder,
    tally: Arc<Tally>,
}

impl HttpTransport {
    /// The transport for `options`, compressing what it sends as
    /// `compression` says; every envelope Sentry confirms (2xx) is counted
    /// in `tally`, and a batch's buffer, once compressed, kept in `spares`.
    pub(crate) fn new(
        options: TransportOptions,
        tally: Arc<Tally>,
        compression: Compression,
        spares: Arc<crate::batch::Spares>,
    ) -> Self {
        let TransportOptions {
            dsn,
            user_agent,
            client_report_recorder,
            ..
        } = options;
        let backoff = Backoff::default();
        let (abandon, abandoned) = watch::channel(false);
        let url = dsn.envelope_api_url();
        let shared = Arc::new(Shared {
            url,
            auth: super::lane::auth_header(&dsn.to_auth(Some(&user_agent)).to_string()),
            host: lookout_policy::dsn_address(&dsn),
            recorder: client_report_recorder.clone(),
            monitor_limit: MonitorLimit::default(),
            limits: Mutex::new(RateLimiter::new()),
            backoff: backoff.clone(),
            tally: Arc::clone(&tally),
            abandoned,
            compression,
            spares,
        });
        let (jobs, receiver) = mpsc::unbounded_channel();
        let spawned = std::thread::Builder::new()
            .name("lookout-transport".into())
            .spawn(move || run(shared, receiver));
        Self {
            // Without its thread the transport sends nothing (counted lost).
            jobs: Mutex::new(spawned.is_ok().then_some(jobs)),
            pending: Arc::default(),
            abandon,
            backoff,
            recorder: client_report_recorder,
            tally,
        }
    }

    /// What the send queue paces itself by: the envelopes handed over and
    /// not yet done with.
    pub(crate) fn pending(&self) -> &Pending {
        &self.pending
    }

    /// Sends a serialized envelope (the send queue's bytes, taken as they
    /// are: no envelope around them, no copy).
    pub(crate) fn send_serialized(&self, body: Vec<u8>) {
        let jobs = lock(&self.jobs);
        // After shutdown the envelope is dropped; the tally counts it lost.
        let Some(jobs) = jobs.as_ref() else {
            return;
        };
        if self.backoff.in_force() {
            // Every category is limited: drop it here, where it is counted
            // (parsed back only then, for the client report).
            crate::report::record_lost_bytes(&self.recorder, &body, LossReason::RatelimitBackoff);
            Counters::add(&self.tally.counters.dropped_rate_limited, 1);
            return;
        }
        let ordered = carries_check_in(&body);
        let _ = jobs.send(Job {
            body,
            ordered,
            done: self.pending.add(),
        });
    }
}

/// The sending thread: takes jobs while fewer than [`LANES`] requests are in
/// flight; check-ins go to a task of their own that sends them in order.
/// Ends when the transport is shut down and what it holds is done with.
fn run(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let mut lane = Lane::new(shared);
        let (in_order, mut ordered) = mpsc::unbounded_channel();
        let check_ins = tokio::spawn(async move {
            while let Some(request) = ordered.recv().await {
                request.await;
            }
        });
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                job = jobs.recv(), if in_flight.len() < LANES => {
                    let Some(job) = job else { break };
                    let ordered = job.ordered;
                    let Some(request) = lane.prepare(job) else { continue };
                    if ordered {
                        let _ = in_order.send(request);
                    } else {
                        in_flight.spawn(request);
                    }
                }
            }
        }
        drop(in_order);
        while in_flight.join_next().await.is_some() {}
        let _ = check_ins.await;
    });
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // The send queue hands over bytes ([`HttpTransport::send_serialized`]);
        // anything else is serialized here, once.
        let mut body = Vec::new();
        if envelope.to_writer(&mut body).is_ok() {
            self.send_serialized(body);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.pending.wait_below(1, deadline_after(timeout))
    }

    /// Waits for what is pending until `timeout`, then abandons the rest and
    /// lets the thread go without joining it.
    fn shutdown(&self, timeout: Duration) -> bool {
        let Some(jobs) = lock(&self.jobs).take() else {
            return true;
        };
        let sent = !timeout.is_zero() && self.pending.wait_below(1, deadline_after(timeout));
        // Whatever is still in flight or waiting stops now (also when all was
        // sent: nothing may start after shutdown).
        self.abandon.send_replace(true);
        // The thread ends once it has dropped what it holds.
        drop(jobs);
        sent
    }
}

/// `timeout` from now (a practically endless wait when it is too long to add).
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Spares;
    use crate::http::mixed;
    use sentry_core::protocol::{EnvelopeItem, ItemContainer};
    use std::sync::atomic::Ordering;

    /// A Sentry that accepts connections and never answers.
    fn black_hole() -> (std::net::TcpListener, sentry_core::types::Dsn) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dsn = format!("http://public@{}/1", listener.local_addr().unwrap());
        (listener, dsn.parse().unwrap())
    }

    fn transport_to(dsn: sentry_core::types::Dsn, tally: &Arc<Tally>) -> HttpTransport {
        transport_with(dsn, tally, Compression::default(), &Arc::default())
    }

    fn transport_with(
        dsn: sentry_core::types::Dsn,
        tally: &Arc<Tally>,
        compression: Compression,
        spares: &Arc<Spares>,
    ) -> HttpTransport {
        let mut options = sentry_core::ClientOptions::default();
        options.dsn = Some(dsn);
        let options = TransportOptions::try_from_client_options(&options).unwrap();
        HttpTransport::new(options, Arc::clone(tally), compression, Arc::clone(spares))
    }

    #[test]
    fn a_request_in_flight_at_the_shutdown_deadline_is_abandoned_not_awaited() {
        use std::io::Read as _;
        let (listener, dsn) = black_hole();
        let tally = Arc::new(Tally::default());
        let transport = transport_to(dsn, &tally);
        tally.accepted(); // as the send queue does
        transport.send_envelope(mixed());
        let (mut connection, _) = listener.accept().expect("the transport connects");
        assert!(
            !transport.shutdown(Duration::from_millis(200)),
            "nothing was answered"
        );
        // Abandoned: the request future is dropped and its connection closed
        // at once, well before the request timeout would have ended it.
        connection
            .set_read_timeout(Some(REQUEST_TIMEOUT / 2))
            .unwrap();
        let mut rest = Vec::new();
        let closed = connection.read_to_end(&mut rest);
        assert!(
            closed.is_ok(),
            "the connection was still open after the deadline: {closed:?}"
        );
        let report = tally.close(true);
        assert_eq!((report.delivered, report.lost), (0, 1));
        // Nothing starts after shutdown.
        transport.send_envelope(mixed());
        assert!(transport.flush(Duration::from_millis(10)));
    }

    /// Sends `envelope` to a one-shot Sentry that answers 200, and returns
    /// the request's head (lowercase) and body as they came.
    fn send_one(
        compression: Compression,
        envelope: Envelope,
        tally: &Arc<Tally>,
    ) -> (String, Vec<u8>) {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        send_serialized_one(compression, bytes, tally, &Arc::default())
    }

    /// Sends serialized `bytes` as the send queue does, to a one-shot
    /// Sentry that answers 200 (as [`send_one`]), `spares` keeping what
    /// the transport gives back.
    fn send_serialized_one(
        compression: Compression,
        bytes: Vec<u8>,
        tally: &Arc<Tally>,
        spares: &Arc<Spares>,
    ) -> (String, Vec<u8>) {
        use std::io::{Read as _, Write as _};
        let (listener, dsn) = black_hole();
        let transport = transport_with(dsn, tally, compression, spares);
        tally.accepted(); // as the send queue does
        transport.send_serialized(bytes);
        let (mut connection, _) = listener.accept().unwrap();
        // Read the request head and its body, then answer 200.
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        let body_start = loop {
            let n = connection.read(&mut buf).unwrap();
            assert!(n > 0, "request ended early");
            request.extend_from_slice(&buf[..n]);
            if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("a content-length");
        while request.len() < body_start + length {
            let n = connection.read(&mut buf).unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        connection
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .unwrap();
        assert!(transport.shutdown(Duration::from_secs(10)));
        (head, request.split_off(body_start))
    }

    #[test]
    fn a_confirmed_envelope_is_counted_delivered() {
        let tally = Arc::new(Tally::default());
        let (_, body) = send_one(Compression::Off, mixed(), &tally);
        let envelope = Envelope::from_slice(&body).expect("an envelope");
        assert_eq!(envelope.items().count(), 2);
        assert_eq!(tally.close(false).delivered, 1);
    }

    /// A batch of 100 logs (a log batch holds up to 1 MiB of them).
    fn log_batch() -> Envelope {
        let logs: Vec<_> = (0..100)
            .map(|i| sentry_core::protocol::Log {
                level: sentry_core::protocol::LogLevel::Info,
                body: "loading user".into(),
                trace_id: None,
                timestamp: std::time::SystemTime::now(),
                severity_number: None,
                attributes: [(
                    "request_id".to_owned(),
                    sentry_core::protocol::LogAttribute::from(format!("request-{i:04}")),
                )]
                .into_iter()
                .collect(),
            })
            .collect();
        let mut envelope = Envelope::new();
        envelope.add_item(logs);
        envelope
    }

    #[test]
    fn a_compressed_batchs_buffer_is_kept_for_the_next_batch() {
        for (compression, kept) in [(Compression::Zstd, true), (Compression::Off, false)] {
            let spares = Arc::new(Spares::default());
            // A batch's buffer: a stripe reserves a whole batch.
            let mut bytes = Vec::with_capacity(crate::batch::ROOM);
            log_batch().to_writer(&mut bytes).unwrap();
            let address = bytes.as_ptr();
            let tally = Arc::new(Tally::default());
            send_serialized_one(compression, bytes, &tally, &spares);
            let spare = spares.take(crate::batch::ROOM);
            assert_eq!(
                spare.map(|b| (b.as_ptr(), b.len())),
                kept.then_some((address, 0)),
                "{compression}: kept emptied once compressed, not when it is the body"
            );
        }
    }

    #[test]
    fn envelopes_go_compressed_and_say_how() {
        for (compression, encoding) in [
            (Compression::Zstd, Some("zstd")),
            (Compression::Gzip, Some("gzip")),
            (Compression::Off, None),
        ] {
            let tally = Arc::new(Tally::default());
            let (head, body) = send_one(compression, log_batch(), &tally);
            let said = head
                .lines()
                .find_map(|l| l.strip_prefix("content-encoding:"))
                .map(str::trim);
            assert_eq!(said, encoding, "{compression}: {head}");
            let plain = super::super::compression::decode(encoding, &body).unwrap();
            let envelope = Envelope::from_slice(&plain).expect("an envelope");
            let logs = envelope.items().map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => logs.len(),
                _ => 0,
            });
            assert_eq!(logs.sum::<usize>(), 100, "{compression}");
            let counters = &tally.counters;
            let sent = counters.sent_bytes.load(Ordering::Relaxed);
            let wire = counters.sent_wire_bytes.load(Ordering::Relaxed);
            assert_eq!((sent, wire), (plain.len() as u64, body.len() as u64));
            if encoding.is_some() {
                assert!(wire * 8 < sent, "{compression}: {wire} of {sent} bytes");
            }
        }
    }
}
