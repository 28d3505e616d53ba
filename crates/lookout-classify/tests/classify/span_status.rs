//! HTTP status to span status, as the Sentry developer documentation's span
//! `status` table and the Python and JavaScript SDKs map it.

use http::StatusCode;
use lookout_classify::{SpanStatus, dropped_span_status, span_status};

#[test]
fn mapping_table() {
    let table = [
        (100, SpanStatus::Ok),
        (200, SpanStatus::Ok),
        (204, SpanStatus::Ok),
        (301, SpanStatus::Ok),
        (304, SpanStatus::Ok),
        (400, SpanStatus::InvalidArgument),
        (401, SpanStatus::Unauthenticated),
        (402, SpanStatus::InvalidArgument),
        (403, SpanStatus::PermissionDenied),
        (404, SpanStatus::NotFound),
        (409, SpanStatus::AlreadyExists),
        (413, SpanStatus::FailedPrecondition),
        (418, SpanStatus::InvalidArgument),
        (429, SpanStatus::ResourceExhausted),
        (499, SpanStatus::Cancelled),
        (500, SpanStatus::InternalError),
        (501, SpanStatus::Unimplemented),
        (502, SpanStatus::InternalError),
        (503, SpanStatus::Unavailable),
        (504, SpanStatus::DeadlineExceeded),
        (599, SpanStatus::InternalError),
        (600, SpanStatus::UnknownError),
    ];
    for (code, expected) in table {
        let status = StatusCode::from_u16(code).unwrap();
        assert_eq!(span_status(status), expected, "{code}");
    }
}

#[test]
fn dropped_request_is_cancelled() {
    assert_eq!(dropped_span_status(), SpanStatus::Cancelled);
}
