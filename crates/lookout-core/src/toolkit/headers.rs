//! [`apply_headers`]: lookout's response headers into an `http::HeaderMap`.

use http::header::{HeaderMap, HeaderName, HeaderValue};

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
