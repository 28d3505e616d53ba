//! Interoperability of lookout-headers with the official Python SDK.
//!
//! (a) Python writes `sentry-trace` + `baggage` for sampled, unsampled,
//! deferred and mixed (third-party members) traces; lookout must read the
//! same ids, decision and DSC values the SDK itself reads back.
//! (b) lookout writes them; Python's `continue_trace` must continue the same
//! trace with the same decision and DSC.

use lookout_headers::{
    DscView, DynamicSamplingContext, SentryTrace, SpanId, TraceId, write_baggage,
};
use lookout_tests::python::interop;
use serde_json::{Map, Value, json};

/// The DSC fields of `view` as the strings Python keeps them as.
fn dsc_as_strings(dsc: &DynamicSamplingContext) -> Map<String, Value> {
    match serde_json::to_value(dsc).expect("DSC serializes") {
        Value::Object(map) => map,
        other => panic!("DSC serialized to {other}"),
    }
}

/// Compares numbers by value ("1.0" and "1" are the same rate) and text exactly.
fn assert_same_dsc(ours: &Map<String, Value>, python: &Map<String, Value>, case: &str) {
    let keys: std::collections::BTreeSet<&String> = ours.keys().chain(python.keys()).collect();
    for key in keys {
        let (a, b) = (ours.get(key), python.get(key));
        let same = match (a.and_then(Value::as_str), b.and_then(Value::as_str)) {
            (Some(x), Some(y)) if key == "sample_rate" || key == "sample_rand" => {
                x.parse::<f64>().ok() == y.parse::<f64>().ok()
            }
            (x, y) => x == y,
        };
        assert!(same, "{case}: DSC field {key}: lookout {a:?}, python {b:?}");
    }
}

#[test]
fn lookout_reads_what_the_python_sdk_writes() {
    let produced = interop("produce", &json!({}));
    let expectations = [
        ("sampled", Some(true)),
        ("unsampled", Some(false)),
        ("deferred", None),
        ("mixed", Some(true)),
    ];
    for (case, sampled) in expectations {
        let headers = &produced[case];
        let sentry_trace = headers["sentry-trace"].as_str().expect("sentry-trace");
        let baggage = headers["baggage"].as_str().expect("baggage");
        let trace = SentryTrace::from_values([sentry_trace])
            .expect("python's sentry-trace parses")
            .expect("present");
        let (trace_hex, span_hex) = (&sentry_trace[..32], &sentry_trace[33..49]);
        assert_eq!(
            trace.trace_id,
            Some(trace_hex.parse::<TraceId>().unwrap()),
            "{case}"
        );
        assert_eq!(
            trace.parent_span_id,
            Some(span_hex.parse::<SpanId>().unwrap()),
            "{case}"
        );
        assert_eq!(trace.sampled, sampled, "{case}");

        let dsc = DscView::from_baggage([baggage]).to_owned();
        assert_eq!(dsc.trace_id, trace.trace_id, "{case}: DSC trace id");
        let python_dsc = headers["dsc"].as_object().expect("python dsc");
        assert_same_dsc(&dsc_as_strings(&dsc), python_dsc, case);
        assert_eq!(dsc.sampled, sampled, "{case}: DSC sampled");
    }
    // Third-party members are read but are not part of the DSC.
    let mixed = DscView::from_baggage([produced["mixed"]["baggage"].as_str().unwrap()]).to_owned();
    assert_eq!(mixed.transaction.as_deref(), Some("checkout"));
}

fn our_dsc(trace_id: TraceId, sampled: Option<bool>) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    dsc.trace_id = Some(trace_id);
    dsc.public_key = Some("5d0c5ba5e11b4c40a3b1a3e5f0a8d9c1".into());
    dsc.sample_rate = Some(0.25);
    dsc.sample_rand = Some(match sampled {
        Some(false) => 0.912345,
        _ => 0.123456,
    });
    dsc.sampled = sampled;
    dsc.release = Some("api@1.4.2+build/7".into());
    dsc.environment = Some("production".into());
    dsc.transaction = Some("GET /users/{id}".into());
    dsc.org_id = Some("4711".into());
    dsc
}

#[test]
fn the_python_sdk_continues_what_lookout_writes() {
    for sampled in [Some(true), Some(false), None] {
        let trace_id = TraceId::random();
        let span_id = SpanId::random();
        let sentry_trace = SentryTrace::new(trace_id, span_id, sampled).to_string();
        let dsc = our_dsc(trace_id, sampled);
        // An application member on the outgoing request stays; Sentry's are appended.
        let baggage = write_baggage(["app-flag=on"], &dsc);
        let answer = interop(
            "continue",
            &json!({"headers": {"sentry-trace": sentry_trace, "baggage": baggage}}),
        );
        let case = format!("sampled={sampled:?}");
        assert_eq!(answer["trace_id"], json!(trace_id.to_string()), "{case}");
        assert_eq!(
            answer["parent_span_id"],
            json!(span_id.to_string()),
            "{case}"
        );
        // A deferred decision is made by Python from our sample_rand (0.123456 < 0.25... of
        // its own rate 1.0): sampled; explicit decisions are inherited as they are.
        assert_eq!(answer["sampled"], json!(sampled.unwrap_or(true)), "{case}");
        let mut python_dsc = answer["dsc"].as_object().expect("dsc").clone();
        let mut expected = dsc_as_strings(&dsc);
        if sampled.is_none() {
            // Deferred: Python makes the decision and records its own rate in
            // the DSC; every other field stays as lookout wrote it.
            assert_eq!(
                python_dsc.remove("sample_rate"),
                Some(json!("1.0")),
                "{case}"
            );
            expected.remove("sample_rate");
        }
        assert_same_dsc(&expected, &python_dsc, &case);
        if sampled.is_some() {
            // The frozen DSC goes on unchanged to Python's own outgoing requests.
            let forwarded = answer["outgoing_baggage"]
                .as_str()
                .expect("outgoing baggage");
            let forwarded = DscView::from_baggage([forwarded]).to_owned();
            assert_eq!(forwarded, dsc, "{case}: python forwards our DSC unchanged");
        }
    }
}

#[test]
fn python_starts_a_new_trace_from_a_lone_zero_like_lookout() {
    let ours = SentryTrace::parse("0").expect("a lone 0 is valid");
    assert_eq!(ours.trace_id, None);
    assert_eq!(ours.sampled, Some(false));
    let answer = interop("continue", &json!({"headers": {"sentry-trace": "0"}}));
    assert_eq!(
        answer["sampled"],
        json!(false),
        "python keeps the unsampled decision"
    );
    assert_eq!(answer["parent_span_id"], Value::Null);
}

/// Outgoing headers lookout-core writes from inside a request, continued by Python.
fn core_outgoing(
    test: &lookout_core::testing::TestLookout,
    incoming: &[(&str, &str)],
) -> (
    lookout_core::OutgoingHeaders,
    lookout_headers::TraceId,
    bool,
) {
    let mut headers = http::HeaderMap::new();
    for (name, value) in incoming {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let in_flight = test.engine().begin(
        &lookout_core::RequestHead::new("GET", "/checkout", &headers).with_route("/checkout"),
    );
    let ctx = in_flight.context().clone();
    ctx.identify(lookout_scope::User::id("u-1"));
    let out = ctx.enter(|| {
        let call =
            lookout_core::OutgoingCall::start("GET", "http://python.internal/", Some("app=1"))
                .expect("inside a request");
        let out = call.headers().cloned().expect("every target allowed");
        call.finish(http::StatusCode::OK);
        out
    });
    let trace = ctx.trace();
    in_flight
        .finish(&lookout_core::ResponseHead::new(http::StatusCode::OK))
        .body
        .complete();
    (out, trace.trace_id, trace.sampled)
}

#[test]
fn the_python_sdk_continues_what_lookout_core_propagates_from_a_request() {
    for rate in ["1.0", "0.0"] {
        let test = lookout_core::testing::TestLookout::from_vars([
            ("SENTRY_TRACES_SAMPLE_RATE", rate),
            ("SENTRY_RELEASE", "api@1.4.2"),
        ])
        .unwrap();
        let (out, trace_id, sampled) = core_outgoing(&test, &[]);
        let baggage = out.baggage.clone().expect("a head-of-trace DSC");
        let answer = interop(
            "continue",
            &json!({"headers": {"sentry-trace": out.sentry_trace, "baggage": baggage}}),
        );
        assert_eq!(
            answer["trace_id"],
            json!(trace_id.to_string()),
            "rate {rate}"
        );
        assert_eq!(answer["sampled"], json!(sampled), "rate {rate}");
        let ours = DscView::from_baggage([baggage.as_str()]).to_owned();
        let python_dsc = answer["dsc"].as_object().expect("dsc");
        assert_same_dsc(&dsc_as_strings(&ours), python_dsc, rate);
        assert_eq!(python_dsc["transaction"], json!("GET /checkout"));
        assert_eq!(python_dsc["release"], json!("api@1.4.2"));
        assert!(
            baggage.starts_with("app=1,"),
            "the application's member stays first"
        );
    }
}

#[test]
fn lookout_core_continues_python_traces_and_python_continues_lookouts_continuation() {
    let produced = interop("produce", &json!({}));
    for case in ["sampled", "unsampled", "deferred", "mixed"] {
        let test = lookout_core::testing::TestLookout::new();
        let headers = &produced[case];
        let incoming = [
            ("sentry-trace", headers["sentry-trace"].as_str().unwrap()),
            ("baggage", headers["baggage"].as_str().unwrap()),
        ];
        let (out, trace_id, sampled) = core_outgoing(&test, &incoming);
        assert_eq!(
            trace_id.to_string(),
            &incoming[0].1[..32],
            "{case}: same trace"
        );
        match case {
            "unsampled" => assert!(!sampled, "{case}: the parent's decision is kept"),
            "sampled" | "mixed" => assert!(sampled, "{case}: the parent's decision is kept"),
            _ => {}
        }
        let forwarded = out.baggage.unwrap();
        assert!(
            !forwarded.contains("other-vendor"),
            "{case}: third-party members are not forwarded"
        );
        let answer = interop(
            "continue",
            &json!({"headers": {"sentry-trace": out.sentry_trace, "baggage": forwarded}}),
        );
        assert_eq!(answer["trace_id"], json!(trace_id.to_string()), "{case}");
        assert_eq!(answer["sampled"], json!(sampled), "{case}");
        // The caller's frozen DSC went through lookout unchanged.
        let python_dsc = answer["dsc"].as_object().unwrap();
        let caller = headers["dsc"].as_object().unwrap();
        if case != "deferred" {
            assert_same_dsc(caller, python_dsc, case);
        }
    }
}

#[test]
fn a_python_sentry_trace_without_baggage_is_continued_with_an_empty_frozen_dsc() {
    let produced = interop("produce", &json!({}));
    let sentry_trace = produced["sampled"]["sentry-trace"].as_str().unwrap();
    let test = lookout_core::testing::TestLookout::new();
    let (out, trace_id, sampled) = core_outgoing(&test, &[("sentry-trace", sentry_trace)]);
    assert_eq!(trace_id.to_string(), &sentry_trace[..32]);
    assert!(sampled, "the caller's decision is kept");
    // The caller brought no DSC: the frozen one is empty, nothing is invented.
    assert_eq!(out.baggage.as_deref(), Some("app=1"));
    let answer = interop(
        "continue",
        &json!({"headers": {"sentry-trace": out.sentry_trace}}),
    );
    assert_eq!(answer["trace_id"], json!(trace_id.to_string()));
    assert_eq!(answer["sampled"], json!(true));
    // And the transaction envelope of that request carries no `trace` header.
    let envelopes = test.envelopes();
    assert!(
        !envelopes.is_empty(),
        "the sampled request sent its transaction"
    );
    for envelope in envelopes {
        let headers = serde_json::to_value(envelope.headers()).unwrap();
        assert!(headers.get("trace").is_none(), "{headers}");
    }
}

/// A sampled lookout request calls the official Python SDK (a server running
/// `continue_trace`) through the `reqwest-middleware` integration: Python
/// continues the trace with the call's `http.client` span as its parent, the
/// same decision and the request's frozen DSC.
#[test]
fn the_python_sdk_continues_an_outgoing_call_with_its_http_client_span_as_parent() {
    let callee = lookout_tests::python::PythonCallee::start();
    let test = lookout_core::testing::TestLookout::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest_client::Client::new())
        .with(lookout_reqwest::Propagate::default())
        .build();
    let headers = http::HeaderMap::new();
    let in_flight = test.engine().begin(
        &lookout_core::RequestHead::new("GET", "/checkout", &headers).with_route("/checkout"),
    );
    let ctx = in_flight.context().clone();
    let answer: Value = runtime.block_on(ctx.bind(async {
        client
            .get(&callee.url)
            .send()
            .await
            .expect("the Python callee answers")
            .json()
            .await
            .expect("JSON")
    }));
    let trace = ctx.trace();
    drop(ctx);
    in_flight
        .finish(&lookout_core::ResponseHead::new(http::StatusCode::OK))
        .body
        .complete();

    let envelopes = test.envelopes();
    let (tx, dsc) = envelopes
        .iter()
        .find_map(|envelope| {
            envelope.items().find_map(|item| match item {
                sentry_types::protocol::v7::EnvelopeItem::Transaction(tx) => {
                    let headers = serde_json::to_value(envelope.headers()).unwrap();
                    Some(((**tx).clone(), headers["trace"].clone()))
                }
                _ => None,
            })
        })
        .expect("the request's transaction");
    let span = tx
        .spans
        .iter()
        .find(|span| span.op.as_deref() == Some("http.client"))
        .expect("the call's http.client span");
    assert_eq!(answer["trace_id"], json!(trace.trace_id.to_string()));
    assert_eq!(
        answer["parent_span_id"],
        json!(span.span_id.to_string()),
        "the callee's parent is the call's span"
    );
    assert_ne!(answer["parent_span_id"], json!(trace.span_id.to_string()));
    assert_eq!(answer["sampled"], json!(true), "the same decision");
    assert_eq!(
        span.status,
        Some(sentry_types::protocol::v7::SpanStatus::Ok)
    );
    assert_same_dsc(
        dsc.as_object().expect("a DSC on the envelope"),
        answer["dsc"].as_object().expect("Python's DSC"),
        "python callee",
    );
}
