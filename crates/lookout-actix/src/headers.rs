//! actix-web's `http` 0.2 types as lookout-core (`http` 1.x) reads and
//! writes them: [`ActixHeaders`] for the request's headers,
//! [`apply_headers`] for the response's, [`status`] for its status. Forced
//! by actix-web 4, which speaks `http` 0.2.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use lookout_core::head::names;
use lookout_core::{HeaderMerge, Headers, ResponseHeaders};

/// A request's headers, read by lookout-core through [`Headers`].
pub(crate) struct ActixHeaders<'a>(pub(crate) &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    type Values<'h>
        = HeaderStrs<'h>
    where
        Self: 'h;

    fn values_of(&self, name: &'static str) -> HeaderStrs<'_> {
        let values = match header_name(name) {
            Some(name) => self.0.get_all(&name),
            None => [].iter(),
        };
        values.filter_map(visible as fn(&HeaderValue) -> Option<&str>)
    }

    fn for_each_header(&self, f: &mut dyn FnMut(&str, &str)) {
        // Names are lowercase in actix's map; repeated values keep their order.
        for (name, value) in self.0.iter() {
            if let Ok(value) = value.to_str() {
                f(name.as_str(), value);
            }
        }
    }
}

/// `name` as an actix header name. The names lookout reads are constants,
/// built at compile time (parsing a name that is not one of `http`'s
/// standard ones would allocate per lookup); any other name is parsed,
/// upper case folded, and one that is not a valid header name has no
/// values.
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
        names::CONTENT_TYPE => header::CONTENT_TYPE,
        names::CONTENT_LENGTH => header::CONTENT_LENGTH,
        names::TRANSFER_ENCODING => header::TRANSFER_ENCODING,
        other => return HeaderName::from_bytes(other.as_bytes()).ok(),
    })
}

/// A value as `&str`; one that is not visible ASCII is skipped.
fn visible(value: &HeaderValue) -> Option<&str> {
    value.to_str().ok()
}

/// The values of one header as `&str`, in order.
pub(crate) type HeaderStrs<'h> =
    std::iter::FilterMap<std::slice::Iter<'h, HeaderValue>, fn(&HeaderValue) -> Option<&str>>;

/// An actix status as lookout-core's; both accept exactly 100..=999.
pub(crate) fn status(status: actix_web::http::StatusCode) -> http::StatusCode {
    http::StatusCode::from_u16(status.as_u16()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// Adds lookout's headers to an actix response: `x-request-id` replaces one
/// the handler set, `server-timing` is appended after the handler's own.
pub(crate) fn apply_headers(headers: &mut HeaderMap, add: &ResponseHeaders) {
    for (name, value, merge) in add.iter() {
        // Core validated or generated every value; a failed conversion can
        // only drop a header, never send an unvalidated one.
        let Ok(value) = HeaderValue::from_str(value) else {
            continue;
        };
        let name = HeaderName::from_static(name);
        match merge {
            HeaderMerge::Append => headers.append(name, value),
            _ => {
                headers.insert(name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_in_order_skipping_invalid_ones() {
        let mut map = HeaderMap::new();
        map.append(
            HeaderName::from_static(names::BAGGAGE),
            HeaderValue::from_static("a=1"),
        );
        map.append(
            HeaderName::from_static(names::BAGGAGE),
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        );
        map.append(
            HeaderName::from_static(names::BAGGAGE),
            HeaderValue::from_static("b=2"),
        );
        let headers = ActixHeaders(&map);
        let values = headers.values_of(names::BAGGAGE);
        assert_eq!(values.clone().collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(values.count(), 2, "a clone continues independently");
        assert_eq!(headers.values_of(names::SENTRY_TRACE).count(), 0);
        let mut seen = Vec::new();
        headers.for_each_header(&mut |name, value| seen.push(format!("{name}: {value}")));
        assert_eq!(seen, ["baggage: a=1", "baggage: b=2"]);
    }

    #[test]
    fn any_name_is_looked_up_without_panicking() {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static("x-custom"),
            HeaderValue::from_static("1"),
        );
        let headers = ActixHeaders(&map);
        assert_eq!(headers.values_of("X-Custom").collect::<Vec<_>>(), ["1"]);
        for name in ["", "bad name", "x\ny", "caf\u{e9}", "(", "\u{0}"] {
            assert_eq!(headers.values_of(name).count(), 0, "{name:?}");
        }
    }

    #[test]
    fn request_id_replaces_and_server_timing_appends() {
        let engine = lookout_core::Engine::builder().server_timing(true).build();
        let mut incoming = HeaderMap::new();
        incoming.insert(
            HeaderName::from_static(names::REQUEST_ID),
            HeaderValue::from_static("req-1"),
        );
        let incoming = ActixHeaders(&incoming);
        let in_flight = engine.begin(&lookout_core::RequestHead::new("GET", "/", &incoming));
        let finished = in_flight.finish(&lookout_core::ResponseHead::new(http::StatusCode::OK));
        let mut response = HeaderMap::new();
        response.insert(
            HeaderName::from_static(names::REQUEST_ID),
            HeaderValue::from_static("set-by-the-handler"),
        );
        response.insert(
            HeaderName::from_static(names::SERVER_TIMING),
            HeaderValue::from_static("db;dur=3"),
        );
        apply_headers(&mut response, &finished.headers);
        finished.body.complete();
        let ids: Vec<_> = response.get_all(names::REQUEST_ID).collect();
        assert_eq!(ids, ["req-1"]);
        let timing: Vec<_> = response
            .get_all(names::SERVER_TIMING)
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(timing.len(), 2, "{timing:?}");
        assert_eq!(timing[0], "db;dur=3");
        assert!(timing[1].contains("sentry-trace"), "{timing:?}");
    }
}
