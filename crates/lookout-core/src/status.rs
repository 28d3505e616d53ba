//! The status report an operator endpoint serves: what this process was
//! configured with (and where each value came from) and what its delivery
//! has done so far.
//!
//! Owns [`Status`] and its parts, built once here so that every adapter's
//! status route (`lookout_axum::status_router`, `lookout_actix::status_resource`,
//! `lookout_warp::status_filter`) serves the same JSON. It never holds the
//! DSN's public or secret key: only the host, port and project id.

use std::sync::Arc;

use lookout_policy::{Resolved, Settings};
use serde::Serialize;

use crate::delivery::{DeliverySnapshot, DeliveryStats};

/// Where the adapters mount the status route by convention (the demo does).
pub const STATUS_PATH: &str = "/lookout/status";

/// What [`Engine::status`](crate::Engine::status) reports: configuration
/// with provenance, and the delivery's counters. Serializes to the status
/// route's JSON ([`Status::to_json`]).
///
/// ```
/// use lookout_core::Engine;
/// use lookout_policy::Settings;
///
/// let settings = Settings::from_vars([
///     ("SENTRY_DSN", "https://public:secret@o1.ingest.sentry.io/42"),
///     ("SENTRY_ENVIRONMENT", "production"),
/// ])?;
/// let lookout = Engine::from_settings(&settings);
/// let _client_options = lookout.client_options(&settings, Engine::delivery_for(&settings));
/// let status = lookout.status();
/// assert_eq!(status.environment.value, "production");
/// assert_eq!(status.environment.source, "SENTRY_ENVIRONMENT");
/// assert_eq!(status.dsn.as_ref().map(|d| d.project_id.as_str()), Some("42"));
/// assert_eq!(status.delivery.compression.value, "zstd");
/// assert_eq!(status.delivery.compression.source, "default");
/// let json = status.to_json();
/// assert!(!json.contains("public") && !json.contains("secret"));
/// # Ok::<(), lookout_policy::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// The environment (`production`, ...) and where it came from.
    pub environment: Sourced<String>,
    /// The release, if any, and where it came from.
    pub release: Sourced<Option<String>>,
    /// Where envelopes go (`None` without a DSN).
    pub dsn: Option<DsnTarget>,
    /// The error and trace sample rates.
    pub sample_rates: SampleRates,
    /// The delivery mode and the queue's bounds.
    pub delivery: DeliveryConfig,
    /// What the delivery did so far.
    pub stats: DeliverySnapshot,
}

impl Status {
    /// The status as pretty-printed JSON, the body of the status route.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Every field serializes infallibly (strings, numbers, options).
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The status route's answer: `200`, the JSON, `content-type:
    /// application/json` and `cache-control: no-store` (an operator wants
    /// the counts of now, never a cached copy).
    ///
    /// ```
    /// let response = lookout_core::Engine::builder().build().status().to_http_response();
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// assert!(response.body().contains("\"stats\""));
    /// ```
    #[must_use]
    pub fn to_http_response(&self) -> http::Response<String> {
        let mut response = http::Response::new(self.to_json());
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(STATUS_CONTENT_TYPE),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

/// The status route's content type.
pub const STATUS_CONTENT_TYPE: &str = "application/json";

/// A configured value and where it came from: `code`, a variable's name
/// (`SENTRY_ENVIRONMENT`), `profile production`, `host name`, `default`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Sourced<T> {
    /// The value in force.
    pub value: T,
    /// Where it came from (lookout-policy's provenance).
    pub source: String,
}

impl<T: Clone> Sourced<T> {
    fn of(resolved: &Resolved<T>) -> Self {
        Self {
            value: resolved.value.clone(),
            source: resolved.source.to_string(),
        }
    }
}

/// The DSN's address, without its keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DsnTarget {
    /// `https` or `http`.
    pub scheme: String,
    /// The ingestion host (`o1.ingest.sentry.io`, a Relay's name).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The project id.
    pub project_id: String,
    /// Where the DSN came from.
    pub source: String,
}

/// The sample rates in force.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SampleRates {
    /// Error events kept (`SENTRY_SAMPLE_RATE`).
    pub errors: Sourced<f64>,
    /// Traces started here that are sampled (`SENTRY_TRACES_SAMPLE_RATE`).
    pub traces: Sourced<f64>,
    /// Whether a traces sampler set in code decides instead of `traces`.
    pub traces_sampler: bool,
}

/// How envelopes are delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliveryConfig {
    /// `send`, `console` or `off`.
    pub mode: String,
    /// The Spotlight sidecar receiving a copy, when on.
    pub spotlight: Option<String>,
    /// `LOOKOUT_QUEUE_MAX_ENVELOPES`.
    pub queue_max_envelopes: usize,
    /// `LOOKOUT_QUEUE_MAX_BYTES`.
    pub queue_max_bytes: u64,
    /// `LOOKOUT_SHUTDOWN_TIMEOUT_MS`.
    pub shutdown_timeout_ms: u64,
    /// `LOOKOUT_COMPRESSION` (`zstd`, `gzip` or `off`) and where it came
    /// from: how envelopes sent to Sentry are compressed.
    pub compression: Sourced<String>,
}

/// What an engine learns when its client is wired
/// ([`Engine::client_options`](crate::Engine::client_options)).
#[derive(Debug)]
pub(crate) struct Attached {
    pub(crate) stats: Arc<DeliveryStats>,
    pub(crate) config: Configured,
    /// lookout's own Sentry Logs path for that client, when it takes it.
    pub(crate) logs: Option<crate::log_capture::FastLogs>,
}

/// The configuration part of a [`Status`], computed once.
#[derive(Clone, Debug)]
pub(crate) struct Configured {
    environment: Sourced<String>,
    release: Sourced<Option<String>>,
    dsn: Option<DsnTarget>,
    sample_rates: SampleRates,
    delivery: DeliveryConfig,
}

impl Configured {
    pub(crate) fn from_settings(settings: &Settings) -> Self {
        let environment = Sourced {
            value: settings.environment.value.as_str().to_owned(),
            source: settings.environment.source.to_string(),
        };
        let dsn = settings.dsn.value.as_ref().map(|dsn| DsnTarget {
            scheme: dsn.scheme().to_string(),
            host: dsn.host().to_owned(),
            port: dsn.port(),
            project_id: dsn.project_id().to_string(),
            source: settings.dsn.source.to_string(),
        });
        Self {
            environment,
            release: Sourced::of(&settings.release),
            dsn,
            sample_rates: SampleRates {
                errors: Sourced::of(&settings.sample_rate),
                traces: Sourced::of(&settings.traces_sample_rate),
                traces_sampler: settings.traces_sampler.is_some(),
            },
            delivery: DeliveryConfig {
                mode: settings.delivery.as_str().to_owned(),
                spotlight: settings.spotlight.value.clone(),
                queue_max_envelopes: settings.queue_max_envelopes.value,
                queue_max_bytes: settings.queue_max_bytes.value,
                shutdown_timeout_ms: u64::try_from(settings.shutdown_timeout.value.as_millis())
                    .unwrap_or(u64::MAX),
                compression: Sourced {
                    value: settings.compression.value.as_str().to_owned(),
                    source: settings.compression.source.to_string(),
                },
            },
        }
    }

    /// Without settings (an engine built in code, never wired to a client):
    /// what the engine itself knows, nothing delivered.
    pub(crate) fn unwired(environment: Option<&str>, release: Option<&str>, traces: f64) -> Self {
        fn code<T>(value: T) -> Sourced<T> {
            Sourced {
                value,
                source: "code".to_owned(),
            }
        }
        Self {
            environment: code(environment.unwrap_or("unknown").to_owned()),
            release: code(release.map(str::to_owned)),
            dsn: None,
            sample_rates: SampleRates {
                errors: code(1.0),
                traces: code(traces),
                traces_sampler: false,
            },
            delivery: DeliveryConfig {
                mode: "off".to_owned(),
                spotlight: None,
                queue_max_envelopes: 0,
                queue_max_bytes: 0,
                shutdown_timeout_ms: 0,
                compression: code("off".to_owned()),
            },
        }
    }

    pub(crate) fn status(&self, stats: DeliverySnapshot) -> Status {
        let Self {
            environment,
            release,
            dsn,
            sample_rates,
            delivery,
        } = self.clone();
        Status {
            environment,
            release,
            dsn,
            sample_rates,
            delivery,
            stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_shows_the_compression_in_force_and_where_it_came_from() {
        let dsn = ("SENTRY_DSN", "https://public@o1.ingest.sentry.io/42");
        let status = |vars: &[(&str, &str)]| {
            let settings = Settings::from_vars(vars.iter().copied()).unwrap();
            let json = serde_json::to_value(
                Configured::from_settings(&settings).status(DeliverySnapshot::default()),
            )
            .unwrap();
            json["delivery"]["compression"].clone()
        };
        assert_eq!(
            status(&[dsn]),
            serde_json::json!({"value": "zstd", "source": "default"})
        );
        assert_eq!(
            status(&[dsn, ("LOOKOUT_COMPRESSION", "off")]),
            serde_json::json!({"value": "off", "source": "LOOKOUT_COMPRESSION"})
        );
    }
}
