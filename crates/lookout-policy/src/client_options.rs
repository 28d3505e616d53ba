//! `Settings` -> `sentry_core::ClientOptions`.
//!
//! Owns the mapping only; the transport (HTTP, console, Spotlight copy) is
//! lookout-core's, chosen from [`Settings::delivery`].

use std::borrow::Cow;
use std::num::NonZeroUsize;

use lookout_headers::TraceId;
use sentry_core::protocol::OrganizationId;
use sentry_core::{ClientOptions, SessionMode, TransactionContext};

use crate::delivery::DeliveryMode;
use crate::sampling::SamplingRequest;
use crate::scrub::Scrubber;
use crate::settings::Settings;

impl Settings {
    /// The scrubber for this PII policy.
    #[must_use]
    pub fn scrubber(&self) -> Scrubber {
        Scrubber::new(self.pii())
    }

    /// The options for a `sentry_core::Client`.
    ///
    /// - `dsn` is set only when [`delivery`](Settings::delivery) is
    ///   [`DeliveryMode::Send`], so a client built from these options never sends
    ///   from development by accident; for `Console` (and a Spotlight copy
    ///   without a DSN) lookout-core installs its own transport and DSN.
    /// - `traces_sampler` applies [`Settings::sampling`] (ignored routes,
    ///   the user sampler, deterministic `sample_rand`) to a transaction
    ///   named `METHOD /route`; a decision already on the context (the
    ///   parent's, or lookout-core's) is kept.
    /// - `before_send` / `before_breadcrumb` / `before_send_log` / `before_send_metric` run the
    ///   application's callbacks, then the [`Scrubber`].
    /// - `enable_logs` is [`enable_logs`](Settings::enable_logs) (the `tracing`
    ///   integration and lookout's own request logs honour it).
    /// - `attach_stacktrace` is [`attach_stacktrace`](Settings::attach_stacktrace)
    ///   (on by default); sessions run in request mode when
    ///   [`sessions_enabled`](Settings::sessions_enabled).
    ///
    /// ```
    /// use lookout_policy::{Detection, Overrides};
    ///
    /// let settings = Overrides::new()
    ///     .detection(Detection::new(Some("api-1".into()), false))
    ///     .resolve([("SENTRY_DSN", "https://public@o7.ingest.sentry.io/1"), ("SENTRY_RELEASE", "api@1")])?;
    /// let options = settings.client_options();
    /// assert!(options.dsn.is_some());
    /// assert_eq!(options.environment.as_deref(), Some("production"));
    /// assert_eq!(options.org_id.map(|id| id.to_string()).as_deref(), Some("7"));
    /// assert!(options.auto_session_tracking);
    /// # #[allow(deprecated)]
    /// assert!(options.enable_logs);
    /// # Ok::<(), lookout_policy::ConfigError>(())
    /// ```
    pub fn client_options(&self) -> ClientOptions {
        let scrubber = self.scrubber();
        let sampling = self.sampling();
        let mut options = ClientOptions::new()
            .sample_rate(rate_f32(self.sample_rate.value))
            .traces_sampler(move |ctx: &TransactionContext| {
                if let Some(sampled) = ctx.sampled() {
                    return if sampled { 1.0 } else { 0.0 };
                }
                let trace = TraceId::parse_hex(&ctx.trace_id().to_string()).unwrap_or_default();
                let name = ctx.name();
                let (method, route) = name.split_once(' ').unwrap_or(("", name));
                let decision = sampling.decide(&SamplingRequest::new(trace, method).route(route));
                if decision.sampled { 1.0 } else { 0.0 }
            });
        options.dsn = match self.delivery {
            DeliveryMode::Send => self.dsn.value.clone(),
            _ => None,
        };
        options.debug = self.debug.value;
        options.environment = Some(Cow::Owned(self.environment.value.as_str().to_owned()));
        options.release = self.release.value.clone().map(Cow::Owned);
        options.org_id = self.org_id.value.map(OrganizationId::from);
        options.strict_trace_continuation = self.strict_trace_continuation.value;
        options.max_breadcrumbs = self.max_breadcrumbs.value;
        options.attach_stacktrace = self.attach_stacktrace.value;
        options.send_default_pii = self.pii().allows_pii();
        options.before_send = Some(scrubber.before_send(self.before_send.clone()));
        options.before_breadcrumb =
            Some(scrubber.before_breadcrumb(self.before_breadcrumb.clone()));
        options.before_send_log = Some(scrubber.before_send_log(self.before_send_log.clone()));
        options.before_send_metric =
            Some(scrubber.before_send_metric(self.before_send_metric.clone()));
        // Deprecated in sentry-core 0.49 because manual `capture_log` calls
        // ignore it; lookout's own log capture (the tracing layer, the
        // request log) reads it, so it is the switch.
        #[allow(deprecated)]
        {
            options.enable_logs = self.enable_logs.value;
        }
        options.shutdown_timeout = self.shutdown_timeout.value;
        options.transport_channel_capacity = NonZeroUsize::new(self.queue_max_envelopes.value);
        options.auto_session_tracking = self.sessions_enabled();
        options.session_mode = SessionMode::Request;
        options
    }
}

/// Rates are validated to 0..=1 before they get here; `f32` keeps that range.
#[allow(clippy::cast_possible_truncation)]
fn rate_f32(rate: f64) -> f32 {
    (rate as f32).clamp(0.0, 1.0)
}
