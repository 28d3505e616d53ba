//! What the request's events say about its release-health session: errored
//! (an error was captured) or crashed (an unhandled exception), recorded
//! as each event is captured, read once when the request ends.

use std::sync::atomic::Ordering;

use sentry_core::Level;
use sentry_core::protocol::Event;

use super::request_context::RequestContext;

/// The request's session had no error.
pub(super) const HEALTHY: u8 = 0;
/// An error was captured in the request.
pub(super) const ERRORED: u8 = 1;
/// An unhandled exception was captured in the request.
pub(super) const CRASHED: u8 = 2;

/// How the request's release-health session ends, as far as its captured
/// events tell (see [`RequestContext::record_event_health`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventHealth {
    /// No error was captured.
    Healthy,
    /// An error (level `error` or above, or an exception) was captured.
    Errored,
    /// An unhandled exception (`mechanism.handled = false`) was captured.
    Crashed,
}

impl RequestContext {
    /// Records what `event`, captured in this request, means for its
    /// session, by the Sentry SDKs' rule: an event at level `error` or
    /// above, or with an exception, makes it errored; an exception whose
    /// mechanism says `handled: false` makes it crashed. One atomic update,
    /// no lock (lookout-core calls it from `before_send`).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{EventHealth, RequestContext};
    /// use sentry_core::protocol::Event;
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// assert_eq!(ctx.event_health(), EventHealth::Healthy);
    /// ctx.record_event_health(&Event { level: sentry_core::Level::Error, ..Default::default() });
    /// assert_eq!(ctx.event_health(), EventHealth::Errored);
    /// ```
    pub fn record_event_health(&self, event: &Event<'_>) {
        let mut health = if event.level >= Level::Error {
            ERRORED
        } else {
            HEALTHY
        };
        for exception in &event.exception.values {
            health = health.max(ERRORED);
            if exception.mechanism.as_ref().and_then(|m| m.handled) == Some(false) {
                health = CRASHED;
            }
        }
        if health != HEALTHY {
            self.inner.health.fetch_max(health, Ordering::Relaxed);
        }
    }

    /// What the events captured so far mean for the request's session.
    #[must_use]
    pub fn event_health(&self) -> EventHealth {
        match self.inner.health.load(Ordering::Relaxed) {
            HEALTHY => EventHealth::Healthy,
            ERRORED => EventHealth::Errored,
            _ => EventHealth::Crashed,
        }
    }
}
