//! [`apply_headers`]: lookout's response headers into an `http::HeaderMap`;
//! [`keep_content_length`]: a body's known length, for an adapter that hands
//! the body on as a stream.

use http::StatusCode;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};

use crate::{HeaderMerge, ResponseHeaders};

/// Adds lookout's headers to a response's `http` 1.x header map:
/// `x-request-id` replaces one the handler set, `server-timing` is appended
/// after the handler's own entries. Adapters whose framework has another
/// header map loop over [`ResponseHeaders::iter`] the same way.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, RequestHead, ResponseHead, toolkit};
///
/// let mut incoming = HeaderMap::new();
/// incoming.insert("x-request-id", "req-1".parse().unwrap());
/// let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &incoming));
/// let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
///
/// let mut response = HeaderMap::new();
/// response.insert("x-request-id", "set-by-the-handler".parse().unwrap());
/// toolkit::apply_headers(&mut response, &finished.headers);
/// assert_eq!(response["x-request-id"], "req-1");
/// finished.body.complete();
/// ```
pub fn apply_headers(headers: &mut HeaderMap, add: &ResponseHeaders) {
    for (name, value, merge) in add.iter() {
        // Core validated or generated every value; a failed conversion can
        // only drop a header, never send an unvalidated one.
        let Ok(value) = HeaderValue::from_str(value) else {
            continue;
        };
        let name = HeaderName::from_static(name);
        match merge {
            HeaderMerge::Append => {
                headers.append(name, value);
            }
            _ => {
                headers.insert(name, value);
            }
        }
    }
}

/// Writes `content-length: exact` on a response with `status` and
/// `headers`, as hyper would have for the body it replaces, when the body's
/// length is `exact` and the response may have one and says neither
/// `content-length` nor `transfer-encoding`. For an adapter that hands the
/// body on as a stream of unknown length (warp's `wrap`), so that a `HEAD`
/// answer keeps its length.
///
/// ```
/// use http::{HeaderMap, StatusCode};
///
/// let mut headers = HeaderMap::new();
/// lookout_core::toolkit::keep_content_length(StatusCode::OK, &mut headers, Some(5));
/// assert_eq!(headers["content-length"], "5");
/// let mut headers = HeaderMap::new();
/// lookout_core::toolkit::keep_content_length(StatusCode::NO_CONTENT, &mut headers, Some(0));
/// assert!(headers.is_empty());
/// ```
pub fn keep_content_length(status: StatusCode, headers: &mut HeaderMap, exact: Option<u64>) {
    let may_have_length = !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED);
    if let Some(length) = exact
        && may_have_length
        && !headers.contains_key(CONTENT_LENGTH)
        && !headers.contains_key(TRANSFER_ENCODING)
    {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
}
