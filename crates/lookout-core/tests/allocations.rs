//! Allocation budgets of the request lifecycle (counts are deterministic;
//! times are for the benchmarks).
//!
//! - No client bound: at most 2 heap allocations per request.
//! - A client bound, the request unsampled, no error: at most 4 (the request
//!   context, the request's own Hub, which is two in sentry-core, and the
//!   route template; the path is kept inline); continuing a caller's trace,
//!   one more (the caller's Sentry baggage members, decoded only when sent).
//! - Sampled: at most 50, most of them sentry-core's transaction (see
//!   `docs/benchmarks.md` for where each comes from); 10 of them are the
//!   request's scope on its transaction (five tags, key and value each), and
//!   one its request data. The transaction's op, origin and trace data
//!   are written once, when it is sent (sentry-core would copy them when it
//!   ends), and the frozen DSC needs no allocation beyond its strings: 60
//!   before.

use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use lookout_core::testing::TestLookout;
use lookout_core::{Engine, RequestHead, ResponseHead};

fn one_request(lookout: &Engine, headers: &HeaderMap) {
    let in_flight =
        lookout.begin(&RequestHead::new("GET", "/users/7", headers).with_route("/users/{id}"));
    let ctx = in_flight.context().clone();
    // The handler runs with the context bound, as the adapters do.
    ctx.enter(|| std::hint::black_box(lookout_scope::current().is_some()));
    drop(ctx);
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    std::hint::black_box(&finished.headers);
    finished.body.complete();
}

fn count(lookout: &Engine, headers: &HeaderMap) -> u64 {
    // Warm up lazily initialised statics (thread locals, the global engine, RNG).
    for _ in 0..3 {
        one_request(lookout, headers);
    }
    allocation_counter::measure(|| one_request(lookout, headers)).count_total
}

#[test]
fn without_a_client_a_request_costs_at_most_two_allocations() {
    let hub = Arc::new(sentry_core::Hub::new(None, Arc::new(Default::default())));
    let lookout = Engine::builder().hub(hub).build();
    let allocations = count(&lookout, &HeaderMap::new());
    println!("no client: {allocations} allocations per request");
    assert!(allocations <= 2, "{allocations} allocations");
}

#[test]
fn with_a_client_an_unsampled_request_without_error_costs_at_most_four() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    let allocations = count(test.engine(), &HeaderMap::new());
    println!("client bound, unsampled: {allocations} allocations per request");
    assert!(allocations <= 4, "{allocations} allocations");
}

/// A browser's head (about 900 bytes: host, user agent, accept headers,
/// referer, a cookie, authorization). An unsampled request with it costs
/// what one without headers costs: the head its events will carry (URL and
/// headers) is kept as text inside the request context's own allocation,
/// not as a map or a `HeaderMap` clone. A head past
/// `lookout_scope::HEAD_INLINE` bytes takes one allocation of its own.
fn browser_head() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "shop.example.com"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        ),
        ("accept-language", "en-GB,en;q=0.9,fr;q=0.8"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("referer", "https://shop.example.com/basket?step=2"),
        (
            "cookie",
            "sessionid=0123456789abcdef0123456789abcdef; theme=dark; consent=yes",
        ),
        (
            "authorization",
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
        ),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"",
        ),
        ("sec-fetch-mode", "navigate"),
        ("x-forwarded-proto", "https"),
    ] {
        headers.insert(name, value.parse().unwrap());
    }
    headers
}

#[test]
fn a_browsers_head_kept_for_events_costs_no_allocation() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    let bare = count(test.engine(), &HeaderMap::new());
    let browser = count(test.engine(), &browser_head());
    println!("client bound, unsampled: {bare} allocations bare, {browser} with a browser's head");
    assert_eq!(browser, bare, "the kept head allocates");
    let mut large = browser_head();
    large.insert(
        "x-large",
        "v".repeat(lookout_scope::HEAD_INLINE).parse().unwrap(),
    );
    let large = count(test.engine(), &large);
    assert_eq!(
        large,
        bare + 1,
        "a head past HEAD_INLINE takes one allocation"
    );
}

/// A browser's unsampled trace continued (`sentry-trace` `-0` and an
/// 8-member baggage): one more allocation than a new trace, the caller's
/// Sentry members copied once as received; they are decoded into an owned
/// DSC only when something is sent (decoding them at `begin` cost one
/// allocation per text member: public key, release, environment and
/// transaction here).
#[test]
fn an_unsampled_continued_trace_costs_one_more_for_the_callers_dsc() {
    let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).unwrap();
    let allocations = count(test.engine(), &browser_trace(false));
    println!("client bound, unsampled, continued: {allocations} allocations per request");
    assert!(allocations <= 5, "{allocations} allocations");
}

/// A browser's sampled trace continued: the caller's DSC is owned at once
/// (its transaction carries it), never copied as members first (57 when it
/// was).
#[test]
fn a_sampled_continued_trace_owns_the_callers_dsc_once() {
    let test = TestLookout::new();
    let allocations = count(test.engine(), &browser_trace(true));
    println!("client bound, sampled, continued: {allocations} allocations per request");
    assert!(allocations <= 56, "{allocations} allocations");
}

/// `sentry-trace` + an 8-member baggage as a browser SDK sends them.
fn browser_trace(sampled: bool) -> HeaderMap {
    let (flag, rate) = if sampled { ("1", "1.0") } else { ("0", "0.0") };
    let mut headers = HeaderMap::new();
    headers.insert(
        "sentry-trace",
        format!("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-{flag}")
            .parse()
            .unwrap(),
    );
    headers.insert(
        "baggage",
        format!(
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
             sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate={rate},\
             sentry-sample_rand=0.4242,sentry-sampled={sampled},sentry-release=web%401.0.0,\
             sentry-environment=production,sentry-transaction=%2Fusers%2F%3Aid"
        )
        .parse()
        .unwrap(),
    );
    headers
}

/// Request-mode sessions (a release set) add no allocation: a request adds
/// one to an atomic counter of its minute (sentry-core's own sessions cost a
/// `Session` with copied strings and a lock per request).
#[test]
fn release_health_sessions_add_no_allocation_to_a_request() {
    let test = TestLookout::from_vars([
        ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
        ("SENTRY_RELEASE", "api@1.0.0"),
    ])
    .unwrap();
    let allocations = count(test.engine(), &HeaderMap::new());
    println!("client bound, unsampled, sessions on: {allocations} allocations per request");
    assert!(allocations <= 4, "{allocations} allocations");
    let sessions: u32 = test
        .envelopes()
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            sentry_core::protocol::EnvelopeItem::SessionAggregates(a) => Some(a),
            _ => None,
        })
        .flat_map(|a| a.aggregates.iter().map(|b| b.exited))
        .sum();
    assert_eq!(
        sessions, 4,
        "the counted requests are sessions (3 warm-up + 1)"
    );
}

#[test]
fn a_sampled_request_costs_at_most_fifty_and_the_counter_sees_them() {
    let test = TestLookout::new();
    let allocations = count(test.engine(), &HeaderMap::new());
    println!("client bound, sampled: {allocations} allocations per request");
    assert!(allocations <= 50, "{allocations} allocations");
    // Guards the budgets above against a counter that counts nothing.
    assert!(allocations > 4, "{allocations} allocations");
}

/// One unsampled POST whose handler reads its 2-chunk JSON body (`read`)
/// or not, through the toolkit's recording body, then answers 200.
fn one_post(lookout: &Engine, read: bool) {
    use http_body::Body;
    let request = http::Request::post("/orders")
        .header("content-type", "application/json")
        .header("content-length", "13")
        .body(TwoChunks(0))
        .unwrap();
    let in_flight = lookout
        .begin(&RequestHead::new("POST", "/orders", request.headers()).with_route("/orders"));
    let mut body = lookout_core::toolkit::RequestBody::wrap_request(lookout, request).into_body();
    let ctx = in_flight.context().clone();
    ctx.enter(|| {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if read {
            while let std::task::Poll::Ready(Some(frame)) =
                std::pin::Pin::new(&mut body).poll_frame(&mut cx)
            {
                drop(std::hint::black_box(frame));
            }
        }
    });
    drop(ctx);
    let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
    finished.body.complete();
}

/// A body of two static chunks (no allocation of its own).
struct TwoChunks(u8);

impl http_body::Body for TwoChunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        self.0 += 1;
        let chunk: &'static [u8] = match self.0 {
            1 => b"{\"item\":",
            2 => b"\"a\"}",
            _ => return std::task::Poll::Ready(None),
        };
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(bytes::Bytes::from_static(
            chunk,
        )))))
    }
}

fn count_posts(lookout: &Engine, read: bool) -> u64 {
    for _ in 0..3 {
        one_post(lookout, read);
    }
    allocation_counter::measure(|| one_post(lookout, read)).count_total
}

/// Request bodies (`LOOKOUT_MAX_REQUEST_BODY_SIZE`): a request that captures
/// no event pays for recording what its handler read at most three
/// allocations (the record on its context, the context's extension slot,
/// the list of chunk references; the chunks are shared, not copied), and
/// nothing when the handler reads no body.
#[test]
fn recording_a_read_body_costs_at_most_three_allocations_an_unread_one_none() {
    let vars = |size| {
        TestLookout::from_vars([
            ("SENTRY_TRACES_SAMPLE_RATE", "0.0"),
            ("LOOKOUT_MAX_REQUEST_BODY_SIZE", size),
        ])
        .unwrap()
    };
    let never = vars("never");
    let medium = vars("medium");
    let baseline = count_posts(never.engine(), true);
    let recorded = count_posts(medium.engine(), true);
    let unread = count_posts(medium.engine(), false);
    let unread_baseline = count_posts(never.engine(), false);
    println!(
        "POST read: {baseline} without recording, {recorded} with; unread: {unread_baseline} / {unread}"
    );
    assert!(recorded > baseline, "the counter sees the recording");
    assert!(recorded - baseline <= 3, "{recorded} vs {baseline}");
    assert_eq!(unread, unread_baseline);
}
