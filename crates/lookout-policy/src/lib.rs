//! lookout-policy decides, in one place, how a service reports to Sentry:
//! which environment it runs in, which settings apply (from environment
//! variables, code and per-environment profiles, each remembering where it
//! came from), which traces are sampled and what is scrubbed before anything
//! leaves the process. It never touches an HTTP framework; lookout-core and
//! the adapters carry its decisions out.
//!
//! # Example
//!
//! ```
//! use lookout_headers::TraceId;
//! use lookout_policy::{DeliveryMode, Detection, Overrides, SamplingRequest};
//!
//! // Tests pass variables and machine facts explicitly; a service calls
//! // `Settings::from_env()` (or `Overrides::new().app_release(..).resolve_env()`).
//! let settings = Overrides::new()
//!     .app_release("api@1.4.2")
//!     .detection(Detection::new(Some("api-7f9c".into()), false))
//!     .resolve([
//!         ("SENTRY_DSN", "https://public@o123.ingest.sentry.io/456"),
//!         ("SENTRY_TRACES_SAMPLE_RATE", "0.25"),
//!     ])?;
//! assert_eq!(settings.environment.value.as_str(), "production");
//! assert_eq!(settings.delivery, DeliveryMode::Send);
//! println!("{}", settings.summary());
//!
//! // Sampling: the same trace gets the same decision in every service.
//! let trace = TraceId::parse_hex("771a43a4192642f0b136d5159a501700").unwrap();
//! let decision = settings.sampling().decide(&SamplingRequest::new(trace, "GET").route("/users/{id}"));
//! assert_eq!(decision.sample_rate, 0.25);
//!
//! // The options for a `sentry_core::Client`, with scrubbing wired in.
//! let options = settings.client_options();
//! assert!(options.attach_stacktrace);
//! # Ok::<(), lookout_policy::ConfigError>(())
//! ```
//!
//! # Where values come from
//!
//! Every setting, its variable, default and accepted values are listed in
//! [`SETTINGS`]. A value comes from, in order: code ([`Overrides`]), its
//! environment variable, the environment's [`Profile`] default, the plain
//! default; each [`Resolved`] value keeps its [`Source`]. The environment
//! itself comes from code, `SENTRY_ENVIRONMENT`, then [`Detection`] (host
//! name, then build profile); the release from code, `SENTRY_RELEASE`,
//! `APP_VERSION`, then the application's `name@version`
//! ([`Overrides::app_release`]).
//!
//! An empty variable counts as unset. An invalid one is a [`ConfigError`],
//! even when code overrides it, and is never silently replaced by a default.
//!
//! # Feature flags
//!
//! None: the crate has no optional features.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89 (the workspace's
//! `rust-version`).

mod client_options;
mod compression;
mod delivery;
mod environment;
mod error;
mod options;
mod pii;
mod provenance;
mod request_body;
mod sampling;
mod scrub;
mod settings;
mod status_codes;
mod table;
mod targets;
mod value;

pub use compression::Compression;
pub use delivery::DeliveryMode;
pub use environment::{Detection, Environment, Profile};
pub use error::ConfigError;
pub use options::{BeforeCallback, Overrides};
pub use pii::PiiPolicy;
pub use provenance::{Detected, Resolved, Source};
pub use request_body::RequestBodySize;
pub use sampling::{
    DecisionReason, SampleRand, SamplerContext, Sampling, SamplingDecision, SamplingRequest,
    TracesSampler,
};
pub use scrub::{FILTERED, Scrubber};
pub use settings::{Settings, dsn_address};
pub use status_codes::StatusCodes;
pub use table::{SETTINGS, SettingKind, SettingSpec, setting};
pub use targets::PropagationTargets;
pub use value::{LogFormat, SPOTLIGHT_DEFAULT_URL};

/// The level of a Sentry Log (`LOOKOUT_LOGS_LEVEL`), re-exported from sentry-core.
pub use sentry_core::protocol::LogLevel;
