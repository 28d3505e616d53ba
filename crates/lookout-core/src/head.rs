//! Framework-neutral views of a request and a response head.
//!
//! Adapters build a borrowed [`RequestHead`] from their framework's request
//! and hand it to [`Engine::begin`](crate::Engine::begin); nothing is copied.
//! Header access goes through the [`Headers`] trait so that any header map
//! (http 1.x, actix-web's own) works without conversion.

use http::header::{HeaderMap, HeaderName, HeaderValue};

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
    /// `content-type` (what kind of request body to record).
    pub const CONTENT_TYPE: &str = "content-type";
    /// `content-length` (whether a request has a body, and its size).
    pub const CONTENT_LENGTH: &str = "content-length";
    /// `transfer-encoding` (an HTTP/1.1 request body of unknown length).
    pub const TRANSFER_ENCODING: &str = "transfer-encoding";
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

    /// All values of the header `name` (usually a name from [`names`]; any
    /// string is accepted: a name in upper case is matched case-insensitively,
    /// one that is not a valid header name has no values).
    fn values_of(&self, name: &'static str) -> Self::Values<'_>;

    /// Calls `f` with every header, name (lowercase) and value, in order,
    /// skipping values that are not visible ASCII. A sampled request's
    /// transaction records its headers this way (scrubbed before they are
    /// sent). The default records none.
    fn for_each_header(&self, f: &mut dyn FnMut(&str, &str)) {
        let _ = f;
    }
}

impl Headers for HeaderMap {
    type Values<'h> = HeaderStrs<'h>;

    fn values_of(&self, name: &'static str) -> HeaderStrs<'_> {
        HeaderStrs::new(self, header_name(name))
    }

    fn for_each_header(&self, f: &mut dyn FnMut(&str, &str)) {
        for (name, value) in self {
            if let Ok(value) = value.to_str() {
                f(name.as_str(), value);
            }
        }
    }
}

/// `name` as an `http` header name; the names lookout reads are constants,
/// built at compile time rather than parsed per request. Any other name is
/// parsed (upper case folded); one that is not a valid header name has no
/// values, rather than panicking.
fn header_name(name: &'static str) -> Option<HeaderName> {
    const SENTRY_TRACE: HeaderName = HeaderName::from_static(names::SENTRY_TRACE);
    const BAGGAGE: HeaderName = HeaderName::from_static(names::BAGGAGE);
    const TRACEPARENT: HeaderName = HeaderName::from_static(names::TRACEPARENT);
    const TRACESTATE: HeaderName = HeaderName::from_static(names::TRACESTATE);
    const REQUEST_ID: HeaderName = HeaderName::from_static(names::REQUEST_ID);
    Some(match name {
        names::SENTRY_TRACE => SENTRY_TRACE,
        names::BAGGAGE => BAGGAGE,
        names::TRACEPARENT => TRACEPARENT,
        names::TRACESTATE => TRACESTATE,
        names::REQUEST_ID => REQUEST_ID,
        names::CONTENT_TYPE => http::header::CONTENT_TYPE,
        names::CONTENT_LENGTH => http::header::CONTENT_LENGTH,
        names::TRANSFER_ENCODING => http::header::TRANSFER_ENCODING,
        other => return HeaderName::from_bytes(other.as_bytes()).ok(),
    })
}

/// How many values of one header [`HeaderStrs`] keeps at hand; further ones
/// (a header repeated more often) are looked up again when reached.
const KEPT_VALUES: usize = 4;

/// The values of one header of an [`http::HeaderMap`] as `&str`.
///
/// Cheap to clone (the W3C reader walks `tracestate` twice): the map is
/// searched once, and the first few values are kept by reference rather than
/// through `http`'s non-`Clone` value iterator.
#[derive(Debug, Clone)]
pub struct HeaderStrs<'h> {
    map: &'h HeaderMap,
    /// `None` for a name that is not a valid header name: no values.
    name: Option<HeaderName>,
    kept: [Option<&'h HeaderValue>; KEPT_VALUES],
    /// Whether the header has more values than `kept` holds.
    more: bool,
    position: usize,
}

impl<'h> HeaderStrs<'h> {
    fn new(map: &'h HeaderMap, name: Option<HeaderName>) -> Self {
        let mut kept = [None; KEPT_VALUES];
        let mut more = false;
        if let Some(name) = &name {
            let mut values = map.get_all(name).iter();
            for slot in &mut kept {
                *slot = values.next();
            }
            more = values.next().is_some();
        }
        Self {
            map,
            name,
            kept,
            more,
            position: 0,
        }
    }
}

impl<'h> Iterator for HeaderStrs<'h> {
    type Item = &'h str;

    fn next(&mut self) -> Option<&'h str> {
        loop {
            let value = match self.kept.get(self.position) {
                Some(kept) => (*kept)?,
                None if self.more => {
                    let map: &'h HeaderMap = self.map;
                    map.get_all(self.name.as_ref()?).iter().nth(self.position)?
                }
                None => return None,
            };
            self.position += 1;
            if let Ok(text) = value.to_str() {
                return Some(text);
            }
        }
    }
}

/// A borrowed view of an incoming request, as [`Engine::begin`](crate::Engine::begin) sees it.
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

/// What happened to a request, as the adapter tells
/// [`InFlight::finish`](crate::InFlight::finish): the status, and what else
/// it knows (the route learned after routing, the handler's typed error, a
/// panic).
///
/// ```
/// use http::StatusCode;
/// use lookout_core::ResponseHead;
///
/// let error = std::io::Error::other("database unavailable");
/// let head = ResponseHead::new(StatusCode::SERVICE_UNAVAILABLE)
///     .with_route("/items/{id}")
///     .with_typed_error(&error);
/// assert_eq!(head.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(head.route(), Some("/items/{id}"));
/// ```
#[derive(Clone, Copy)]
pub struct ResponseHead<'a> {
    status: http::StatusCode,
    route: Option<&'a str>,
    error: Option<HandlerError<'a>>,
    panic: Option<&'a str>,
}

impl std::fmt::Debug for ResponseHead<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseHead")
            .field("status", &self.status)
            .field("route", &self.route)
            .field("error", &self.error.map(HandlerError::describe))
            .field("panic", &self.panic)
            .finish()
    }
}

/// The handler's error, as the adapter had it.
#[derive(Clone, Copy)]
pub(crate) enum HandlerError<'e> {
    /// Only as `dyn Error`: classified by its `source()` chain.
    Dyn(&'e (dyn std::error::Error + 'static)),
    /// With its concrete type known: `by_type` rules match it.
    Typed(&'e dyn crate::TypedError),
}

impl HandlerError<'_> {
    fn describe(self) -> String {
        match self {
            HandlerError::Dyn(error) => error.to_string(),
            HandlerError::Typed(error) => format!("{} ({})", error, error.type_name()),
        }
    }
}

impl<'a> ResponseHead<'a> {
    /// A response with this status.
    pub fn new(status: http::StatusCode) -> Self {
        Self {
            status,
            route: None,
            error: None,
            panic: None,
        }
    }

    /// The route template, when the adapter learned it only after routing
    /// (a layer wrapped around the whole router).
    #[must_use]
    pub fn with_route(mut self, route: &'a str) -> Self {
        self.route = Some(route);
        self
    }

    /// The handler's error whose concrete type is known (what a
    /// [`ReportedError`](crate::toolkit::ReportedError) carries): the event
    /// and the `error.rust_type` tag name that type, and `by_type` rules
    /// match it or anything in its `source()` chain.
    ///
    /// ```
    /// let error = std::fmt::Error;
    /// let head = lookout_core::ResponseHead::new(http::StatusCode::BAD_GATEWAY).with_typed_error(&error);
    /// # let _ = head;
    /// ```
    #[must_use]
    pub fn with_typed_error(mut self, error: &'a dyn crate::TypedError) -> Self {
        self.error = Some(HandlerError::Typed(error));
        self
    }

    /// The handler's error when only `dyn Error` is at hand (its `source()`
    /// chain is classified).
    ///
    /// ```
    /// let error: Box<dyn std::error::Error> = "upstream refused".into();
    /// let head = lookout_core::ResponseHead::new(http::StatusCode::BAD_GATEWAY).with_error(&*error);
    /// # let _ = head;
    /// ```
    #[must_use]
    pub fn with_error(mut self, error: &'a (dyn std::error::Error + 'static)) -> Self {
        self.error = Some(HandlerError::Dyn(error));
        self
    }

    /// The handler's error as the adapter found it: by its type when the
    /// adapter carried it ([`with_typed_error`](Self::with_typed_error)),
    /// else as `dyn Error` ([`with_error`](Self::with_error)), else none.
    ///
    /// ```
    /// let error: Box<dyn std::error::Error> = "upstream refused".into();
    /// let head = lookout_core::ResponseHead::new(http::StatusCode::BAD_GATEWAY)
    ///     .with_errors(None, Some(&*error));
    /// # let _ = head;
    /// ```
    #[must_use]
    pub fn with_errors(
        self,
        typed: Option<&'a dyn crate::TypedError>,
        error: Option<&'a (dyn std::error::Error + 'static)>,
    ) -> Self {
        match (typed, error) {
            (Some(typed), _) => self.with_typed_error(typed),
            (None, Some(error)) => self.with_error(error),
            (None, None) => self,
        }
    }

    /// The handler panicked with this message (the adapter answers 500).
    ///
    /// ```
    /// let head = lookout_core::ResponseHead::new(http::StatusCode::INTERNAL_SERVER_ERROR)
    ///     .with_panic("index out of bounds");
    /// assert_eq!(head.panic(), Some("index out of bounds"));
    /// ```
    #[must_use]
    pub fn with_panic(mut self, message: &'a str) -> Self {
        self.panic = Some(message);
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

    /// The panic message, if the handler panicked.
    pub fn panic(&self) -> Option<&'a str> {
        self.panic
    }

    pub(crate) fn error(&self) -> Option<HandlerError<'a>> {
        self.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value, in order, however often the header repeats; values that
    /// are not visible ASCII are skipped; clones continue independently.
    #[test]
    fn header_values_in_order_skipping_invalid_ones() {
        for count in 0..=9 {
            let mut map = HeaderMap::new();
            map.insert("host", HeaderValue::from_static("example.com"));
            let mut expected = Vec::new();
            for i in 0..count {
                if i % 3 == 1 {
                    map.append(
                        names::BAGGAGE,
                        HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
                    );
                } else {
                    let value = format!("v{i}");
                    map.append(names::BAGGAGE, HeaderValue::from_str(&value).unwrap());
                    expected.push(value);
                }
            }
            let values = map.values_of(names::BAGGAGE);
            assert_eq!(
                values.clone().collect::<Vec<_>>(),
                expected,
                "{count} values"
            );
            let mut partly = values.clone();
            let first = partly.next();
            assert_eq!(first, expected.first().map(String::as_str));
            assert_eq!(partly.count(), expected.len().saturating_sub(1));
            assert_eq!(values.count(), expected.len());
        }
        let map = HeaderMap::new();
        assert_eq!(map.values_of(names::SENTRY_TRACE).next(), None);
        assert_eq!(map.values_of(names::SERVER_TIMING).next(), None);
    }

    /// Any name, however written, is looked up without panicking: upper case
    /// matches case-insensitively, an invalid name has no values.
    #[test]
    fn values_of_never_panics_on_a_name_and_folds_upper_case() {
        let mut headers = HeaderMap::new();
        headers.append("x-custom", HeaderValue::from_static("1"));
        headers.append(names::REQUEST_ID, HeaderValue::from_static("req-1"));
        assert_eq!(headers.values_of("X-Custom").collect::<Vec<_>>(), ["1"]);
        assert_eq!(
            headers.values_of("X-Request-Id").collect::<Vec<_>>(),
            ["req-1"]
        );
        for name in ["", "bad name", "x\ny", "caf\u{e9}", "a:b", "(", "\u{0}"] {
            assert_eq!(headers.values_of(name).count(), 0, "{name:?}");
        }
        // Every byte string leaked to `'static`, as a caller might pass.
        for byte in 0u8..=255 {
            let name: &'static str = Box::leak(
                String::from_utf8_lossy(&[b'x', byte])
                    .into_owned()
                    .into_boxed_str(),
            );
            let _ = headers.values_of(name).count();
        }
    }

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
