//! The tags a request puts on each of its events.

/// The tag carrying the request id on every event of the request.
pub const TAG_REQUEST_ID: &str = "request_id";
/// The tag saying whether the request's user is identified (`true`/`false`).
pub const TAG_AUTHENTICATED: &str = "authenticated";
/// The tag carrying the identified user's role, when one was given.
pub const TAG_USER_ROLE: &str = "user_role";
