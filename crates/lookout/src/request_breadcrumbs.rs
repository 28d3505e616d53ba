//! Breadcrumbs from `tracing` events that stay on the request.
//!
//! sentry-tracing's `SpanLayer` runs the code inside a recorded span on a
//! short-lived Hub forked from the request's Hub (so the span is the parent
//! of what happens inside). `BreadcrumbLayer` adds to the current Hub, so an
//! `info!` inside an `#[instrument]`ed function would land on that fork only
//! and be missing from the request's later events. This wrapper also adds the
//! breadcrumb to the request's own Hub whenever the current Hub is not it.

use std::sync::Arc;

use sentry_core::Hub;
use sentry_tracing::BreadcrumbLayer;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// `BreadcrumbLayer`, writing to the request's Hub as well as the current one.
pub(crate) struct RequestBreadcrumbs {
    inner: BreadcrumbLayer,
}

impl RequestBreadcrumbs {
    pub(crate) fn new() -> Self {
        Self {
            inner: BreadcrumbLayer::new(),
        }
    }
}

impl<S> Layer<S> for RequestBreadcrumbs
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let request_hub = lookout_scope::current().and_then(|request| request.hub().cloned());
        match request_hub {
            Some(hub) if !Arc::ptr_eq(&hub, &Hub::current()) => {
                self.inner.on_event(event, ctx.clone());
                Hub::run(hub, || self.inner.on_event(event, ctx));
            }
            _ => self.inner.on_event(event, ctx),
        }
    }
}
