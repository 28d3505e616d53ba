//! SPEC-NOTES "Request bodies": what the handler read of a request's body
//! rides on its error events as `request.data` (JSON and forms parsed and
//! scrubbed, other text as is), within `LOOKOUT_MAX_REQUEST_BODY_SIZE`;
//! binary and over-limit bodies are left out with Relay's `_meta` note;
//! nothing is read ahead, nothing unread is recorded, transactions never
//! carry it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use lookout_core::delivery::Delivery;
use lookout_core::testing::{TEST_DSN, TestLookout, WiredEngine};
use lookout_core::toolkit::RequestBody;
use lookout_core::{Engine, InFlight, RequestHead, ResponseHead};
use sentry_core::protocol::Event;
use sentry_core::{Envelope, Transport};
use serde_json::{Value, json};

/// Chunks delivered one per poll, as a network body arrives.
struct Chunks(std::collections::VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|c| Ok(http_body::Frame::data(c))))
    }
}

fn chunked(chunks: &[&'static [u8]]) -> Chunks {
    Chunks(chunks.iter().map(|c| Bytes::from_static(c)).collect())
}

/// A POST with these headers; its body wrapped as an adapter wraps it.
fn post<B>(engine: &Engine, headers: &[(&str, &str)], body: B) -> (InFlight, RequestBody<B>) {
    let mut request = http::Request::post("/orders");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body).unwrap();
    let in_flight =
        engine.begin(&RequestHead::new("POST", "/orders", request.headers()).with_route("/orders"));
    let request = RequestBody::wrap_request(engine, request);
    (in_flight, request.into_body())
}

/// The handler reads `frames` frames of its body (all when `None`), then
/// the request fails with a 500 (an event is captured).
async fn read_then_fail<B>(in_flight: InFlight, body: RequestBody<B>, frames: Option<usize>)
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let ctx = in_flight.context().clone();
    ctx.bind(async move {
        let mut body = body;
        let mut read = 0;
        while frames.is_none_or(|n| read < n) {
            match body.frame().await {
                Some(frame) => drop(frame.unwrap()),
                None => break,
            }
            read += 1;
        }
    })
    .await;
    in_flight
        .finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR))
        .body
        .complete();
}

fn data_of(event: &Event<'_>) -> Option<String> {
    event.request.as_ref().and_then(|r| r.data.clone())
}

#[tokio::test]
async fn a_json_body_the_handler_read_is_request_data_with_secrets_filtered() {
    let test = TestLookout::new();
    let json = br#"{"item":"book","card":{"number":"4111","password":"hunter2"},"token":"t0k3n"}"#;
    let (in_flight, body) = post(
        test.engine(),
        &[
            ("content-type", "application/json"),
            ("content-length", &json.len().to_string()),
        ],
        chunked(&[&json[..20], &json[20..]]),
    );
    read_then_fail(in_flight, body, None).await;
    let event = &test.events()[0];
    let data: Value = serde_json::from_str(&data_of(event).expect("request.data")).unwrap();
    assert_eq!(
        data,
        json!({"item": "book", "card": {"number": "4111", "password": "[Filtered]"}, "token": "[Filtered]"})
    );
    // Events only: the request's transaction carries no body.
    let tx = &test.transactions()[0];
    assert!(
        tx.request.as_ref().is_none_or(|r| r.data.is_none()),
        "{tx:?}"
    );
}

#[tokio::test]
async fn a_form_body_is_a_map_of_its_fields_with_secrets_filtered() {
    let test = TestLookout::new();
    let form = b"user=ada&password=hunter2&note=a+b%21";
    let (in_flight, body) = post(
        test.engine(),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", &form.len().to_string()),
        ],
        chunked(&[form]),
    );
    read_then_fail(in_flight, body, None).await;
    let data: Value = serde_json::from_str(&data_of(&test.events()[0]).unwrap()).unwrap();
    assert_eq!(
        data,
        json!({"user": "ada", "password": "[Filtered]", "note": "a b!"})
    );
}

#[tokio::test]
async fn other_text_is_kept_as_it_is() {
    let test = TestLookout::new();
    let (in_flight, body) = post(
        test.engine(),
        &[
            ("content-type", "text/plain"),
            ("transfer-encoding", "chunked"),
        ],
        chunked(&[b"hello ", b"world"]),
    );
    read_then_fail(in_flight, body, None).await;
    assert_eq!(data_of(&test.events()[0]).as_deref(), Some("hello world"));
}

#[tokio::test]
async fn only_what_the_handler_read_is_recorded_nothing_ahead() {
    let test = TestLookout::new();
    let (in_flight, body) = post(
        test.engine(),
        &[("content-type", "text/plain"), ("content-length", "11")],
        chunked(&[b"first", b" rest"]),
    );
    read_then_fail(in_flight, body, Some(1)).await;
    assert_eq!(data_of(&test.events()[0]).as_deref(), Some("first"));
}

#[tokio::test]
async fn a_body_the_handler_never_read_is_not_recorded() {
    let test = TestLookout::new();
    let (in_flight, body) = post(
        test.engine(),
        &[
            ("content-type", "application/json"),
            ("content-length", "2"),
        ],
        chunked(&[b"{}"]),
    );
    read_then_fail(in_flight, body, Some(0)).await;
    assert_eq!(data_of(&test.events()[0]), None);
}

#[tokio::test]
async fn never_records_no_body() {
    let test = TestLookout::from_vars([("LOOKOUT_MAX_REQUEST_BODY_SIZE", "never")]).unwrap();
    let (in_flight, body) = post(
        test.engine(),
        &[("content-type", "text/plain"), ("content-length", "5")],
        chunked(&[b"hello"]),
    );
    assert!(!body.is_recording());
    read_then_fail(in_flight, body, None).await;
    assert_eq!(data_of(&test.events()[0]), None);
}

/// Keeps every envelope as the bytes lookout would send.
#[derive(Clone, Default)]
struct RawCapture(Arc<Mutex<Vec<Vec<u8>>>>);

impl Transport for RawCapture {
    fn send_envelope(&self, envelope: Envelope) {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        self.0.lock().unwrap().push(bytes);
    }
}

/// The event items of every envelope, as sent.
fn raw_events(raw: &RawCapture) -> Vec<Value> {
    raw.0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|bytes| {
            let text = String::from_utf8(bytes.clone()).unwrap();
            let lines: Vec<Value> = text
                .lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect();
            lines
                .windows(2)
                .filter(|pair| pair[0]["type"] == "event")
                .map(|pair| pair[1].clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn raw_wired(vars: &[(&str, &str)]) -> (WiredEngine, RawCapture) {
    let mut all = vec![
        ("SENTRY_DSN", TEST_DSN),
        ("SENTRY_ENVIRONMENT", "test"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
    ];
    all.extend_from_slice(vars);
    let settings = lookout_policy::Settings::from_vars(all).unwrap();
    let raw = RawCapture::default();
    let delivery = Delivery::send().with_transport(Arc::new(Arc::new(raw.clone())));
    (WiredEngine::new(&settings, delivery, |b| b), raw)
}

#[tokio::test]
async fn a_body_over_the_limit_is_left_out_with_relays_config_note() {
    let (wired, raw) = raw_wired(&[("LOOKOUT_MAX_REQUEST_BODY_SIZE", "small")]);
    let big: &'static [u8] = Box::leak(vec![b'a'; 1_500].into_boxed_slice());
    // Declared too long: nothing is held.
    let (in_flight, body) = post(
        &wired.engine,
        &[("content-type", "text/plain"), ("content-length", "1500")],
        chunked(&[big]),
    );
    read_then_fail(in_flight, body, None).await;
    // Undeclared, found too long while reading: what was held is dropped.
    let (in_flight, body) = post(
        &wired.engine,
        &[
            ("content-type", "application/json"),
            ("transfer-encoding", "chunked"),
        ],
        chunked(&[&big[..600], &big[600..]]),
    );
    read_then_fail(in_flight, body, None).await;
    assert!(wired.client.flush(Some(Duration::from_secs(5))));
    let events = raw_events(&raw);
    assert_eq!(events.len(), 2);
    for event in events {
        assert!(event["request"].get("data").is_none(), "{event}");
        assert_eq!(
            event["_meta"],
            json!({"request": {"data": {"": {"rem": [["!config", "x"]]}}}})
        );
    }
}

#[tokio::test]
async fn binary_and_multipart_bodies_are_left_out_with_relays_raw_note() {
    let (wired, raw) = raw_wired(&[]);
    for content_type in [
        "application/octet-stream",
        "multipart/form-data; boundary=x",
    ] {
        let (in_flight, body) = post(
            &wired.engine,
            &[("content-type", content_type), ("content-length", "4")],
            chunked(&[b"\x00\x01\x02\x03"]),
        );
        read_then_fail(in_flight, body, None).await;
    }
    assert!(wired.client.flush(Some(Duration::from_secs(5))));
    let events = raw_events(&raw);
    assert_eq!(events.len(), 2);
    for event in events {
        assert!(event["request"].get("data").is_none(), "{event}");
        assert_eq!(event["_meta"]["request"]["data"][""]["rem"][0][0], "!raw");
    }
}

#[tokio::test]
async fn a_body_within_the_limit_has_no_meta_note() {
    let (wired, raw) = raw_wired(&[]);
    let (in_flight, body) = post(
        &wired.engine,
        &[("content-type", "text/plain"), ("content-length", "2")],
        chunked(&[b"ok"]),
    );
    read_then_fail(in_flight, body, None).await;
    assert!(wired.client.flush(Some(Duration::from_secs(5))));
    let events = raw_events(&raw);
    assert_eq!(events[0]["request"]["data"], "ok");
    assert!(events[0].get("_meta").is_none());
}
