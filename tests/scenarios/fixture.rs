//! One scenario's world: the envelope receiver, a lookout engine with a
//! real `sentry` client sending to it, the app under test, an HTTP client.

use std::sync::Arc;
use std::time::Duration;

use lookout_classify::{Classifiers, by_type};
use lookout_core::Lookout;
use lookout_policy::Settings;
use sentry_core::{Client, Hub};
use serde_json::Value;

use crate::app::DbError;
use crate::harness::{Harness, Server};
use crate::receiver::Receiver;

pub struct Fixture {
    pub receiver: Receiver,
    pub server: Server,
    pub http: reqwest_client::Client,
    client: Arc<Client>,
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
        let hub = Arc::new(Hub::new(None, Arc::new(Default::default())));
        let lookout = Lookout::builder()
            .settings(&settings)
            .classifiers(Classifiers::default().with(by_type::<DbError>("database")))
            .hub(Arc::clone(&hub))
            .build();
        let delivery = Lookout::delivery_for(&settings);
        assert!(delivery.is_sending(), "the real transport is under test");
        let client = Arc::new(Client::with_options(
            lookout.client_options(&settings, delivery),
        ));
        hub.bind_client(Some(Arc::clone(&client)));
        let server = H::serve(lookout).await;
        Self {
            receiver,
            server,
            http: reqwest_client::Client::new(),
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// `GET path` with these headers (values may be any bytes a header allows).
    pub async fn get(&self, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(
                *name,
                http::HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        reply(request.send().await.expect("the app answers")).await
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
