//! How the request was answered, recorded for events captured afterwards.

use super::request_context::RequestContext;
use crate::response::ResponseSummary;

impl RequestContext {
    /// Records how the request was answered (lookout-core does this when the
    /// handler finished), for events captured afterwards.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, ResponseSummary};
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// ctx.set_response(ResponseSummary { status: 200, latency: Duration::from_millis(3) });
    /// assert_eq!(ctx.response().map(|r| r.status), Some(200));
    /// ```
    pub fn set_response(&self, summary: ResponseSummary) {
        self.state().response = Some(summary);
    }

    /// How the request was answered, once it was.
    #[must_use]
    pub fn response(&self) -> Option<ResponseSummary> {
        self.state().response
    }
}
