//! Sentry endpoints that fail the way networks fail, for the shutdown and
//! resilience suites: one that accepts connections and never answers (a
//! black hole), one that refuses them (a closed port), one that answers
//! after five seconds, one that answers every envelope `429` with
//! `Retry-After` and `X-Sentry-Rate-Limits`, and one that answers `500`. Each runs on its own thread and runtime, so a test that drives
//! processes needs no async code; each stops when dropped.
//!
//! The slow one reads every request in full and parses its envelope with
//! `sentry-types`, as Sentry would, before it waits: what it received proves
//! that the real `sentry` transport path was used.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use sentry_types::protocol::v7::{Envelope, EnvelopeItem, Event};
use tokio::sync::oneshot;

/// How long the slow endpoint takes to answer each envelope.
pub const SLOW_ANSWER: Duration = Duration::from_secs(5);

/// How an endpoint fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Accepts connections, never reads, never answers.
    BlackHole,
    /// Nothing listens: connections are refused.
    Refusing,
    /// Reads each request, answers `200` after [`SLOW_ANSWER`].
    Slow,
    /// Reads each request, answers `429` with `Retry-After: 60` and
    /// [`RATE_LIMITS`].
    TooManyRequests,
    /// Reads each request, answers `500 Internal Server Error`.
    ServerError,
}

/// The `X-Sentry-Rate-Limits` the [`Failure::TooManyRequests`] endpoint sends:
/// errors limited for 60 s.
pub const RATE_LIMITS: &str = "60:error:organization";

#[derive(Default)]
struct Seen {
    /// Connections accepted (black hole).
    connections: AtomicUsize,
    /// Envelopes read in full and parsed (slow).
    envelopes: Mutex<Vec<Envelope>>,
    /// Answers written (slow).
    answered: AtomicUsize,
}

/// A failing Sentry on `127.0.0.1`.
pub struct BadSentry {
    failure: Failure,
    addr: SocketAddr,
    seen: Arc<Seen>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for BadSentry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl BadSentry {
    /// Starts an endpoint that fails as `failure` says.
    pub fn start(failure: Failure) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let seen = Arc::new(Seen::default());
        if failure == Failure::Refusing {
            // The port was just free; closing it again leaves nothing there.
            drop(listener);
            return Self {
                failure,
                addr,
                seen,
                stop: None,
            };
        }
        listener.set_nonblocking(true).expect("non-blocking");
        let (stop, stopped) = oneshot::channel();
        let thread_seen = Arc::clone(&seen);
        std::thread::Builder::new()
            .name(format!("bad-sentry-{failure:?}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    tokio::select! {
                        () = serve(failure, listener, thread_seen) => {}
                        _ = stopped => {}
                    }
                });
            })
            .expect("the endpoint's thread");
        Self {
            failure,
            addr,
            seen,
            stop: Some(stop),
        }
    }

    /// How this endpoint fails.
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// The DSN pointing at this endpoint.
    pub fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }

    /// Connections the black hole accepted.
    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// Envelopes the slow, 429 or 500 endpoint read and parsed.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.seen.envelopes.lock().unwrap().clone()
    }

    /// Error events in the envelopes the slow endpoint parsed.
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

    /// Answers the slow, 429 or 500 endpoint has written.
    pub fn answered(&self) -> usize {
        self.seen.answered.load(Ordering::SeqCst)
    }
}

async fn serve(failure: Failure, listener: tokio::net::TcpListener, seen: Arc<Seen>) {
    match failure {
        Failure::BlackHole => {
            // Keep every connection open, read nothing, answer nothing.
            let mut held = Vec::new();
            while let Ok((connection, _)) = listener.accept().await {
                seen.connections.fetch_add(1, Ordering::SeqCst);
                held.push(connection);
            }
        }
        Failure::Slow => {
            let app = Router::new()
                .route("/api/{project}/envelope/", post(slow_accept))
                .with_state(seen);
            let _ = axum::serve(listener, app).await;
        }
        Failure::TooManyRequests | Failure::ServerError => {
            let app = Router::new()
                .route("/api/{project}/envelope/", post(refuse))
                .with_state((failure, seen));
            let _ = axum::serve(listener, app).await;
        }
        Failure::Refusing => unreachable!("nothing listens for a refusing endpoint"),
    }
}

/// The body decoded from its `content-encoding`, as Sentry reads it.
fn decoded(headers: &axum::http::HeaderMap, body: &[u8]) -> Vec<u8> {
    let encoding = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok());
    crate::receiver::decode_body(encoding, body)
}

async fn slow_accept(
    State(seen): State<Arc<Seen>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> &'static str {
    let envelope = Envelope::from_slice(&decoded(&headers, &body))
        .unwrap_or_else(|e| panic!("the sentry transport sent an unparsable envelope: {e}"));
    seen.envelopes.lock().unwrap().push(envelope);
    tokio::time::sleep(SLOW_ANSWER).await;
    seen.answered.fetch_add(1, Ordering::SeqCst);
    "{}"
}

/// Keeps the envelope (parsed, as Sentry would) and answers with the error.
async fn refuse(
    State((failure, seen)): State<(Failure, Arc<Seen>)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let envelope = Envelope::from_slice(&decoded(&headers, &body))
        .unwrap_or_else(|e| panic!("the sentry transport sent an unparsable envelope: {e}"));
    seen.envelopes.lock().unwrap().push(envelope);
    seen.answered.fetch_add(1, Ordering::SeqCst);
    if failure == Failure::TooManyRequests {
        let status = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return (
            status,
            [("retry-after", "60"), ("x-sentry-rate-limits", RATE_LIMITS)],
            "",
        )
            .into_response();
    }
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
}

impl BadSentry {
    /// Checks a process's shutdown counts against what this endpoint did
    /// with the `captured` envelopes the process was given: everything is
    /// accounted for, nothing this endpoint never confirmed counts as
    /// delivered, and the real transport reached it.
    pub fn assert_accounted(&self, line: crate::process_exit::ShutdownLine, captured: u64) {
        assert_eq!(
            line.accepted, captured,
            "every envelope reached the send queue: {line:?}"
        );
        assert_eq!(line.delivered + line.lost, line.accepted, "{line:?}");
        match self.failure {
            Failure::BlackHole
            | Failure::Refusing
            | Failure::TooManyRequests
            | Failure::ServerError => {
                assert_eq!(line.lost, captured, "nothing was confirmed: {line:?}");
            }
            Failure::Slow => {
                let answered = self.answered() as u64;
                assert!(line.delivered <= answered, "{line:?}, answered {answered}");
            }
        }
        if captured > 0 {
            match self.failure {
                Failure::BlackHole => assert!(self.connections() > 0, "the transport connected"),
                Failure::Slow | Failure::TooManyRequests | Failure::ServerError => {
                    let events = self.events();
                    assert!(
                        !events.is_empty(),
                        "the transport posted a parsable envelope"
                    );
                }
                Failure::Refusing => {}
            }
        }
    }
}
