//! Sentry Logs from `tracing` events.
//!
//! sentry-tracing's `LogLayer` turns an event into a Sentry Log (message as
//! the body, fields as typed attributes, `code.*` and `sentry.origin`) and
//! captures it on the current Hub: a request's own Hub inside a request, so
//! the log goes to its client, and lookout-core's `before_send_log` adds the
//! request's trace, ids and user, then the scrubber runs. This wrapper only
//! checks first that the current client takes logs (`SENTRY_ENABLE_LOGS`),
//! so with logs off an event costs no conversion at all.

use sentry_core::Hub;
use sentry_tracing::LogLayer;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// `LogLayer`, converting only when the current client sends logs.
pub(crate) struct RequestLogs {
    inner: LogLayer,
}

impl RequestLogs {
    pub(crate) fn new() -> Self {
        Self {
            inner: LogLayer::new(),
        }
    }
}

/// Whether the current Hub's client is enabled and takes logs.
fn logs_enabled() -> bool {
    Hub::with_active(|hub| {
        // Deprecated in sentry-core 0.49 only because manual captures ignore
        // it; it is the switch lookout's settings set (`SENTRY_ENABLE_LOGS`).
        #[allow(deprecated)]
        hub.client()
            .is_some_and(|client| client.options().enable_logs)
    })
}

impl<S> Layer<S> for RequestLogs
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if logs_enabled() {
            self.inner.on_event(event, ctx);
        }
    }
}
