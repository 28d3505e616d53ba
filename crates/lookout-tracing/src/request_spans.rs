//! `tracing` spans as Sentry child spans, but only where a request (or a
//! transaction the application started) is already being traced.
//!
//! sentry-tracing's `SpanLayer` starts a new *transaction* for every span
//! that has no Sentry span above it. Inside an unsampled request that would
//! start a second trace with its own sampling decision, and outside requests
//! every background span would become a transaction at the traces sample
//! rate. This wrapper decides per span whether `SpanLayer` sees it at all.
//! It changes what `SpanLayer` makes of a span it sees in two cases: a span
//! with OpenTelemetry database fields becomes an op `db` span named after
//! its query (see `db_spans`), and any other span without a `sentry.op`
//! field (an `#[instrument]`ed function) gets the op `function`, with its
//! name as the description, as sentry-python's `@trace` does, instead of
//! sentry-tracing's `target::name`.

use std::sync::Arc;

use sentry_core::{Hub, TransactionOrSpan};
use sentry_tracing::SpanLayer;
use tracing::{Subscriber, span};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::db_spans::{OtelDbFields, apply_otel_fields};

/// The op of a span that names none, as sentry-python's `@trace` gives it.
const FUNCTION_OP: &str = "function";

/// On a span `SpanLayer` recorded without a `sentry.op` field: its op is
/// still to be made [`FUNCTION_OP`] (when it is first entered, the Sentry
/// span is the scope's current span).
struct FunctionOp;

/// `SpanLayer`, restricted to spans that can become child spans.
pub(crate) struct RequestSpans {
    inner: SpanLayer,
    outside_requests: bool,
}

impl RequestSpans {
    pub(crate) fn new(outside_requests: bool) -> Self {
        Self {
            inner: SpanLayer::new(),
            outside_requests,
        }
    }

    /// Whether a span created now should become a Sentry span.
    fn wanted(&self) -> bool {
        if let Some(request) = lookout_scope::current() {
            // An unsampled request (or one without a client) records no spans:
            // a fresh transaction here would contradict its sampling decision.
            if !request.trace().sampled || request.hub().is_none() {
                return false;
            }
        }
        if self.outside_requests {
            return true;
        }
        let hub = Hub::current();
        hub.client().is_some_and(|client| client.is_enabled())
            && hub.configure_scope(|scope| scope.get_span()).is_some()
    }
}

impl RequestSpans {
    /// Runs `f` on the Sentry span `SpanLayer` made of span `id`, if it made
    /// one. sentry-tracing keeps that span to itself; entering the span
    /// through `SpanLayer` (and leaving it at once) puts it on the current
    /// Hub, where it can be read. Nothing else is entered: the registry's
    /// current span does not change.
    fn with_sentry_span<S>(
        &self,
        id: &span::Id,
        ctx: Context<'_, S>,
        f: impl FnOnce(&TransactionOrSpan),
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let before = Hub::current();
        self.inner.on_enter(id, ctx.clone());
        let entered = Hub::current();
        // A span `SpanLayer` never saw leaves the current Hub as it was.
        if !Arc::ptr_eq(&before, &entered)
            && let Some(span) = entered.configure_scope(|scope| scope.get_span())
        {
            f(&span);
        }
        self.inner.on_exit(id, ctx);
    }
}

impl<S> Layer<S> for RequestSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if self.wanted() {
            let names_op = attrs.metadata().fields().field("sentry.op").is_some();
            self.inner.on_new_span(attrs, id, ctx.clone());
            if let Some(fields) = OtelDbFields::of(|visitor| attrs.record(visitor)) {
                self.with_sentry_span(id, ctx, |span| apply_otel_fields(span, &fields));
            } else if !names_op && let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(FunctionOp);
            }
        }
    }

    // The callbacks below act only on spans `on_new_span` handed over (they
    // look for sentry-tracing's data in the span's extensions).
    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx.clone());
        let pending = ctx
            .span(id)
            .is_some_and(|span| span.extensions_mut().remove::<FunctionOp>().is_some());
        if pending
            && let Some(sentry_span) = Hub::current().configure_scope(|scope| scope.get_span())
        {
            sentry_span.set_op(FUNCTION_OP);
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(id, values, ctx.clone());
        if let Some(fields) = OtelDbFields::of(|visitor| values.record(visitor)) {
            // A database span after all: its op is `db`, not `function`.
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().remove::<FunctionOp>();
            }
            self.with_sentry_span(id, ctx, |span| apply_otel_fields(span, &fields));
        }
    }
}
