//! [`BodyEnd`]: ends the request's transaction when the response body is done.

use lookout_scope::RequestContext;
use sentry_core::protocol::SpanStatus;

/// Ends the request's transaction when the response body is done.
///
/// Call [`complete`](BodyEnd::complete) when the last byte was sent; dropping
/// it earlier (client gone mid-body) ends the transaction as `cancelled`.
/// Adapters normally let the toolkit's body wrappers
/// ([`ResponseBody`](crate::toolkit::ResponseBody),
/// [`BodyProgress`](crate::toolkit::BodyProgress)) do this.
#[derive(Debug)]
#[must_use = "complete() when the body has been sent"]
pub struct BodyEnd {
    ctx: RequestContext,
    transaction: Option<sentry_core::Transaction>,
}

impl BodyEnd {
    pub(super) fn new(ctx: RequestContext, transaction: Option<sentry_core::Transaction>) -> Self {
        Self { ctx, transaction }
    }

    /// The request's context (keep it bound while the body streams).
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// The body has been sent in full: the transaction ends now.
    pub fn complete(mut self) {
        if let Some(tx) = self.transaction.take() {
            self.ctx.enter(|| tx.finish());
        }
    }
}

impl Drop for BodyEnd {
    fn drop(&mut self) {
        if let Some(tx) = self.transaction.take() {
            tx.set_status(SpanStatus::Cancelled);
            self.ctx.enter(|| tx.finish());
        }
    }
}
