//! lookout's `tracing` integration: what a service's `tracing` events and
//! spans become in Sentry, and the log lines it prints.
//!
//! - **Breadcrumbs and Sentry Logs**, recorded once per line: a line's
//!   fields are visited once into a record that the request's breadcrumbs
//!   keep (built into a breadcrumb only when an event of that request is
//!   captured) and that lookout-core's log path writes as a Sentry Log
//!   (as JSON into the delivery's batch, on the request's thread). Lines outside any
//!   request are breadcrumbs of events captured outside requests only.
//! - **Events** for lines from [`TracingOptions::event_level`] up, captured
//!   on the request's own Hub (sentry-tracing's error layer).
//! - **Spans** of the application as child spans of a traced request.
//! - **Log lines** (human or JSON) that start with the request's
//!   `request_id`, `trace_id` and `method`, filtered by `RUST_LOG`.
//!
//! `lookout::init()` installs all of it; a service with a subscriber of its
//! own adds [`tracing_layers`] (or only [`sentry_layer`]) to it:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let settings = lookout_policy::Settings::from_vars([("SENTRY_ENVIRONMENT", "production")])?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(lookout_tracing::tracing_layers(&settings, lookout_tracing::TracingOptions::new()));
//! tracing::subscriber::with_default(subscriber, || tracing::info!("ready"));
//! # Ok::<(), lookout_policy::ConfigError>(())
//! ```
//!
//! The facade re-exports it as `lookout::subscriber` and
//! `lookout_tracing::TracingOptions`.

mod db_spans;
mod layers;
mod line;
mod log_lines;
mod request_lines;
mod request_spans;
mod tracing_options;

pub use layers::{log_records_level, sentry_layer, tracing_layers};
pub use tracing_options::{DEFAULT_FILTER, LOOKOUT_DIRECTIVES, TracingOptions};
