//! Acceptance suite for lookout-classify: outcomes to decisions, decisions to Sentry data.

mod decisions;
mod events;
mod span_status;
mod support;
