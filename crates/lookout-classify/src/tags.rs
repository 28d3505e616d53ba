//! The tag names lookout puts on events, transactions and logs: one module, one
//! spelling. Sentry's search and trace views filter by these.
//!
//! ```
//! assert_eq!(lookout_classify::tags::ROUTE, "http.route");
//! ```

/// The request id (`x-request-id`), on every event of the request.
pub const REQUEST_ID: &str = "request_id";
/// Whether the request's user is identified (`true`/`false`).
pub const AUTHENTICATED: &str = "authenticated";
/// The identified user's role, when one was given.
pub const USER_ROLE: &str = "user_role";
/// The route template (`/users/{id}`).
pub const ROUTE: &str = "http.route";
/// The HTTP method.
pub const METHOD: &str = "http.request.method";
/// The response status as a number (the event tag).
pub const STATUS_CODE: &str = "http.status_code";
/// The response status as a number, on transactions and logs
/// (OpenTelemetry's name).
pub const RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// What kind of failure a classifier named it (values: [`error_types`](crate::error_types) or a rule's own).
pub const ERROR_TYPE: &str = "error_type";
/// The Rust type name of an error that only the fallback rule caught.
pub const RUST_TYPE: &str = "error.rust_type";
/// Where a transaction's name comes from (`route` or `url`).
pub const TRANSACTION_SOURCE: &str = "transaction.source";
