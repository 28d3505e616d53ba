//! An in-process Sentry: a tiny HTTP server on loopback that accepts
//! envelopes as the real `sentry` transport sends them
//! (`POST /api/{project}/envelope/`) and as SDKs copy them to Spotlight
//! (`POST /stream`), and parses each with `sentry-types`. The one receiver
//! every suite of the workspace uses. Like Relay it honours the
//! `content-encoding` lookout compresses with (`zstd`, `gzip`), and it
//! refuses a compressed copy on the Spotlight endpoint (the sidecar reads
//! envelopes as they are). It can also answer like a Sentry that
//! rate-limits ([`Receiver::rate_limit_next`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sentry_types::protocol::v7::{
    Envelope, EnvelopeItem, Event, ItemContainer, Log, Metric, Transaction,
};

type Store = Arc<Mutex<Vec<Envelope>>>;

/// What the endpoints share: the envelopes kept, and the rate limit the
/// next answer announces.
#[derive(Clone, Default)]
struct Shared {
    envelopes: Store,
    /// Every accepted envelope as it arrived, decoded (what sentry-types
    /// drops on parsing, such as an event's `_meta`, is still there).
    raw: Arc<Mutex<Vec<Bytes>>>,
    /// The `content-encoding` of each envelope in `envelopes`.
    encodings: Arc<Mutex<Vec<Option<String>>>>,
    /// The `X-Sentry-Auth` header of each envelope in `envelopes`.
    auths: Arc<Mutex<Vec<Option<String>>>>,
    next_limit: Arc<Mutex<Option<String>>>,
}

/// A request body decoded from its `content-encoding` (`None`, `identity`:
/// as it is; `zstd`, `gzip`, `deflate`: decompressed), as Relay decodes it.
///
/// # Panics
/// On an encoding Relay would not accept from lookout, or a body that does
/// not decode: either is a bug in what was sent.
pub fn decode_body(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    let result = match encoding.map(str::trim) {
        None | Some("identity") => return body.to_vec(),
        Some("zstd") => {
            zstd::stream::read::Decoder::new(body).and_then(|mut d| d.read_to_end(&mut out))
        }
        Some("gzip") => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        Some("deflate") => flate2::read::ZlibDecoder::new(body).read_to_end(&mut out),
        Some(other) => {
            panic!("an envelope with content-encoding {other:?}, which lookout never sends")
        }
    };
    result.unwrap_or_else(|e| panic!("a body that does not decode as {encoding:?}: {e}"));
    out
}

/// The receiver; stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `POST /api/{project}/envelope/`: Sentry's endpoint.
async fn accept_sentry(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    accept(&shared, &headers, &body, false)
}

/// `POST /stream`: the Spotlight sidecar's endpoint.
async fn accept_spotlight(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    accept(&shared, &headers, &body, true)
}

fn accept(
    shared: &Shared,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    spotlight: bool,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        content_type, "application/x-sentry-envelope",
        "envelopes are sent with the envelope content type"
    );
    let encoding = headers
        .get("content-encoding")
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());
    assert!(
        !(spotlight && encoding.is_some()),
        "Spotlight gets envelopes uncompressed, not {encoding:?}"
    );
    let auth = headers
        .get("x-sentry-auth")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = decode_body(encoding.as_deref(), body);
    let envelope = Envelope::from_slice(&body)
        .unwrap_or_else(|e| panic!("the sentry transport sent an unparsable envelope: {e}"));
    if let Some(limits) = shared.next_limit.lock().unwrap().take() {
        // Rejected, as Sentry does: the envelope is not kept.
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-sentry-rate-limits", limits)],
            "",
        )
            .into_response();
    }
    // One lock for the lists, so they stay in step.
    let mut envelopes = shared.envelopes.lock().unwrap();
    envelopes.push(envelope);
    shared.encodings.lock().unwrap().push(encoding);
    shared.auths.lock().unwrap().push(auth);
    shared.raw.lock().unwrap().push(Bytes::from(body));
    drop(envelopes);
    "{}".into_response()
}

impl Receiver {
    /// Starts listening on `127.0.0.1:0` (inside a tokio runtime).
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("a loopback address")).await
    }

    /// Starts listening on `addr` (a sidecar that comes up late).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route("/api/{project}/envelope/", post(accept_sentry))
            .route("/stream", post(accept_spotlight))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, shared, task }
    }

    /// Answers the next envelope with `429 Too Many Requests` and
    /// `X-Sentry-Rate-Limits: limits` (e.g. `60:log_item:organization`) and
    /// does not keep it; later envelopes are accepted again.
    pub fn rate_limit_next(&self, limits: &str) {
        *self.shared.next_limit.lock().unwrap() = Some(limits.to_owned());
    }

    /// The DSN pointing at this receiver.
    pub fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }

    /// This receiver's Spotlight endpoint (`SENTRY_SPOTLIGHT`).
    pub fn spotlight_url(&self) -> String {
        format!("http://{}/stream", self.addr)
    }

    /// Every envelope received so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.shared.envelopes.lock().unwrap().clone()
    }

    /// The `content-encoding` each envelope came with (`None`: as it is), in
    /// the order of [`Receiver::envelopes`].
    pub fn content_encodings(&self) -> Vec<Option<String>> {
        let _in_step = self.shared.envelopes.lock().unwrap();
        self.shared.encodings.lock().unwrap().clone()
    }

    /// The `X-Sentry-Auth` header each envelope came with (`None`: without
    /// one), in the order of [`Receiver::envelopes`].
    pub fn auth_headers(&self) -> Vec<Option<String>> {
        let _in_step = self.shared.envelopes.lock().unwrap();
        self.shared.auths.lock().unwrap().clone()
    }

    /// Every Sentry Log received so far, in the order of their envelopes.
    pub fn logs(&self) -> Vec<Log> {
        self.log_batches().into_iter().flatten().collect()
    }

    /// Every trace metric received so far (`trace_metric` items).
    pub fn metrics(&self) -> Vec<Metric> {
        self.envelopes()
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => {
                    Some(metrics.clone())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The logs of each `log` item received so far: one entry per batch.
    pub fn log_batches(&self) -> Vec<Vec<Log>> {
        self.envelopes()
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
                _ => None,
            })
            .collect()
    }

    /// What the client reports received so far say was dropped: `(reason,
    /// category, quantity)` per entry, as the wire format spells them
    /// (`("ratelimit_backoff", "log_item", 2)`).
    pub fn discarded(&self) -> Vec<(String, String, u64)> {
        self.envelopes()
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                EnvelopeItem::ClientReport(report) => serde_json::to_value(report).ok(),
                _ => None,
            })
            .flat_map(|report| {
                report["discarded_events"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|entry| {
                let text = |key: &str| entry[key].as_str().unwrap_or_default().to_owned();
                (
                    text("reason"),
                    text("category"),
                    entry["quantity"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Every error event received so far, as the JSON that arrived
    /// (including what sentry-types does not model, such as `_meta`).
    pub fn raw_events(&self) -> Vec<serde_json::Value> {
        let raw = self.shared.raw.lock().unwrap().clone();
        let mut events = Vec::new();
        for body in raw {
            let mut rest: &[u8] = &body;
            let line = |rest: &mut &[u8]| {
                let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
                let (head, tail) = rest.split_at(end);
                *rest = tail.strip_prefix(b"\n").unwrap_or(tail);
                head.to_vec()
            };
            line(&mut rest); // the envelope header
            while !rest.is_empty() {
                let header: serde_json::Value =
                    serde_json::from_slice(&line(&mut rest)).expect("an item header");
                let payload = match header["length"].as_u64() {
                    Some(length) => {
                        let (payload, tail) = rest.split_at(length as usize);
                        rest = tail.strip_prefix(b"\n").unwrap_or(tail);
                        payload.to_vec()
                    }
                    None => line(&mut rest),
                };
                if header["type"] == "event" {
                    events.push(serde_json::from_slice(&payload).expect("an event"));
                }
            }
        }
        events
    }

    /// Every error event received so far.
    pub fn events(&self) -> Vec<Event<'static>> {
        self.envelopes()
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                EnvelopeItem::Event(event) => Some((**event).clone()),
                _ => None,
            })
            .collect()
    }

    /// How many transactions were received so far (without copying them).
    pub fn transaction_count(&self) -> usize {
        self.shared
            .envelopes
            .lock()
            .unwrap()
            .iter()
            .flat_map(|e| e.items())
            .filter(|item| matches!(item, EnvelopeItem::Transaction(_)))
            .count()
    }

    /// Every transaction received so far, with its envelope's DSC header.
    pub fn transactions(&self) -> Vec<(Transaction<'static>, Option<serde_json::Value>)> {
        self.envelopes()
            .iter()
            .flat_map(|e| {
                let dsc = serde_json::to_value(e.headers())
                    .ok()
                    .and_then(|h| h.get("trace").cloned());
                e.items()
                    .filter_map(|item| match item {
                        EnvelopeItem::Transaction(tx) => Some(((**tx).clone(), dsc.clone())),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
