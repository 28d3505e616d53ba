//! What events and transactions say of the request: method, URL, query
//! string and headers (`request` in Sentry's event).
//!
//! A sampled request's transaction builds it from the head when it starts.
//! Events are rarer than requests, so a request does not build it for them:
//! when a client is bound, `begin` keeps the head as text in the request's
//! context (its path, query and headers, one per line, inside the context's
//! own allocation up to `lookout_scope::HEAD_INLINE` bytes: no allocation),
//! and an event captured inside the request builds its `request` from that
//! text ([`apply_to_event`]). Both go through the same scrubber before they
//! are sent; the values the scrubber always filters (`cookie`,
//! `authorization`, `proxy-authorization`) are not even kept.

use http::Method;
use lookout_scope::{HeadWriter, RequestContext};
use sentry_core::protocol::{Event, Request, Url};

use crate::head::{Headers, RequestHead};

/// The longest header value a request's data carries, in bytes (the
/// official SDKs trim strings to 1,024 characters, `max_value_length`): a
/// caller's 100 KB `baggage` is not copied into every transaction.
pub(crate) const MAX_HEADER_VALUE: usize = 1024;

/// Headers whose values the scrubber always replaces (`[Filtered]`, with or
/// without PII): the head keeps their names only.
const NOT_KEPT: [&str; 3] = ["cookie", "authorization", "proxy-authorization"];

/// Cuts `value` to [`MAX_HEADER_VALUE`] bytes at a character boundary,
/// ending in `...`, as the SDKs mark a trimmed string.
pub(crate) fn truncate_value(value: &mut String) {
    if value.len() <= MAX_HEADER_VALUE {
        return;
    }
    let mut end = MAX_HEADER_VALUE - 3;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.truncate(end);
    value.push_str("...");
}

/// `request` for a head: `method`, the URL (from the `Host` header; `http`
/// unless the caller says `x-forwarded-proto: https`), the query string and
/// the headers (repeated ones joined with `, `, values longer than
/// [`MAX_HEADER_VALUE`] trimmed).
pub(crate) fn request_data<H: Headers + ?Sized>(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &H,
) -> Request {
    let mut request = Request {
        method: Some(method.to_owned()),
        query_string: query.map(str::to_owned),
        ..Request::default()
    };
    let mut host = None;
    let mut https = false;
    headers.for_each_header(&mut |name, value| {
        match name {
            "host" => host = Some(value.to_owned()),
            "x-forwarded-proto" => https = value.eq_ignore_ascii_case("https"),
            _ => {}
        }
        let joined = request
            .headers
            .entry(name.to_owned())
            .and_modify(|existing| {
                if existing.len() <= MAX_HEADER_VALUE {
                    existing.push_str(", ");
                    existing.push_str(value);
                }
            })
            .or_insert_with(|| value.to_owned());
        truncate_value(joined);
    });
    if let Some(host) = host {
        request.url = url_of(https, &host, path);
    }
    request
}

/// `http(s)://host` + `path` as a URL. Parsing a whole URL (its host
/// through IDNA) took about 0.7 µs per transaction or event; a service
/// answers to few hosts, so each thread keeps the last host's URL and sets
/// the path on a copy of it. A path the two would read apart is parsed
/// whole: one that does not start with `/`, holds `?` or `#` (a whole URL's
/// query or fragment) or a tab or line break (which parsing drops), or ends
/// in a space or control character (which parsing trims).
fn url_of(https: bool, host: &str, path: &str) -> Option<Url> {
    let scheme = if https { "https" } else { "http" };
    let whole = || Url::parse(&format!("{scheme}://{host}{path}")).ok();
    if !path.starts_with('/')
        || path.contains(['?', '#', '\t', '\n', '\r'])
        || path.ends_with(|c: char| c <= ' ')
    {
        return whole();
    }
    thread_local! {
        /// The last host's `scheme://host/`, by scheme and host.
        static LAST: std::cell::RefCell<Option<(bool, String, Url)>> =
            const { std::cell::RefCell::new(None) };
    }
    let cached = LAST.try_with(|last| {
        let mut last = last.try_borrow_mut().ok()?;
        let base = match &mut *last {
            Some((same_https, same_host, base)) if *same_https == https && same_host == host => {
                base
            }
            slot => {
                let base = Url::parse(&format!("{scheme}://{host}/")).ok()?;
                &mut slot.insert((https, host.to_owned(), base)).2
            }
        };
        let mut url = base.clone();
        url.set_path(path);
        Some(url)
    });
    match cached {
        Ok(Some(url)) => Some(url),
        // A host that is no URL's, or the thread's cache out of reach.
        _ => whole(),
    }
}

/// Keeps `head` in `ctx` for its events: the path, `?query` (or nothing),
/// then `name:value` per header, one per line (none of them can hold a line
/// break); values past [`MAX_HEADER_VALUE`] are cut (the event trims them as
/// the transaction does), headers past what the context keeps are left out.
pub(crate) fn keep_head<H: Headers + ?Sized>(ctx: &RequestContext, head: &RequestHead<'_, H>) {
    ctx.set_head(|text| {
        let _ = text.push(head.path())
            && text.push("\n")
            && text.push(head.query().map_or("", |_| "?"))
            && text.push(head.query().unwrap_or_default())
            && text.push("\n");
        let mut room = true;
        head.headers().for_each_header(&mut |name, value| {
            room = room && push_header(text, name, value);
        });
    });
}

fn push_header(text: &mut HeadWriter, name: &str, value: &str) -> bool {
    let value = if NOT_KEPT.contains(&name) {
        ""
    } else {
        // One byte more than is sent, so the event sees it was longer.
        let mut end = value.len().min(MAX_HEADER_VALUE + 1);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        &value[..end]
    };
    text.push(name) && text.push(":") && text.push(value) && text.push("\n")
}

/// The headers of a head kept by [`keep_head`].
struct KeptHeaders<'a>(&'a str);

impl Headers for KeptHeaders<'_> {
    type Values<'h>
        = std::iter::Empty<&'h str>
    where
        Self: 'h;

    fn values_of(&self, _name: &'static str) -> Self::Values<'_> {
        std::iter::empty()
    }

    fn for_each_header(&self, f: &mut dyn FnMut(&str, &str)) {
        for line in self.0.lines() {
            if let Some((name, value)) = line.split_once(':') {
                f(name, value);
            }
        }
    }
}

/// `request` for an event captured inside the request of `ctx`, from its
/// kept head: `None` when no head was kept (no client bound, a job).
fn from_kept_head(ctx: &RequestContext) -> Option<Request> {
    let text = ctx.head()?;
    let mut lines = text.splitn(3, '\n');
    let path = lines.next()?;
    let query = lines.next()?.strip_prefix('?');
    let headers = KeptHeaders(lines.next().unwrap_or_default());
    Some(request_data(ctx.method(), path, query, &headers))
}

/// Gives `event` the request data of `ctx` (a request's kept head): the URL,
/// the headers, and the method and query string unless the event has them
/// already. What the event set itself (its own URL, headers, `env`, body) is
/// kept.
pub(crate) fn apply_to_event(ctx: &RequestContext, event: &mut Event<'static>) {
    let Some(data) = from_kept_head(ctx) else {
        return;
    };
    let request = event.request.get_or_insert_with(Default::default);
    if request.url.is_none() {
        request.url = data.url;
    }
    if request.method.is_none() {
        request.method = data.method;
    }
    if request.query_string.is_none() {
        request.query_string = data.query_string;
    }
    for (name, value) in data.headers {
        request.headers.entry(name).or_insert(value);
    }
}

/// `method` as `begin` saw it, for a transaction's request data.
pub(crate) fn for_transaction<H: Headers + ?Sized>(
    head: &RequestHead<'_, H>,
    method: &Method,
) -> Request {
    request_data(method.as_str(), head.path(), head.query(), head.headers())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;

    #[test]
    fn a_huge_header_value_is_trimmed_in_the_request_data() {
        let mut headers = http::HeaderMap::new();
        headers.insert("baggage", "a".repeat(100_000).parse().unwrap());
        headers.append("x-many", "c".repeat(600).parse().unwrap());
        headers.append("x-many", "b".repeat(600).parse().unwrap());
        headers.insert("accept", "text/html".parse().unwrap());
        let head = RequestHead::new("GET", "/", &headers);
        let request = for_transaction(&head, &Method::GET);
        let baggage = &request.headers["baggage"];
        assert_eq!(baggage.len(), MAX_HEADER_VALUE);
        assert!(baggage.ends_with("..."));
        let many = &request.headers["x-many"];
        assert!(
            many.len() <= MAX_HEADER_VALUE && many.ends_with("..."),
            "{}",
            many.len()
        );
        assert_eq!(
            request.headers["accept"], "text/html",
            "short values are whole"
        );
    }

    #[test]
    fn trimming_keeps_whole_characters() {
        let mut value = "é".repeat(1000);
        truncate_value(&mut value);
        assert!(value.len() <= MAX_HEADER_VALUE && value.ends_with("..."));
        assert!(value.trim_end_matches("...").chars().all(|c| c == 'é'));
    }

    fn headers() -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "shop.example".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        headers.insert("cookie", "sessionid=abc".parse().unwrap());
        headers.insert("authorization", "Bearer s3cr3t".parse().unwrap());
        headers.insert("baggage", "b".repeat(2_000).parse().unwrap());
        headers.append("x-tag", "a".parse().unwrap());
        headers.append("x-tag", "b".parse().unwrap());
        headers
    }

    /// An event's request data from the kept head is the transaction's,
    /// but for the values the scrubber would filter anyway.
    #[test]
    fn the_kept_head_gives_events_the_transactions_request_data() {
        let headers = headers();
        let head = RequestHead::new("POST", "/orders/7", &headers).with_query("page=2&token=x");
        let ctx = RequestContext::builder(RequestId::generate())
            .method("POST")
            .build();
        keep_head(&ctx, &head);
        let mut event = Event::default();
        apply_to_event(&ctx, &mut event);
        let from_head = event.request.unwrap();
        let mut transactions = for_transaction(&head, &Method::POST);
        for name in NOT_KEPT {
            if let Some(value) = transactions.headers.get_mut(name) {
                value.clear();
            }
        }
        assert_eq!(from_head, transactions);
        assert_eq!(
            from_head.url.unwrap().as_str(),
            "https://shop.example/orders/7"
        );
        assert_eq!(from_head.query_string.as_deref(), Some("page=2&token=x"));
        assert_eq!(from_head.headers["x-tag"], "a, b");
        assert_eq!(from_head.headers["cookie"], "");
        assert!(from_head.headers["baggage"].ends_with("..."));
    }

    #[test]
    fn what_the_event_has_is_kept_and_no_head_adds_nothing() {
        let headers = headers();
        let ctx = RequestContext::builder(RequestId::generate())
            .method("GET")
            .build();
        let mut event = Event::default();
        apply_to_event(&ctx, &mut event);
        assert!(event.request.is_none(), "no head kept");
        keep_head(&ctx, &RequestHead::new("GET", "/", &headers));
        let mut event = Event {
            request: Some(Request {
                method: Some("GET".to_owned()),
                query_string: Some("from=event".to_owned()),
                headers: [("accept".to_owned(), "text/plain".to_owned())].into(),
                ..Request::default()
            }),
            ..Event::default()
        };
        apply_to_event(&ctx, &mut event);
        let request = event.request.unwrap();
        assert_eq!(request.query_string.as_deref(), Some("from=event"));
        assert_eq!(request.headers["accept"], "text/plain");
        assert_eq!(request.headers["host"], "shop.example");
    }

    /// What a whole URL parses to (the reference `url_of` keeps to).
    fn whole(https: bool, host: &str, path: &str) -> Option<Url> {
        let scheme = if https { "https" } else { "http" };
        Url::parse(&format!("{scheme}://{host}{path}")).ok()
    }

    #[test]
    fn a_requests_url_is_the_whole_urls_parse_for_every_host_and_path() {
        let hosts = [
            "shop.example",
            "127.0.0.1:8080",
            "[::1]:3000",
            "Bücher.example",
            "EXAMPLE.com:443",
            "bad host",
            "",
        ];
        let paths = [
            "/",
            "/users/7",
            "/a/../b/./c",
            "/%7Euser/caf%C3%A9",
            "/ümlaut path",
            "/a\\b",
            "//double",
            "/q?x=1",
            "/frag#top",
            "/trailing ",
            "/tab\there",
            "/line\nbreak\r",
            "/nul\u{0}",
            "*",
            "relative",
            "",
        ];
        for https in [false, true] {
            // Twice: the second time from the thread's cached host.
            for _ in 0..2 {
                for host in hosts {
                    for path in paths {
                        assert_eq!(
                            url_of(https, host, path),
                            whole(https, host, path),
                            "{https} {host:?} {path:?}"
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn any_path_gives_the_whole_urls_parse(path in "/[\u{0}-\u{10ffff}]{0,40}") {
            proptest::prop_assert_eq!(
                url_of(false, "shop.example", &path),
                whole(false, "shop.example", &path)
            );
        }
    }
}
