//! Decide which finished web requests become Sentry events, which become one Sentry Log
//! on the request's trace and which are ignored. Services plug their own rules in front of sensible defaults, and
//! the crate describes the resulting event as data for lookout-core to send.
//!
//! A [`Classifier`] looks at an [`Outcome`] (status, typed error chain, panic, route) and
//! returns a [`Verdict`], or `None` for no opinion. [`Classifiers`] asks user rules in
//! order, then the built-ins ([`Panics`] first of all, [`StatusCodes`] last), and
//! completes the winning verdict into a [`Decision`]. [`event`] and [`log()`] turn a
//! decision into Sentry data; [`span_status`] maps the status for the transaction. The
//! model is tower-http's `classify` module.
//!
//! This crate decides; it never captures, sends or scrubs anything.
//!
//! # Example
//!
//! ```
//! use http::{Method, StatusCode};
//! use lookout_classify::{by_type, event, Action, Classifiers, Level, LogLevel, Outcome, Verdict};
//!
//! #[derive(Debug)]
//! struct RateLimited;
//! impl std::fmt::Display for RateLimited {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("rate limited by the billing API")
//!     }
//! }
//! impl std::error::Error for RateLimited {}
//!
//! let classifiers = Classifiers::default()
//!     // A rate limit from our billing provider is worth a warning, even behind a 429.
//!     .with(by_type::<RateLimited>("billing_rate_limit").capture().level(Level::Warning))
//!     // Bots probing for admin pages are noise.
//!     .with_fn(|o| o.path().starts_with("/wp-admin").then(Verdict::ignore));
//!
//! let outcome = Outcome::new(&Method::POST, "/invoices", StatusCode::TOO_MANY_REQUESTS)
//!     .with_route("/invoices")
//!     .with_error(&RateLimited);
//! let decision = classifiers.decide(&outcome);
//! assert_eq!(decision.action(), Action::Capture { level: Level::Warning });
//!
//! let event = event(&outcome, &decision).unwrap();
//! assert_eq!(event.tags["error_type"], "billing_rate_limit");
//! assert_eq!(event.tags["http.status_code"], "429");
//!
//! // Without a rule, a 4xx is not an event but one `warn` log on the request's trace.
//! let not_found = Outcome::new(&Method::GET, "/invoices/9", StatusCode::NOT_FOUND);
//! assert_eq!(classifiers.decide(&not_found).action(), Action::Log { level: LogLevel::Warn });
//! ```
//!
//! See `docs/classifying-errors.md` in the repository for a worked example of a
//! classifier for a service's own upstream-API error.
//!
//! # Feature flags
//!
//! None.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89. Raising it is not a breaking change but is
//! noted in the changelog.

mod by_type;
mod classifier;
mod classifiers;
mod decision;
pub mod error_types;
mod event;
mod log;
mod outcome;
mod panics;
mod span_status;
mod status_codes;
pub mod tags;
mod type_name;
mod verdict;

pub use crate::by_type::{ByType, by_type};
pub use crate::classifier::Classifier;
pub use crate::classifiers::Classifiers;
pub use crate::decision::Decision;
pub use crate::event::{MECHANISM, PANIC_MECHANISM, event};
pub use crate::log::{log, severity_number};
pub use crate::outcome::{Chain, Outcome, panic_message};
pub use crate::panics::Panics;
pub use crate::span_status::{dropped_span_status, span_status};
pub use crate::status_codes::StatusCodes;
pub use crate::verdict::{Action, Verdict};

/// Sentry's event level, re-exported so a classifier needs no direct sentry-core import.
pub use sentry_core::Level;
/// The level of a Sentry Log, for [`Verdict::log`] and [`Action::Log`].
pub use sentry_core::protocol::LogLevel;
/// Sentry's span status, the return type of [`span_status`].
pub use sentry_core::protocol::SpanStatus;

// The guide's example is compiled and run as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/classifying-errors.md")]
struct ClassifyingErrorsGuide;
