//! Resolved settings: every value lookout uses, with where it came from.
//!
//! Owns precedence (code, then variable, then profile default, then plain
//! default; the environment itself: code, variable, detection) and the
//! summary line. Defaults are read from [`SETTINGS`](crate::SETTINGS) and
//! parsed with the same parsers as the variables.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use sentry_core::protocol::{Breadcrumb, Event};
use sentry_core::types::Dsn;

use crate::delivery::Delivery;
use crate::environment::{Detection, Environment, Profile};
use crate::error::ConfigError;
use crate::options::{BeforeCallback, Options};
use crate::pii::PiiPolicy;
use crate::provenance::{Resolved, Source};
use crate::sampling::{Sampling, TracesSampler};
use crate::table::{SettingSpec, setting};
use crate::targets::PropagationTargets;
use crate::value::{self, LogFormat};

/// Every setting lookout uses, resolved and validated, each with its
/// [`Source`].
///
/// ```
/// use lookout_policy::{Delivery, Detection, Options, Source};
///
/// let settings = Options::new()
///     .detection(Detection::new(Some("api-7f9c".into()), false))
///     .resolve([
///         ("SENTRY_DSN", "https://public@o123.ingest.sentry.io/456"),
///         ("SENTRY_RELEASE", "api@1.4.2"),
///     ])?;
/// assert_eq!(settings.environment.value.as_str(), "production");
/// assert_eq!(settings.traces_sample_rate.value, 0.01);
/// assert_eq!(settings.org_id.value, Some(123));
/// assert_eq!(settings.delivery, Delivery::Send);
/// assert_eq!(
///     settings.summary(),
///     "lookout: environment=production (release build) release=api@1.4.2 (SENTRY_RELEASE) \
///      traces=1% (profile production) errors=100% delivery=send dsn=o123.ingest.sentry.io/456 pii=off"
/// );
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// `SENTRY_DSN`.
    pub dsn: Resolved<Option<Dsn>>,
    /// `SENTRY_ENVIRONMENT`, or detected.
    pub environment: Resolved<Environment>,
    /// `SENTRY_RELEASE`, `APP_VERSION`, or the application's `name@version`.
    pub release: Resolved<Option<String>>,
    /// `SENTRY_TRACES_SAMPLE_RATE`.
    pub traces_sample_rate: Resolved<f64>,
    /// `SENTRY_SAMPLE_RATE` (errors).
    pub sample_rate: Resolved<f64>,
    /// `SENTRY_DEBUG`.
    pub debug: Resolved<bool>,
    /// `SENTRY_SEND_DEFAULT_PII`.
    pub send_default_pii: Resolved<bool>,
    /// `SENTRY_SPOTLIGHT`: the sidecar URL when on.
    pub spotlight: Resolved<Option<String>>,
    /// `SENTRY_ORG_ID`, or from the DSN host.
    pub org_id: Resolved<Option<u64>>,
    /// `SENTRY_STRICT_TRACE_CONTINUATION`.
    pub strict_trace_continuation: Resolved<bool>,
    /// `SENTRY_MAX_BREADCRUMBS`.
    pub max_breadcrumbs: Resolved<usize>,
    /// `LOOKOUT_SEND_IN_DEVELOPMENT`.
    pub send_in_development: Resolved<bool>,
    /// `LOOKOUT_TRACE_PROPAGATION_TARGETS`.
    pub trace_propagation_targets: Resolved<PropagationTargets>,
    /// `LOOKOUT_IGNORED_ROUTES`.
    pub ignored_routes: Resolved<Vec<String>>,
    /// `LOOKOUT_QUEUE_MAX_ENVELOPES`.
    pub queue_max_envelopes: Resolved<usize>,
    /// `LOOKOUT_QUEUE_MAX_BYTES`.
    pub queue_max_bytes: Resolved<u64>,
    /// `LOOKOUT_SERVER_TIMING`.
    pub server_timing: Resolved<bool>,
    /// `LOOKOUT_PROPAGATE_TRACEPARENT`.
    pub propagate_traceparent: Resolved<bool>,
    /// `LOOKOUT_LOG_FORMAT`.
    pub log_format: Resolved<LogFormat>,
    /// `SENTRY_AUTO_SESSION_TRACKING` as configured; see
    /// [`Settings::sessions_enabled`] for whether sessions actually run.
    pub auto_session_tracking: Resolved<bool>,
    /// `LOOKOUT_SHUTDOWN_TIMEOUT_MS`.
    pub shutdown_timeout: Resolved<Duration>,
    /// What happens to captured events, decided from the values above.
    pub delivery: Delivery,
    /// The application's sampler, if set in code.
    pub traces_sampler: Option<Arc<TracesSampler>>,
    /// The application's `before_send`, if set in code (the scrubber runs after it).
    pub before_send: Option<BeforeCallback<Event<'static>>>,
    /// The application's `before_breadcrumb`, if set in code (the scrubber runs after it).
    pub before_breadcrumb: Option<BeforeCallback<Breadcrumb>>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the DSN itself: its secret key must not reach a log.
        f.debug_struct("Settings")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the process environment, detects the machine, and resolves.
    pub fn from_env() -> Result<Self, ConfigError> {
        Options::new().resolve_env()
    }

    /// Resolves from these variables (the process environment is not read),
    /// detecting the machine with [`Detection::current`]. Tests pass an explicit
    /// [`Detection`] through [`Options::detection`] and [`Options::resolve`].
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Options::new().resolve(vars)
    }

    /// The PII policy (`send_default_pii`).
    #[must_use]
    pub fn pii(&self) -> PiiPolicy {
        PiiPolicy::from_send_default_pii(self.send_default_pii.value)
    }

    /// The profile of the resolved environment.
    #[must_use]
    pub fn profile(&self) -> Profile {
        self.environment.value.profile()
    }

    /// Whether release health runs: auto session tracking is on and there is
    /// a release (sessions without a release are refused by Sentry).
    #[must_use]
    pub fn sessions_enabled(&self) -> bool {
        self.auto_session_tracking.value && self.release.value.is_some()
    }

    /// The sampling policy: traces rate, ignored routes, user sampler.
    #[must_use]
    pub fn sampling(&self) -> Sampling {
        Sampling::new(self.traces_sample_rate.value)
            .ignored_routes(self.ignored_routes.value.iter().cloned())
            .sampler_arc(self.traces_sampler.clone())
    }

    /// The one-line summary printed at start-up, with provenance; it never
    /// contains the DSN's keys (only its host and project).
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::from("lookout:");
        let _ = write!(
            s,
            " environment={} ({})",
            self.environment.value, self.environment.source
        );
        match &self.release.value {
            Some(release) => {
                let _ = write!(s, " release={release} ({})", self.release.source);
            }
            None => s.push_str(" release=none"),
        }
        let _ = write!(
            s,
            " traces={} ({})",
            percent(self.traces_sample_rate.value),
            self.traces_sample_rate.source
        );
        if self.traces_sampler.is_some() {
            s.push_str(" sampler=code");
        }
        let _ = write!(s, " errors={}", percent(self.sample_rate.value));
        explicit(&mut s, &self.sample_rate);
        let _ = write!(s, " delivery={}", self.delivery);
        match (self.delivery, &self.dsn.value) {
            (Delivery::Send, Some(dsn)) => {
                let _ = write!(s, " dsn={}/{}", dsn.host(), dsn.project_id());
            }
            (Delivery::Console, _) if self.environment.value.is_development() => {
                s.push_str(" (development)");
            }
            (Delivery::Console, _) => s.push_str(" (SENTRY_DEBUG, no DSN)"),
            (Delivery::Off, _) => s.push_str(" (no DSN)"),
            _ => {}
        }
        if let Some(url) = &self.spotlight.value {
            let _ = write!(s, " spotlight={url}");
        }
        let _ = write!(
            s,
            " pii={}",
            if self.pii().allows_pii() { "on" } else { "off" }
        );
        explicit(&mut s, &self.send_default_pii);
        if self.auto_session_tracking.value && self.release.value.is_none() {
            s.push_str(" sessions=off (no release)");
        } else if !self.auto_session_tracking.value {
            let _ = write!(s, " sessions=off ({})", self.auto_session_tracking.source);
        }
        s
    }
}

fn explicit<T>(s: &mut String, resolved: &Resolved<T>) {
    if resolved.is_explicit() {
        let _ = write!(s, " ({})", resolved.source);
    }
}

/// `0.01` -> `1%`, `0.125` -> `12.5%`.
fn percent(rate: f64) -> String {
    let text = format!("{:.4}", rate * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// The variables lookout reads, keyed by name; an empty value counts as unset.
struct Vars(HashMap<String, String>);

impl Vars {
    fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self(
            vars.into_iter()
                .filter(|(k, _)| is_ours(k.as_ref()))
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

fn is_ours(name: &str) -> bool {
    name.starts_with("SENTRY_") || name.starts_with("LOOKOUT_") || name == "APP_VERSION"
}

type Name = Cow<'static, str>;

fn spec(env_var: &'static str) -> &'static SettingSpec {
    // Every name passed here is a literal from the table; a unit test checks it.
    setting(env_var).unwrap_or_else(|| panic!("{env_var} is missing from SETTINGS"))
}

struct Resolver<'a> {
    vars: &'a Vars,
    environment: Environment,
}

impl Resolver<'_> {
    /// Code, then variable, then profile default, then plain default.
    fn resolve<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Option<Resolved<T>>, ConfigError> {
        // The variable is validated even when code overrides it: an operator
        // who set it wrongly hears about it.
        let from_var = match self.vars.get(env_var) {
            Some(raw) => Some(parse(&Cow::Borrowed(env_var), raw)?),
            None => None,
        };
        if let Some(value) = code {
            let name = Cow::Owned(format!("Options::{setter}"));
            return Ok(Some(Resolved::new(check(&name, value)?, Source::Code)));
        }
        if let Some(value) = from_var {
            return Ok(Some(Resolved::new(value, Source::Variable(env_var))));
        }
        let row = spec(env_var);
        let profile = self.environment.profile();
        let (text, source) = match (row.profile_default(profile), row.default) {
            (Some(text), _) => (text, Source::Profile(profile)),
            (None, Some(text)) => (text, Source::Default),
            (None, None) => return Ok(None),
        };
        let value = parse(&Cow::Borrowed(env_var), text)?;
        Ok(Some(Resolved::new(value, source)))
    }

    /// Like [`Self::resolve`] for a setting that always has a default.
    fn required<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Resolved<T>, ConfigError> {
        self.resolve(env_var, setter, code, check, parse)?
            .ok_or_else(|| ConfigError::invalid(env_var, "", "a default in SETTINGS (lookout bug)"))
    }

    fn optional<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Resolved<Option<T>>, ConfigError> {
        Ok(self
            .resolve(env_var, setter, code, check, parse)?
            .map_or_else(
                || Resolved::new(None, Source::Default),
                |r| Resolved::new(Some(r.value), r.source),
            ))
    }
}

fn same<T>(_: &Name, value: T) -> Result<T, ConfigError> {
    Ok(value)
}

fn bool_var(name: &Name, raw: &str) -> Result<bool, ConfigError> {
    value::parse_bool(name, raw)
}

fn int_var(min: u64, max: u64) -> impl Fn(&Name, &str) -> Result<u64, ConfigError> {
    move |name, raw| {
        let expected = setting_accepted(name);
        value::parse_integer(name, raw, min, max, expected)
    }
}

fn int_check(min: u64, max: u64) -> impl Fn(&Name, u64) -> Result<u64, ConfigError> {
    move |name, n| {
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(ConfigError::invalid(
                name.clone(),
                n.to_string(),
                format!("a whole number from {min} to {max}"),
            ))
        }
    }
}

fn setting_accepted(name: &Name) -> &'static str {
    setting(name).map_or("a whole number", |s| s.accepted)
}

fn to_usize(r: Resolved<u64>) -> Resolved<usize> {
    Resolved::new(usize::try_from(r.value).unwrap_or(usize::MAX), r.source)
}

impl Options {
    /// Resolves against the process environment.
    pub fn resolve_env(self) -> Result<Settings, ConfigError> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())));
        self.resolve(vars)
    }

    /// Resolves against these variables (the process environment is not read).
    pub fn resolve<I, K, V>(self, vars: I) -> Result<Settings, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars = Vars::new(vars);
        let detection = self.detection.clone().unwrap_or_else(Detection::current);

        // The variable is validated even when code overrides it.
        let from_var = vars
            .get("SENTRY_ENVIRONMENT")
            .map(|raw| value::parse_environment(&Cow::Borrowed("SENTRY_ENVIRONMENT"), raw))
            .transpose()?;
        let environment = if let Some(name) = self.environment.as_deref() {
            let name = value::parse_environment(&Cow::Borrowed("Options::environment"), name)?;
            Resolved::new(Environment::new(name), Source::Code)
        } else if let Some(name) = from_var {
            Resolved::new(
                Environment::new(name),
                Source::Variable("SENTRY_ENVIRONMENT"),
            )
        } else {
            let (env, source) = detection.environment();
            Resolved::new(env, source)
        };

        let r = Resolver {
            vars: &vars,
            environment: environment.value.clone(),
        };

        let code_dsn = self
            .dsn
            .map(|raw| value::parse_dsn(&Cow::Borrowed("Options::dsn"), &raw))
            .transpose()?;
        let dsn = r.optional("SENTRY_DSN", "dsn", code_dsn, same, value::parse_dsn)?;

        let release = resolve_release(&vars, self.release, self.app_release)?;

        let rate_check = |name: &Name, rate: f64| value::check_rate(name, rate);
        let traces_sample_rate = r.required(
            "SENTRY_TRACES_SAMPLE_RATE",
            "traces_sample_rate",
            self.traces_sample_rate,
            rate_check,
            value::parse_rate,
        )?;
        let sample_rate = r.required(
            "SENTRY_SAMPLE_RATE",
            "sample_rate",
            self.sample_rate,
            rate_check,
            value::parse_rate,
        )?;
        let debug = r.required("SENTRY_DEBUG", "debug", self.debug, same, bool_var)?;
        let send_default_pii = r.required(
            "SENTRY_SEND_DEFAULT_PII",
            "send_default_pii",
            self.send_default_pii,
            same,
            bool_var,
        )?;
        let spotlight = r.required(
            "SENTRY_SPOTLIGHT",
            "spotlight",
            self.spotlight
                .map(|s| value::parse_spotlight(&Cow::Borrowed("Options::spotlight"), &s))
                .transpose()?,
            same,
            value::parse_spotlight,
        )?;
        let org_id = r.optional(
            "SENTRY_ORG_ID",
            "org_id",
            self.org_id,
            same,
            value::parse_org_id,
        )?;
        let org_id = match (&org_id.value, &dsn.value) {
            (None, Some(d)) => match d.org_id() {
                Some(id) => Resolved::new(id.to_string().parse::<u64>().ok(), dsn.source.clone()),
                None => org_id,
            },
            _ => org_id,
        };
        let strict_trace_continuation = r.required(
            "SENTRY_STRICT_TRACE_CONTINUATION",
            "strict_trace_continuation",
            self.strict_trace_continuation,
            same,
            bool_var,
        )?;
        let max_breadcrumbs = to_usize(
            r.required(
                "SENTRY_MAX_BREADCRUMBS",
                "max_breadcrumbs",
                self.max_breadcrumbs
                    .map(|n| u64::try_from(n).unwrap_or(u64::MAX)),
                int_check(0, 1000),
                int_var(0, 1000),
            )?,
        );
        let send_in_development = r.required(
            "LOOKOUT_SEND_IN_DEVELOPMENT",
            "send_in_development",
            self.send_in_development,
            same,
            bool_var,
        )?;
        // Code lists are compiled one pattern at a time: a pattern set in
        // code may contain a comma.
        let code_targets = self
            .trace_propagation_targets
            .map(|patterns| {
                PropagationTargets::patterns(&patterns).map_err(|e| {
                    ConfigError::invalid(
                        "Options::trace_propagation_targets",
                        patterns.join(","),
                        format!("regular expressions ({e})"),
                    )
                })
            })
            .transpose()?;
        let trace_propagation_targets = r.optional(
            "LOOKOUT_TRACE_PROPAGATION_TARGETS",
            "trace_propagation_targets",
            code_targets,
            same,
            |name, raw| value::parse_regex_list(name, raw).map(PropagationTargets::Patterns),
        )?;
        let trace_propagation_targets = Resolved::new(
            trace_propagation_targets.value.unwrap_or_default(),
            trace_propagation_targets.source,
        );
        let code_routes = self
            .ignored_routes
            .map(|routes| {
                value::parse_routes(&Cow::Borrowed("Options::ignored_routes"), &routes.join(","))
            })
            .transpose()?;
        let ignored_routes = r.required(
            "LOOKOUT_IGNORED_ROUTES",
            "ignored_routes",
            code_routes,
            same,
            value::parse_routes,
        )?;
        let queue_max_envelopes = to_usize(
            r.required(
                "LOOKOUT_QUEUE_MAX_ENVELOPES",
                "queue_max_envelopes",
                self.queue_max_envelopes
                    .map(|n| u64::try_from(n).unwrap_or(u64::MAX)),
                int_check(1, 1_000_000),
                int_var(1, 1_000_000),
            )?,
        );
        let queue_max_bytes = r.required(
            "LOOKOUT_QUEUE_MAX_BYTES",
            "queue_max_bytes",
            self.queue_max_bytes,
            int_check(1024, 4 << 30),
            int_var(1024, 4 << 30),
        )?;
        let server_timing = r.required(
            "LOOKOUT_SERVER_TIMING",
            "server_timing",
            self.server_timing,
            same,
            bool_var,
        )?;
        let propagate_traceparent = r.required(
            "LOOKOUT_PROPAGATE_TRACEPARENT",
            "propagate_traceparent",
            self.propagate_traceparent,
            same,
            bool_var,
        )?;
        let log_format = r.required(
            "LOOKOUT_LOG_FORMAT",
            "log_format",
            self.log_format,
            same,
            value::parse_log_format,
        )?;
        let auto_session_tracking = r.required(
            "SENTRY_AUTO_SESSION_TRACKING",
            "auto_session_tracking",
            self.auto_session_tracking,
            same,
            bool_var,
        )?;
        let shutdown_ms = r.required(
            "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
            "shutdown_timeout",
            self.shutdown_timeout
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            int_check(0, 600_000),
            int_var(0, 600_000),
        )?;
        let shutdown_timeout =
            Resolved::new(Duration::from_millis(shutdown_ms.value), shutdown_ms.source);

        let delivery = Delivery::decide(
            dsn.value.is_some(),
            &environment.value,
            send_in_development.value,
            debug.value,
        );

        Ok(Settings {
            dsn,
            environment,
            release,
            traces_sample_rate,
            sample_rate,
            debug,
            send_default_pii,
            spotlight,
            org_id,
            strict_trace_continuation,
            max_breadcrumbs,
            send_in_development,
            trace_propagation_targets,
            ignored_routes,
            queue_max_envelopes,
            queue_max_bytes,
            server_timing,
            propagate_traceparent,
            log_format,
            auto_session_tracking,
            shutdown_timeout,
            delivery,
            traces_sampler: self.traces_sampler,
            before_send: self.before_send,
            before_breadcrumb: self.before_breadcrumb,
        })
    }
}

fn resolve_release(
    vars: &Vars,
    code: Option<String>,
    app_release: Option<String>,
) -> Result<Resolved<Option<String>>, ConfigError> {
    let mut from_vars = None;
    for var in ["SENTRY_RELEASE", "APP_VERSION"] {
        if let Some(raw) = vars.get(var) {
            let value = value::parse_release(&Cow::Borrowed(var), raw)?;
            from_vars = from_vars.or(Some((value, var)));
        }
    }
    if let Some(release) = code {
        let value = value::parse_release(&Cow::Borrowed("Options::release"), &release)?;
        return Ok(Resolved::new(Some(value), Source::Code));
    }
    if let Some((value, var)) = from_vars {
        return Ok(Resolved::new(Some(value), Source::Variable(var)));
    }
    if let Some(release) = app_release {
        let value = value::parse_release(&Cow::Borrowed("Options::app_release"), &release)?;
        return Ok(Resolved::new(Some(value), Source::Code));
    }
    Ok(Resolved::new(None, Source::Default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_used_by_the_resolver_exists() {
        for row in crate::SETTINGS {
            assert!(std::ptr::eq(spec(row.env_var), row));
        }
    }

    #[test]
    fn percent_is_short() {
        assert_eq!(percent(0.01), "1%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(0.07), "7%");
        assert_eq!(percent(0.0), "0%");
    }
}
