//! The scenarios, written once for every adapter (see `main.rs` for how a
//! harness runs them).

use std::collections::HashMap;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::Downstream;
use crate::fixture::{Fixture, Reply, reply, trace_of};
use crate::harness::{Harness, Placement};
// The Sentry Logs scenarios live in their own file.
pub use crate::database::*;
pub use crate::logs::*;
// So do the scenarios at scale.
pub use crate::scale::*;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

fn valid_request_id(reply: &Reply) -> &str {
    let id = reply
        .request_id
        .as_deref()
        .unwrap_or_else(|| panic!("no x-request-id on {reply:?}"));
    lookout_headers::RequestId::validate(id).expect("a valid request id");
    id
}

pub async fn continues_python_sdk_traces<H: Harness>() {
    let produced =
        tokio::task::spawn_blocking(|| lookout_tests::python::interop("produce", &json!({})))
            .await
            .unwrap();
    let fx = Fixture::start::<H>(&[]).await;
    // Deferred: the decision is ours (every trace sampled in the suite).
    let cases = [
        ("sampled", true),
        ("unsampled", false),
        ("deferred", true),
        ("mixed", true),
    ];
    let mut by_trace = HashMap::new();
    for (case, sampled) in cases {
        let headers = &produced[case];
        let sentry_trace = headers["sentry-trace"].as_str().unwrap();
        let baggage = headers["baggage"].as_str().unwrap();
        let reply = fx
            .get(
                "/users/7",
                &[
                    ("sentry-trace", sentry_trace.as_bytes()),
                    ("baggage", baggage.as_bytes()),
                ],
            )
            .await;
        assert_eq!(reply.status, 200, "{case}");
        valid_request_id(&reply);
        let seen = reply.json();
        assert_eq!(seen["trace_id"], &sentry_trace[..32], "{}: {case}", H::NAME);
        assert_eq!(seen["parent_span_id"], &sentry_trace[33..49], "{case}");
        assert_eq!(seen["sampled"], sampled, "{case}");
        by_trace.insert(sentry_trace[..32].to_owned(), (case, headers.clone()));
    }
    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 3, "all but the unsampled trace");
    for (tx, dsc) in transactions {
        let trace = trace_of(&tx.contexts);
        let (case, headers) = &by_trace[&trace.trace_id.to_string()];
        assert_ne!(*case, "unsampled");
        assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"), "{case}");
        let sentry_trace = headers["sentry-trace"].as_str().unwrap();
        assert_eq!(
            trace.parent_span_id.map(|s| s.to_string()).as_deref(),
            Some(&sentry_trace[33..49])
        );
        // The caller's DSC, frozen, is what the envelope carries.
        let dsc = dsc.unwrap_or_else(|| {
            let headers: Vec<_> = fx
                .receiver
                .envelopes()
                .iter()
                .map(|e| serde_json::to_string(e.headers()).unwrap())
                .collect();
            panic!("{case}: envelope without DSC: {headers:?}")
        });
        let python: &serde_json::Map<String, Value> = headers["dsc"].as_object().unwrap();
        // The Python SDK sends these (a deferred decision has no transaction
        // yet: no name and no sample_rand); each must be there, so that the
        // comparison below compares something.
        let started = *case != "deferred";
        let mut keys = vec!["trace_id", "public_key", "release", "environment"];
        if started {
            keys.push("transaction");
        }
        for key in keys {
            let value = python
                .get(key)
                .unwrap_or_else(|| panic!("{case}: the Python SDK sent no DSC {key}: {python:?}"));
            assert_eq!(dsc[key], *value, "{}: {case}: DSC {key}", H::NAME);
        }
        if started {
            let rand = python
                .get("sample_rand")
                .and_then(Value::as_str)
                .unwrap_or_else(|| {
                    panic!("{case}: the Python SDK sent no sample_rand: {python:?}")
                });
            let ours: f64 = dsc["sample_rand"].as_str().unwrap().parse().unwrap();
            assert!(
                (ours - rand.parse::<f64>().unwrap()).abs() < 1e-9,
                "{case}: sample_rand"
            );
        }
        assert!(
            !dsc.to_string().contains("other-vendor"),
            "third-party baggage is not part of the DSC"
        );
    }
}

pub async fn continues_traceparent_only<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let w3c_trace = "0af7651916cd43dd8448eb211c80319c";
    for (flags, sampled) in [("01", true), ("00", false)] {
        let traceparent = format!("00-{w3c_trace}-b7ad6b7169203331-{flags}");
        let reply = fx
            .get(
                "/echo",
                &[
                    ("traceparent", traceparent.as_bytes()),
                    ("tracestate", b"rojo=00f067aa0ba902b7"),
                ],
            )
            .await;
        assert_eq!(reply.status, 200);
        let seen = reply.json();
        assert_eq!(seen["trace_id"], w3c_trace, "{}", H::NAME);
        assert_eq!(seen["parent_span_id"], "b7ad6b7169203331");
        assert_eq!(seen["sampled"], sampled, "flags {flags}");
    }
    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 1, "only the sampled one");
    let trace = trace_of(&transactions[0].0.contexts);
    assert_eq!(trace.trace_id.to_string(), w3c_trace);
    assert_eq!(
        trace.parent_span_id.map(|s| s.to_string()).as_deref(),
        Some("b7ad6b7169203331")
    );
}

pub async fn malformed_headers_are_answered_with_a_new_trace<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let valid = format!("{TRACE}-{PARENT}-1");
    let long_baggage = format!("sentry-trace_id={TRACE},{}", "k=v,".repeat(3000));
    let many_members: String = (0..200).map(|i| format!("m{i}=v,")).collect();
    let cases: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![(
            "sentry-trace",
            format!("{}-{}-1", TRACE.to_uppercase(), PARENT.to_uppercase()).into_bytes(),
        )],
        vec![("sentry-trace", b"not-a-trace".to_vec())],
        vec![("sentry-trace", format!("{TRACE}-{PARENT}-2").into_bytes())],
        vec![("sentry-trace", format!("{TRACE}x-{PARENT}-1").into_bytes())],
        vec![("sentry-trace", format!("bad, {valid}").into_bytes())],
        vec![("sentry-trace", b"\xff\xfe\x80-1".to_vec())],
        vec![("sentry-trace", vec![b'a'; 8000])],
        vec![("sentry-trace", b"".to_vec())],
        vec![("sentry-trace", b"-".to_vec())],
        vec![(
            "traceparent",
            format!("ff-{TRACE}-{PARENT}-01").into_bytes(),
        )],
        vec![(
            "traceparent",
            format!("00-{}-{PARENT}-01", "0".repeat(32)).into_bytes(),
        )],
        vec![(
            "traceparent",
            format!("00-{TRACE}-{}-01", "0".repeat(16)).into_bytes(),
        )],
        vec![(
            "traceparent",
            format!("00-{TRACE}-{PARENT}-01-extra").into_bytes(),
        )],
        vec![("traceparent", format!("00-{TRACE}-{PARENT}").into_bytes())],
        vec![
            (
                "traceparent",
                format!("00-{TRACE}-{PARENT}-01").into_bytes(),
            ),
            (
                "traceparent",
                format!("00-{TRACE}-{PARENT}-00").into_bytes(),
            ),
        ],
        vec![("tracestate", b"rojo=00f067aa0ba902b7".to_vec())],
        vec![("baggage", b"%%%,===,;;;".to_vec())],
        vec![("baggage", long_baggage.into_bytes())],
        vec![("baggage", many_members.into_bytes())],
        vec![("baggage", b"sentry-trace_id=\xff\xfe".to_vec())],
        vec![
            ("sentry-trace", b"zzz".to_vec()),
            (
                "baggage",
                format!("sentry-trace_id={TRACE},sentry-sampled=true").into_bytes(),
            ),
            ("traceparent", b"garbage".to_vec()),
            ("tracestate", b"=,=,=".to_vec()),
        ],
    ];
    for headers in &cases {
        let borrowed: Vec<(&str, &[u8])> =
            headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        let reply = fx.get("/echo", &borrowed).await;
        let shown: Vec<_> = headers
            .iter()
            .map(|(n, v)| {
                (
                    n,
                    String::from_utf8_lossy(&v[..v.len().min(60)]).into_owned(),
                )
            })
            .collect();
        assert_eq!(reply.status, 200, "{}: {shown:?}", H::NAME);
        valid_request_id(&reply);
        let seen = reply.json();
        assert_ne!(seen["trace_id"], TRACE, "a new trace for {shown:?}");
        assert!(seen["parent_span_id"].is_null(), "no parent for {shown:?}");
    }
}

pub async fn identified_user_and_role_reach_the_event<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/identify/u-42?role=admin", &[]).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["user"], "u-42");
    let request_id = valid_request_id(&reply).to_owned();
    let events = fx.events();
    assert_eq!(events.len(), 1, "{}", H::NAME);
    let event = &events[0];
    assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("u-42"));
    assert_eq!(event.tags["user_role"], "admin");
    assert_eq!(event.tags["authenticated"], "true");
    assert_eq!(event.tags["request_id"], request_id);
    assert_eq!(event.tags["http.route"], "/identify/{id}");
}

/// The frames of a stack trace as `(function, in_app)`, oldest first.
fn frames(stacktrace: Option<&sentry_types::protocol::v7::Stacktrace>) -> Vec<(String, bool)> {
    stacktrace
        .map(|s| {
            s.frames
                .iter()
                .map(|f| {
                    (
                        f.function.clone().unwrap_or_default(),
                        f.in_app == Some(true),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A stack trace as Sentry shows it: the application's frames in-app, the
/// newest in-app one matching `site`; lookout's, the runtime's and the
/// framework's frames not in-app; nothing above lookout's instrumentation.
fn assert_frames<H: Harness>(frames: &[(String, bool)], site: &str, what: &str) {
    assert!(!frames.is_empty(), "{}: {what} has no frames", H::NAME);
    let in_app: Vec<&str> = frames
        .iter()
        .filter(|f| f.1)
        .map(|f| f.0.as_str())
        .collect();
    assert!(
        in_app.last().is_some_and(|f| f.contains(site)),
        "{}: {what}: the newest in-app frame is {site}: {in_app:?} of {frames:?}",
        H::NAME
    );
    for function in &in_app {
        let crate_name = function
            .trim_start_matches('<')
            .split("::")
            .next()
            .unwrap_or_default();
        assert!(
            !crate_name.starts_with("lookout")
                && ![
                    "tokio",
                    "axum",
                    "actix_web",
                    "actix_http",
                    "warp",
                    "hyper",
                    "tower",
                    "std",
                    "core"
                ]
                .contains(&crate_name),
            "{}: {what}: {function} is marked in-app",
            H::NAME
        );
    }
    assert!(
        !frames.iter().any(|f| f.0.contains("tokio::runtime")),
        "{}: {what}: the runtime's frames above the handler are trimmed: {frames:?}",
        H::NAME
    );
}

/// The runtime contexts and `server_name` every event carries.
fn assert_runtime_contexts<H: Harness>(event: &sentry_types::protocol::v7::Event<'_>) {
    for context in ["os", "rust", "app"] {
        assert!(
            event.contexts.contains_key(context),
            "{}: no {context} context: {:?}",
            H::NAME,
            event.contexts.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        event.server_name.as_deref().is_some_and(|s| !s.is_empty()),
        "{}: server_name",
        H::NAME
    );
    let app = serde_json::to_value(&event.contexts["app"]).unwrap();
    assert!(app["app_start_time"].is_string(), "{app}");
    assert!(app["build_type"].is_string(), "{app}");
}

pub async fn a_logged_error_has_its_capture_sites_frames_and_the_runtime_contexts<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/echo",
            &[("x-request-id", crate::app::ERROR_LINE_REQUEST_ID.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 200);
    let events = fx.events();
    let event = events
        .iter()
        .find(|e| {
            e.message.as_deref() == Some("payment declined")
                || e.logentry
                    .as_ref()
                    .is_some_and(|l| l.message == "payment declined")
        })
        .unwrap_or_else(|| panic!("{}: no event for the error line: {events:?}", H::NAME));
    let thread = event
        .threads
        .values
        .iter()
        .find(|t| t.stacktrace.is_some())
        .unwrap_or_else(|| panic!("{}: the error line's event has no thread stack", H::NAME));
    assert_frames::<H>(
        &frames(thread.stacktrace.as_ref()),
        "log_an_error",
        "the error line",
    );
    assert_runtime_contexts::<H>(event);
}

/// Every event captured inside a request (a `tracing::error!` line, a
/// handled error and a message captured by hand, a panic, a typed 5xx)
/// carries the request data its transaction carries: method, URL, query
/// string and headers, all scrubbed (no cookie, credential or token value).
pub async fn every_event_in_a_request_carries_its_url_and_scrubbed_headers<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let secrets: [(&str, &[u8]); 4] = [
        ("accept", b"application/json"),
        ("cookie", b"sessionid=cookie-secret"),
        ("authorization", b"Bearer bearer-secret"),
        ("x-api-key", b"key-secret"),
    ];
    let with = |id: &'static str| {
        let mut headers = secrets.to_vec();
        headers.push(("x-request-id", id.as_bytes()));
        headers
    };
    let query = "?page=2&token=token-secret";
    for (path, id) in [
        ("/echo", crate::app::ERROR_LINE_REQUEST_ID),
        ("/echo", crate::app::BY_HAND_REQUEST_ID),
        ("/panic", "panic-request"),
        ("/db", "db-request"),
    ] {
        fx.get(&format!("{path}{query}"), &with(id)).await;
    }
    let events = fx.events();
    assert_eq!(
        events.len(),
        5,
        "{}: the error line, the handled error and message, the panic, the 503: {events:?}",
        H::NAME
    );
    for event in &events {
        let id = &event.tags["request_id"];
        let request = event
            .request
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no request data on {id}'s event", H::NAME));
        let path = match id.as_str() {
            "panic-request" => "/panic",
            "db-request" => "/db",
            _ => "/echo",
        };
        assert_eq!(
            request.url.as_ref().map(|u| u.as_str().to_owned()),
            Some(format!("http://{}{path}", fx.server.addr)),
            "{}: {id}",
            H::NAME
        );
        assert_eq!(request.method.as_deref(), Some("GET"), "{}: {id}", H::NAME);
        assert_eq!(
            request.query_string.as_deref(),
            Some("page=2&token=[Filtered]"),
            "{}: {id}",
            H::NAME
        );
        assert_eq!(
            request.headers["accept"],
            "application/json",
            "{}: {id}",
            H::NAME
        );
        assert_eq!(request.headers["x-request-id"], id.as_str());
        for secret in ["cookie", "authorization", "x-api-key"] {
            assert_eq!(
                request.headers[secret],
                "[Filtered]",
                "{}: {id}: {secret}",
                H::NAME
            );
        }
        let raw = serde_json::to_string(event).unwrap();
        assert!(!raw.contains("-secret"), "{}: {id}: {raw}", H::NAME);
    }
    // The same data as the request's transaction.
    let (db_tx, _) = fx
        .transactions()
        .into_iter()
        .find(|(tx, _)| tx.tags.get("request_id").map(String::as_str) == Some("db-request"))
        .expect("the 503's transaction");
    let db_event = events
        .iter()
        .find(|e| e.tags["request_id"] == "db-request")
        .unwrap();
    let (from_tx, from_event) = (db_tx.request.unwrap(), db_event.request.clone().unwrap());
    assert_eq!(from_event.url, from_tx.url, "{}", H::NAME);
    assert_eq!(from_event.headers, from_tx.headers, "{}", H::NAME);
}

pub async fn tags_contexts_errors_and_messages_by_hand_go_through_the_request<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/echo",
            &[("x-request-id", crate::app::BY_HAND_REQUEST_ID.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 200);
    let events = fx.events();
    assert_eq!(
        events.len(),
        2,
        "{}: the error and the message: {events:?}",
        H::NAME
    );
    for event in &events {
        assert_eq!(event.tags["tenant"], "acme", "{}", H::NAME);
        assert_eq!(event.tags["request_id"], crate::app::BY_HAND_REQUEST_ID);
        assert_eq!(event.tags["authenticated"], "true");
        let user = event.user.as_ref().expect("the request's user");
        assert_eq!(user.id.as_deref(), Some("u-hand"));
        assert_eq!(user.email, None, "{}: PII off: no email", H::NAME);
        let order = serde_json::to_value(&event.contexts["order"]).unwrap();
        assert_eq!(order["id"], 7, "{order}");
        assert_eq!(
            order["password"],
            "[Filtered]",
            "{}: scrubbed: {order}",
            H::NAME
        );
    }
    let error = events
        .iter()
        .find(|e| !e.exception.is_empty())
        .unwrap_or_else(|| panic!("{}: no handled error", H::NAME));
    assert_eq!(
        error.tags["error_type"],
        "database",
        "{}: the classifiers' error type",
        H::NAME
    );
    let main = error.exception.values.last().unwrap();
    assert_eq!(main.ty, "DbError");
    assert_eq!(main.mechanism.as_ref().and_then(|m| m.handled), Some(true));
    assert_frames::<H>(
        &frames(main.stacktrace.as_ref()),
        "by_hand",
        "the handled error",
    );
    let message = events.iter().find(|e| e.exception.is_empty()).unwrap();
    assert_eq!(message.level, sentry_types::protocol::v7::Level::Warning);
    let thread = message
        .threads
        .values
        .iter()
        .find(|t| t.stacktrace.is_some())
        .expect("frames");
    assert_frames::<H>(
        &frames(thread.stacktrace.as_ref()),
        "by_hand",
        "the message",
    );
}

pub async fn typed_server_errors_are_captured_with_their_error_type<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/db", &[]).await;
    assert_eq!(reply.status, 503);
    valid_request_id(&reply);
    let events = fx.events();
    assert_eq!(events.len(), 1, "{}", H::NAME);
    let event = &events[0];
    assert_eq!(event.tags["error_type"], "database");
    assert_eq!(event.tags["http.route"], "/db");
    let types: Vec<_> = event
        .exception
        .values
        .iter()
        .map(|e| e.ty.as_str())
        .collect();
    assert!(types.contains(&"DbError"), "{types:?}");
    // Frames of where the error became the 503 (the app's error hook), on
    // the main exception.
    let main = event.exception.values.last().unwrap();
    let frames = frames(main.stacktrace.as_ref());
    if H::NAME == "actix" {
        // actix-web turns the handler's `Err` into its error after the
        // handler returned: the frames are actix's own, none in-app.
        assert!(!frames.is_empty(), "actix: the typed error has frames");
        assert!(frames.iter().all(|f| !f.1), "actix: {frames:?}");
    } else {
        assert_frames::<H>(&frames, "_app::", "the typed error");
    }
    assert_runtime_contexts::<H>(event);
}

pub async fn a_panic_is_captured_and_the_server_keeps_serving<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/panic", &[]).await;
    assert_eq!(reply.status, 500);
    valid_request_id(&reply);
    for _ in 0..3 {
        assert_eq!(fx.get("/echo", &[]).await.status, 200);
    }
    let events = fx.events();
    assert_eq!(events.len(), 1, "{}", H::NAME);
    assert_eq!(events[0].tags["error_type"], "panic");
    let main = events[0].exception.values.last().unwrap();
    assert_eq!(main.value.as_deref(), Some("scenario handler panicked"));
    // Frames from the panic site: the handler is the newest in-app frame.
    assert_frames::<H>(&frames(main.stacktrace.as_ref()), "_app::", "the panic");
}

/// Sends raw bytes (what a client library would refuse to send) and returns
/// the raw answer.
async fn raw(fx: &Fixture, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(fx.server.addr)
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

pub async fn request_ids_are_accepted_or_regenerated_never_echoed<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let long_ok = "y".repeat(128);
    let too_long = "x".repeat(200);
    let cases: [(&[u8], bool); 7] = [
        (b"req-1.a:b_C", true),
        (long_ok.as_bytes(), true),
        (too_long.as_bytes(), false),
        (b"has space", false),
        (b"semi;colon<script>", false),
        (b"caf\xc3\xa9", false),
        (b"%0d%0aSet-Cookie:%20x", false),
    ];
    for (incoming, kept) in cases {
        let reply = fx.get("/echo", &[("x-request-id", incoming)]).await;
        let id = valid_request_id(&reply);
        let shown = String::from_utf8_lossy(incoming);
        assert_eq!(id.as_bytes() == incoming, kept, "{}: {shown}", H::NAME);
        assert_eq!(
            reply.json()["request_id"],
            id,
            "the handler sees the same id"
        );
    }
    // CR and LF inside the value, sent raw: the part after the break is
    // never echoed and never becomes a response header.
    for header in [
        &b"X-Request-Id: ok-1\rInjected: yes"[..],
        b"X-Request-Id: ok-1\r\n Injected: folded",
        b"X-Request-Id: ok-1\nInjected: yes",
        b"X-Request-Id: \r\nInjected: yes",
    ] {
        let mut request = b"GET /echo HTTP/1.1\r\nHost: localhost\r\n".to_vec();
        request.extend_from_slice(header);
        request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        let answer = raw(&fx, &request).await;
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(!head.contains("injected"), "injected: {answer:?}");
        if head.starts_with("http/1.1 200") {
            let line = head
                .lines()
                .find(|l| l.starts_with("x-request-id:"))
                .expect("x-request-id on the answer");
            let id = line["x-request-id:".len()..].trim();
            lookout_headers::RequestId::validate(id).expect("a valid id");
            assert!(!id.contains("injected") && !id.contains("folded"), "{id}");
        }
    }
}

pub async fn every_response_has_a_request_id<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    for (path, status) in [
        ("/echo", 200),
        ("/users/1", 200),
        ("/identify/x", 500),
        ("/missing/1", 404),
        ("/db", 503),
        ("/panic", 500),
        ("/nope", 404),
    ] {
        let reply = fx.get(path, &[]).await;
        assert_eq!(reply.status, status, "{}: {path}", H::NAME);
        valid_request_id(&reply);
    }
    let post = reply(fx.http.post(fx.url("/echo")).send().await.unwrap()).await;
    assert_eq!(post.status, 405);
    valid_request_id(&post);
}

pub async fn outgoing_calls_from_a_handler_carry_the_trace<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let downstream = Downstream::start().await;
    let url = format!("http://{}/seen", downstream.addr);
    let path = format!("/call?url={}", percent_encode(&url));

    // A continued trace: the caller's trace and its frozen DSC go on; a third
    // party's baggage members do not.
    let incoming = format!("{TRACE}-{PARENT}-1");
    let baggage = format!("sentry-trace_id={TRACE},sentry-public_key=frontend,other-vendor=x");
    let reply = fx
        .get(
            &path,
            &[
                ("sentry-trace", incoming.as_bytes()),
                ("baggage", baggage.as_bytes()),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    let seen = reply.json();
    let sentry_trace = seen["sentry-trace"].as_str().expect("sentry-trace sent");
    assert!(
        sentry_trace.starts_with(&format!("{TRACE}-")),
        "{sentry_trace}"
    );
    assert!(sentry_trace.ends_with("-1"), "{sentry_trace}");
    assert!(!sentry_trace.contains(PARENT), "our span, not the caller's");
    let sent_baggage = seen["baggage"].as_str().expect("baggage sent");
    assert!(
        sent_baggage.contains(&format!("sentry-trace_id={TRACE}")),
        "{sent_baggage}"
    );
    assert!(
        sent_baggage.contains("sentry-public_key=frontend"),
        "{sent_baggage}"
    );
    assert!(!sent_baggage.contains("other-vendor"), "{sent_baggage}");
    let traceparent = seen["traceparent"].as_str().expect("traceparent sent");
    assert!(
        traceparent.starts_with(&format!("00-{TRACE}-")),
        "{traceparent}"
    );
    assert_eq!(
        &traceparent[36..52],
        &sentry_trace[33..49],
        "same span in both"
    );

    // A trace that starts here: our own DSC goes out.
    let reply = fx.get(&path, &[]).await;
    let seen = reply.json();
    let sentry_trace = seen["sentry-trace"].as_str().expect("sentry-trace sent");
    let sent_baggage = seen["baggage"].as_str().expect("baggage sent");
    assert!(
        sent_baggage.contains(&format!("sentry-trace_id={}", &sentry_trace[..32])),
        "{sent_baggage}"
    );
    assert!(
        sent_baggage.contains("sentry-public_key=public"),
        "{sent_baggage}"
    );
    assert!(
        sent_baggage.contains("sentry-transaction=GET%20%2Fcall"),
        "{sent_baggage}"
    );
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn concurrent_users_are_never_cross_attributed<H: Harness>() {
    const REQUESTS: usize = 2_000;
    let fx = Fixture::start::<H>(&[("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).await;
    let fx = std::sync::Arc::new(fx);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..REQUESTS {
        let fx = std::sync::Arc::clone(&fx);
        tasks.spawn(async move {
            let user = format!("user-{n}");
            let reply = fx.get(&format!("/identify/{user}?role=r{n}"), &[]).await;
            (user, reply)
        });
    }
    let mut user_of_request = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (user, reply) = done.unwrap();
        assert_eq!(reply.status, 500);
        let id = valid_request_id(&reply).to_owned();
        let seen = reply.json();
        assert_eq!(seen["user"], user, "the handler saw its own user");
        assert_eq!(seen["request_id"], id);
        assert!(
            user_of_request.insert(id, user).is_none(),
            "request ids are unique"
        );
    }
    let events = fx.events();
    assert_eq!(events.len(), REQUESTS, "{}", H::NAME);
    let mut mismatches = 0;
    for event in &events {
        let request_id = &event.tags["request_id"];
        let expected = &user_of_request[request_id];
        let user = event.user.as_ref().and_then(|u| u.id.as_deref());
        let role = event.tags.get("user_role").map(String::as_str);
        if user != Some(expected.as_str()) || role != Some(&format!("r{}", &expected[5..])) {
            mismatches += 1;
        }
    }
    assert_eq!(mismatches, 0, "events attributed to another request's user");
}

fn status_of(
    tx: &sentry_types::protocol::v7::Transaction<'_>,
) -> Option<sentry_types::protocol::v7::SpanStatus> {
    trace_of(&tx.contexts).status
}

pub async fn the_body_streams_inside_the_request_and_the_transaction_ends_with_it<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/stream", &[]).await;
    assert_eq!(reply.status, 200, "{}", H::NAME);
    let id = valid_request_id(&reply).to_owned();
    let chunks: Vec<&str> = reply.body.lines().collect();
    assert_eq!(chunks.len(), crate::app::STREAM_CHUNKS, "{:?}", reply.body);
    assert!(
        chunks.iter().all(|chunk| *chunk == id),
        "every chunk was produced inside its request: {chunks:?}"
    );
    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 1, "{}", H::NAME);
    let tx = &transactions[0].0;
    assert_eq!(tx.name.as_deref(), Some("GET /stream"));
    assert_eq!(
        status_of(tx),
        Some(sentry_types::protocol::v7::SpanStatus::Ok)
    );
    assert!(
        tx.spans
            .iter()
            .any(|span| span.op.as_deref() == Some("body.last_chunk")),
        "{}: the transaction was still open when the last chunk was produced: {:?}",
        H::NAME,
        tx.spans.iter().map(|s| s.op.clone()).collect::<Vec<_>>()
    );
}

pub async fn a_body_dropped_early_ends_the_transaction_as_cancelled<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let mut response = fx.send("/stall", &[]).await;
    assert_eq!(response.status().as_u16(), 200, "{}", H::NAME);
    let first = response
        .chunk()
        .await
        .expect("the first chunk")
        .expect("a chunk");
    assert!(!first.is_empty());
    // The client goes away mid-body.
    drop(response);
    let transactions = fx.wait_for_transactions(1).await;
    assert_eq!(
        transactions.len(),
        1,
        "{}: the dropped body ended its transaction",
        H::NAME
    );
    let tx = &transactions[0].0;
    assert_eq!(tx.name.as_deref(), Some("GET /stall"));
    assert_eq!(
        status_of(tx),
        Some(sentry_types::protocol::v7::SpanStatus::Cancelled),
        "{}",
        H::NAME
    );
}

pub async fn a_middleware_outside_routing_learns_the_route_from_inside<H: Harness>() {
    let fx = Fixture::start_placed::<H>(&[], Placement::OutsideRouting).await;
    // The handler extracts `CurrentRequest`: that tells the middleware the template.
    let reply = fx.get("/users/7", &[]).await;
    assert_eq!(reply.status, 200, "{}", H::NAME);
    let reply = fx.get("/me", &[]).await;
    assert_eq!(reply.status, 200, "{}", H::NAME);
    let mut named: Vec<(String, String)> = fx
        .transactions()
        .into_iter()
        .map(|(tx, _)| {
            (
                tx.name.clone().unwrap_or_default(),
                tx.tags
                    .get("transaction.source")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            ("GET /me".to_owned(), "route".to_owned()),
            ("GET /users/{id}".to_owned(), "route".to_owned()),
        ],
        "{}: one transaction per request, named by its route",
        H::NAME
    );
}

pub async fn current_request_identifies_from_middleware_and_reads_in_the_handler<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/me",
            &[
                ("authorization", b"Bearer u-7"),
                ("x-request-id", b"req-me-1"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    assert_eq!(reply.request_id.as_deref(), Some("req-me-1"));
    let seen = reply.json();
    assert_eq!(seen["request_id"], "req-me-1");
    assert_eq!(
        seen["user"], "u-7",
        "the handler sees the user the middleware identified"
    );
    assert_eq!(seen["same_as_current"], true);
    assert_eq!(seen["trace_id"].as_str().map(str::len), Some(32));

    let anonymous = fx.get("/me", &[]).await.json();
    assert_eq!(
        anonymous["user"],
        Value::Null,
        "no user leaks into the next request"
    );

    let reply = fx
        .get("/me?status=500", &[("authorization", b"Bearer u-8")])
        .await;
    assert_eq!(reply.status, 500);
    let events = fx.events();
    assert_eq!(events.len(), 1, "{}", H::NAME);
    let event = &events[0];
    assert_eq!(
        event.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("u-8")
    );
    assert_eq!(event.tags["authenticated"], "true");
    assert_eq!(event.tags["user_role"], "member");
    assert_eq!(event.tags["http.route"], "/me");
}

/// The `http.client` spans of a transaction, by span id.
fn client_spans(
    tx: &sentry_types::protocol::v7::Transaction<'_>,
) -> HashMap<String, sentry_types::protocol::v7::Span> {
    tx.spans
        .iter()
        .filter(|span| span.op.as_deref() == Some("http.client"))
        .map(|span| (span.span_id.to_string(), span.clone()))
        .collect()
}

pub async fn each_outgoing_call_is_its_own_span<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let downstream = Downstream::start().await;
    let url = format!("http://{}/seen", downstream.addr);
    let incoming = format!("{TRACE}-{PARENT}-1");
    let reply = fx
        .get(
            &format!("/call?url={}", percent_encode(&url)),
            &[("sentry-trace", incoming.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    let seen = reply.json();
    let parent_of = |seen: &Value| -> String {
        let sentry_trace = seen["sentry-trace"].as_str().expect("sentry-trace sent");
        let traceparent = seen["traceparent"].as_str().expect("traceparent sent");
        assert_eq!(&sentry_trace[..32], TRACE);
        assert_eq!(
            &traceparent[36..52],
            &sentry_trace[33..49],
            "one span in both headers"
        );
        sentry_trace[33..49].to_owned()
    };
    let first = parent_of(&seen);
    let second = parent_of(&seen["second"]);
    assert_ne!(first, second, "{}: two calls, two parent ids", H::NAME);

    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0].0;
    let request_span = trace_of(&tx.contexts).span_id.to_string();
    assert_ne!(first, request_span, "a call's own span, not the request's");
    let spans = client_spans(tx);
    assert_eq!(spans.len(), 2, "{}: {:?}", H::NAME, tx.spans);
    let (a, b) = (&spans[&first], &spans[&second]);
    for span in [a, b] {
        assert_eq!(
            span.parent_span_id.map(|id| id.to_string()).as_deref(),
            Some(request_span.as_str()),
            "children of the request's span"
        );
        assert_eq!(span.data["http.request.method"], "GET");
        assert_eq!(span.data["server.address"], "127.0.0.1");
        assert_eq!(span.data["server.port"], u64::from(downstream.addr.port()));
        assert!(span.timestamp.is_some(), "ended");
    }
    assert_eq!(
        a.description.as_deref(),
        Some(format!("GET {url}").as_str())
    );
    assert_eq!(a.status, Some(sentry_types::protocol::v7::SpanStatus::Ok));
    assert_eq!(a.data["http.response.status_code"], 200);
    assert_eq!(a.data["sentry.origin"], "auto.http.reqwest");
    assert_eq!(
        b.description.as_deref(),
        Some(format!("GET {url}").as_str()),
        "no query"
    );
    assert_eq!(
        b.status,
        Some(sentry_types::protocol::v7::SpanStatus::Unavailable)
    );
    assert_eq!(b.data["http.response.status_code"], 503);
    assert_eq!(b.data["sentry.origin"], "manual");

    // Unsampled: each call still has its own parent id and carries `-0`.
    let unsampled = format!("{TRACE}-{PARENT}-0");
    let reply = fx
        .get(
            &format!("/call?url={}", percent_encode(&url)),
            &[("sentry-trace", unsampled.as_bytes())],
        )
        .await;
    let seen = reply.json();
    let (one, two) = (
        seen["sentry-trace"].as_str().unwrap().to_owned(),
        seen["second"]["sentry-trace"].as_str().unwrap().to_owned(),
    );
    assert!(one.ends_with("-0") && two.ends_with("-0"), "{one} {two}");
    assert_ne!(one, two);
    assert!(seen["traceparent"].as_str().unwrap().ends_with("-00"));
}

pub async fn a_transaction_carries_the_request_scope_and_no_secret<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .get(
            "/me?password=hunter2&token=tok-9f8e&page=2",
            &[
                ("authorization", b"Bearer u-7"),
                ("cookie", b"session=s3cr3t-cookie"),
                ("x-forwarded-for", b"203.0.113.7"),
                ("x-request-id", b"req-scope-1"),
                ("user-agent", b"scenario-agent/1.0"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}: {}", H::NAME, reply.body);
    let anonymous = fx.get("/me", &[("x-request-id", b"req-scope-2")]).await;
    assert_eq!(anonymous.status, 200);

    let transactions = fx.transactions();
    assert_eq!(transactions.len(), 2, "{}", H::NAME);
    let by_id: HashMap<String, _> = transactions
        .into_iter()
        .map(|(tx, _)| (tx.tags.get("request_id").cloned().unwrap_or_default(), tx))
        .collect();
    let tx = by_id
        .get("req-scope-1")
        .unwrap_or_else(|| panic!("{}: no request_id tag", H::NAME));
    assert_eq!(tx.user.as_ref().and_then(|u| u.id.as_deref()), Some("u-7"));
    assert_eq!(tx.tags["authenticated"], "true");
    assert_eq!(tx.tags["user_role"], "member");
    assert_eq!(tx.tags["http.route"], "/me");
    assert_eq!(tx.tags["http.request.method"], "GET");
    assert_eq!(tx.tags["http.status_code"], "200");
    let request = tx.request.as_ref().expect("the request data");
    assert_eq!(request.method.as_deref(), Some("GET"));
    let url = request.url.as_ref().expect("the URL").to_string();
    assert!(url.ends_with("/me"), "{url}");
    assert_eq!(
        request.headers.get("user-agent").map(String::as_str),
        Some("scenario-agent/1.0")
    );
    let query = request.query_string.as_deref().unwrap_or_default();
    assert!(query.contains("page=2"), "{query}");
    let wire = serde_json::to_string(tx).unwrap();
    for secret in [
        "hunter2",
        "tok-9f8e",
        "s3cr3t-cookie",
        "203.0.113.7",
        "Bearer",
    ] {
        assert!(
            !wire.contains(secret),
            "{}: `{secret}` reached Sentry: {wire}",
            H::NAME
        );
    }

    let anonymous = &by_id["req-scope-2"];
    assert_eq!(anonymous.tags["authenticated"], "false");
    assert!(anonymous.user.is_none());
    assert!(!anonymous.tags.contains_key("user_role"));
}

/// Waits (up to 20 s) until `events` events reached the receiver.
async fn wait_for_events(
    fx: &Fixture,
    count: usize,
) -> Vec<sentry_types::protocol::v7::Event<'static>> {
    for _ in 0..200 {
        let events = fx.events();
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    fx.events()
}

pub async fn a_background_job_continues_the_request_trace_with_its_decision<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let incoming = format!("{TRACE}-{PARENT}-1");
    let reply = fx
        .post(
            "/jobs/welcome?user=u-5",
            &[("sentry-trace", incoming.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 202, "{}: {}", H::NAME, reply.body);
    let job_id = reply.body.clone();
    let transactions = fx.wait_for_transactions(2).await;
    let job = transactions
        .iter()
        .map(|(tx, _)| tx)
        .find(|tx| tx.name.as_deref() == Some("send-welcome-email"))
        .unwrap_or_else(|| panic!("{}: no job transaction", H::NAME));
    let request = transactions
        .iter()
        .map(|(tx, _)| tx)
        .find(|tx| tx.name.as_deref() == Some("POST /jobs/welcome"))
        .expect("the request's transaction");
    let publish = request
        .spans
        .iter()
        .find(|span| span.op.as_deref() == Some("queue.publish"))
        .expect("the enqueueing span");
    let trace = trace_of(&job.contexts);
    assert_eq!(trace.trace_id.to_string(), TRACE, "the caller's trace");
    assert_eq!(trace.parent_span_id, Some(publish.span_id));
    assert_eq!(trace.op.as_deref(), Some("queue.process"));
    assert_eq!(job.tags["job"], "send-welcome-email");
    assert_eq!(job.tags["job.id"], job_id);
    assert_eq!(job.user.as_ref().and_then(|u| u.id.as_deref()), Some("u-5"));

    // An unsampled caller: neither the request nor its job is recorded.
    let fx = Fixture::start::<H>(&[]).await;
    let unsampled = format!("{TRACE}-{PARENT}-0");
    let reply = fx
        .post(
            "/jobs/welcome?fail=1",
            &[("sentry-trace", unsampled.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 202);
    let events = wait_for_events(&fx, 1).await;
    assert_eq!(events.len(), 1, "the failing job's event");
    assert!(
        fx.transactions().is_empty(),
        "{}: the decision is inherited",
        H::NAME
    );
}

pub async fn a_failing_job_is_captured_with_its_type_and_tags_on_the_request_trace<H: Harness>() {
    let fx = Fixture::start::<H>(&[("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).await;
    let incoming = format!("{TRACE}-{PARENT}-0");
    let reply = fx
        .post(
            "/jobs/welcome?user=u-9&fail=1",
            &[("sentry-trace", incoming.as_bytes())],
        )
        .await;
    assert_eq!(reply.status, 202, "{}", H::NAME);
    let events = wait_for_events(&fx, 1).await;
    assert_eq!(events.len(), 1, "{}", H::NAME);
    let event = &events[0];
    assert_eq!(event.tags["error_type"], "mail");
    assert_eq!(event.tags["job"], "send-welcome-email");
    assert_eq!(event.tags["job.id"], reply.body);
    assert_eq!(
        event.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("u-9")
    );
    assert_eq!(trace_of(&event.contexts).trace_id.to_string(), TRACE);
    assert!(event.request.is_none(), "a job is not an HTTP request");
}

pub async fn concurrent_jobs_with_different_users_never_mix<H: Harness>() {
    const JOBS: usize = 200;
    let fx =
        std::sync::Arc::new(Fixture::start::<H>(&[("SENTRY_TRACES_SAMPLE_RATE", "0.0")]).await);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..JOBS {
        let fx = std::sync::Arc::clone(&fx);
        tasks.spawn(async move {
            let reply = fx
                .post(&format!("/jobs/welcome?user=user-{n}&fail=1"), &[])
                .await;
            assert_eq!(reply.status, 202);
            (reply.body, format!("user-{n}"))
        });
    }
    let mut user_of_job = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (job_id, user) = done.unwrap();
        user_of_job.insert(job_id, user);
    }
    let events = wait_for_events(&fx, JOBS).await;
    assert_eq!(events.len(), JOBS, "{}", H::NAME);
    let mixed = events
        .iter()
        .filter(|event| {
            let expected = &user_of_job[&event.tags["job.id"]];
            event.user.as_ref().and_then(|u| u.id.as_deref()) != Some(expected.as_str())
        })
        .count();
    assert_eq!(
        mixed,
        0,
        "{}: job events attributed to another user",
        H::NAME
    );
}

/// SPEC-NOTES "Breadcrumbs": a request's events carry the lines logged
/// inside that request, and none logged outside it (at start-up, by a
/// background task); an event captured outside requests carries those.
pub async fn a_requests_event_carries_only_its_own_breadcrumbs<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    // Outside any request, with the client's Hub current (as `lookout::init`
    // binds it to the process): a start-up line and a background task's.
    sentry_core::Hub::run(fx.hub.clone(), || {
        tracing::info!(address = "127.0.0.1:8080", "listening on 127.0.0.1:8080");
    });
    let hub = fx.hub.clone();
    tokio::spawn(async move {
        sentry_core::Hub::run(hub, || {
            tracing::info!(user = "mallory", "synced mallory's inbox")
        });
    })
    .await
    .unwrap();
    // A failing request that logs two lines of its own.
    let reply = fx.get("/identify/7", &[("x-request-id", b"lines-2")]).await;
    assert_eq!(reply.status, 500);
    sentry_core::Hub::run(fx.hub.clone(), || {
        sentry_core::capture_message("outside any request", sentry_core::Level::Error);
    });
    fx.flush();
    let events = fx.events();
    let messages = |event: &sentry_core::protocol::Event<'_>| -> Vec<String> {
        event
            .breadcrumbs
            .iter()
            .filter_map(|crumb| crumb.message.clone())
            .collect()
    };
    let request = events
        .iter()
        .find(|e| e.tags.get("request_id").map(String::as_str) == Some("lines-2"))
        .unwrap_or_else(|| panic!("{}: no event of the failing request in {events:?}", H::NAME));
    let inside = messages(request);
    assert!(
        inside.iter().any(|m| m == "line 0") && inside.iter().any(|m| m == "line 1"),
        "{}: the request's own lines are its breadcrumbs: {inside:?}",
        H::NAME
    );
    for foreign in ["listening on 127.0.0.1:8080", "synced mallory's inbox"] {
        assert!(
            !inside.iter().any(|m| m == foreign),
            "{}: {foreign:?} was logged outside the request: {inside:?}",
            H::NAME
        );
    }
    let outside = events
        .iter()
        .find(|e| e.message.as_deref() == Some("outside any request"))
        .expect("the event captured outside requests");
    let outside = messages(outside);
    for process in ["listening on 127.0.0.1:8080", "synced mallory's inbox"] {
        assert!(
            outside.iter().any(|m| m == process),
            "{}: {process:?} is a breadcrumb of events outside requests: {outside:?}",
            H::NAME
        );
    }
    assert!(
        !outside.iter().any(|m| m == "line 0"),
        "{}: a request's line stays with the request: {outside:?}",
        H::NAME
    );
}
/// The one error event of `POST {path}`, as it arrived (JSON, with `_meta`).
fn event_of_post(fx: &Fixture, path: &str) -> Value {
    let name = format!("POST {path}");
    let events: Vec<Value> = fx
        .raw_events()
        .into_iter()
        .filter(|event| event["transaction"] == name.as_str())
        .collect();
    assert_eq!(events.len(), 1, "one event for {name}: {events:?}");
    events.into_iter().next().unwrap()
}

/// `POST /submit` with `body` (the handler reads it and fails with a 500):
/// the one event of that route, and its `request.data` parsed as JSON.
async fn failing_post_data<H: Harness>(
    fx: &Fixture,
    content_type: &str,
    body: Vec<u8>,
) -> (Value, Value) {
    let reply = fx.post_body("/submit", content_type, body).await;
    assert_eq!(reply.status, 500, "{}: {reply:?}", H::NAME);
    let event = event_of_post(fx, "/submit");
    let data: Value = serde_json::from_str(
        event["request"]["data"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no request.data in {event}", H::NAME)),
    )
    .unwrap();
    (event, data)
}

/// A JSON POST whose handler read the body and failed: the event carries
/// the body as `request.data`, its secret fields `[Filtered]`; the
/// transaction carries no body.
pub async fn a_failing_json_post_carries_its_body_with_secrets_filtered<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let body =
        json!({"item": "book", "quantity": 2, "card": {"password": "hunter2"}, "api_key": "k-123"});
    let (event, data) =
        failing_post_data::<H>(&fx, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(
        data,
        json!({"item": "book", "quantity": 2, "card": {"password": "[Filtered]"}, "api_key": "[Filtered]"}),
        "{}",
        H::NAME
    );
    let raw = event.to_string();
    assert!(!raw.contains("hunter2") && !raw.contains("k-123"), "{raw}");
    for (tx, _) in fx.transactions() {
        assert!(
            tx.request.as_ref().is_none_or(|r| r.data.is_none()),
            "{}: a transaction carries no body",
            H::NAME
        );
    }
    // A form body is a map of its fields, scrubbed the same way.
    let reply = fx
        .post_body(
            "/submit",
            "application/x-www-form-urlencoded",
            b"user=ada&password=hunter2".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 500);
    let events: Vec<Value> = fx
        .raw_events()
        .into_iter()
        .filter(|e| e["transaction"] == "POST /submit")
        .collect();
    let form: Value = serde_json::from_str(events[1]["request"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        form,
        json!({"user": "ada", "password": "[Filtered]"}),
        "{}",
        H::NAME
    );
}

/// A failing multipart POST (`multipart/form-data`, as a browser's form
/// with a file sends it): its text fields are `request.data`, scrubbed like
/// a form's; its file part is there empty, with Relay's `!raw` note on its
/// field (as sentry-python does); the file's bytes are nowhere in the event.
pub async fn a_failing_multipart_post_carries_its_text_fields_and_leaves_its_file_out<
    H: Harness,
>() {
    let fx = Fixture::start::<H>(&[]).await;
    let body = concat!(
        "--lookout-boundary\r\n",
        "Content-Disposition: form-data; name=\"title\"\r\n\r\n",
        "quarterly report\r\n",
        "--lookout-boundary\r\n",
        "Content-Disposition: form-data; name=\"api_key\"\r\n\r\n",
        "k-123\r\n",
        "--lookout-boundary\r\n",
        "Content-Disposition: form-data; name=\"report\"; filename=\"q3.csv\"\r\n",
        "Content-Type: text/csv\r\n\r\n",
        "region,revenue\nnorth,secret-figure\r\n",
        "--lookout-boundary--\r\n",
    );
    let (event, data) = failing_post_data::<H>(
        &fx,
        "multipart/form-data; boundary=lookout-boundary",
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        data,
        json!({"title": "quarterly report", "api_key": "[Filtered]", "report": ""}),
        "{}",
        H::NAME
    );
    assert_eq!(
        event["_meta"],
        json!({"request": {"data": {"report": {"": {"rem": [["!raw", "x"]]}}}}}),
        "{}",
        H::NAME
    );
    let raw = event.to_string();
    assert!(
        !raw.contains("secret-figure") && !raw.contains("k-123"),
        "{}: {raw}",
        H::NAME
    );
}

/// A body over `LOOKOUT_MAX_REQUEST_BODY_SIZE` (medium: 10,000 bytes) is
/// left out, with Relay's `_meta` note saying why.
pub async fn a_large_body_is_left_out_with_relays_note<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .post_body("/submit", "text/plain", vec![b'a'; 20_000])
        .await;
    assert_eq!(reply.status, 500, "{}", H::NAME);
    assert_eq!(reply.body, "read 20000 bytes, then failed");
    let event = event_of_post(&fx, "/submit");
    assert!(
        event["request"].get("data").is_none(),
        "{}: {event}",
        H::NAME
    );
    assert_eq!(
        event["_meta"],
        json!({"request": {"data": {"": {"rem": [["!config", "x"]]}}}}),
        "{}",
        H::NAME
    );
}

/// A body the handler never reads is not recorded: no `request.data`, no note.
pub async fn a_body_the_handler_never_reads_is_not_recorded<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx
        .post_body(
            "/submit/unread",
            "application/json",
            br#"{"password":"hunter2"}"#.to_vec(),
        )
        .await;
    assert_eq!(reply.status, 500, "{}", H::NAME);
    let event = event_of_post(&fx, "/submit/unread");
    assert!(
        event["request"].get("data").is_none() && event.get("_meta").is_none(),
        "{}: {event}",
        H::NAME
    );
}

/// `LOOKOUT_TRACE_IGNORE_STATUS_CODES` (default `401-404, 301-303,
/// 305-399`): a scanner's 404 sends no transaction; Sentry hears of it as an
/// `event_processor` discard; the request stays sampled (its event's DSC
/// says so). `""` keeps them all.
pub async fn a_request_answered_with_an_ignored_status_sends_no_transaction<H: Harness>() {
    let fx = Fixture::start::<H>(&[]).await;
    let reply = fx.get("/missing/wp-login.php", &[]).await;
    assert_eq!(reply.status, 404, "{}", H::NAME);
    // A later envelope carries the client report.
    assert_eq!(fx.get("/echo", &[]).await.status, 200);
    let names: Vec<_> = fx
        .transactions()
        .into_iter()
        .filter_map(|(tx, _)| tx.name)
        .collect();
    assert_eq!(names, ["GET /echo"], "{}", H::NAME);
    // The 404's body captured an event: its trace is still sampled.
    let probe = fx
        .receiver
        .envelopes()
        .into_iter()
        .find(|e| {
            e.event().is_some_and(|ev| {
                ev.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("probe"))
            })
        })
        .expect("the probe event");
    let dsc = serde_json::to_value(probe.headers()).unwrap()["trace"].clone();
    assert_eq!(dsc["sampled"], "true", "{}: {dsc}", H::NAME);
    fx.shut_down(std::time::Duration::from_secs(5));
    let discarded = fx.receiver.discarded();
    let count = |category: &str| {
        discarded
            .iter()
            .filter(|(reason, c, _)| reason == "event_processor" && c == category)
            .map(|(_, _, n)| n)
            .sum::<u64>()
    };
    assert_eq!(count("transaction"), 1, "{}: {discarded:?}", H::NAME);
    assert!(count("span") >= 1, "{}: {discarded:?}", H::NAME);

    let fx = Fixture::start::<H>(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")]).await;
    assert_eq!(fx.get("/missing/wp-login.php", &[]).await.status, 404);
    let names: Vec<_> = fx
        .transactions()
        .into_iter()
        .filter_map(|(tx, _)| tx.name)
        .collect();
    assert_eq!(names, ["GET /missing/{id}"], "{}", H::NAME);
}
