//! The engine: the settings-derived state every request of a service shares.
//!
//! [`Lookout`] is cheap to clone (one `Arc`). Adapters hold one and call
//! [`Lookout::begin`] per request; `lookout::init()` builds the process-wide
//! one and binds its Sentry client, [`Lookout::global`] hands it out.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lookout_classify::Classifiers;
use lookout_policy::{PiiPolicy, PropagationTargets, Sampling, Settings};
use sentry_core::protocol::Event;
use sentry_core::{ClientOptions, Hub};

use crate::continuation::OrgCheck;
use crate::delivery::{ConsoleSink, Delivery, QueueLimits};
use crate::events;

/// A local DSN for console and Spotlight-only delivery: sentry-core builds
/// envelopes only when a DSN is set; lookout's transport never sends to it.
const LOCAL_DSN: &str = "http://lookout@127.0.0.1:9/0";

/// The shared state of a lookout-instrumented service.
///
/// ```
/// use lookout_core::Lookout;
///
/// // No client bound: requests still get ids and traces, nothing is sent.
/// let lookout = Lookout::builder().origin("auto.http.example").build();
/// let headers = http::HeaderMap::new();
/// let in_flight = lookout.begin(&lookout_core::RequestHead::new("GET", "/health", &headers));
/// assert_eq!(in_flight.context().request_id().len(), 36);
/// ```
#[derive(Clone)]
pub struct Lookout {
    pub(crate) engine: Arc<Engine>,
}

impl std::fmt::Debug for Lookout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookout")
            .field("origin", &self.engine.origin)
            .field("sampling", &self.engine.sampling)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub(crate) struct Engine {
    pub(crate) sampling: Sampling,
    pub(crate) classifiers: Classifiers,
    pub(crate) org: OrgCheck,
    pub(crate) server_timing: bool,
    pub(crate) propagate_traceparent: bool,
    pub(crate) targets: PropagationTargets,
    pub(crate) origin: Cow<'static, str>,
    pub(crate) hub: Option<Arc<Hub>>,
    pub(crate) pii: Option<PiiPolicy>,
    pub(crate) public_key: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) sessions: bool,
}

static GLOBAL: OnceLock<Lookout> = OnceLock::new();

impl Lookout {
    /// Starts building an engine with defaults (everything sampled that a
    /// client samples, default classifiers, no client of its own).
    pub fn builder() -> LookoutBuilder {
        LookoutBuilder::default()
    }

    /// An engine for these settings (sampling, org check, propagation,
    /// server-timing, release/environment for head-of-trace DSCs).
    ///
    /// ```
    /// use lookout_core::Lookout;
    /// use lookout_policy::Settings;
    ///
    /// let settings = Settings::from_vars([("SENTRY_ENVIRONMENT", "staging")])?;
    /// let lookout = Lookout::builder().settings(&settings).build();
    /// # let _ = lookout;
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    pub fn from_settings(settings: &Settings) -> Self {
        Self::builder().settings(settings).build()
    }

    /// Makes this engine the process-wide one returned by [`Lookout::global`].
    /// Only the first call wins; returns whether this one did.
    pub fn install_global(&self) -> bool {
        GLOBAL.set(self.clone()).is_ok()
    }

    /// The process-wide engine: the one `lookout::init()` installed, or one
    /// with default settings and no client (requests get ids and traces,
    /// nothing is sent) when nothing was installed.
    pub fn global() -> Lookout {
        GLOBAL.get_or_init(|| Lookout::builder().build()).clone()
    }

    /// The classifiers deciding what becomes an alert.
    pub fn classifiers(&self) -> &Classifiers {
        &self.engine.classifiers
    }

    /// A copy of this engine for another adapter (`origin` names it on
    /// transactions, e.g. `auto.http.axum`).
    #[must_use]
    pub fn with_origin(&self, origin: impl Into<Cow<'static, str>>) -> Lookout {
        Lookout {
            engine: Arc::new(Engine {
                origin: origin.into(),
                ..(*self.engine).clone()
            }),
        }
    }

    /// The `ClientOptions` for these settings with lookout's delivery wired
    /// in: the transport for `delivery`, the frozen-DSC hook, request tags on
    /// every event (before the application's `before_send` and the scrubber),
    /// and a local DSN when console or Spotlight delivery has none.
    pub fn client_options(&self, settings: &Settings, delivery: Delivery) -> ClientOptions {
        let mut options = settings.client_options();
        let engine = Arc::clone(&self.engine);
        let scrubber = settings.scrubber();
        let delivery = delivery.with_hook(Arc::new(move |envelope| {
            crate::dsc::prepare(envelope, &engine, &scrubber)
        }));
        if options.dsn.is_none() && delivery.is_active() {
            options.dsn = LOCAL_DSN.parse().ok();
        }
        if !delivery.is_active() {
            options.dsn = None;
        }
        let scrub = options.before_send.take();
        options.before_send = Some(Arc::new(move |event: Event<'static>| {
            let event = events::apply_request(event);
            match &scrub {
                Some(scrub) => scrub(event),
                None => Some(event),
            }
        }));
        options.transport = Some(Arc::new(delivery));
        options
    }

    /// The delivery these settings ask for (console / send / off, plus a
    /// Spotlight copy), with the queue bounds from the settings.
    pub fn delivery_for(settings: &Settings) -> Delivery {
        use lookout_policy::Delivery as Mode;
        let delivery = match settings.delivery {
            Mode::Send => Delivery::send(),
            Mode::Console => Delivery::console(),
            _ => Delivery::off(),
        };
        with_settings(delivery, settings)
    }
}

/// The parts of delivery the settings decide whatever the mode: the send
/// queue's bounds and the Spotlight copy.
pub(crate) fn with_settings(delivery: Delivery, settings: &Settings) -> Delivery {
    let delivery = delivery.with_queue_limits(QueueLimits {
        max_envelopes: settings.queue_max_envelopes.value,
        max_bytes: usize::try_from(settings.queue_max_bytes.value).unwrap_or(usize::MAX),
    });
    match &settings.spotlight.value {
        Some(url) => delivery.with_spotlight(url.clone()),
        None => delivery,
    }
}

/// Builds a [`Lookout`]; see [`Lookout::builder`].
#[derive(Default)]
#[must_use]
pub struct LookoutBuilder {
    sampling: Option<Sampling>,
    classifiers: Option<Classifiers>,
    org: OrgCheck,
    server_timing: bool,
    propagate_traceparent: Option<bool>,
    targets: Option<PropagationTargets>,
    origin: Option<Cow<'static, str>>,
    hub: Option<Arc<Hub>>,
    pii: Option<PiiPolicy>,
    public_key: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    sessions: bool,
}

impl std::fmt::Debug for LookoutBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookoutBuilder").finish_non_exhaustive()
    }
}

impl LookoutBuilder {
    /// Takes sampling, org check, propagation, server-timing, PII, release,
    /// environment and sessions from resolved settings.
    ///
    /// ```
    /// let settings = lookout_policy::Settings::from_vars([("LOOKOUT_SERVER_TIMING", "true")])?;
    /// let lookout = lookout_core::Lookout::builder().settings(&settings).build();
    /// # let _ = lookout;
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    pub fn settings(mut self, settings: &Settings) -> Self {
        self.sampling = Some(settings.sampling());
        self.org = OrgCheck {
            // Resolved by lookout-policy: SENTRY_ORG_ID, else the DSN host.
            org_id: settings.org_id.value.map(|id| id.to_string()),
            strict: settings.strict_trace_continuation.value,
        };
        self.server_timing = settings.server_timing.value;
        self.propagate_traceparent = Some(settings.propagate_traceparent.value);
        self.targets = Some(settings.trace_propagation_targets.value.clone());
        self.pii = Some(settings.pii());
        self.public_key = settings
            .dsn
            .value
            .as_ref()
            .map(|dsn| dsn.public_key().to_owned());
        self.release.clone_from(&settings.release.value);
        self.environment = Some(settings.environment.value.as_str().to_owned());
        self.sessions = settings.sessions_enabled();
        self
    }

    /// The classifiers (default: [`Classifiers::default`], the built-ins).
    ///
    /// ```
    /// use lookout_classify::{Classifiers, Verdict};
    /// let classifiers = Classifiers::default().with(|o: &lookout_classify::Outcome<'_>| {
    ///     (o.status().as_u16() == 418).then(Verdict::ignore)
    /// });
    /// let lookout = lookout_core::Lookout::builder().classifiers(classifiers).build();
    /// # let _ = lookout;
    /// ```
    pub fn classifiers(mut self, classifiers: Classifiers) -> Self {
        self.classifiers = Some(classifiers);
        self
    }

    /// Sampling (default: rate 1.0, no ignored routes).
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder()
    ///     .sampling(lookout_policy::Sampling::new(0.25))
    ///     .build();
    /// # let _ = lookout;
    /// ```
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = Some(sampling);
        self
    }

    /// Our org id and strictness for trace continuation.
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder()
    ///     .org_check(lookout_core::OrgCheck { org_id: Some("17".into()), strict: true })
    ///     .build();
    /// # let _ = lookout;
    /// ```
    pub fn org_check(mut self, org: OrgCheck) -> Self {
        self.org = org;
        self
    }

    /// Whether responses get `server-timing` with `sentry-trace`/`baggage`.
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder().server_timing(true).build();
    /// # let _ = lookout;
    /// ```
    pub fn server_timing(mut self, on: bool) -> Self {
        self.server_timing = on;
        self
    }

    /// Whether outgoing requests also get W3C `traceparent` (default: true).
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder().propagate_traceparent(false).build();
    /// # let _ = lookout;
    /// ```
    pub fn propagate_traceparent(mut self, on: bool) -> Self {
        self.propagate_traceparent = Some(on);
        self
    }

    /// Which outgoing URLs get trace headers (default: all).
    ///
    /// ```
    /// use lookout_policy::PropagationTargets;
    /// let targets = PropagationTargets::patterns(["^https://api\\.internal/"]).unwrap();
    /// let lookout = lookout_core::Lookout::builder().propagation_targets(targets).build();
    /// # let _ = lookout;
    /// ```
    pub fn propagation_targets(mut self, targets: PropagationTargets) -> Self {
        self.targets = Some(targets);
        self
    }

    /// The adapter's name on transactions (`origin`, e.g. `auto.http.axum`).
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder().origin("auto.http.axum").build();
    /// # let _ = lookout;
    /// ```
    pub fn origin(mut self, origin: impl Into<Cow<'static, str>>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Derive each request's Hub from `hub` instead of the process Hub
    /// (tests bind a capturing client to their own Hub this way).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let hub = Arc::new(sentry_core::Hub::new(None, Default::default()));
    /// let lookout = lookout_core::Lookout::builder().hub(hub).build();
    /// # let _ = lookout;
    /// ```
    pub fn hub(mut self, hub: Arc<Hub>) -> Self {
        self.hub = Some(hub);
        self
    }

    /// Whether release-health sessions are tracked per request (needs a
    /// release and `auto_session_tracking` on the client).
    ///
    /// ```
    /// let lookout = lookout_core::Lookout::builder().sessions(true).build();
    /// # let _ = lookout;
    /// ```
    pub fn sessions(mut self, on: bool) -> Self {
        self.sessions = on;
        self
    }

    /// Creates the engine.
    #[must_use]
    pub fn build(self) -> Lookout {
        Lookout {
            engine: Arc::new(Engine {
                sampling: self.sampling.unwrap_or_else(|| Sampling::new(1.0)),
                classifiers: self.classifiers.unwrap_or_default(),
                org: self.org,
                server_timing: self.server_timing,
                propagate_traceparent: self.propagate_traceparent.unwrap_or(true),
                targets: self.targets.unwrap_or_default(),
                origin: self.origin.unwrap_or(Cow::Borrowed("auto.http.lookout")),
                hub: self.hub,
                pii: self.pii,
                public_key: self.public_key,
                release: self.release,
                environment: self.environment,
                sessions: self.sessions,
            }),
        }
    }
}

/// `METHOD /route/{template}`: the transaction name of a request.
pub(crate) fn transaction_name(method: &str, route: &str) -> String {
    let mut name = String::with_capacity(method.len() + 1 + route.len());
    name.push_str(method);
    name.push(' ');
    name.push_str(route);
    name
}

/// How long `Guard`s and tests wait for delivery by default.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// A console sink that collects lines in memory (used by the demo and tests).
pub fn collecting_console() -> (ConsoleSink, Arc<std::sync::Mutex<Vec<String>>>) {
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink_lines = Arc::clone(&lines);
    let sink: ConsoleSink = Arc::new(move |line: &str| {
        sink_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
    });
    (sink, lines)
}
