//! Breadcrumbs and Sentry Logs from `tracing` events, recorded once.
//!
//! An event at the breadcrumb level (and below the event level) becomes a
//! breadcrumb; an event at the log level becomes a Sentry Log; one line can
//! be both. Its fields are visited once into a [`Line`] shared by both uses:
//!
//! - the breadcrumb is kept in the request's context
//!   ([`RequestContext::record_breadcrumb`](lookout_scope::RequestContext::record_breadcrumb)),
//!   built only if an event of that request is captured; outside any request
//!   it goes to the process's ring, for events captured outside requests
//!   ([`lookout_scope::record_process_breadcrumb`]). No Hub scope is written,
//!   so no request inherits another's lines, or the process's.
//! - the log goes to lookout-core's [`capture_line`], which writes it into
//!   the delivery's batch as JSON, on this thread, with the request's
//!   attributes, or captures it on the current Hub where lookout's own path does not
//!   apply.

use std::sync::Arc;

use lookout_core::log_capture::capture_line;
use sentry_core::Hub;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::line::Line;

/// The layer: which levels become what.
#[derive(Clone, Copy)]
pub(crate) struct RequestLines {
    pub(crate) breadcrumb_level: Option<Level>,
    pub(crate) event_level: Option<Level>,
    pub(crate) log_level: Option<Level>,
}

impl RequestLines {
    /// Whether a line at `level` becomes a breadcrumb (what becomes an
    /// event never carries itself as a breadcrumb).
    fn is_breadcrumb(&self, level: &Level) -> bool {
        at_least(level, self.breadcrumb_level) && !at_least(level, self.event_level)
    }

    fn is_log(&self, level: &Level) -> bool {
        at_least(level, self.log_level)
    }

    /// Whether this layer wants events at `level` at all.
    pub(crate) fn wants(&self, level: &Level) -> bool {
        self.is_breadcrumb(level) || self.is_log(level)
    }
}

impl<S> Layer<S> for RequestLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = event.metadata().level();
        let request = lookout_scope::current();
        let mut line: Option<Arc<Line>> = None;
        let mut recorded = || Arc::clone(line.get_or_insert_with(|| Arc::new(Line::record(event))));
        if self.is_breadcrumb(level) {
            match &request {
                // Without a client nothing of the request is kept.
                Some(request) if request.hub().is_some() => request.record_breadcrumb(recorded()),
                Some(_) => {}
                None => {
                    if Hub::with_active(|hub| hub.client().is_some()) {
                        lookout_scope::record_process_breadcrumb(recorded());
                    }
                }
            }
        }
        if self.is_log(level) {
            // The parent span is read from the Hub only inside a traced
            // request, and only inside a span of the application's.
            let in_span = request.as_ref().is_some_and(|r| r.trace().sampled)
                && ctx.lookup_current().is_some();
            capture_line(recorded(), request.as_ref(), in_span);
        }
    }
}

/// Whether `level` is `threshold` or more severe.
fn at_least(level: &Level, threshold: Option<Level>) -> bool {
    threshold.is_some_and(|threshold| *level <= threshold)
}
