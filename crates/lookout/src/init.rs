//! `init`: settings from the environment, the engine, the Sentry client on
//! the process Hub, the `tracing` subscriber, the summary line; and the
//! [`Guard`] that flushes on drop.
//!
//! Process-wide state can be set once only (the global engine, the global
//! subscriber), so only the first successful `init` configures anything;
//! later calls are harmless no-ops (see [`init_with`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lookout_core::Lookout;
use lookout_policy::{ConfigError, Settings};
use sentry_core::{Client, Hub};
use tracing_log::AsLog as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::layers::tracing_layers;
use crate::options::Options;

/// Set by the first `init` that got past validating its settings.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Initialises lookout from the environment (`SENTRY_*`, `LOOKOUT_*`,
/// `RUST_LOG`); see [`init_with`] for every step.
///
/// Prefer [`init!`](crate::init!), which also passes your crate's
/// `name@version` as the release fallback.
///
/// ```no_run
/// let _guard = lookout::init()?;
/// # Ok::<(), lookout::ConfigError>(())
/// ```
///
/// # Errors
/// A [`ConfigError`] naming the variable, its value and what is accepted
/// when a setting is invalid; nothing is initialised then.
pub fn init() -> Result<Guard, ConfigError> {
    init_with(Options::new())
}

/// Initialises lookout with settings and wiring chosen in code.
///
/// 1. Resolves the settings (code, then environment variables, then the
///    environment's profile) through lookout-policy.
/// 2. Builds the engine (sampling, classifiers, propagation) and installs it
///    as [`Lookout::global`], which the adapters use.
/// 3. Binds a Sentry client to the process Hub ([`Hub::main`]) whose
///    transport carries out the delivery mode: `send` (the `sentry` crate's
///    rustls HTTP transport behind a bounded queue), `console` (one line per
///    event, through `tracing` or [`Options::console`]), `off`; plus a copy
///    to Spotlight when `SENTRY_SPOTLIGHT` is set.
/// 4. Installs the global `tracing` subscriber: [`tracing_layers`] on a
///    registry (unless [`Options::install_subscriber`] is off, or another
///    global subscriber is already set: see [`Guard::subscriber_installed`]).
/// 5. Prints the one-line settings summary on **standard error** (no DSN
///    key in it), unless [`Options::print_summary`] is off.
///
/// Keep the returned [`Guard`] alive until the program ends: dropping it
/// flushes what is queued, waiting at most the shutdown timeout
/// (`LOOKOUT_SHUTDOWN_TIMEOUT`), and closes the client.
///
/// # Calling it twice, or not at all
///
/// - Only the first successful call configures anything. A later call still
///   validates its settings (and returns their [`ConfigError`]), then
///   returns an inert guard ([`Guard::is_active`] is `false`, dropping it
///   does nothing) and logs a warning; the first configuration stays in
///   force. It never panics.
/// - Without `init`, adapters use [`Lookout::global`]'s defaults: request
///   ids, trace continuation and response headers work, nothing is captured
///   or sent, and no subscriber is installed.
///
/// # Errors
/// A [`ConfigError`] when a setting is invalid; nothing is initialised then.
pub fn init_with(options: impl Into<Options>) -> Result<Guard, ConfigError> {
    let options = options.into();
    let settings = options.settings()?;
    if INITIALIZED.swap(true, Ordering::SeqCst) {
        tracing::warn!(
            target: "lookout::init",
            "lookout::init called again: ignored, the first configuration stays in force"
        );
        return Ok(Guard::inert(settings));
    }
    let Options {
        classifiers,
        console,
        install_subscriber,
        tracing,
        print_summary,
        ..
    } = options;

    let mut builder = Lookout::builder().settings(&settings).hub(Hub::main());
    if let Some(classifiers) = classifiers {
        builder = builder.classifiers(classifiers);
    }
    let lookout = builder.build();
    let engine_installed = lookout.install_global();

    let mut delivery = Lookout::delivery_for(&settings);
    if let Some(sink) = console {
        delivery = delivery.with_console(sink);
    }
    let client = Arc::new(Client::with_options(
        lookout.client_options(&settings, delivery),
    ));
    Hub::main().bind_client(Some(Arc::clone(&client)));

    let subscriber_installed = install_subscriber && install_global_subscriber(&settings, tracing);

    if print_summary {
        eprintln!("{}", settings.summary());
    }
    if install_subscriber && !subscriber_installed {
        eprintln!(
            "lookout: a global tracing subscriber was already set; add lookout::tracing_layers (or lookout::sentry_layer) to it"
        );
    }
    if !engine_installed {
        eprintln!(
            "lookout: Lookout::global() was used before init; requests keep that engine (default sampling, classifiers and propagation)"
        );
    }
    Ok(Guard {
        client: Some(client),
        timeout: settings.shutdown_timeout.value,
        settings,
        subscriber_installed,
    })
}

/// Installs a registry with [`tracing_layers`] as the global subscriber, then
/// routes `log` records into it (unless another `log` logger is set, which
/// does not undo the subscriber). Returns whether the subscriber was set.
fn install_global_subscriber(settings: &Settings, options: crate::TracingOptions) -> bool {
    let subscriber = tracing_subscriber::registry().with(tracing_layers(settings, options));
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        return false;
    }
    // After the subscriber, so `log` gets its max level.
    let _bridged = tracing_log::LogTracer::builder()
        .with_max_level(tracing::level_filters::LevelFilter::current().as_log())
        .init();
    true
}

/// Initialises lookout like [`init_with`], passing the calling crate's
/// `name@version` (from its Cargo metadata) as the release fallback, used
/// when neither code, `SENTRY_RELEASE` nor `APP_VERSION` names a release.
///
/// `init!()` reads everything else from the environment; `init!(options)`
/// takes anything that converts into [`Options`]. An
/// [`Options::app_release`] you set wins over the crate's `name@version`;
/// an `app_release` set on `policy::Options` does not.
///
/// ```no_run
/// let _guard = lookout::init!()?;
/// # Ok::<(), lookout::ConfigError>(())
/// ```
///
/// ```no_run
/// let _guard = lookout::init!(lookout::Options::new().install_subscriber(false))?;
/// # Ok::<(), lookout::ConfigError>(())
/// ```
#[macro_export]
macro_rules! init {
    () => {
        $crate::init!($crate::Options::new())
    };
    ($options:expr $(,)?) => {
        $crate::init_with(
            $crate::Options::from($options).__crate_release(::core::concat!(
                ::core::env!("CARGO_PKG_NAME"),
                "@",
                ::core::env!("CARGO_PKG_VERSION")
            )),
        )
    };
}

/// Keeps lookout running; dropping it flushes queued events and
/// transactions (waiting at most the shutdown timeout) and closes the
/// Sentry client. Returned by [`init()`] and [`init_with`].
#[must_use = "dropping the guard shuts lookout down; keep it alive until the program ends"]
pub struct Guard {
    client: Option<Arc<Client>>,
    timeout: Duration,
    settings: Settings,
    subscriber_installed: bool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("active", &self.is_active())
            .field("timeout", &self.timeout)
            .field("settings", &self.settings)
            .field("subscriber_installed", &self.subscriber_installed)
            .finish()
    }
}

impl Guard {
    fn inert(settings: Settings) -> Self {
        Self {
            client: None,
            timeout: Duration::ZERO,
            settings,
            subscriber_installed: false,
        }
    }

    /// Whether this guard belongs to the call that initialised lookout
    /// (`false` for the no-op guard of a repeated `init`).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.client.is_some()
    }

    /// The settings this call resolved (for an inert guard: the ones it
    /// would have used). Build your own layers from them with
    /// [`tracing_layers`](crate::tracing_layers).
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The one-line summary `init` printed (never contains the DSN's keys).
    #[must_use]
    pub fn summary(&self) -> String {
        self.settings.summary()
    }

    /// Whether this call installed the global `tracing` subscriber.
    #[must_use]
    pub fn subscriber_installed(&self) -> bool {
        self.subscriber_installed
    }

    /// Waits until what was captured so far is delivered, at most `timeout`
    /// (default: the shutdown timeout). Returns whether everything went out.
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        self.client
            .as_ref()
            .is_none_or(|client| client.flush(Some(timeout.unwrap_or(self.timeout))))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            client.close(Some(self.timeout));
        }
    }
}
