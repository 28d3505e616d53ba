//! lookout-policy's integration suite: settings, detection, summary,
//! sampling properties, scrubbing and ClientOptions, through the public API.

mod client_options;
mod detection;
mod sampling;
mod scrub;
mod settings;
mod summary;

use lookout_policy::{ConfigError, Detection, Overrides, Settings};

/// A production server in a release build, so defaults are the production profile.
pub(crate) fn server() -> Detection {
    Detection {
        host_name: Some("api-7f9c".into()),
        debug_build: false,
    }
}

/// Resolves `vars` on [`server`].
pub(crate) fn resolve(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Overrides::new()
        .detection(server())
        .resolve(vars.iter().copied())
}

pub(crate) const DSN: &str = "https://public0123@o123.ingest.sentry.io/456";
pub(crate) const SECRET_DSN: &str = "https://public0123:topsecretkey@o123.ingest.sentry.io/456";
