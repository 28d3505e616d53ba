//! The engine: the settings-derived state every request of a service shares.
//!
//! [`Engine`] is cheap to clone (one `Arc`). Adapters hold one and call
//! [`Engine::begin`] per request; `lookout::init()` builds the process-wide
//! one and binds its Sentry client, [`Engine::global`] hands it out.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use lookout_classify::Classifiers;
use lookout_policy::{LogLevel, PiiPolicy, PropagationTargets, Sampling, Settings};
use sentry_core::protocol::{Event, Log, Metric};
use sentry_core::{ClientOptions, Hub};

use crate::continuation::OrgCheck;
use crate::delivery::{Delivery, DeliverySnapshot, QueueLimits};
use crate::engine_builder::EngineBuilder;
use crate::log_capture::{FastLogs, LogWriter};
use crate::status::{Attached, Configured, Status};
use crate::{events, logs, metrics};

/// A local DSN for console and Spotlight-only delivery: sentry-core builds
/// envelopes only when a DSN is set; lookout's transport never sends to it.
const LOCAL_DSN: &str = "http://lookout@127.0.0.1:9/0";

/// The shared state of a lookout-instrumented service.
///
/// ```
/// use lookout_core::Engine;
///
/// // No client bound: requests still get ids and traces, nothing is sent.
/// let lookout = Engine::builder().origin("auto.http.example").build();
/// let headers = http::HeaderMap::new();
/// let in_flight = lookout.begin(&lookout_core::RequestHead::new("GET", "/health", &headers));
/// assert_eq!(in_flight.context().request_id().len(), 36);
/// ```
#[derive(Clone)]
pub struct Engine {
    pub(crate) engine: Arc<Shared>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("origin", &self.engine.origin)
            .field("sampling", &self.engine.sampling)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) sampling: Sampling,
    pub(crate) classifiers: Classifiers,
    pub(crate) org: OrgCheck,
    pub(crate) server_timing: bool,
    pub(crate) propagate_traceparent: bool,
    pub(crate) targets: PropagationTargets,
    pub(crate) origin: Cow<'static, str>,
    /// Whether `origin` was chosen explicitly (an adapter's own origin does
    /// not override it).
    pub(crate) origin_explicit: bool,
    pub(crate) hub: Option<Arc<Hub>>,
    pub(crate) pii: Option<PiiPolicy>,
    pub(crate) public_key: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) environment: Option<String>,
    /// Request-mode release health, when sessions are on and a release is set.
    pub(crate) sessions: Option<Arc<crate::sessions::Sessions>>,
    /// The lowest level sent as a Sentry Log; `None` when logs are off.
    pub(crate) logs: Option<LogLevel>,
    /// The most bytes of a request's body its events carry; `None`: never.
    pub(crate) request_body_limit: Option<usize>,
    /// The delivery's counters and the configuration, once a client is
    /// wired ([`Engine::client_options`]); shared by every copy of the
    /// engine (`for_adapter`, `with_origin`).
    pub(crate) attached: Arc<OnceLock<Attached>>,
}

static GLOBAL: OnceLock<Engine> = OnceLock::new();

impl Engine {
    /// Starts building an engine with defaults (everything sampled that a
    /// client samples, default classifiers, no client of its own).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine for these settings (sampling, org check, propagation,
    /// server-timing, release/environment for head-of-trace DSCs).
    ///
    /// ```
    /// use lookout_core::Engine;
    /// use lookout_policy::Settings;
    ///
    /// let settings = Settings::from_vars([("SENTRY_ENVIRONMENT", "staging")])?;
    /// let lookout = Engine::builder().settings(&settings).build();
    /// # let _ = lookout;
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    pub fn from_settings(settings: &Settings) -> Self {
        Self::builder().settings(settings).build()
    }

    /// Makes this engine the process-wide one returned by [`Engine::global`].
    /// Only the first call wins; returns whether this one did.
    pub fn install_global(&self) -> bool {
        GLOBAL.set(self.clone()).is_ok()
    }

    /// The process-wide engine: the one `lookout::init()` installed, or one
    /// with default settings and no client (requests get ids and traces,
    /// nothing is sent) when nothing was installed.
    pub fn global() -> Engine {
        GLOBAL.get_or_init(|| Engine::builder().build()).clone()
    }

    /// The classifiers deciding what becomes an alert.
    pub fn classifiers(&self) -> &Classifiers {
        &self.engine.classifiers
    }

    /// A copy of this engine for another adapter (`origin` names it on
    /// transactions, e.g. `auto.http.axum`).
    #[must_use]
    pub fn with_origin(&self, origin: impl Into<Cow<'static, str>>) -> Engine {
        Engine {
            engine: Arc::new(Shared {
                origin: origin.into(),
                origin_explicit: true,
                ..(*self.engine).clone()
            }),
        }
    }

    /// This engine as the adapter named `origin` uses it: named `origin`
    /// unless an origin was chosen explicitly
    /// ([`EngineBuilder::origin`], [`with_origin`](Self::with_origin)).
    ///
    /// ```
    /// use lookout_core::Engine;
    ///
    /// assert_eq!(Engine::builder().build().for_adapter("auto.http.axum").origin(), "auto.http.axum");
    /// let custom = Engine::builder().origin("auto.http.gateway").build();
    /// assert_eq!(custom.for_adapter("auto.http.axum").origin(), "auto.http.gateway");
    /// ```
    #[must_use]
    pub fn for_adapter(&self, origin: &'static str) -> Engine {
        if self.engine.origin_explicit {
            return self.clone();
        }
        Engine {
            engine: Arc::new(Shared {
                origin: Cow::Borrowed(origin),
                ..(*self.engine).clone()
            }),
        }
    }

    /// The origin transactions of this engine carry (`auto.http.axum`, ...).
    pub fn origin(&self) -> &str {
        &self.engine.origin
    }

    /// The `ClientOptions` for these settings with lookout's delivery wired
    /// in: the transport for `delivery`, the frozen-DSC hook, request tags on
    /// every event and request attributes on every log (before the
    /// application's `before_send` / `before_send_log` and the scrubber), and
    /// a local DSN when console or Spotlight delivery has none.
    pub fn client_options(&self, settings: &Settings, delivery: Delivery) -> ClientOptions {
        let mut options = settings.client_options();
        let processor = crate::stacktrace::EventProcessor::new(&options);
        let stats = delivery.stats();
        let delivery_stats = Arc::clone(&stats);
        let engine = Arc::clone(&self.engine);
        let scrubber = settings.scrubber();
        let delivery = match &self.engine.sessions {
            Some(sessions) => delivery.with_aggregates(Arc::clone(sessions) as _),
            None => delivery,
        };
        let filter =
            crate::transaction_filter::TransactionFilter::new(settings, Arc::clone(&stats));
        let delivery = delivery.with_hook(Arc::new(move |envelope| {
            // A batch of logs or metrics belongs to no one request: no request's DSC.
            if logs::carries_only_logs(&envelope) || metrics::carries_only_metrics(&envelope) {
                return envelope;
            }
            crate::dsc::prepare(envelope, &engine, &scrubber, &filter)
        }));
        // Past the console (which reads events as typed): a request body left
        // out gets its `_meta` note in the serialized event.
        let delivery = delivery.with_outgoing_hook(Arc::new(crate::request_body::annotate));
        if options.dsn.is_none() && delivery.is_active() {
            options.dsn = LOCAL_DSN.parse().ok();
        }
        if !delivery.is_active() {
            options.dsn = None;
        }
        let scrub = options.before_send.take();
        options.before_send = Some(Arc::new(move |event: Event<'static>| {
            // Frames, in-app marking, runtime contexts; then the request's data.
            let event = processor.process(event)?;
            let event = events::apply_request(event);
            let event = match &scrub {
                Some(scrub) => scrub(event),
                None => Some(event),
            }?;
            // Sampling comes next: what does not reach the transport was
            // sampled out.
            stats.event_prepared();
            // What the event means for the request's release-health session
            // (sentry-core's rule, applied where sentry applies it: after
            // `before_send`, whether or not the event is then sampled out).
            if let Some(ctx) = lookout_scope::current() {
                ctx.record_event_health(&event);
            }
            Some(event)
        }));
        let scrub_log = options.before_send_log.take();
        let before_send_log: sentry_core::BeforeCallback<Log> = Arc::new(move |log: Log| {
            let log = logs::apply_request(log);
            match &scrub_log {
                Some(scrub) => scrub(log),
                None => Some(log),
            }
        });
        // lookout's own log path, where nothing of the application's must
        // see each log as a `Log` (no `before_send_log` of its own) and no
        // console prints each one.
        #[allow(deprecated)] // the switch lookout's settings set
        let fast_logs =
            (options.enable_logs && settings.before_send_log.is_none() && !delivery.has_console())
                .then(|| {
                    FastLogs::new(
                        &before_send_log,
                        LogWriter::new(settings.scrubber(), &options),
                    )
                });
        let delivery = match &fast_logs {
            Some(fast) => delivery.with_batch(Arc::clone(&fast.batch) as _),
            None => delivery,
        };
        options.before_send_log = Some(before_send_log);
        let scrub_metric = options.before_send_metric.take();
        options.before_send_metric = Some(Arc::new(move |metric: Metric| {
            let metric = metrics::apply_request(metric);
            match &scrub_metric {
                Some(scrub) => scrub(metric),
                None => Some(metric),
            }
        }));
        options.transport = Some(Arc::new(delivery));
        // The first wired client is the one the engine reports on.
        let _ = self.engine.attached.set(Attached {
            stats: delivery_stats,
            config: Configured::from_settings(settings),
            logs: fast_logs,
        });
        options
    }

    /// What the delivery has done so far: envelopes queued, sent, dropped
    /// by reason, what waits now, the last error. All zeros until a client
    /// is wired to this engine (`lookout::init` does it).
    ///
    /// ```
    /// use lookout_core::Engine;
    ///
    /// let stats = Engine::builder().build().stats();
    /// assert_eq!((stats.queued, stats.sent, stats.dropped.total()), (0, 0, 0));
    /// ```
    #[must_use]
    pub fn stats(&self) -> DeliverySnapshot {
        self.engine
            .attached
            .get()
            .map(|attached| attached.stats.snapshot())
            .unwrap_or_default()
    }

    /// The status report for an operator endpoint: environment, release,
    /// DSN host and project id (never its keys), sample rates and delivery
    /// mode, each with where it came from, and [`stats`](Self::stats).
    /// The adapters' status routes serve it as JSON ([`Status::to_json`]).
    ///
    /// ```
    /// let status = lookout_core::Engine::builder().build().status();
    /// assert_eq!(status.delivery.mode, "off", "no client wired");
    /// assert!(status.dsn.is_none());
    /// ```
    #[must_use]
    pub fn status(&self) -> Status {
        match self.engine.attached.get() {
            Some(attached) => attached.config.status(attached.stats.snapshot()),
            None => Configured::unwired(
                self.engine.environment.as_deref(),
                self.engine.release.as_deref(),
                self.engine.sampling.traces_sample_rate(),
            )
            .status(DeliverySnapshot::default()),
        }
    }

    /// The delivery these settings ask for (console / send / off, plus a
    /// Spotlight copy), with the queue bounds from the settings.
    pub fn delivery_for(settings: &Settings) -> Delivery {
        use lookout_policy::DeliveryMode as Mode;
        let delivery = match settings.delivery {
            Mode::Send => Delivery::send(),
            Mode::Console => Delivery::console(),
            _ => Delivery::off(),
        };
        with_settings(delivery, settings)
    }
}

/// The parts of delivery the settings decide whatever the mode: the send
/// queue's bounds, compression and the Spotlight copy.
pub(crate) fn with_settings(delivery: Delivery, settings: &Settings) -> Delivery {
    let delivery = delivery
        .with_queue_limits(QueueLimits {
            max_envelopes: settings.queue_max_envelopes.value,
            max_bytes: usize::try_from(settings.queue_max_bytes.value).unwrap_or(usize::MAX),
        })
        .with_compression(settings.compression.value);
    match &settings.spotlight.value {
        Some(url) => delivery.with_spotlight(url.clone()),
        None => delivery,
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

/// Names up to this many bytes are built on the stack by
/// [`with_transaction_name`].
const INLINE_NAME: usize = 128;

/// Calls `f` with [`transaction_name`]`(method, route)`, built on the stack
/// when it is short (most are): sentry-core copies the name it is given, so
/// an owned one would be copied once more.
pub(crate) fn with_transaction_name<R>(method: &str, route: &str, f: impl FnOnce(&str) -> R) -> R {
    let len = method.len() + 1 + route.len();
    if len > INLINE_NAME {
        return f(&transaction_name(method, route));
    }
    let mut buf = [0u8; INLINE_NAME];
    buf[..method.len()].copy_from_slice(method.as_bytes());
    buf[method.len()] = b' ';
    buf[method.len() + 1..len].copy_from_slice(route.as_bytes());
    // Two whole `&str`s around an ASCII space are valid UTF-8.
    match std::str::from_utf8(&buf[..len]) {
        Ok(name) => f(name),
        Err(_) => f(&transaction_name(method, route)),
    }
}

#[cfg(test)]
mod tests {
    use super::{INLINE_NAME, transaction_name, with_transaction_name};

    #[test]
    fn a_name_built_on_the_stack_is_the_owned_one() {
        let long = "/é".repeat(INLINE_NAME);
        // "PATCH " and this route are the longest name kept on the stack.
        let fits = "a".repeat(INLINE_NAME - 6);
        let over = "a".repeat(INLINE_NAME - 5);
        for (method, route) in [
            ("GET", "/users/{id}"),
            ("DELETE", "/ünïcode/{päth}"),
            ("GET", ""),
            ("PATCH", fits.as_str()),
            ("PATCH", over.as_str()),
            ("POST", long.as_str()),
        ] {
            let name = with_transaction_name(method, route, str::to_owned);
            assert_eq!(name, transaction_name(method, route));
        }
    }
}
