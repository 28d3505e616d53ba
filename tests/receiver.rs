//! An in-process Sentry: a tiny HTTP server on loopback that accepts
//! envelopes as the real `sentry` transport sends them
//! (`POST /api/{project}/envelope/`) and as SDKs copy them to Spotlight
//! (`POST /stream`), and parses each with `sentry-types`. The one receiver
//! every suite of the workspace uses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use sentry_types::protocol::v7::{Envelope, EnvelopeItem, Event, Transaction};

type Store = Arc<Mutex<Vec<Envelope>>>;

/// The receiver; stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    envelopes: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    State(store): State<Store>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> &'static str {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        content_type, "application/x-sentry-envelope",
        "envelopes are sent with the envelope content type"
    );
    let envelope = Envelope::from_slice(&body)
        .unwrap_or_else(|e| panic!("the sentry transport sent an unparsable envelope: {e}"));
    store.lock().unwrap().push(envelope);
    "{}"
}

impl Receiver {
    /// Starts listening on `127.0.0.1:0` (inside a tokio runtime).
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("a loopback address")).await
    }

    /// Starts listening on `addr` (a sidecar that comes up late).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let envelopes = Store::default();
        let app = Router::new()
            .route("/api/{project}/envelope/", post(accept))
            .route("/stream", post(accept))
            .with_state(Arc::clone(&envelopes));
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            envelopes,
            task,
        }
    }

    /// The DSN pointing at this receiver.
    pub fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }

    /// Every envelope received so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.envelopes.lock().unwrap().clone()
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
