//! The HTTP transport: envelopes to Sentry over reqwest (rustls), with their
//! headers intact and every rate limit honoured.
//!
//! The `sentry` crate's own HTTP transport (0.49) applies per-category rate
//! limits with `Envelope::filter`, which rebuilds the envelope from its items
//! and drops the envelope headers: the `trace` header (the frozen DSC),
//! `event_id` and `sent_at` would never reach Sentry. This transport runs on
//! the same `sentry` transport thread (bounded channel, 429 / `Retry-After` /
//! `X-Sentry-Rate-Limits` bookkeeping in [`RateLimiter`]) but hands it the
//! envelope as raw bytes, and applies the per-category limits itself while
//! keeping the headers.
//!
//! Every request is bounded ([`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`]), and
//! shutdown is bounded by its deadline: an endpoint that accepts connections
//! and never answers cannot hold the process (see [`HttpTransport`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sentry::transports::{
    RateLimiter, RateLimitingCategory, TokioTransportThread, TokioTransportThreadOptions,
};
use sentry_core::client_report::{Reason as LossReason, Recorder};
use sentry_core::protocol::{EnvelopeItem, ItemContainer};
use sentry_core::{Envelope, Transport, TransportOptions};
use tokio::sync::watch;

use super::report::Tally;
use super::stats::Counters;

/// How long a connection to Sentry may take to open. Short: an endpoint that
/// does not accept within it is down, and the queue keeps what waits.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How many envelope requests may be in flight at once: one connection and
/// transport thread each. One at a time (what the `sentry` crate's transport
/// does) delivers one envelope per round trip, which an erroring service
/// outruns at a few thousand events per second even on loopback.
pub(crate) const LANES: usize = 4;

/// How long one envelope request may take in all (connect, upload, answer).
/// Envelopes are small; a request that takes longer is stuck, and its
/// envelope is lost (`network_error`) rather than holding up the rest.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends envelopes to the DSN's envelope endpoint from a background thread.
///
/// Shutdown never waits past its deadline: what is still in flight or
/// waiting on the transport thread then is abandoned (the request future is
/// dropped, later envelopes are not sent), and the thread is let go rather
/// than joined, so it cannot keep the process alive.
pub(crate) struct HttpTransport {
    /// The lanes: [`LANES`] transport threads, each with its own connection,
    /// taking envelopes in turn; `None` once shut down. `Arc`s so that no
    /// lock is held while a flush waits, and so that whoever lets go of them
    /// last pays for their join.
    threads: Mutex<Option<Vec<Arc<TokioTransportThread>>>>,
    /// The lane the next envelope goes to.
    next: std::sync::atomic::AtomicUsize,
    /// Set at the shutdown deadline: requests in flight stop, none start.
    abandon: watch::Sender<bool>,
    /// Until when Sentry asked for no envelope at all (mirrors the transport
    /// thread's limiter, which skips such envelopes without telling us).
    backoff: Backoff,
    recorder: Recorder,
    tally: Arc<Tally>,
}

impl HttpTransport {
    /// The transport for `options`; every envelope Sentry confirms (2xx) is
    /// counted in `tally`.
    pub(crate) fn new(options: TransportOptions, tally: Arc<Tally>) -> Self {
        let TransportOptions {
            dsn,
            user_agent,
            client_report_recorder,
            transport_channel_capacity,
            ..
        } = options;
        let auth = dsn.to_auth(Some(&user_agent)).to_string();
        let url = dsn.envelope_api_url().to_string();
        let host = lookout_policy::dsn_address(&dsn);
        let recorder = client_report_recorder.clone();
        let client_report_recorder_for_backoff = client_report_recorder.clone();
        let monitor_limit = MonitorLimit::default();
        let backoff = Backoff::default();
        let send_backoff = backoff.clone();
        let send_tally = Arc::clone(&tally);
        let (abandon, abandoned) = watch::channel(false);
        // One limiter for every lane: what Sentry limits on one connection is
        // limited on all (each thread's own limiter is never updated, so it
        // never drops anything itself).
        let shared_limits = Arc::new(Mutex::new(RateLimiter::new()));
        let lane = move || {
            // Per lane: a reqwest client's connections belong to the runtime
            // that opened them. reqwest builds its rustls configuration here;
            // failing that, the client without TLS still reaches plain-HTTP
            // endpoints (local relays).
            let client = reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap_or_default();
            let recorder = recorder.clone();
            let monitor_limit = monitor_limit.clone();
            let tally = Arc::clone(&tally);
            let send_backoff = send_backoff.clone();
            let host = host.clone();
            let url = url.clone();
            let auth = auth.clone();
            let abandoned = abandoned.clone();
            let shared_limits = Arc::clone(&shared_limits);
            move |envelope: Envelope, lane_limits: RateLimiter| {
                // After the deadline nothing is sent (and nothing recorded: no
                // envelope will carry a client report any more).
                let body = if *abandoned.borrow() {
                    None
                } else {
                    let body =
                        within_limits(&envelope, &lock(&shared_limits), &monitor_limit, &recorder);
                    if body.is_none() {
                        // Every item of it is rate limited.
                        Counters::add(&tally.counters.dropped_rate_limited, 1);
                    }
                    body
                };
                let request = body.map(|body| {
                    let sent = bytes::Bytes::from(body);
                    (
                        client
                            .post(&url)
                            .header("X-Sentry-Auth", &auth)
                            .header("Content-Type", "application/x-sentry-envelope")
                            .body(sent.clone())
                            .send(),
                        sent,
                    )
                });
                let recorder = recorder.clone();
                let monitor_limit = monitor_limit.clone();
                let tally = Arc::clone(&tally);
                let backoff = send_backoff.clone();
                let host = host.clone();
                let mut abandoned = abandoned.clone();
                let shared_limits = Arc::clone(&shared_limits);
                async move {
                    let Some((request, sent)) = request else {
                        return lane_limits;
                    };
                    let result = tokio::select! {
                        biased;
                        () = until_abandoned(&mut abandoned) => return lane_limits,
                        result = request => result,
                    };
                    match result {
                        Ok(response) => {
                            let headers = response.headers();
                            let mut limits = lock(&shared_limits);
                            if let Some(value) = header(headers, "x-sentry-rate-limits") {
                                limits.update_from_sentry_header(value);
                                monitor_limit.update_from_sentry_header(value);
                            } else if let Some(value) = header(headers, "retry-after") {
                                limits.update_from_retry_after(value);
                            } else if response.status().as_u16() == 429 {
                                limits.update_from_429();
                            }
                            backoff.update(&limits);
                            drop(limits);
                            let status = response.status();
                            let counters = &tally.counters;
                            if status.is_success() {
                                tally.delivered(1);
                                Counters::add(&counters.sent_bytes, sent.len() as u64);
                            } else if status.as_u16() == 429 {
                                // Relay records rate-limited data itself.
                                Counters::add(&counters.dropped_rate_limited, 1);
                                counters.failed(format!(
                                    "Sentry at {host} answered {status}: rate limited"
                                ));
                            } else if status.is_client_error() || status.is_server_error() {
                                record_lost(&recorder, &sent, LossReason::SendError);
                                Counters::add(&counters.dropped_http_error, 1);
                                counters.failed(format!("Sentry at {host} answered {status}"));
                            }
                        }
                        Err(error) => {
                            record_lost(&recorder, &sent, LossReason::NetworkError);
                            Counters::add(&tally.counters.dropped_network_error, 1);
                            tally.counters.failed(network_error(&host, &error));
                        }
                    }
                    lane_limits
                }
            }
        };
        let threads = (0..LANES)
            .map(|_| {
                let mut thread = TokioTransportThreadOptions::new(lane())
                    .with_client_report_recorder(client_report_recorder.clone());
                if let Some(capacity) = transport_channel_capacity {
                    thread = thread.with_channel_capacity(capacity.get());
                }
                Arc::new(thread.spawn_thread())
            })
            .collect();
        Self {
            threads: Mutex::new(Some(threads)),
            next: std::sync::atomic::AtomicUsize::new(0),
            abandon,
            backoff,
            recorder: client_report_recorder_for_backoff,
            tally: send_tally,
        }
    }

    /// The lane for the next envelope: in turn, except that check-ins all
    /// take the first lane, so that a monitor's `in_progress` reaches Sentry
    /// before its `ok` (each lane sends in order).
    fn thread(&self, ordered: bool) -> Option<Arc<TokioTransportThread>> {
        let threads = lock(&self.threads);
        let threads = threads.as_ref()?;
        let lane = if ordered {
            0
        } else {
            self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % threads.len()
        };
        threads.get(lane).cloned()
    }

    fn threads(&self) -> Vec<Arc<TokioTransportThread>> {
        lock(&self.threads).clone().unwrap_or_default()
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // After shutdown the envelope is dropped; the tally counts it lost.
        if lock(&self.threads).is_none() {
            return;
        }
        if self.backoff.in_force() {
            // The transport thread would skip it (all categories limited):
            // drop it here, where it can be counted.
            self.recorder
                .record_lost_data(&envelope, LossReason::RatelimitBackoff);
            Counters::add(&self.tally.counters.dropped_rate_limited, 1);
            return;
        }
        // Raw, so the transport thread's own filter passes it on whole (the
        // send queue already hands over raw envelopes: writing one out is a
        // copy of its bytes).
        let mut bytes = Vec::new();
        if envelope.to_writer(&mut bytes).is_err() {
            return;
        }
        let Some(thread) = self.thread(carries_check_in(&bytes)) else {
            return;
        };
        if let Ok(raw) = Envelope::from_bytes_raw(bytes) {
            thread.send(raw);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        // The transport thread's flush queues a marker with a blocking send;
        // the send queue hands over at most `FORWARD_BATCH` envelopes before
        // it flushes, so the channel always has room for it.
        let deadline = std::time::Instant::now() + timeout;
        self.threads().iter().all(|thread| {
            thread.flush(deadline.saturating_duration_since(std::time::Instant::now()))
        })
    }

    /// Waits for what the thread holds until `timeout`, then abandons the
    /// rest and lets the thread go without joining it.
    fn shutdown(&self, timeout: Duration) -> bool {
        let Some(threads) = lock(&self.threads).take() else {
            return true;
        };
        let sent = !timeout.is_zero() && flush_within(&threads, timeout);
        // Whatever is still in flight or queued stops now (also when all was
        // sent: nothing may start after shutdown).
        self.abandon.send_replace(true);
        // Dropping a thread joins it, which waits for its runtime to wind
        // down (a DNS lookup on a blocking thread, say): never on our caller.
        drop_in_background(threads);
        sent
    }
}

/// Whether a serialized envelope has a `check_in` item: its header line, then
/// per item a JSON header (`type`, `length`) and the payload.
fn carries_check_in(envelope: &[u8]) -> bool {
    let mut rest = match envelope.iter().position(|&b| b == b'\n') {
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
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<ItemHeader<'_>>(&rest[..end]) else {
            return false;
        };
        if header.kind == Some("check_in") {
            return true;
        }
        rest = rest.get(end + 1..).unwrap_or_default();
        let payload = header
            .length
            .unwrap_or_else(|| rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()))
            .min(rest.len());
        rest = &rest[payload..];
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    false
}

/// What the last delivery error says about a failed request: what failed
/// (refused, timed out, ...) and where, without the URL (the host is enough;
/// the DSN's key is never in it, it travels in a header).
fn network_error(host: &str, error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        format!(
            "no answer from Sentry at {host} within {} s",
            REQUEST_TIMEOUT.as_secs()
        )
    } else if error.is_connect() {
        format!("cannot connect to Sentry at {host}")
    } else {
        format!("request to Sentry at {host} failed")
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Until when every category is rate limited (429 without categories,
/// `Retry-After`, or an `X-Sentry-Rate-Limits` group without categories).
#[derive(Clone, Default)]
struct Backoff(Arc<Mutex<Option<std::time::Instant>>>);

impl Backoff {
    fn update(&self, limits: &RateLimiter) {
        let until = limits
            .is_disabled(RateLimitingCategory::Any)
            .map(|left| std::time::Instant::now() + left);
        *lock(&self.0) = until;
    }

    fn in_force(&self) -> bool {
        lock(&self.0).is_some_and(|until| std::time::Instant::now() < until)
    }
}

/// Completes when `abandoned` turns true (never, if its sender is gone).
async fn until_abandoned(abandoned: &mut watch::Receiver<bool>) {
    if abandoned.wait_for(|gone| *gone).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// [`TokioTransportThread::flush`] bounded by `timeout` even if queueing the
/// flush marker itself had to wait (it uses a blocking send): the flush runs
/// on a helper thread that is left behind at the deadline.
fn flush_within(threads: &[Arc<TokioTransportThread>], timeout: Duration) -> bool {
    let (done, result) = std::sync::mpsc::sync_channel(threads.len());
    let mut started = 0;
    for thread in threads {
        let thread = Arc::clone(thread);
        let done = done.clone();
        let spawned = std::thread::Builder::new()
            .name("lookout-transport-flush".into())
            .spawn(move || {
                let _ = done.send(thread.flush(timeout));
            });
        if spawned.is_err() {
            return false;
        }
        started += 1;
    }
    // The lanes flush at once, within one deadline.
    let deadline = std::time::Instant::now() + timeout;
    (0..started).all(|_| {
        result
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or(false)
    })
}

/// Drops `value` on a detached thread (or never, if no thread can be started),
/// so that its destructor cannot block the caller.
fn drop_in_background<T: Send + 'static>(value: T) {
    let (sender, receiver) = std::sync::mpsc::channel::<T>();
    let spawned = std::thread::Builder::new()
        .name("lookout-transport-stop".into())
        .spawn(move || receiver.into_iter().for_each(drop));
    match spawned {
        Ok(_) => {
            if let Err(unsent) = sender.send(value) {
                std::mem::forget(unsent.0);
            }
        }
        Err(_) => std::mem::forget(value),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Records the items of a sent body as lost (parsed back only on failure).
fn record_lost(recorder: &Recorder, body: &[u8], reason: LossReason) {
    if let Ok(envelope) = Envelope::from_slice(body) {
        recorder.record_lost_data(&envelope, reason);
    }
}

fn categories() -> [RateLimitingCategory; 7] {
    [
        RateLimitingCategory::Any,
        RateLimitingCategory::Error,
        RateLimitingCategory::Session,
        RateLimitingCategory::Transaction,
        RateLimitingCategory::Attachment,
        RateLimitingCategory::LogItem,
        RateLimitingCategory::TraceMetric,
    ]
}

/// The body to send for `envelope` after dropping the items whose category
/// is rate limited, with the envelope headers kept; `None` when nothing is
/// left. Dropped items are recorded as `ratelimit_backoff`. Without any limit
/// in force the bytes go as they are (no parsing).
fn within_limits(
    envelope: &Envelope,
    limits: &RateLimiter,
    monitor_limit: &MonitorLimit,
    recorder: &Recorder,
) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    envelope.to_writer(&mut raw).ok()?;
    let monitors = monitor_limit.is_enabled();
    if monitors && categories().into_iter().all(|c| limits.is_enabled(c)) {
        return Some(raw);
    }
    let typed = Envelope::from_slice(&raw).ok()?;
    let mut kept = Envelope::new().with_headers(typed.headers().clone());
    let mut any = false;
    for item in typed.into_items() {
        let allowed = match item {
            // sentry 0.49's RateLimiter has no `monitor` category.
            EnvelopeItem::MonitorCheckIn(_) => monitors && limits.is_enabled(category(&item)),
            _ => limits.is_enabled(category(&item)),
        };
        if allowed {
            kept.add_item(item);
            any = true;
        } else {
            recorder.record_lost_data(&item, LossReason::RatelimitBackoff);
        }
    }
    if !any {
        return None;
    }
    let mut body = Vec::new();
    kept.to_writer(&mut body).ok()?;
    Some(body)
}

/// The `monitor` rate-limit category (cron check-ins) of
/// `X-Sentry-Rate-Limits`, which sentry 0.49's `RateLimiter` does not know.
#[derive(Clone, Default)]
struct MonitorLimit(Arc<std::sync::Mutex<Option<std::time::SystemTime>>>);

impl MonitorLimit {
    /// Reads the groups naming `monitor` from a `X-Sentry-Rate-Limits`
    /// value (`<seconds>:<category>;...:<scope>[:<reason>]`, comma-separated).
    fn update_from_sentry_header(&self, header: &str) {
        for group in header.split(',') {
            let mut parts = group.trim().split(':');
            let (Some(seconds), Some(categories)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(seconds) = seconds.parse::<f64>() else {
                continue;
            };
            if categories.split(';').any(|c| c == "monitor") {
                let until = std::time::SystemTime::now()
                    + std::time::Duration::from_secs(seconds.max(0.0).ceil() as u64);
                *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
            }
        }
    }

    /// Whether check-ins may be sent now.
    fn is_enabled(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|until| std::time::SystemTime::now() >= until)
    }
}

/// The rate-limit category of an item (the same mapping the `sentry` crate uses).
fn category(item: &EnvelopeItem) -> RateLimitingCategory {
    match item {
        EnvelopeItem::Event(_) => RateLimitingCategory::Error,
        EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => {
            RateLimitingCategory::Session
        }
        EnvelopeItem::Transaction(_) => RateLimitingCategory::Transaction,
        EnvelopeItem::Attachment(_) => RateLimitingCategory::Attachment,
        EnvelopeItem::ItemContainer(ItemContainer::Logs(_)) => RateLimitingCategory::LogItem,
        EnvelopeItem::ItemContainer(ItemContainer::Metrics(_)) => RateLimitingCategory::TraceMetric,
        _ => RateLimitingCategory::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{Event, Transaction};

    fn mixed() -> Envelope {
        let trace =
            sentry_core::protocol::DynamicSamplingContext::new().with_release("api@1".into());
        let mut envelope = Envelope::new()
            .with_headers(sentry_core::protocol::EnvelopeHeaders::new().with_trace(trace));
        envelope.add_item(Event::default());
        envelope.add_item(Transaction::default());
        envelope
    }

    #[test]
    fn without_limits_the_envelope_goes_whole_with_its_headers() {
        let body = within_limits(
            &mixed(),
            &RateLimiter::new(),
            &MonitorLimit::default(),
            &Recorder::default(),
        )
        .unwrap();
        let parsed = Envelope::from_slice(&body).unwrap();
        assert_eq!(parsed.items().count(), 2);
        let headers = serde_json::to_value(parsed.headers()).unwrap();
        assert_eq!(headers["trace"]["release"], "api@1");
    }

    #[test]
    fn a_limited_category_is_dropped_and_the_headers_stay() {
        let body = under_limits("60:transaction:organization", &mixed()).unwrap();
        let parsed = Envelope::from_slice(&body).unwrap();
        assert_eq!(parsed.items().count(), 1);
        assert!(matches!(
            parsed.items().next(),
            Some(EnvelopeItem::Event(_))
        ));
        let headers = serde_json::to_value(parsed.headers()).unwrap();
        assert_eq!(
            headers["trace"]["release"], "api@1",
            "headers survive the filter"
        );
    }

    /// A Sentry that accepts connections and never answers.
    fn black_hole() -> (std::net::TcpListener, sentry_core::types::Dsn) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dsn = format!("http://public@{}/1", listener.local_addr().unwrap());
        (listener, dsn.parse().unwrap())
    }

    fn transport_to(dsn: sentry_core::types::Dsn, tally: &Arc<Tally>) -> HttpTransport {
        let mut options = sentry_core::ClientOptions::default();
        options.dsn = Some(dsn);
        let options = TransportOptions::try_from_client_options(&options).unwrap();
        HttpTransport::new(options, Arc::clone(tally))
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

    #[test]
    fn a_confirmed_envelope_is_counted_delivered() {
        use std::io::{Read as _, Write as _};
        let (listener, dsn) = black_hole();
        let tally = Arc::new(Tally::default());
        let transport = transport_to(dsn, &tally);
        tally.accepted(); // as the send queue does
        transport.send_envelope(mixed());
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
        let envelope = Envelope::from_slice(&request[body_start..]).expect("an envelope");
        assert_eq!(envelope.items().count(), 2);
        connection
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .unwrap();
        assert!(transport.shutdown(Duration::from_secs(10)));
        assert_eq!(tally.close(false).delivered, 1);
    }

    fn log_and_event() -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(vec![sentry_core::protocol::Log {
            level: sentry_core::protocol::LogLevel::Warn,
            body: "GET /x -> 404".into(),
            trace_id: None,
            timestamp: std::time::SystemTime::now(),
            severity_number: None,
            attributes: Default::default(),
        }]);
        envelope.add_item(Event::default());
        envelope
    }

    fn item_types(body: &[u8]) -> Vec<&'static str> {
        Envelope::from_slice(body)
            .unwrap()
            .items()
            .map(|item| match item {
                EnvelopeItem::Event(_) => "event",
                EnvelopeItem::ItemContainer(ItemContainer::Logs(_)) => "log",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_log_item_limit_drops_logs_and_keeps_errors_and_the_reverse() {
        let body = under_limits("60:log_item:organization", &log_and_event()).unwrap();
        assert_eq!(item_types(&body), ["event"]);

        let body = under_limits("60:error:organization", &log_and_event()).unwrap();
        assert_eq!(item_types(&body), ["log"]);
    }

    #[test]
    fn nothing_is_sent_when_every_item_is_limited() {
        assert!(under_limits("60:error;transaction:organization", &mixed()).is_none());
    }

    fn check_in_and_event() -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(EnvelopeItem::MonitorCheckIn(
            sentry_core::protocol::MonitorCheckIn {
                check_in_id: sentry_core::types::Uuid::new_v4(),
                monitor_slug: "nightly".into(),
                status: sentry_core::protocol::MonitorCheckInStatus::Ok,
                environment: None,
                duration: None,
                monitor_config: None,
            },
        ));
        envelope.add_item(Event::default());
        envelope
    }

    /// sentry's own RateLimiter ignores the `monitor` category: a 429 for
    /// check-ins would otherwise not stop them.
    #[test]
    fn a_monitor_limit_drops_check_ins_and_keeps_errors() {
        let limits = RateLimiter::new();
        let monitors = MonitorLimit::default();
        let body = within_limits(
            &check_in_and_event(),
            &limits,
            &monitors,
            &Recorder::default(),
        )
        .unwrap();
        assert_eq!(item_types(&body), ["other", "event"], "the check-in goes");
        monitors.update_from_sentry_header("60:monitor:organization:quota, 5:log_item:project");
        let body = within_limits(
            &check_in_and_event(),
            &limits,
            &monitors,
            &Recorder::default(),
        )
        .unwrap();
        assert_eq!(item_types(&body), ["event"]);
        let expired = MonitorLimit::default();
        expired.update_from_sentry_header("0:monitor:organization");
        assert!(expired.is_enabled(), "a zero-second limit is over at once");
    }

    /// `envelope` as sent under the limits of one `X-Sentry-Rate-Limits` value.
    fn under_limits(header: &str, envelope: &Envelope) -> Option<Vec<u8>> {
        let mut limits = RateLimiter::new();
        limits.update_from_sentry_header(header);
        within_limits(
            envelope,
            &limits,
            &MonitorLimit::default(),
            &Recorder::default(),
        )
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
