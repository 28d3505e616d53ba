//! Delivery through the real HTTP transport into a local receiver: a burst of
//! errors arrives in full, and what a bounded queue drops is reported to
//! Sentry as `queue_overflow` client reports (logs counted one by one); the
//! Spotlight copy, logs included.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use lookout_core::delivery::Delivery;
use lookout_core::testing::WiredEngine;
use lookout_core::{Engine, RequestHead, ResponseHead};
use lookout_policy::Settings;
use lookout_tests::receiver::Receiver;
use sentry_core::Client;
use sentry_core::protocol::EnvelopeItem;

/// An engine with a real client sending to `receiver`, configured by `vars`.
fn engine(receiver: &Receiver, vars: &[(&str, &str)]) -> (Engine, Arc<Client>) {
    let dsn = receiver.dsn();
    let mut all = vec![
        ("SENTRY_DSN", dsn.as_str()),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
    ];
    all.extend_from_slice(vars);
    let settings = Settings::from_vars(all).expect("valid settings");
    let wired = WiredEngine::new(&settings, Delivery::send(), |builder| builder);
    (wired.engine, wired.client)
}

fn failing_request(lookout: &Engine) {
    let headers = HeaderMap::new();
    let in_flight = lookout.begin(&RequestHead::new("GET", "/fail", &headers).with_route("/fail"));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR));
    finished.body.complete();
}

/// How many items of `category` the client reports the receiver got say
/// were dropped as `queue_overflow`.
fn queue_overflow_reported(receiver: &Receiver, category: &str) -> usize {
    let mut overflow = 0;
    for envelope in receiver.envelopes() {
        for item in envelope.items() {
            if let EnvelopeItem::ClientReport(report) = item {
                let report = serde_json::to_value(report).unwrap();
                for discarded in report["discarded_events"].as_array().unwrap() {
                    if discarded["reason"] == "queue_overflow" && discarded["category"] == category
                    {
                        overflow += discarded["quantity"].as_u64().unwrap() as usize;
                    }
                }
            }
        }
    }
    overflow
}

async fn flush(client: &Arc<Client>) {
    let client = Arc::clone(client);
    let flushed = tokio::task::spawn_blocking(move || client.flush(Some(Duration::from_secs(60))))
        .await
        .unwrap();
    assert!(flushed, "delivery drained");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_3000_errors_reaches_sentry_in_full() {
    let receiver = Receiver::start().await;
    let (lookout, client) = engine(&receiver, &[]);
    // As fast as the requests come: nothing waits for the network.
    for _ in 0..3000 {
        failing_request(&lookout);
    }
    flush(&client).await;
    let events = receiver.events();
    assert_eq!(events.len(), 3000, "every error of the burst was delivered");
    assert!(events.iter().all(|e| e.tags["http.route"] == "/fail"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_bounded_queue_drops_is_reported_as_queue_overflow() {
    let receiver = Receiver::start().await;
    let (lookout, client) = engine(&receiver, &[("LOOKOUT_QUEUE_MAX_ENVELOPES", "5")]);
    for _ in 0..300 {
        failing_request(&lookout);
    }
    flush(&client).await;
    let delivered = receiver.events().len();
    assert!(
        delivered < 300,
        "a 5-envelope queue cannot hold a 300-error burst"
    );
    // The next envelope carries the client report of what was dropped.
    failing_request(&lookout);
    flush(&client).await;
    let overflow = queue_overflow_reported(&receiver, "error");
    assert_eq!(
        overflow,
        300 - delivered,
        "every dropped error is reported as queue_overflow"
    );
}

/// A sampled request while the send queue is full records no transaction
/// (the queue would drop it on arrival): its decision stays sampled, and the
/// lost transaction is counted and reported as `queue_overflow` as the
/// queue's own drops are, so every transaction is delivered or reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampled_request_while_the_queue_is_full_sheds_its_transaction() {
    let receiver = Receiver::start().await;
    let (lookout, client) = engine(
        &receiver,
        &[
            ("LOOKOUT_QUEUE_MAX_ENVELOPES", "5"),
            ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
        ],
    );
    const REQUESTS: usize = 300;
    let mut shed = 0;
    for _ in 0..REQUESTS {
        let headers = HeaderMap::new();
        let in_flight =
            lookout.begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
        assert!(in_flight.sampled(), "the decision stays sampled");
        let hub = in_flight.context().hub().expect("a client is bound");
        if hub.configure_scope(|scope| scope.get_span()).is_none() {
            shed += 1;
        }
        in_flight
            .finish(&ResponseHead::new(StatusCode::OK))
            .body
            .complete();
    }
    flush(&client).await;
    assert!(
        shed > 0,
        "a 5-envelope queue is full during a 300-request burst"
    );
    let delivered = receiver.transactions().len();
    // The next envelope carries the client report.
    failing_request(&lookout);
    flush(&client).await;
    let overflow = queue_overflow_reported(&receiver, "transaction");
    assert_eq!(
        delivered + overflow,
        REQUESTS,
        "every transaction is delivered or reported ({shed} shed, {delivered} delivered)"
    );
    assert!(overflow >= shed, "each shed transaction is reported");
    let stats = lookout.stats();
    assert_eq!(stats.dropped.queue_full as usize, overflow, "{stats:?}");
    assert_eq!(stats.dropped.transactions_shed as usize, shed, "{stats:?}");
}

/// One failing request through `test`'s engine.
fn failing_request_with(test: &lookout_core::testing::TestLookout) {
    failing_request(test.engine());
}

#[test]
fn requests_are_served_while_spotlight_is_down_and_copies_arrive_once_it_is_up() {
    // A free loopback port with nothing listening on it yet.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/stream");
    let test = lookout_core::testing::TestLookout::from_vars([("SENTRY_SPOTLIGHT", url.as_str())])
        .unwrap();
    for _ in 0..50 {
        failing_request_with(&test);
    }
    assert_eq!(
        test.events().len(),
        50,
        "every request served and its event sent"
    );
    let stats = test
        .delivery()
        .stats()
        .spotlight()
        .expect("spotlight is on");
    assert!(stats.failures() >= 1, "the sidecar was down");
    assert_eq!(stats.delivered(), 0);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // The sidecar comes up on the same address.
    let sidecar = runtime.block_on(Receiver::start_on(addr));
    // The pipeline backs off (0.5 s, 1 s, ...): keep serving until a copy gets through.
    for _ in 0..200 {
        failing_request_with(&test);
        test.flush();
        // An event's copy, not any envelope: a session aggregate can land first.
        if !sidecar.events().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let event = sidecar
        .events()
        .into_iter()
        .next()
        .expect("spotlight copies arrive once the sidecar is up");
    assert_eq!(event.tags["http.route"], "/fail");
}

fn not_found(lookout: &Engine) {
    let headers = HeaderMap::new();
    let in_flight =
        lookout.begin(&RequestHead::new("GET", "/items/7", &headers).with_route("/items/{id}"));
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::NOT_FOUND));
    finished.body.complete();
}

/// What the classifiers record as logs is counted, log by log, in the
/// `queue_overflow` client report when the queue drops its envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_a_bounded_queue_drops_are_reported_log_by_log() {
    let receiver = Receiver::start().await;
    let (lookout, client) = engine(&receiver, &[("LOOKOUT_QUEUE_MAX_ENVELOPES", "1")]);
    // 1000 logs: ten envelopes of 100, handed to the queue as fast as they fill.
    for _ in 0..1000 {
        not_found(&lookout);
    }
    flush(&client).await;
    let delivered = receiver.logs().len();
    assert!(
        delivered < 1000,
        "a 1-envelope queue cannot hold ten batches"
    );
    // The next envelope carries the client report of what was dropped.
    failing_request(&lookout);
    flush(&client).await;
    let reported: u64 = receiver
        .discarded()
        .into_iter()
        .filter(|(reason, category, _)| reason == "queue_overflow" && category == "log_item")
        .map(|(_, _, quantity)| quantity)
        .sum();
    assert_eq!(
        reported as usize,
        1000 - delivered,
        "every dropped log is reported: {:?}",
        receiver.discarded()
    );
}

/// A line of the application's, logged inside a request.
struct AppLine(String);

impl lookout_core::log_capture::LogLine for AppLine {
    fn timestamp(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
    fn level(&self) -> sentry_core::protocol::LogLevel {
        sentry_core::protocol::LogLevel::Info
    }
    fn body(&self) -> &str {
        &self.0
    }
    fn fields(&self) -> &[(&'static str, lookout_core::log_capture::LogField)] {
        &[]
    }
    fn module_path(&self) -> Option<&'static str> {
        Some(module_path!())
    }
    fn file(&self) -> Option<&'static str> {
        Some(file!())
    }
    fn line(&self) -> Option<u32> {
        Some(line!())
    }
}

/// Logs written inside requests go in lookout's own batches, handed to the
/// queue as bytes; what a bounded queue drops of them is reported log by
/// log, and the rest arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_lookouts_own_batches_dropped_by_a_bounded_queue_are_reported_log_by_log() {
    let receiver = Receiver::start().await;
    // One envelope waits at most, and batches of about 16 KiB (a quarter of
    // the byte bound): 2,000 logs of 700 bytes fill about a hundred.
    let (lookout, client) = engine(
        &receiver,
        &[
            ("LOOKOUT_QUEUE_MAX_ENVELOPES", "1"),
            ("LOOKOUT_QUEUE_MAX_BYTES", "65536"),
        ],
    );
    let headers = HeaderMap::new();
    let body = "x".repeat(700);
    for i in 0..2000 {
        let in_flight =
            lookout.begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"));
        let ctx = in_flight.context();
        let hub = Arc::clone(ctx.hub().expect("a client is bound"));
        sentry_core::Hub::run(hub, || {
            lookout_core::log_capture::capture_line(
                Arc::new(AppLine(format!("{i} {body}"))),
                Some(ctx),
                false,
            );
        });
        in_flight
            .finish(&ResponseHead::new(StatusCode::OK))
            .body
            .complete();
    }
    flush(&client).await;
    let delivered = receiver.logs().len();
    assert!(
        (1..2000).contains(&delivered),
        "a 1-envelope queue delivers some batches and drops others: {delivered}"
    );
    // The next envelope carries the client report of what was dropped.
    failing_request(&lookout);
    flush(&client).await;
    assert_eq!(
        queue_overflow_reported(&receiver, "log_item"),
        2000 - delivered,
        "every dropped log is reported"
    );
}

/// A receiver standing in for the Spotlight sidecar, on a runtime of its
/// own (kept alive by the caller) for tests that are not async.
fn sidecar() -> (tokio::runtime::Runtime, Receiver) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sidecar = runtime.block_on(Receiver::start());
    (runtime, sidecar)
}

#[test]
fn logs_are_copied_to_spotlight() {
    let (_runtime, sidecar) = sidecar();
    let url = sidecar.spotlight_url();
    let test = lookout_core::testing::TestLookout::from_vars([("SENTRY_SPOTLIGHT", url.as_str())])
        .unwrap();
    not_found(test.engine());
    assert_eq!(test.logs().len(), 1, "sent");
    let copies = sidecar.logs();
    assert_eq!(copies.len(), 1, "and copied to Spotlight");
    assert_eq!(copies[0].body, "GET /items/{id} -> 404");
}

/// Whether an envelope carries an event, a transaction or logs (not only
/// sessions or a client report, which may be too small to compress).
fn carries_telemetry(envelope: &sentry_types::protocol::v7::Envelope) -> bool {
    envelope.items().any(|item| {
        matches!(
            item,
            EnvelopeItem::Event(_)
                | EnvelopeItem::Transaction(_)
                | EnvelopeItem::ItemContainer(sentry_core::protocol::ItemContainer::Logs(_))
        )
    })
}

/// In send mode every envelope goes compressed (zstd by default) and the
/// receiver, decoding it as Relay does, parses it with sentry-types: logs,
/// events and transactions arrive whole, and a batch of logs is at most an
/// eighth of its size on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_reach_sentry_compressed_and_whole() {
    let receiver = Receiver::start().await;
    let (lookout, client) = engine(&receiver, &[]);
    // 300 logs: three batches of 100 (and nothing else: unsampled).
    for _ in 0..300 {
        not_found(&lookout);
    }
    flush(&client).await;
    let logs = lookout.stats();
    for _ in 0..5 {
        failing_request(&lookout);
    }
    flush(&client).await;
    // Transactions, from an engine sampling every request.
    let (sampled, sampled_client) = engine(&receiver, &[("SENTRY_TRACES_SAMPLE_RATE", "1.0")]);
    for _ in 0..5 {
        let headers = HeaderMap::new();
        sampled
            .begin(&RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}"))
            .finish(&ResponseHead::new(StatusCode::OK))
            .body
            .complete();
    }
    flush(&sampled_client).await;
    assert_eq!(receiver.logs().len(), 300, "every log arrived");
    assert!(
        receiver
            .logs()
            .iter()
            .all(|l| l.body == "GET /items/{id} -> 404")
    );
    assert_eq!(receiver.events().len(), 5, "every event arrived");
    let transactions = receiver.transactions();
    assert_eq!(transactions.len(), 5, "every transaction arrived");
    assert!(
        transactions
            .iter()
            .all(|(tx, _)| tx.name.as_deref() == Some("GET /users/{id}"))
    );
    let envelopes = receiver.envelopes();
    let encodings = receiver.content_encodings();
    assert_eq!(envelopes.len(), encodings.len());
    // Relay authenticates each envelope by its `X-Sentry-Auth` header: the
    // DSN's public key and the protocol version.
    let key = receiver
        .dsn()
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(key, _)| key.to_owned())
        .expect("the receiver's DSN has a key");
    for auth in receiver.auth_headers() {
        let auth = auth.expect("every envelope carries X-Sentry-Auth");
        assert!(auth.starts_with("Sentry "), "{auth}");
        assert!(auth.contains(&format!("sentry_key={key}")), "{auth}");
        assert!(auth.contains("sentry_version=7"), "{auth}");
    }
    for (envelope, encoding) in envelopes.iter().zip(&encodings) {
        if carries_telemetry(envelope) {
            assert_eq!(encoding.as_deref(), Some("zstd"), "{envelope:?}");
        }
    }
    assert!(
        logs.sent_wire_bytes * 8 <= logs.sent_bytes,
        "batches of logs: {} bytes on the wire for {} serialized",
        logs.sent_wire_bytes,
        logs.sent_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookout_compression_chooses_the_encoding_or_none() {
    for (setting, expected) in [("gzip", Some("gzip")), ("off", None)] {
        let receiver = Receiver::start().await;
        let (lookout, client) = engine(&receiver, &[("LOOKOUT_COMPRESSION", setting)]);
        for _ in 0..100 {
            not_found(&lookout);
        }
        failing_request(&lookout);
        flush(&client).await;
        assert_eq!(receiver.logs().len(), 100, "{setting}");
        assert_eq!(receiver.events().len(), 1, "{setting}");
        let encodings = receiver.content_encodings();
        for (envelope, encoding) in receiver.envelopes().iter().zip(&encodings) {
            if carries_telemetry(envelope) {
                assert_eq!(encoding.as_deref(), expected, "{setting}: {envelope:?}");
            }
        }
        let stats = lookout.stats();
        if expected.is_none() {
            assert_eq!(stats.sent_wire_bytes, stats.sent_bytes, "{stats:?}");
        } else {
            assert!(stats.sent_wire_bytes < stats.sent_bytes, "{stats:?}");
        }
    }
}

/// The Spotlight copy of a service that sends compressed envelopes is
/// uncompressed (the receiver's `/stream` refuses a `content-encoding`, so a
/// compressed copy would never be kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spotlight_copies_stay_uncompressed_while_sentry_gets_zstd() {
    let sentry = Receiver::start().await;
    let sidecar = Receiver::start().await;
    let url = sidecar.spotlight_url();
    let (lookout, client) = engine(&sentry, &[("SENTRY_SPOTLIGHT", url.as_str())]);
    for _ in 0..100 {
        not_found(&lookout);
    }
    failing_request(&lookout);
    flush(&client).await;
    assert_eq!(sentry.logs().len(), 100);
    assert_eq!(sentry.events().len(), 1);
    assert!(
        sentry
            .content_encodings()
            .contains(&Some("zstd".to_owned())),
        "Sentry gets compressed envelopes"
    );
    assert_eq!(sidecar.logs().len(), 100, "every log copied to Spotlight");
    assert_eq!(sidecar.events().len(), 1, "the event copied to Spotlight");
    assert!(
        sidecar.content_encodings().iter().all(Option::is_none),
        "{:?}",
        sidecar.content_encodings()
    );
}

#[test]
fn metrics_are_copied_to_spotlight() {
    let (_runtime, sidecar) = sidecar();
    let url = sidecar.spotlight_url();
    let test = lookout_core::testing::TestLookout::from_vars([("SENTRY_SPOTLIGHT", url.as_str())])
        .unwrap();
    let headers = http::HeaderMap::new();
    let in_flight = test.engine().begin(
        &lookout_core::RequestHead::new("GET", "/orders/7", &headers).with_route("/orders/{id}"),
    );
    in_flight
        .context()
        .enter(|| sentry_core::metrics::counter("orders.lookup", 1).capture());
    in_flight
        .finish(&lookout_core::ResponseHead::new(http::StatusCode::OK))
        .body
        .complete();
    assert_eq!(test.metrics().len(), 1, "sent");
    let copies = sidecar.metrics();
    assert_eq!(copies.len(), 1, "and copied to Spotlight");
    assert_eq!(copies[0].name, "orders.lookup");
}
