//! One scenario's world: the envelope receiver, a lookout engine with a
//! real `sentry` client sending to it, the app under test, an HTTP client;
//! and, for the whole suite, the `tracing` layers `lookout::init` installs.

use std::sync::{Arc, Once};
use std::time::Duration;

use lookout_classify::{Classifiers, by_type};
use lookout_core::Engine;
use lookout_core::delivery::Delivery;
use lookout_core::testing::WiredEngine;
use lookout_policy::Settings;
use sentry_core::Client;
use serde_json::Value;

use crate::app::DbError;
use crate::harness::{Harness, Placement, Server};
use lookout_tests::receiver::Receiver;

pub struct Fixture {
    pub receiver: Receiver,
    pub server: Server,
    pub http: reqwest_client::Client,
    client: Arc<Client>,
    /// The Hub the client is bound to, as `lookout::init` binds it to the
    /// process's Hub: code outside requests logs with it current.
    pub hub: Arc<sentry_core::Hub>,
}

/// An answer from the app.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub request_id: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

impl Fixture {
    /// Starts everything; `vars` override the suite's settings (DSN of the
    /// receiver, environment `test`, every trace sampled).
    pub async fn start<H: Harness>(vars: &[(&str, &str)]) -> Self {
        Self::start_placed::<H>(vars, Placement::Recommended).await
    }

    /// [`start`](Self::start) with the middleware at `placement`.
    pub async fn start_placed<H: Harness>(vars: &[(&str, &str)], placement: Placement) -> Self {
        install_lookouts_tracing_layers();
        let receiver = Receiver::start().await;
        let dsn = receiver.dsn();
        let mut all: Vec<(&str, &str)> = vec![
            ("SENTRY_DSN", &dsn),
            ("SENTRY_ENVIRONMENT", "test"),
            ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
        ];
        for (key, value) in vars {
            all.retain(|(k, _)| k != key);
            all.push((key, value));
        }
        let settings = Settings::from_vars(all).expect("valid scenario settings");
        let delivery = Engine::delivery_for(&settings);
        assert!(delivery.is_sending(), "the real transport is under test");
        let wired = WiredEngine::new(&settings, Delivery::send(), |builder| {
            builder.classifiers(
                Classifiers::default()
                    .with(by_type::<DbError>("database"))
                    .with(by_type::<crate::app::MailError>("mail")),
            )
        });
        let client = wired.client;
        let hub = wired.hub;
        let server = H::serve(wired.engine, placement).await;
        Self {
            receiver,
            server,
            http: reqwest_client::Client::new(),
            client,
            hub,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// `GET path` with these headers (values may be any bytes a header allows).
    pub async fn get(&self, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        reply(self.send(path, headers).await).await
    }

    /// `POST path` (empty body) with these headers.
    pub async fn post(&self, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        let mut request = self.http.post(self.url(path));
        for (name, value) in headers {
            request = request.header(
                *name,
                http::HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        reply(request.send().await.expect("the app answers")).await
    }

    /// `POST path` with this body and `content-type`.
    pub async fn post_body(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        reply(request.send().await.expect("the app answers")).await
    }

    /// Every error event that reached the receiver, as the JSON that
    /// arrived (with `_meta`).
    pub fn raw_events(&self) -> Vec<Value> {
        self.flush();
        self.receiver.raw_events()
    }

    /// `GET path` with these headers, the response as it starts (its body
    /// not read yet).
    pub async fn send(&self, path: &str, headers: &[(&str, &[u8])]) -> reqwest_client::Response {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(
                *name,
                http::HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        request.send().await.expect("the app answers")
    }

    /// Waits (up to 20 s) until `count` transactions reached the receiver:
    /// for transactions that end after the response (a body dropped early).
    pub async fn wait_for_transactions(
        &self,
        count: usize,
    ) -> Vec<(
        sentry_types::protocol::v7::Transaction<'static>,
        Option<Value>,
    )> {
        for _ in 0..200 {
            let transactions = self.transactions();
            if transactions.len() >= count {
                return transactions;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.transactions()
    }

    /// Every Sentry Log that reached the receiver (after a flush, which also
    /// sends what sentry-core still batches).
    pub fn logs(&self) -> Vec<sentry_types::protocol::v7::Log> {
        self.flush();
        self.receiver.logs()
    }

    /// Closes the client as dropping `lookout::init`'s guard does (what is
    /// batched or queued is sent, within `timeout`); returns whether
    /// everything went out.
    pub fn shut_down(&self, timeout: Duration) -> bool {
        tokio::task::block_in_place(|| self.client.close(Some(timeout)))
    }

    /// Waits until everything captured so far reached the receiver.
    pub fn flush(&self) {
        let flushed =
            tokio::task::block_in_place(|| self.client.flush(Some(Duration::from_secs(30))));
        assert!(flushed, "delivery flushed");
    }

    pub fn events(&self) -> Vec<sentry_types::protocol::v7::Event<'static>> {
        self.flush();
        self.receiver.events()
    }

    pub fn transactions(
        &self,
    ) -> Vec<(
        sentry_types::protocol::v7::Transaction<'static>,
        Option<Value>,
    )> {
        self.flush();
        self.receiver.transactions()
    }
}

pub async fn reply(response: reqwest_client::Response) -> Reply {
    let status = response.status().as_u16();
    let request_id = response.headers().get("x-request-id").map(|v| {
        v.to_str()
            .expect("x-request-id is visible ASCII")
            .to_owned()
    });
    let body = response.text().await.expect("a body");
    Reply {
        status,
        request_id,
        body,
    }
}

/// The trace context of an event or a transaction.
pub fn trace_of(
    contexts: &std::collections::BTreeMap<String, sentry_types::protocol::v7::Context>,
) -> sentry_types::protocol::v7::TraceContext {
    match contexts.get("trace") {
        Some(sentry_types::protocol::v7::Context::Trace(trace)) => (**trace).clone(),
        other => panic!("no trace context: {other:?}"),
    }
}

/// Installs, once for the suite, the process-wide `tracing` subscriber with
/// the Sentry layers `lookout::init` installs (`lookout::subscriber::sentry_layer`,
/// Sentry Logs from `INFO`), without log lines. Every scenario's engine has a
/// client of its own, bound to its requests' Hubs: inside a request, its
/// `tracing` events reach that client, as in a service after `init`; whether
/// they become logs is the client's `enable_logs` (`SENTRY_ENABLE_LOGS`).
fn install_lookouts_tracing_layers() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(lookout::subscriber::sentry_layer(
            &lookout::TracingOptions::new(),
        ));
        // Another global subscriber would already carry the same layers or
        // none; the scenarios asserting on logs would then say so.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}
