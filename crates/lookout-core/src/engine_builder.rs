//! [`EngineBuilder`]: an [`Engine`] from settings or piece by piece.

use std::borrow::Cow;
use std::sync::Arc;

use lookout_classify::Classifiers;
use lookout_policy::{LogLevel, PiiPolicy, PropagationTargets, Sampling, Settings};
use sentry_core::Hub;

use crate::continuation::OrgCheck;
use crate::engine::{Engine, Shared};

/// Builds an [`Engine`]; see [`Engine::builder`].
#[derive(Default)]
#[must_use]
pub struct EngineBuilder {
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
    logs: Option<Option<LogLevel>>,
    request_body_size: Option<lookout_policy::RequestBodySize>,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder").finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// Takes sampling, org check, propagation, server-timing, PII, release,
    /// environment, sessions and logs from resolved settings.
    ///
    /// ```
    /// let settings = lookout_policy::Settings::from_vars([("LOOKOUT_SERVER_TIMING", "true")])?;
    /// let lookout = lookout_core::Engine::builder().settings(&settings).build();
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
        self.logs = Some(settings.logs());
        self.request_body_size = Some(settings.max_request_body_size.value);
        self
    }

    /// How much of a request's body its captured events carry (default:
    /// [`RequestBodySize::Medium`](lookout_policy::RequestBodySize::Medium),
    /// 10,000 bytes).
    ///
    /// ```
    /// use lookout_policy::RequestBodySize;
    /// let lookout = lookout_core::Engine::builder().request_body_size(RequestBodySize::Never).build();
    /// # let _ = lookout;
    /// ```
    pub fn request_body_size(mut self, size: lookout_policy::RequestBodySize) -> Self {
        self.request_body_size = Some(size);
        self
    }

    /// The classifiers (default: [`Classifiers::default`], the built-ins).
    ///
    /// ```
    /// use lookout_classify::{Classifiers, Verdict};
    /// let classifiers = Classifiers::default().with(|o: &lookout_classify::Outcome<'_>| {
    ///     (o.status().as_u16() == 418).then(Verdict::ignore)
    /// });
    /// let lookout = lookout_core::Engine::builder().classifiers(classifiers).build();
    /// # let _ = lookout;
    /// ```
    pub fn classifiers(mut self, classifiers: Classifiers) -> Self {
        self.classifiers = Some(classifiers);
        self
    }

    /// Sampling (default: rate 1.0, no ignored routes).
    ///
    /// ```
    /// let lookout = lookout_core::Engine::builder()
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
    /// let lookout = lookout_core::Engine::builder()
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
    /// let lookout = lookout_core::Engine::builder().server_timing(true).build();
    /// # let _ = lookout;
    /// ```
    pub fn server_timing(mut self, on: bool) -> Self {
        self.server_timing = on;
        self
    }

    /// Whether outgoing requests also get W3C `traceparent` (default: true).
    ///
    /// ```
    /// let lookout = lookout_core::Engine::builder().propagate_traceparent(false).build();
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
    /// let lookout = lookout_core::Engine::builder().propagation_targets(targets).build();
    /// # let _ = lookout;
    /// ```
    pub fn propagation_targets(mut self, targets: PropagationTargets) -> Self {
        self.targets = Some(targets);
        self
    }

    /// The adapter's name on transactions (`origin`, e.g. `auto.http.axum`).
    ///
    /// ```
    /// let lookout = lookout_core::Engine::builder().origin("auto.http.axum").build();
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
    /// let lookout = lookout_core::Engine::builder().hub(hub).build();
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
    /// let lookout = lookout_core::Engine::builder().sessions(true).build();
    /// # let _ = lookout;
    /// ```
    pub fn sessions(mut self, on: bool) -> Self {
        self.sessions = on;
        self
    }

    /// The lowest level of the log a failure the classifiers do not capture
    /// leaves (`LOOKOUT_LOGS_LEVEL`), or `None` for no such logs
    /// (`SENTRY_ENABLE_LOGS=false`). Default: `info`, as the settings'.
    ///
    /// ```
    /// use lookout_policy::LogLevel;
    ///
    /// let quiet = lookout_core::Engine::builder().logs(Some(LogLevel::Error)).build();
    /// let off = lookout_core::Engine::builder().logs(None).build();
    /// # let _ = (quiet, off);
    /// ```
    pub fn logs(mut self, lowest: Option<LogLevel>) -> Self {
        self.logs = Some(lowest);
        self
    }

    /// Creates the engine.
    #[must_use]
    pub fn build(self) -> Engine {
        // Sentry refuses sessions without a release.
        let sessions = match (&self.release, self.sessions) {
            (Some(release), true) => Some(crate::sessions::Sessions::start(
                release.clone(),
                self.environment.clone(),
                self.hub.clone(),
            )),
            _ => None,
        };
        Engine {
            engine: Arc::new(Shared {
                sampling: self.sampling.unwrap_or_else(|| Sampling::new(1.0)),
                classifiers: self.classifiers.unwrap_or_default(),
                org: self.org,
                server_timing: self.server_timing,
                propagate_traceparent: self.propagate_traceparent.unwrap_or(true),
                targets: self.targets.unwrap_or_default(),
                origin_explicit: self.origin.is_some(),
                origin: self.origin.unwrap_or(Cow::Borrowed("auto.http.lookout")),
                hub: self.hub,
                pii: self.pii,
                public_key: self.public_key,
                release: self.release,
                environment: self.environment,
                sessions,
                logs: self.logs.unwrap_or(Some(LogLevel::Info)),
                request_body_limit: self.request_body_size.unwrap_or_default().limit(),
                attached: Arc::default(),
            }),
        }
    }
}
