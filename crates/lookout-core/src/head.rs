//! Framework-neutral views of a request and a response head.
//!
//! Adapters build a borrowed [`RequestHead`] from their framework's request
//! and hand it to [`Lookout::begin`](crate::Lookout::begin); nothing is copied.
//! Header access goes through the [`Headers`] trait so that any header map
//! (http 1.x, actix-web's own) works without conversion.

use http::header::{HeaderMap, HeaderName};

/// Header names lookout reads and writes (all lowercase, as HTTP/2 requires).
pub mod names {
    /// `sentry-trace`.
    pub const SENTRY_TRACE: &str = "sentry-trace";
    /// `baggage`.
    pub const BAGGAGE: &str = "baggage";
    /// `traceparent` (W3C Trace Context).
    pub const TRACEPARENT: &str = "traceparent";
    /// `tracestate` (W3C Trace Context).
    pub const TRACESTATE: &str = "tracestate";
    /// `x-request-id`.
    pub const REQUEST_ID: &str = "x-request-id";
    /// `server-timing`.
    pub const SERVER_TIMING: &str = "server-timing";
}

/// Read access to a request's headers: every value of a header, in order.
///
/// Implemented for [`http::HeaderMap`]; adapters for frameworks with their own
/// header map implement it for that. Values that are not visible ASCII are
/// skipped (no header lookout reads may contain anything else).
pub trait Headers {
    /// The iterator over one header's values.
    type Values<'h>: Iterator<Item = &'h str> + Clone
    where
        Self: 'h;

    /// All values of the header `name` (a lowercase name from [`names`]).
    fn values_of(&self, name: &'static str) -> Self::Values<'_>;
}

impl Headers for HeaderMap {
    type Values<'h> = HeaderStrs<'h>;

    fn values_of(&self, name: &'static str) -> HeaderStrs<'_> {
        HeaderStrs {
            map: self,
            name: HeaderName::from_static(name),
            position: 0,
        }
    }
}

/// The values of one header of an [`http::HeaderMap`] as `&str`.
///
/// Cheap to clone (the W3C reader walks `tracestate` twice): it remembers a
/// position rather than borrowing `http`'s non-`Clone` value iterator. Headers
/// repeat a handful of times at most, so re-walking to the position is free.
#[derive(Debug, Clone)]
pub struct HeaderStrs<'h> {
    map: &'h HeaderMap,
    name: HeaderName,
    position: usize,
}

impl<'h> Iterator for HeaderStrs<'h> {
    type Item = &'h str;

    fn next(&mut self) -> Option<&'h str> {
        let map: &'h HeaderMap = self.map;
        let mut values = map.get_all(&self.name).iter().skip(self.position);
        loop {
            let value = values.next()?;
            self.position += 1;
            if let Ok(text) = value.to_str() {
                return Some(text);
            }
        }
    }
}

/// A borrowed view of an incoming request, as [`Lookout::begin`](crate::Lookout::begin) sees it.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::RequestHead;
///
/// let headers = HeaderMap::new();
/// let head = RequestHead::new("GET", "/users/42", &headers)
///     .with_route("/users/{id}")
///     .with_query("expand=true");
/// assert_eq!(head.route(), Some("/users/{id}"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a, H: ?Sized> {
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    route: Option<&'a str>,
    headers: &'a H,
}

impl<'a, H: Headers + ?Sized> RequestHead<'a, H> {
    /// A request with this method, path (without the query) and headers.
    pub fn new(method: &'a str, path: &'a str, headers: &'a H) -> Self {
        Self {
            method,
            path,
            query: None,
            route: None,
            headers,
        }
    }

    /// The route template (`/users/{id}`) when the framework knows it.
    #[must_use]
    pub fn with_route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// The raw query string (without `?`).
    #[must_use]
    pub fn with_query(mut self, query: &'a str) -> Self {
        self.query = Some(query).filter(|q| !q.is_empty());
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The path, without the query string.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query string, if any.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The route template, if known.
    pub fn route(&self) -> Option<&'a str> {
        self.route
    }

    /// The headers.
    pub fn headers(&self) -> &'a H {
        self.headers
    }
}

/// What the adapter tells core about the response.
///
/// ```
/// use http::StatusCode;
/// use lookout_core::ResponseHead;
///
/// let head = ResponseHead::new(StatusCode::NOT_FOUND).with_route("/items/{id}");
/// assert_eq!(head.status(), StatusCode::NOT_FOUND);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ResponseHead<'a> {
    status: http::StatusCode,
    route: Option<&'a str>,
}

impl<'a> ResponseHead<'a> {
    /// A response with this status.
    pub fn new(status: http::StatusCode) -> Self {
        Self {
            status,
            route: None,
        }
    }

    /// The route template, when the adapter learned it only after routing
    /// (a layer wrapped around the whole router).
    #[must_use]
    pub fn with_route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// The status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// The route template learned after routing, if any.
    pub fn route(&self) -> Option<&'a str> {
        self.route
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_map_yields_every_value_in_order_and_skips_non_ascii() {
        let mut headers = HeaderMap::new();
        headers.append("baggage", HeaderValue::from_static("a=1"));
        headers.append("baggage", HeaderValue::from_bytes(b"b=\xff").unwrap());
        headers.append("baggage", HeaderValue::from_static("c=3"));
        let values: Vec<&str> = headers.values_of(names::BAGGAGE).collect();
        assert_eq!(values, ["a=1", "c=3"]);
        assert_eq!(headers.values_of(names::SENTRY_TRACE).count(), 0);
    }
}
