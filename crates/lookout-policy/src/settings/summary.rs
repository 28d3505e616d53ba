//! The one-line summary printed at start-up, with where each value came
//! from.

use std::fmt::Write as _;

use super::Settings;
use crate::delivery::DeliveryMode;
use crate::provenance::Resolved;

impl Settings {
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
            (DeliveryMode::Send, Some(dsn)) => {
                let _ = write!(s, " dsn={}/{}", dsn_address(dsn), dsn.project_id());
            }
            (DeliveryMode::Console, Some(dsn)) if self.environment.value.is_development() => {
                let _ = write!(
                    s,
                    " (development: the DSN {}/{} is set but unused; \
                     LOOKOUT_SEND_IN_DEVELOPMENT=true or another SENTRY_ENVIRONMENT sends to it)",
                    dsn_address(dsn),
                    dsn.project_id()
                );
            }
            (DeliveryMode::Console, _) if self.environment.value.is_development() => {
                s.push_str(" (development)");
            }
            (DeliveryMode::Console, _) => s.push_str(" (SENTRY_DEBUG, no DSN)"),
            (DeliveryMode::Off, _) => s.push_str(" (no DSN)"),
            _ => {}
        }
        if self.delivery == DeliveryMode::Send && self.compression.is_explicit() {
            let _ = write!(
                s,
                " compression={} ({})",
                self.compression.value, self.compression.source
            );
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

/// The DSN's host, with its port when it is not the scheme's default
/// (`127.0.0.1:9000`, `o1.ingest.sentry.io`); never its keys. The summary
/// line and the delivery's last error name Sentry by it.
///
/// ```
/// let local: sentry_core::types::Dsn = "http://public@127.0.0.1:9000/1".parse()?;
/// assert_eq!(lookout_policy::dsn_address(&local), "127.0.0.1:9000");
/// let saas: sentry_core::types::Dsn = "https://public@o1.ingest.sentry.io/2".parse()?;
/// assert_eq!(lookout_policy::dsn_address(&saas), "o1.ingest.sentry.io");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn dsn_address(dsn: &sentry_core::types::Dsn) -> String {
    if dsn.port() == dsn.scheme().default_port() {
        dsn.host().to_owned()
    } else {
        format!("{}:{}", dsn.host(), dsn.port())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_short() {
        assert_eq!(percent(0.01), "1%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(0.07), "7%");
        assert_eq!(percent(0.0), "0%");
    }
}
