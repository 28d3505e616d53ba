//! What `lookout::init_with` accepts: the settings (lookout-policy's
//! [`Options`](lookout_policy::Overrides)) plus what only the facade wires:
//! classifiers, a console sink, the tracing subscriber, the summary line.

use std::fmt;
use std::sync::Arc;

use lookout_classify::Classifiers;
use lookout_core::delivery::ConsoleSink;
use lookout_policy::{ConfigError, Settings};

use lookout_tracing::TracingOptions;

/// Options for [`init_with`](crate::init_with).
///
/// Settings chosen in code go in a [`policy::Overrides`](lookout_policy::Overrides)
/// (every `lookout_policy::Overrides` converts into this type, so
/// `init_with(policy::Overrides::new().traces_sample_rate(0.2))` works);
/// the rest is wiring only the facade does.
///
/// ```no_run
/// use lookout::classify::{by_type, Classifiers};
/// use lookout::{policy, Options};
///
/// # #[derive(Debug)] struct UpstreamError;
/// # impl std::fmt::Display for UpstreamError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("upstream") }
/// # }
/// # impl std::error::Error for UpstreamError {}
/// let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
/// let sink = lines.clone();
/// let _guard = lookout::init_with(
///     Options::new()
///         .policy(policy::Overrides::new().traces_sample_rate(1.0))
///         .app_release("shop@2.1.0")
///         .classifiers(Classifiers::default().with(by_type::<UpstreamError>("upstream")))
///         .console(move |line| sink.lock().unwrap().push(line.to_owned())),
/// )?;
/// # Ok::<(), lookout::ConfigError>(())
/// ```
#[must_use]
pub struct Options {
    pub(crate) policy: lookout_policy::Overrides,
    pub(crate) vars: Option<Vec<(String, String)>>,
    pub(crate) app_release: Option<String>,
    pub(crate) crate_release: Option<&'static str>,
    pub(crate) classifiers: Option<Classifiers>,
    pub(crate) console: Option<ConsoleSink>,
    pub(crate) install_subscriber: bool,
    pub(crate) tracing: TracingOptions,
    pub(crate) print_summary: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: lookout_policy::Overrides::new(),
            vars: None,
            app_release: None,
            crate_release: None,
            classifiers: None,
            console: None,
            install_subscriber: true,
            tracing: TracingOptions::new(),
            print_summary: true,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("policy", &self.policy)
            .field("vars", &self.vars.as_ref().map(Vec::len))
            .field("app_release", &self.app_release)
            .field("crate_release", &self.crate_release)
            .field("classifiers", &self.classifiers.is_some())
            .field("console", &self.console.is_some())
            .field("install_subscriber", &self.install_subscriber)
            .field("tracing", &self.tracing)
            .field("print_summary", &self.print_summary)
            .finish()
    }
}

impl From<lookout_policy::Overrides> for Options {
    fn from(policy: lookout_policy::Overrides) -> Self {
        Self::new().policy(policy)
    }
}

impl Options {
    /// Everything from the environment; subscriber installed, summary printed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Settings chosen in code (they win over environment variables and are
    /// validated the same way).
    ///
    /// ```
    /// let options = lookout::Options::new()
    ///     .policy(lookout::policy::Overrides::new().environment("staging").traces_sample_rate(0.1));
    /// # let _ = options;
    /// ```
    pub fn policy(mut self, policy: lookout_policy::Overrides) -> Self {
        self.policy = policy;
        self
    }

    /// The application's `name@version`, the release used when neither code,
    /// `SENTRY_RELEASE` nor `APP_VERSION` names one. [`init!`](crate::init!)
    /// sets it from the calling crate's Cargo metadata; a value set here wins
    /// over that one (and over one set on the [`policy`](Self::policy)
    /// options).
    ///
    /// ```
    /// let options = lookout::Options::new().app_release("shop@2.1.0");
    /// # let _ = options;
    /// ```
    pub fn app_release(mut self, release: impl Into<String>) -> Self {
        self.app_release = Some(release.into());
        self
    }

    /// Resolve settings from these variables instead of the process
    /// environment (configuration loaded from a file; tests). `RUST_LOG` is
    /// still read by the log filter unless
    /// [`TracingOptions::filter`] is set.
    ///
    /// ```
    /// let options = lookout::Options::new().vars([("SENTRY_ENVIRONMENT", "staging")]);
    /// # let _ = options;
    /// ```
    pub fn vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.vars = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// The classifiers deciding which failed requests become events
    /// (default: [`Classifiers::default`], the built-ins).
    ///
    /// ```
    /// use lookout::classify::{Classifiers, Verdict};
    ///
    /// let options = lookout::Options::new().classifiers(
    ///     Classifiers::default().with_fn(|o| o.path().starts_with("/wp-admin").then(Verdict::ignore)),
    /// );
    /// # let _ = options;
    /// ```
    pub fn classifiers(mut self, classifiers: Classifiers) -> Self {
        self.classifiers = Some(classifiers);
        self
    }

    /// Console lines (one per event: level, `error_type`, title, request id,
    /// trace id) go to `sink` instead of the log. Console lines are then
    /// produced in every delivery mode, also alongside sending, and even
    /// when delivery would otherwise be off (events are then printed, never
    /// sent).
    ///
    /// ```
    /// let options = lookout::Options::new().console(|line| eprintln!("{line}"));
    /// # let _ = options;
    /// ```
    pub fn console<F>(self, sink: F) -> Self
    where
        F: Fn(&str) + Send + Sync + 'static,
    {
        self.console_sink(Arc::new(sink))
    }

    /// [`console`](Self::console) with an already shared sink, e.g. from
    /// [`core::collecting_console`](lookout_core::collecting_console).
    ///
    /// ```
    /// let (sink, lines) = lookout::engine::collecting_console();
    /// let options = lookout::Options::new().console_sink(sink);
    /// # let _ = (options, lines);
    /// ```
    pub fn console_sink(mut self, sink: ConsoleSink) -> Self {
        self.console = Some(sink);
        self
    }

    /// Whether `init` installs the global `tracing` subscriber (default:
    /// yes). Turn it off when the application builds its own and adds
    /// [`tracing_layers`](crate::subscriber::tracing_layers) or
    /// [`sentry_layer`](crate::subscriber::sentry_layer) to it.
    ///
    /// ```
    /// let options = lookout::Options::new().install_subscriber(false);
    /// # let _ = options;
    /// ```
    pub fn install_subscriber(mut self, on: bool) -> Self {
        self.install_subscriber = on;
        self
    }

    /// How `tracing` events and spans map to Sentry, and the log filter and
    /// writer (used when the subscriber is installed).
    ///
    /// ```
    /// let options = lookout::Options::new()
    ///     .tracing(lookout::TracingOptions::new().event_level(tracing::Level::WARN));
    /// # let _ = options;
    /// ```
    pub fn tracing(mut self, tracing: TracingOptions) -> Self {
        self.tracing = tracing;
        self
    }

    /// Whether `init` prints the one-line settings summary on standard error
    /// (default: yes).
    ///
    /// ```
    /// let options = lookout::Options::new().print_summary(false);
    /// # let _ = options;
    /// ```
    pub fn print_summary(mut self, on: bool) -> Self {
        self.print_summary = on;
        self
    }

    /// The release fallback of the crate that called [`init!`](crate::init!).
    #[doc(hidden)]
    pub fn __crate_release(mut self, release: &'static str) -> Self {
        self.crate_release = Some(release);
        self
    }

    /// Resolves the settings these options describe, without initialising
    /// anything (what `init_with` would use).
    ///
    /// ```
    /// let settings = lookout::Options::new()
    ///     .app_release("shop@2.1.0")
    ///     .vars([("SENTRY_ENVIRONMENT", "production")])
    ///     .settings()?;
    /// assert_eq!(settings.release.value.as_deref(), Some("shop@2.1.0"));
    /// # Ok::<(), lookout::ConfigError>(())
    /// ```
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let mut policy = self.policy.clone();
        if let Some(release) = self.app_release.as_deref().or(self.crate_release) {
            policy = policy.app_release(release);
        }
        match &self.vars {
            Some(vars) => policy.resolve(vars.iter().map(|(k, v)| (k, v))),
            None => policy.resolve_env(),
        }
    }
}
