//! Test helpers: run requests through a real lookout pipeline and assert on
//! what would have been sent, in-process.
//!
//! [`TestLookout`] builds the engine and a Sentry client from settings you
//! give it (never from the process environment), binds the client to a Hub
//! of its own (tests running in parallel do not see each other's events) and
//! captures every envelope the delivery pipeline would send. Each envelope is
//! written to bytes and parsed back with `sentry-types`, so what you assert on
//! is what the wire format carries (the frozen DSC in the envelope header
//! included).
//!
//! Enable with the `test` feature:
//!
//! ```toml
//! [dev-dependencies]
//! lookout-core = { version = "0.1", features = ["test"] }
//! ```
//!
//! Events, transactions, Sentry Logs and trace metrics each have an
//! accessor ([`TestLookout::events`], [`TestLookout::transactions`],
//! [`TestLookout::logs`], [`TestLookout::metrics`]).
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use lookout_core::testing::TestLookout;
//! use lookout_core::{RequestHead, ResponseHead};
//!
//! let test = TestLookout::new();
//! let headers = HeaderMap::new();
//! let in_flight = test.engine().begin(&RequestHead::new("GET", "/fail", &headers).with_route("/fail"));
//! let finished = in_flight.finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR), );
//! finished.body.complete();
//!
//! let events = test.events();
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].tags["http.route"], "/fail");
//! assert_eq!(test.transactions()[0].name.as_deref(), Some("GET /fail"));
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lookout_policy::{ConfigError, Settings};
use sentry_core::protocol::{EnvelopeItem, Event, ItemContainer, Log, Metric, Transaction};
use sentry_core::{Client, Envelope, Hub, Transport, TransportFactory, TransportOptions};

use crate::delivery::Delivery;
use crate::engine::Engine;

/// The DSN test clients use (nothing is ever sent to it).
pub const TEST_DSN: &str = "https://5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1@o4711.ingest.sentry.io/7";

/// An in-process transport keeping every envelope, round-tripped through the
/// wire format.
#[derive(Clone, Default)]
pub struct Capture {
    envelopes: Arc<Mutex<Vec<Envelope>>>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("envelopes", &self.lock().len())
            .finish()
    }
}

impl Capture {
    /// An empty capture.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Envelope>> {
        self.envelopes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every envelope received so far.
    #[must_use]
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.lock().clone()
    }

    /// Every error event received so far.
    #[must_use]
    pub fn events(&self) -> Vec<Event<'static>> {
        self.lock()
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::Event(event) => Some((**event).clone()),
                _ => None,
            })
            .collect()
    }

    /// Every transaction received so far.
    #[must_use]
    pub fn transactions(&self) -> Vec<Transaction<'static>> {
        self.lock()
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::Transaction(tx) => Some((**tx).clone()),
                _ => None,
            })
            .collect()
    }

    /// Every Sentry Log received so far, in the order they were batched.
    #[must_use]
    pub fn logs(&self) -> Vec<Log> {
        self.lock()
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every trace metric received so far, in the order they were batched.
    #[must_use]
    pub fn metrics(&self) -> Vec<Metric> {
        self.lock()
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => {
                    Some(metrics.clone())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Every cron check-in received so far.
    #[must_use]
    pub fn check_ins(&self) -> Vec<sentry_core::protocol::MonitorCheckIn> {
        self.lock()
            .iter()
            .flat_map(|envelope| envelope.items())
            .filter_map(|item| match item {
                EnvelopeItem::MonitorCheckIn(check_in) => Some(check_in.clone()),
                _ => None,
            })
            .collect()
    }

    /// Forgets everything received.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl Transport for Capture {
    fn send_envelope(&self, envelope: Envelope) {
        let mut bytes = Vec::new();
        if envelope.to_writer(&mut bytes).is_err() {
            return;
        }
        match Envelope::from_slice(&bytes) {
            Ok(parsed) => self.lock().push(parsed),
            Err(error) => panic!("lookout wrote an envelope sentry-types cannot parse: {error}"),
        }
    }
}

impl TransportFactory for Capture {
    fn create_transport_with_options(&self, _options: TransportOptions) -> Arc<dyn Transport> {
        Arc::new(self.clone())
    }
}

/// A transport that drops every envelope (benchmarks and allocation tests
/// measure the request path, not delivery).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, envelope: Envelope) {
        drop(envelope);
    }
}

/// An engine whose requests derive their Hub from a Hub of its own, with a
/// Sentry client over lookout's delivery bound to it: what `lookout::init`
/// wires for the process, for one test, benchmark or suite.
///
/// ```
/// use std::sync::Arc;
/// use lookout_core::delivery::Delivery;
/// use lookout_core::testing::{Discard, WiredEngine};
/// use lookout_policy::Settings;
///
/// let settings = Settings::from_vars([("SENTRY_DSN", lookout_core::testing::TEST_DSN)])?;
/// let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
/// let wired = WiredEngine::new(&settings, delivery, |builder| builder);
/// assert!(wired.hub.client().is_some());
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WiredEngine {
    /// The engine: begin requests with it, or hand it to an adapter.
    pub engine: Engine,
    /// The client requests' events go through.
    pub client: Arc<Client>,
    /// The Hub the client is bound to (each request's Hub derives from it).
    pub hub: Arc<Hub>,
    /// The delivery the client's transport is (its counters).
    pub delivery: Delivery,
}

impl WiredEngine {
    /// An engine for `settings` (customised by `configure`, e.g. with
    /// classifiers) and a client whose transport is `delivery` with the
    /// settings' queue bounds and Spotlight copy.
    pub fn new(
        settings: &Settings,
        delivery: Delivery,
        configure: impl FnOnce(crate::EngineBuilder) -> crate::EngineBuilder,
    ) -> Self {
        let hub = Arc::new(Hub::new(None, Arc::new(Default::default())));
        let engine = configure(Engine::builder().settings(settings))
            .hub(Arc::clone(&hub))
            .build();
        let delivery = crate::engine::with_settings(delivery, settings);
        let client = Arc::new(Client::with_options(
            engine.client_options(settings, delivery.clone()),
        ));
        hub.bind_client(Some(Arc::clone(&client)));
        Self {
            engine,
            client,
            hub,
            delivery,
        }
    }

    /// The engine for `vars` (as environment variables would set them; a
    /// DSN among them) whose client discards every envelope: what
    /// allocation tests and benchmarks of the request path measure with.
    ///
    /// ```
    /// use lookout_core::testing::{TEST_DSN, WiredEngine};
    ///
    /// let wired = WiredEngine::discarding([("SENTRY_DSN", TEST_DSN)])?;
    /// assert!(wired.hub.client().is_some());
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    pub fn discarding<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let settings = Settings::from_vars(vars)?;
        let delivery = Delivery::send().with_transport(Arc::new(Arc::new(Discard)));
        Ok(Self::new(&settings, delivery, |builder| builder))
    }
}

/// A lookout engine with a capturing client bound to a Hub of its own.
pub struct TestLookout {
    lookout: Engine,
    client: Arc<Client>,
    hub: Arc<Hub>,
    capture: Capture,
    delivery: Delivery,
    settings: Settings,
}

impl std::fmt::Debug for TestLookout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestLookout")
            .field("lookout", &self.lookout)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl Default for TestLookout {
    fn default() -> Self {
        Self::new()
    }
}

impl TestLookout {
    /// Test defaults: environment `test`, [`TEST_DSN`], every trace sampled.
    ///
    /// # Panics
    /// Never: the defaults are valid settings.
    #[must_use]
    pub fn new() -> Self {
        match Self::from_vars(std::iter::empty::<(&str, &str)>()) {
            Ok(test) => test,
            Err(error) => unreachable!("the test defaults are valid: {error}"),
        }
    }

    /// Test defaults overridden by `vars` (as environment variables would).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut all: Vec<(String, String)> = vec![
            ("SENTRY_DSN".into(), TEST_DSN.into()),
            ("SENTRY_ENVIRONMENT".into(), "test".into()),
            ("SENTRY_TRACES_SAMPLE_RATE".into(), "1.0".into()),
        ];
        for (k, v) in vars {
            let (k, v) = (k.as_ref().to_owned(), v.as_ref().to_owned());
            all.retain(|(key, _)| *key != k);
            all.push((k, v));
        }
        let settings = Settings::from_vars(all)?;
        Ok(Self::with_settings(settings, |builder| builder))
    }

    /// An engine for `settings` (customised by `configure`, e.g. with
    /// classifiers), with a capturing client on its own Hub.
    pub fn with_settings(
        settings: Settings,
        configure: impl FnOnce(crate::EngineBuilder) -> crate::EngineBuilder,
    ) -> Self {
        let capture = Capture::new();
        // Everything is captured in-process; a Spotlight copy goes where the
        // settings say, as in a real service.
        let delivery = Delivery::send().with_transport(Arc::new(capture.clone()));
        let WiredEngine {
            engine: lookout,
            client,
            hub,
            delivery,
        } = WiredEngine::new(&settings, delivery, configure);
        Self {
            lookout,
            client,
            hub,
            capture,
            delivery,
            settings,
        }
    }

    /// The engine: begin requests with it, or hand it to an adapter.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.lookout
    }

    /// The Hub the capturing client is bound to.
    #[must_use]
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The resolved settings.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The delivery pipeline's counters.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Waits until everything captured so far went through delivery.
    pub fn flush(&self) -> bool {
        self.client.flush(Some(Duration::from_secs(10)))
    }

    /// The captured envelopes (after a flush).
    #[must_use]
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.flush();
        self.capture.envelopes()
    }

    /// The captured error events (after a flush).
    #[must_use]
    pub fn events(&self) -> Vec<Event<'static>> {
        self.flush();
        self.capture.events()
    }

    /// The captured transactions (after a flush).
    #[must_use]
    pub fn transactions(&self) -> Vec<Transaction<'static>> {
        self.flush();
        self.capture.transactions()
    }

    /// The captured Sentry Logs (after a flush, which also sends the logs
    /// sentry-core still batches): the log of each request the classifiers
    /// did not capture, and the `tracing` events inside requests when the
    /// tracing integration is installed.
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::testing::TestLookout;
    /// use lookout_core::{RequestHead, ResponseHead};
    ///
    /// let test = TestLookout::new();
    /// let headers = HeaderMap::new();
    /// let head = RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}");
    /// let in_flight = test.engine().begin(&head);
    /// in_flight.finish(&ResponseHead::new(StatusCode::NOT_FOUND)).body.complete();
    ///
    /// let logs = test.logs();
    /// assert_eq!(logs.len(), 1);
    /// assert_eq!(logs[0].body, "GET /users/{id} -> 404");
    /// assert!(test.events().is_empty());
    /// ```
    #[must_use]
    pub fn logs(&self) -> Vec<Log> {
        self.flush();
        self.capture.logs()
    }

    /// The captured trace metrics (after a flush, which also sends the
    /// metrics sentry-core still batches). Inside a request a metric
    /// carries the request's trace, span, ids and user.
    ///
    /// ```
    /// use http::{HeaderMap, StatusCode};
    /// use lookout_core::testing::TestLookout;
    /// use lookout_core::{RequestHead, ResponseHead};
    ///
    /// let test = TestLookout::new();
    /// let headers = HeaderMap::new();
    /// let head = RequestHead::new("GET", "/orders/7", &headers).with_route("/orders/{id}");
    /// let in_flight = test.engine().begin(&head);
    /// in_flight.context().enter(|| {
    ///     sentry_core::metrics::counter("orders.lookup", 1).capture();
    /// });
    /// in_flight.finish(&ResponseHead::new(StatusCode::OK)).body.complete();
    ///
    /// let metrics = test.metrics();
    /// assert_eq!(metrics.len(), 1);
    /// assert_eq!(metrics[0].name, "orders.lookup");
    /// assert_eq!(metrics[0].attributes["http.route"].0, "/orders/{id}");
    /// ```
    #[must_use]
    pub fn metrics(&self) -> Vec<Metric> {
        self.flush();
        self.capture.metrics()
    }

    /// The captured cron check-ins (after a flush).
    #[must_use]
    pub fn check_ins(&self) -> Vec<sentry_core::protocol::MonitorCheckIn> {
        self.flush();
        self.capture.check_ins()
    }

    /// Forgets everything captured.
    pub fn clear(&self) {
        self.flush();
        self.capture.clear();
    }
}
