//! `init`: settings from the environment, the engine, the Sentry client on
//! the process Hub, the `tracing` subscriber, the summary line; and the
//! [`Guard`] that shuts delivery down on drop, within the shutdown timeout.
//!
//! Process-wide state can be set once only (the global engine, the global
//! subscriber), so only the first successful `init` configures anything;
//! later calls are harmless no-ops (see [`init_with`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lookout_core::Engine;
use lookout_core::delivery::{DeliveryStats, ShutdownReport};
use lookout_policy::{ConfigError, Settings};
use sentry_core::{Client, Hub};
use tracing_log::AsLog as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::options::Options;
use lookout_tracing::tracing_layers;

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
///    as [`Engine::global`], which the adapters use.
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
/// (or [`Guard::shutdown`]) delivers what is queued, waiting at most the
/// shutdown timeout (`LOOKOUT_SHUTDOWN_TIMEOUT_MS`), drops what is still
/// undelivered then, and closes the client; see [`Guard`].
///
/// # Calling it twice, or not at all
///
/// - Only the first successful call configures anything. A later call still
///   validates its settings (and returns their [`ConfigError`]), then
///   returns an inert guard ([`Guard::is_active`] is `false`, dropping it
///   does nothing) and logs a warning; the first configuration stays in
///   force. It never panics.
/// - Without `init`, adapters use [`Engine::global`]'s defaults: request
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

    let mut builder = Engine::builder().settings(&settings).hub(Hub::main());
    if let Some(classifiers) = classifiers {
        builder = builder.classifiers(classifiers);
    }
    let lookout = builder.build();
    let engine_installed = lookout.install_global();

    let mut delivery = Engine::delivery_for(&settings);
    if let Some(sink) = console {
        delivery = delivery.with_console(sink);
    }
    let sending = delivery.is_sending();
    let stats = delivery.stats();
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
            "lookout: a global tracing subscriber was already set; add lookout::subscriber::tracing_layers (or lookout::subscriber::sentry_layer) to it"
        );
    }
    if !engine_installed {
        eprintln!(
            "lookout: Engine::global() was used before init; requests keep that engine (default sampling, classifiers and propagation)"
        );
    }
    Ok(Guard {
        client: Some(client),
        timeout: settings.shutdown_timeout.value,
        settings,
        subscriber_installed,
        stats,
        shutdown_line: print_summary && sending,
    })
}

/// Installs a registry with [`tracing_layers`] as the global subscriber, then
/// routes `log` records into it (unless another `log` logger is set, which
/// does not undo the subscriber). Returns whether the subscriber was set.
fn install_global_subscriber(settings: &Settings, options: crate::TracingOptions) -> bool {
    // What `log` records need: the database spans' DEBUG (sqlx logs through
    // `tracing`) would otherwise let every `log::debug!` of a dependency
    // through the bridge.
    let records = lookout_tracing::log_records_level(settings, &options);
    let subscriber = tracing_subscriber::registry().with(tracing_layers(settings, options));
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        return false;
    }
    // After the subscriber, so `log` gets its max level.
    let _bridged = tracing_log::LogTracer::builder()
        .with_max_level(records.as_log())
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
/// an `app_release` set on `policy::Overrides` does not.
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

/// Keeps lookout running; dropping it shuts delivery down. Returned by
/// [`init()`] and [`init_with`].
///
/// # Shutdown
///
/// Dropping the guard (at the end of `main`, say) and [`Guard::shutdown`] do
/// the same, bounded by one deadline: the shutdown timeout
/// (`LOOKOUT_SHUTDOWN_TIMEOUT_MS`, default 2000) from the moment shutdown
/// starts.
///
/// 1. Until the deadline, queued events, transactions and logs are sent.
/// 2. At the deadline, whatever is still queued is dropped, a request still
///    in flight is abandoned, and lookout's threads are let go rather than
///    waited for: a Sentry that is down, refuses connections, accepts them
///    and never answers, or answers too slowly cannot keep the process
///    alive.
/// 3. In send mode, one line on standard error says how many envelopes
///    Sentry confirmed and how many were lost (unless
///    [`Options::print_summary`] is off), e.g.
///    `lookout: shutdown: 0 of 1 envelopes delivered, 1 lost (Sentry did not
///    confirm them: unreachable, refusing or slower than
///    LOOKOUT_SHUTDOWN_TIMEOUT_MS=2000)`.
///    [`Guard::shutdown`] returns the same counts.
#[must_use = "dropping the guard shuts lookout down; keep it alive until the program ends"]
pub struct Guard {
    client: Option<Arc<Client>>,
    timeout: Duration,
    settings: Settings,
    subscriber_installed: bool,
    stats: Arc<DeliveryStats>,
    /// Whether shutting down prints the delivered / lost line.
    shutdown_line: bool,
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
            stats: Arc::default(),
            shutdown_line: false,
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
    /// [`tracing_layers`](crate::subscriber::tracing_layers).
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

    /// The delivery's counters now (see [`stats()`](crate::stats())): what
    /// was queued, sent and dropped, and the last delivery error. Zeros for
    /// an inert guard.
    ///
    /// ```no_run
    /// let guard = lookout::init!()?;
    /// let stats = guard.stats();
    /// println!("{} sent, {} dropped", stats.sent, stats.dropped.total());
    /// # Ok::<(), lookout::ConfigError>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> lookout_core::delivery::DeliverySnapshot {
        self.stats.snapshot()
    }

    /// Waits until what was captured so far is delivered, at most `timeout`
    /// (default: the shutdown timeout). Returns whether everything went out.
    /// Nothing is dropped: what did not go out stays queued.
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        self.client
            .as_ref()
            .is_none_or(|client| client.flush(Some(timeout.unwrap_or(self.timeout))))
    }

    /// Shuts delivery down now, as dropping the guard does (see
    /// [Shutdown](Guard#shutdown)): sends what it can within the shutdown
    /// timeout, drops the rest, and returns the counts. An inert guard (a
    /// repeated `init`) returns zeros and leaves the first one running.
    ///
    /// ```no_run
    /// let guard = lookout::init!()?;
    /// // ... serve until SIGTERM ...
    /// let report = guard.shutdown();
    /// if report.lost > 0 {
    ///     // Already said on stderr; a service may also count it elsewhere.
    /// }
    /// # Ok::<(), lookout::ConfigError>(())
    /// ```
    pub fn shutdown(mut self) -> ShutdownReport {
        self.close()
    }

    fn close(&mut self) -> ShutdownReport {
        let Some(client) = self.client.take() else {
            return ShutdownReport::default();
        };
        client.close(Some(self.timeout));
        let report = self.stats.shutdown_report().unwrap_or_default();
        if self.shutdown_line {
            eprintln!("{}", shutdown_line(&report, self.timeout));
        }
        report
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The line a guard prints when it shuts delivery down.
fn shutdown_line(report: &ShutdownReport, timeout: Duration) -> String {
    let mut line = format!(
        "lookout: shutdown: {} of {} envelopes delivered, {} lost",
        report.delivered, report.accepted, report.lost
    );
    if report.lost > 0 {
        line.push_str(&format!(
            " (Sentry did not confirm them: unreachable, refusing or slower than LOOKOUT_SHUTDOWN_TIMEOUT_MS={})",
            timeout.as_millis()
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shutdown_line_says_what_was_lost_and_which_setting_bounds_the_wait() {
        let mut report = ShutdownReport::default();
        report.accepted = 3;
        report.delivered = 3;
        let timeout = Duration::from_millis(1500);
        assert_eq!(
            shutdown_line(&report, timeout),
            "lookout: shutdown: 3 of 3 envelopes delivered, 0 lost"
        );
        report.delivered = 1;
        report.lost = 2;
        report.timed_out = true;
        let line = shutdown_line(&report, timeout);
        assert!(
            line.starts_with("lookout: shutdown: 1 of 3 envelopes delivered, 2 lost ("),
            "{line}"
        );
        assert!(line.contains("LOOKOUT_SHUTDOWN_TIMEOUT_MS=1500"), "{line}");
    }
}
