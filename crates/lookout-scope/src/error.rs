//! The one error this crate returns: asking for the current request outside of one.

use std::fmt;

/// Returned when code asks for the current request while none is bound to
/// the running task or thread.
///
/// A request is bound while its future (or response body) is polled through a
/// [`Bound`](crate::Bound), inside [`RequestContext::enter`](crate::RequestContext::enter),
/// and in tasks started with `spawn_in_request`.
///
/// ```
/// use lookout_scope::{User, identify};
///
/// let err = identify(User::id("42")).unwrap_err();
/// assert!(err.to_string().starts_with("no request is bound"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotInRequest;

impl fmt::Display for NotInRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no request is bound to the running code: call this from inside a request \
             (a future bound with `in_request` or `spawn_in_request`, or \
             `RequestContext::enter`)",
        )
    }
}

impl std::error::Error for NotInRequest {}
