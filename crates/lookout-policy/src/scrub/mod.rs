//! The scrubber: removes secrets and, with PII off, personal data from
//! events, transactions and breadcrumbs before they leave the process.
//!
//! Owns the denylists; keys compare case-insensitively with `-` and `_`
//! alike. What is removed with PII off follows the Sentry developer
//! documentation, "Data Handling" ("Sensitive Data",
//! <https://develop.sentry.dev/sdk/data-handling/>); the key denylists are
//! the defaults of the Sentry Python SDK's `EventScrubber`
//! (`sentry_sdk/scrubber.py`). It does not decide what is attached in the
//! first place (lookout-core attaches request data; the scrubber cleans
//! whatever is there).
//!
//! - `denylist`: the keys, how they compare, and [`FILTERED`];
//! - `scrubber`: [`Scrubber`] and its configuration;
//! - `event`, `request`, `value`, `query`, `url`: where secrets hide, from
//!   a whole event down to one URL;
//! - `log`: Sentry Logs (attribute keys, the user's personal attributes);
//! - `callbacks`: `before_send` / `before_breadcrumb` / `before_send_log` composed with the
//!   application's own.

mod callbacks;
mod denylist;
mod event;
mod log;
mod metric;
mod query;
mod request;
mod scrubber;
mod url;
mod value;

pub use denylist::FILTERED;
pub use scrubber::Scrubber;
