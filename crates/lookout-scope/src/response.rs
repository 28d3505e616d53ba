//! How a request was answered, kept for events captured after the handler.

use std::time::Duration;

/// The status and latency of a finished request.
///
/// lookout-core records it when the handler finishes; events captured later
/// in the same request (while the body streams) carry the request breadcrumb
/// built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResponseSummary {
    /// The HTTP status code.
    pub status: u16,
    /// The time from the request's start to the handler's answer.
    pub latency: Duration,
}
