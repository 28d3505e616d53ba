//! The official SDKs and the real demo process, end to end, on every
//! framework (`lookout-demo serve --framework axum|actix|warp`, sending to an
//! in-process Sentry, `lookout_tests::receiver::Receiver`):
//!
//! - callers: the JavaScript SDK (`@sentry/node`, Node's `fetch` instrumented
//!   by the SDK) and the Python SDK (`sentry-sdk`, `urllib` instrumented by
//!   its stdlib integration) call the demo inside a transaction of theirs,
//!   sampled and not; the demo's event and transaction continue their trace:
//!   the same trace id, the caller's `http.client` span as parent, the same
//!   decision, and the caller's DSC, frozen, on the envelope `trace` header;
//! - callee: the demo's `POST /hop` calls a Python server running
//!   `continue_trace`, which continues the demo's trace with the call's
//!   `http.client` span as parent, the same decision and the demo's DSC.
//!
//! `tests/interop` checks the header formats against the Python SDK without
//! a server; the scenario suite replays Python-made headers through each
//! adapter. This suite is the real SDKs' own HTTP clients and servers.

use std::process::Command;
use std::time::Duration;

use lookout_tests::receiver::Receiver;
use sentry_types::protocol::v7::{Context, EnvelopeItem, TraceContext};
use serde_json::{Map, Value, json};

#[path = "support/receiving.rs"]
mod receiving;
mod support;

use support::{DEMO, Server};

/// `serve --framework framework` sending to `dsn`; a trace that starts in
/// the demo is sampled, a continued one keeps its caller's decision.
fn serve(framework: &str, dsn: &str) -> Server {
    let mut cmd = Command::new(DEMO);
    for var in ["SENTRY_SPOTLIGHT", "RUST_BACKTRACE"] {
        cmd.env_remove(var);
    }
    cmd.args(["serve", "--framework", framework, "--addr", "127.0.0.1:0"])
        .env("SENTRY_DSN", dsn)
        .env("SENTRY_ENVIRONMENT", "test")
        .env("SENTRY_TRACES_SAMPLE_RATE", "1.0");
    support::start(cmd, framework)
}

/// What the receiver holds for one trace: its events and transactions, each
/// with its envelope's `trace` header.
#[derive(Default)]
struct OfTrace {
    events: Vec<(TraceContext, Option<Value>)>,
    transactions: Vec<(TraceContext, Option<Value>, Vec<String>)>,
}

fn trace_context(contexts: &std::collections::BTreeMap<String, Context>) -> Option<TraceContext> {
    match contexts.get("trace") {
        Some(Context::Trace(trace)) => Some((**trace).clone()),
        _ => None,
    }
}

fn of_trace(receiver: &Receiver, trace_id: &str) -> OfTrace {
    let mut found = OfTrace::default();
    for envelope in receiver.envelopes() {
        let dsc = serde_json::to_value(envelope.headers())
            .ok()
            .and_then(|h| h.get("trace").cloned());
        for item in envelope.items() {
            match item {
                EnvelopeItem::Event(event) => {
                    if let Some(trace) = trace_context(&event.contexts)
                        .filter(|t| t.trace_id.to_string() == trace_id)
                    {
                        found.events.push((trace, dsc.clone()));
                    }
                }
                EnvelopeItem::Transaction(tx) => {
                    if let Some(trace) =
                        trace_context(&tx.contexts).filter(|t| t.trace_id.to_string() == trace_id)
                    {
                        let client_spans = tx
                            .spans
                            .iter()
                            .filter(|s| s.op.as_deref() == Some("http.client"))
                            .map(|s| s.span_id.to_string())
                            .collect();
                        found.transactions.push((trace, dsc.clone(), client_spans));
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// Waits (up to 30 s) until `done` holds for what the receiver has of `trace_id`.
fn wait_for(receiver: &Receiver, trace_id: &str, done: impl Fn(&OfTrace) -> bool) -> OfTrace {
    for _ in 0..300 {
        let found = of_trace(receiver, trace_id);
        if done(&found) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    of_trace(receiver, trace_id)
}

/// Compares two DSCs as Sentry reads them: every key of either, numbers
/// (`sample_rate`, `sample_rand`) by value, the rest as text.
fn assert_same_dsc(envelope: Option<&Value>, caller: &Map<String, Value>, what: &str) {
    let envelope = envelope
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{what}: no DSC on the envelope"));
    let keys: std::collections::BTreeSet<&String> = envelope.keys().chain(caller.keys()).collect();
    for key in keys {
        let (ours, theirs) = (envelope.get(key), caller.get(key));
        let number = |v: Option<&Value>| v.and_then(Value::as_str)?.parse::<f64>().ok();
        let same = match (number(ours), number(theirs)) {
            (Some(a), Some(b)) if key == "sample_rate" => a == b,
            // The envelope header is written by sentry-types 0.49, whose
            // `SampleRand` has six decimals: a longer caller value (the
            // JavaScript SDK writes full precision) arrives rounded there,
            // though lookout's outgoing baggage keeps it whole.
            (Some(a), Some(b)) if key == "sample_rand" => (a - b).abs() <= 5e-7,
            _ => ours == theirs,
        };
        assert!(
            same,
            "{what}: DSC {key}: envelope {ours:?}, caller {theirs:?}"
        );
    }
}

/// One SDK as a caller: runs it against `url` and returns its report, or
/// `None` when it cannot run here (Node.js missing outside CI).
fn call(sdk: &str, url: &str, sampled: bool) -> Option<Value> {
    let input = json!({"url": url, "sampled": sampled});
    match sdk {
        "javascript" => lookout_tests::node::caller(&input),
        "python" => Some(lookout_tests::python::interop("call", &input)),
        other => panic!("unknown SDK {other}"),
    }
}

fn sdk_callers_are_continued(framework: &str) {
    let (_runtime, receiver) = receiving::receiver();
    let server = serve(framework, &receiver.dsn());
    // `GET /fail` answers 500: an event, and a transaction when sampled.
    let url = format!("http://127.0.0.1:{}/fail", server.port);
    for sdk in ["javascript", "python"] {
        // Unsampled first: once the sampled call's transaction arrived, an
        // unsampled one would have arrived before it.
        let Some(unsampled) = call(sdk, &url, false) else {
            continue;
        };
        let sampled = call(sdk, &url, true).expect("the SDK ran once already");
        for (report, decision) in [(&unsampled, false), (&sampled, true)] {
            let what = format!("{framework}: {sdk} caller, sampled={decision}");
            assert_eq!(report["status"], 500, "{what}: {report}");
            assert_eq!(report["sampled"], decision, "{what}");
            let trace_id = report["trace_id"].as_str().expect("a trace id");
            let caller_dsc = report["dsc"].as_object().expect("the caller's DSC");
            assert_eq!(caller_dsc["trace_id"], trace_id, "{what}");
            let found = wait_for(&receiver, trace_id, |f| {
                !f.events.is_empty() && (!decision || !f.transactions.is_empty())
            });
            assert_eq!(
                found.events.len(),
                1,
                "{what}: the 500's event on the caller's trace"
            );
            let (event_trace, event_dsc) = &found.events[0];
            assert_same_dsc(event_dsc.as_ref(), caller_dsc, &format!("{what}, event"));
            if decision {
                // The SDK recorded the call as its own http.client span:
                // that span is the parent the demo continues from.
                let parent = report["span_id"].as_str().unwrap_or_else(|| {
                    panic!("{what}: the SDK recorded no http.client span: {report}")
                });
                assert_ne!(report["root_span_id"], parent, "{what}");
                assert_eq!(
                    event_trace.parent_span_id.map(|s| s.to_string()).as_deref(),
                    Some(parent),
                    "{what}: the event's parent"
                );
                assert_eq!(found.transactions.len(), 1, "{what}: one transaction");
                let (tx_trace, tx_dsc, _) = &found.transactions[0];
                assert_eq!(
                    tx_trace.parent_span_id.map(|s| s.to_string()).as_deref(),
                    Some(parent),
                    "{what}: the transaction's parent is the caller's span"
                );
                assert_same_dsc(tx_dsc.as_ref(), caller_dsc, &format!("{what}, transaction"));
                assert_eq!(caller_dsc["sampled"], "true", "{what}");
            } else {
                assert!(event_trace.parent_span_id.is_some(), "{what}: continued");
                assert_eq!(caller_dsc["sampled"], "false", "{what}");
            }
        }
        let unsampled_trace = unsampled["trace_id"].as_str().unwrap();
        assert!(
            of_trace(&receiver, unsampled_trace).transactions.is_empty(),
            "{framework}: {sdk}: no transaction for the caller's unsampled trace"
        );
    }
}

/// `POST /hop` to a Python server running `continue_trace`.
fn hop_to_a_python_callee(framework: &str) {
    let (_runtime, receiver) = receiving::receiver();
    let server = serve(framework, &receiver.dsn());
    let callee = lookout_tests::python::PythonCallee::start();
    let body = json!([{"url": format!("{}hop", callee.url), "arguments": []}]).to_string();
    let response = support::exchange(
        server.port,
        &format!(
            "POST /hop HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        ),
        Duration::from_secs(30),
    );
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "{framework}: {response}"
    );

    let reports = callee.reports();
    assert_eq!(reports.len(), 1, "{framework}: one call: {reports:?}");
    let report = &reports[0];
    assert_eq!(report["method"], "POST", "{framework}");
    assert_eq!(report["path"], "/hop", "{framework}");
    let trace_id = report["trace_id"].as_str().expect("a trace id");
    let found = wait_for(&receiver, trace_id, |f| !f.transactions.is_empty());
    assert_eq!(
        found.transactions.len(),
        1,
        "{framework}: the demo's /hop transaction is on the trace Python continued"
    );
    let (tx_trace, dsc, client_spans) = &found.transactions[0];
    assert_eq!(
        tx_trace.parent_span_id, None,
        "{framework}: the trace starts in the demo"
    );
    assert_eq!(client_spans.len(), 1, "{framework}: one http.client span");
    assert_eq!(
        report["parent_span_id"], client_spans[0],
        "{framework}: Python's parent is the call's http.client span"
    );
    assert_ne!(report["parent_span_id"], tx_trace.span_id.to_string());
    assert_eq!(report["sampled"], true, "{framework}: the same decision");
    assert_same_dsc(
        dsc.as_ref(),
        report["dsc"].as_object().expect("Python's DSC"),
        &format!("{framework}: /hop"),
    );
}

#[test]
fn axum_continues_the_javascript_and_python_sdks_traces() {
    sdk_callers_are_continued("axum");
}

#[test]
fn actix_continues_the_javascript_and_python_sdks_traces() {
    sdk_callers_are_continued("actix");
}

#[test]
fn warp_continues_the_javascript_and_python_sdks_traces() {
    sdk_callers_are_continued("warp");
}

#[test]
fn axum_hop_is_continued_by_a_python_callee() {
    hop_to_a_python_callee("axum");
}

#[test]
fn actix_hop_is_continued_by_a_python_callee() {
    hop_to_a_python_callee("actix");
}

#[test]
fn warp_hop_is_continued_by_a_python_callee() {
    hop_to_a_python_callee("warp");
}
