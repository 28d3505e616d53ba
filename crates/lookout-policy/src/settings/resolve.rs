//! Resolving every setting, in order: the environment first (it selects
//! the profile of defaults), then each setting through the resolver, then
//! the delivery mode decided from them.

use std::borrow::Cow;
use std::time::Duration;

use super::Settings;
use super::release::resolve_release;
use super::resolver::{Name, Resolver};
use super::vars::Vars;
use crate::delivery::DeliveryMode;
use crate::environment::{Detection, Environment};
use crate::error::ConfigError;
use crate::options::Overrides;
use crate::provenance::{Resolved, Source};
use crate::table::setting;
use crate::targets::PropagationTargets;
use crate::value;

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

impl Overrides {
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
        self.resolve_from(&Vars::new(vars))
    }

    /// Resolves against `vars`; every variable is read through them.
    fn resolve_from(self, vars: &Vars) -> Result<Settings, ConfigError> {
        let detection = self.detection.clone().unwrap_or_else(Detection::current);

        // The variable is validated even when code overrides it.
        let from_var = vars
            .get("SENTRY_ENVIRONMENT")
            .map(|raw| value::parse_environment(&Cow::Borrowed("SENTRY_ENVIRONMENT"), raw))
            .transpose()?;
        let environment = if let Some(name) = self.environment.as_deref() {
            let name = value::parse_environment(&Cow::Borrowed("Overrides::environment"), name)?;
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
            vars,
            environment: environment.value.clone(),
        };

        let code_dsn = self
            .dsn
            .map(|raw| value::parse_dsn(&Cow::Borrowed("Overrides::dsn"), &raw))
            .transpose()?;
        let dsn = r.optional("SENTRY_DSN", "dsn", code_dsn, same, value::parse_dsn)?;

        let release = resolve_release(vars, self.release, self.app_release)?;

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
        let attach_stacktrace = r.required(
            "SENTRY_ATTACH_STACKTRACE",
            "attach_stacktrace",
            self.attach_stacktrace,
            same,
            bool_var,
        )?;
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
                .map(|s| value::parse_spotlight(&Cow::Borrowed("Overrides::spotlight"), &s))
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
                        "Overrides::trace_propagation_targets",
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
                value::parse_routes(
                    &Cow::Borrowed("Overrides::ignored_routes"),
                    &routes.join(","),
                )
            })
            .transpose()?;
        let ignored_routes = r.required(
            "LOOKOUT_IGNORED_ROUTES",
            "ignored_routes",
            code_routes,
            same,
            value::parse_routes,
        )?;
        let code_status_codes = self
            .trace_ignore_status_codes
            .map(crate::status_codes::StatusCodes::ranges)
            .transpose()?;
        // Unlike other variables, set but empty is a value here: no code.
        let trace_ignore_status_codes = if code_status_codes.is_none()
            && vars.get("LOOKOUT_TRACE_IGNORE_STATUS_CODES").is_none()
            && vars.is_set("LOOKOUT_TRACE_IGNORE_STATUS_CODES")
        {
            Resolved::new(
                crate::status_codes::StatusCodes::none(),
                Source::Variable("LOOKOUT_TRACE_IGNORE_STATUS_CODES"),
            )
        } else {
            r.required(
                "LOOKOUT_TRACE_IGNORE_STATUS_CODES",
                "trace_ignore_status_codes",
                code_status_codes,
                same,
                crate::status_codes::parse_status_codes,
            )?
        };
        let max_request_body_size = r.required(
            "LOOKOUT_MAX_REQUEST_BODY_SIZE",
            "max_request_body_size",
            self.max_request_body_size,
            same,
            crate::request_body::parse_request_body_size,
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
        let compression = r.required(
            "LOOKOUT_COMPRESSION",
            "compression",
            self.compression,
            same,
            crate::compression::parse_compression,
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
        let enable_logs = r.required(
            "SENTRY_ENABLE_LOGS",
            "enable_logs",
            self.enable_logs,
            same,
            bool_var,
        )?;
        let logs_level = r.required(
            "LOOKOUT_LOGS_LEVEL",
            "logs_level",
            self.logs_level,
            value::check_logs_level,
            value::parse_logs_level,
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

        let delivery = DeliveryMode::decide(
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
            attach_stacktrace,
            send_default_pii,
            spotlight,
            org_id,
            strict_trace_continuation,
            max_breadcrumbs,
            send_in_development,
            trace_propagation_targets,
            ignored_routes,
            trace_ignore_status_codes,
            max_request_body_size,
            queue_max_envelopes,
            queue_max_bytes,
            compression,
            server_timing,
            propagate_traceparent,
            log_format,
            enable_logs,
            logs_level,
            auto_session_tracking,
            shutdown_timeout,
            delivery,
            traces_sampler: self.traces_sampler,
            before_send: self.before_send,
            before_breadcrumb: self.before_breadcrumb,
            before_send_log: self.before_send_log,
            before_send_metric: self.before_send_metric,
            before_send_transaction: self.before_send_transaction,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::environment::Profile;
    use crate::settings::vars::is_ours;
    use crate::table::{SETTINGS, SettingKind, SettingSpec};

    /// A value `row`'s parser accepts: its default, or one of its kind.
    fn accepted_value(row: &SettingSpec) -> &'static str {
        if let Some(default) = row.default_for(Profile::Production) {
            return default;
        }
        match row.kind {
            SettingKind::Dsn => "https://public@o123.ingest.sentry.io/456",
            SettingKind::String | SettingKind::Choice => "x1",
            SettingKind::Rate => "0.5",
            SettingKind::Bool => "true",
            SettingKind::Integer => "1",
            SettingKind::BoolOrUrl => "false",
            SettingKind::RegexList => "^https://api\\.example\\.com/",
            SettingKind::RouteList => "/health",
            SettingKind::StatusCodeList => "404",
        }
    }

    /// Resolving with every variable of the table set asks for each name
    /// the resolution reads (directly, or through `spec`, which only sees
    /// names read first); those names and the table's must be the same set.
    #[test]
    fn every_spec_used_by_the_resolver_exists() {
        let all: Vec<(&str, &str)> = SETTINGS
            .iter()
            .map(|row| (row.env_var, accepted_value(row)))
            .collect();
        let vars = Vars::new(all);
        let resolved = Overrides::new()
            .detection(Detection::new(Some("api-7f9c".into()), false))
            .resolve_from(&vars);
        assert!(resolved.is_ok(), "{:?}", resolved.err());

        let read: BTreeSet<&str> = vars.asked().into_iter().collect();
        let table: BTreeSet<&str> = SETTINGS.iter().map(|row| row.env_var).collect();
        let missing: Vec<_> = read.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "the resolver reads {missing:?}, which SETTINGS does not list"
        );
        let unread: Vec<_> = table.difference(&read).collect();
        assert!(
            unread.is_empty(),
            "SETTINGS lists {unread:?}, which the resolver never reads"
        );
        // A row `Vars` would drop could never take effect.
        for name in table {
            assert!(is_ours(name), "{name} is not a variable lookout keeps");
        }
    }
}
