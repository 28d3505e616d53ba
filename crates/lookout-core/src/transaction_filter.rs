//! The filters a finished transaction passes before it is sent: the
//! request's status in `LOOKOUT_TRACE_IGNORE_STATUS_CODES`, then the
//! application's `before_send_transaction`.
//!
//! They run in the delivery hook, after lookout filled the transaction (the
//! request's user, tags and trace data) and before the scrubber. A dropped
//! transaction is counted ([`Dropped::event_processor`](crate::delivery::Dropped::event_processor))
//! and reported as an `event_processor` discard; the request's sampling
//! decision, already propagated, is not touched. Ignored routes
//! (`LOOKOUT_IGNORED_ROUTES`) are a sampling decision and never get here.

use std::sync::Arc;

use lookout_policy::{BeforeCallback, Settings, StatusCodes};
use lookout_scope::RequestContext;
use sentry_core::protocol::Transaction;

use crate::delivery::DeliveryStats;

/// The transaction filters of one client.
pub(crate) struct TransactionFilter {
    ignore_status: StatusCodes,
    before_send_transaction: Option<BeforeCallback<Transaction<'static>>>,
    stats: Arc<DeliveryStats>,
}

impl TransactionFilter {
    pub(crate) fn new(settings: &Settings, stats: Arc<DeliveryStats>) -> Self {
        Self {
            ignore_status: settings.trace_ignore_status_codes.value.clone(),
            before_send_transaction: settings.before_send_transaction.clone(),
            stats,
        }
    }

    /// `transaction` as it may be sent, or `None` when a filter dropped it
    /// (counted). `ctx` is the request it belongs to, when it is current.
    pub(crate) fn apply(
        &self,
        ctx: Option<&RequestContext>,
        transaction: Box<Transaction<'static>>,
    ) -> Option<Box<Transaction<'static>>> {
        let span_count = transaction.spans.len() as u64 + 1;
        let status = ctx.and_then(RequestContext::response).map(|r| r.status);
        if status.is_some_and(|status| self.ignore_status.contains(status)) {
            self.stats.transaction_filtered(span_count);
            return None;
        }
        let Some(callback) = &self.before_send_transaction else {
            return Some(transaction);
        };
        match callback(*transaction) {
            Some(kept) => Some(Box::new(kept)),
            None => {
                self.stats.transaction_filtered(span_count);
                None
            }
        }
    }
}
