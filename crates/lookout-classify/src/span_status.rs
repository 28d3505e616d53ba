//! [`span_status`]: the transaction status for an HTTP status.
//!
//! The HTTP equivalents of the span `status` table in the Sentry developer
//! documentation ("Event Payloads", property `status`, develop.sentry.dev),
//! completed the way the Python and JavaScript SDKs map HTTP statuses (413,
//! the other 4xx and 5xx, 600 and up).

use http::StatusCode;
use sentry_core::protocol::SpanStatus;

/// The span status for a response with `status`.
///
/// 401 `unauthenticated`, 403 `permission_denied`, 404 `not_found`, 409
/// `already_exists`, 413 `failed_precondition`, 429 `resource_exhausted`, 499
/// `cancelled`, other 4xx `invalid_argument`; 501 `unimplemented`, 503 `unavailable`, 504
/// `deadline_exceeded`, other 5xx `internal_error`; below 400 `ok`; 600 and up
/// `unknown_error`. A request dropped before it finished is [`dropped_span_status`].
///
/// ```
/// use http::StatusCode;
/// use lookout_classify::span_status;
/// use sentry_core::protocol::SpanStatus;
///
/// assert_eq!(span_status(StatusCode::TOO_MANY_REQUESTS), SpanStatus::ResourceExhausted);
/// assert_eq!(span_status(StatusCode::FOUND), SpanStatus::Ok);
/// ```
pub fn span_status(status: StatusCode) -> SpanStatus {
    match status.as_u16() {
        ..400 => SpanStatus::Ok,
        401 => SpanStatus::Unauthenticated,
        403 => SpanStatus::PermissionDenied,
        404 => SpanStatus::NotFound,
        409 => SpanStatus::AlreadyExists,
        413 => SpanStatus::FailedPrecondition,
        429 => SpanStatus::ResourceExhausted,
        499 => SpanStatus::Cancelled,
        400..=499 => SpanStatus::InvalidArgument,
        501 => SpanStatus::Unimplemented,
        503 => SpanStatus::Unavailable,
        504 => SpanStatus::DeadlineExceeded,
        500..=599 => SpanStatus::InternalError,
        _ => SpanStatus::UnknownError,
    }
}

/// The span status of a request dropped before it finished (the client went away):
/// `cancelled`.
///
/// ```
/// use lookout_classify::dropped_span_status;
/// use sentry_core::protocol::SpanStatus;
///
/// assert_eq!(dropped_span_status(), SpanStatus::Cancelled);
/// ```
pub fn dropped_span_status() -> SpanStatus {
    SpanStatus::Cancelled
}
