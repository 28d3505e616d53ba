//! Parity between adapters: the same requests against two frameworks must
//! look the same from Sentry's side. Each envelope the receiver got is
//! reduced to its shape (what a Sentry user filters and groups by: tags,
//! user, transaction name and source, exception types, trace-context keys
//! and data, the DSC keys on the envelope header, breadcrumbs; each Sentry
//! Log's level, body and attributes), with what
//! differs per request by nature (ids, timestamps, ports, durations) and the
//! framework word of the origin (`auto.http.axum` / `auto.http.actix`)
//! neutralised. The two lists of shapes must be equal.

use std::collections::BTreeMap;

use sentry_types::protocol::v7::{Envelope, EnvelopeItem, ItemContainer};
use serde_json::{Value, json};

use crate::fixture::Fixture;
use crate::harness::Harness;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "a8c2d5f4e3b21907";

/// The requests both frameworks answer: a continued and identified 500, a
/// typed 503, a panic, a 404 whose body captures a probe, a plain 200 and
/// an authenticated request through the middleware.
async fn drive(fx: &Fixture) {
    let sentry_trace = format!("{TRACE}-{PARENT}-1");
    let baggage = format!(
        "sentry-trace_id={TRACE},sentry-public_key=frontend,sentry-sample_rate=1,sentry-sampled=true,sentry-environment=web"
    );
    let continued: [(&str, &[u8]); 2] = [
        ("sentry-trace", sentry_trace.as_bytes()),
        ("baggage", baggage.as_bytes()),
    ];
    assert_eq!(
        fx.get("/identify/u-1?role=admin", &continued).await.status,
        500
    );
    assert_eq!(fx.get("/db", &[]).await.status, 503);
    assert_eq!(fx.get("/panic", &[]).await.status, 500);
    assert_eq!(fx.get("/missing/9", &[]).await.status, 404);
    assert_eq!(fx.get("/users/7?password=hunter2", &[]).await.status, 200);
    let me = fx
        .get("/me?status=500", &[("authorization", b"Bearer u-2")])
        .await;
    assert_eq!(me.status, 500);
}

/// Runs [`drive`] against `A` and `B` and asserts that what reached Sentry
/// has the same shape.
pub async fn same_shape<A: Harness, B: Harness>() {
    let a = shapes::<A>().await;
    let b = shapes::<B>().await;
    assert_eq!(
        a.len(),
        b.len(),
        "{} and {} sent as many items",
        A::NAME,
        B::NAME
    );
    for (left, right) in a.iter().zip(&b) {
        assert_eq!(
            left,
            right,
            "\n{}: {}\n{}: {}",
            A::NAME,
            serde_json::to_string_pretty(left).unwrap_or_default(),
            B::NAME,
            serde_json::to_string_pretty(right).unwrap_or_default()
        );
    }
}

async fn shapes<H: Harness>() -> Vec<Value> {
    // The 404's transaction is compared too (by default its status sends none).
    let fx = Fixture::start::<H>(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")]).await;
    drive(&fx).await;
    fx.flush();
    let mut shapes: Vec<Value> = fx
        .receiver
        .envelopes()
        .iter()
        .flat_map(|envelope| envelope_shapes(envelope, H::NAME))
        .collect();
    // Delivery order is not the request order: sort by the shape itself.
    shapes.sort_by_key(Value::to_string);
    let count = |kind: &str| shapes.iter().filter(|s| s["kind"] == kind).count();
    // The 404 is not an event but a log, its body's probe is an event; the
    // other log is `/me`'s line.
    assert_eq!(
        (count("event"), count("transaction"), count("log")),
        (5, 6, 2),
        "{}: one transaction per request",
        H::NAME
    );
    shapes
}

fn envelope_shapes(envelope: &Envelope, framework: &str) -> Vec<Value> {
    let headers = serde_json::to_value(envelope.headers()).unwrap_or(Value::Null);
    let dsc = headers.get("trace").map(|dsc| {
        let mut dsc = dsc.clone();
        neutral(&mut dsc, framework);
        dsc
    });
    envelope
        .items()
        .flat_map(|item| -> Vec<Value> {
            let (kind, mut value) = match item {
                EnvelopeItem::Event(event) => ("event", serde_json::to_value(event).unwrap()),
                EnvelopeItem::Transaction(tx) => ("transaction", serde_json::to_value(tx).unwrap()),
                // A batch of logs: one shape per log (batches differ in timing).
                EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => {
                    return logs.iter().map(|log| log_shape(log, framework)).collect();
                }
                // Sessions and client reports are counted, not compared.
                _ => return Vec::new(),
            };
            neutral(&mut value, framework);
            vec![json!({
                "kind": kind,
                "dsc": dsc,
                "level": value["level"],
                "transaction": value["transaction"],
                "tags": value["tags"],
                "user": value["user"],
                "request": value["request"],
                "exception": exception_shape(&value),
                "contexts.trace": value["contexts"]["trace"],
                "breadcrumbs": breadcrumb_shape(&value),
                "span_ops": span_ops(&value),
            })]
        })
        .collect()
}

fn log_shape(log: &sentry_types::protocol::v7::Log, framework: &str) -> Value {
    let mut value = serde_json::to_value(log).unwrap_or(Value::Null);
    neutral(&mut value, framework);
    json!({
        "kind": "log",
        "level": value["level"],
        "body": value["body"],
        "severity_number": value["severity_number"],
        "trace_id": value["trace_id"],
        "attributes": value["attributes"],
    })
}

fn exception_shape(value: &Value) -> Value {
    let values = value["exception"]["values"]
        .as_array()
        .or_else(|| value["exception"].as_array())
        .cloned()
        .unwrap_or_default();
    Value::Array(
        values
            .iter()
            .map(|e| json!({"type": e["type"], "value": e["value"], "mechanism": e["mechanism"]["type"]}))
            .collect(),
    )
}

fn breadcrumb_shape(value: &Value) -> Value {
    let crumbs = value["breadcrumbs"]["values"]
        .as_array()
        .or_else(|| value["breadcrumbs"].as_array())
        .cloned()
        .unwrap_or_default();
    Value::Array(
        crumbs
            .iter()
            .map(|b| json!({"category": b["category"], "message": b["message"], "level": b["level"], "data": b["data"]}))
            .collect(),
    )
}

fn span_ops(value: &Value) -> Value {
    let mut ops: Vec<String> = value["spans"]
        .as_array()
        .map(|spans| {
            spans
                .iter()
                .filter_map(|s| s["op"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ops.sort();
    json!(ops)
}

/// Keys whose values differ per request by nature.
const VOLATILE: &[&str] = &[
    "event_id",
    "timestamp",
    "start_timestamp",
    "span_id",
    "parent_span_id",
    "trace_id",
    "request_id",
    "sample_rand",
    "sent_at",
    "duration",
    "latency_ms",
    "http.latency_ms",
    "sentry.trace.parent_span_id",
    "thread.id",
    "thread.name",
];

/// Replaces volatile values by their kind, the server's address by a
/// placeholder, and the framework word by `<framework>`.
fn neutral(value: &mut Value, framework: &str) {
    match value {
        Value::Object(map) => {
            for (key, entry) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) && !entry.is_null() {
                    *entry = json!("<volatile>");
                } else {
                    neutral(entry, framework);
                }
            }
            // Canonical key order.
            let sorted: BTreeMap<String, Value> = std::mem::take(map).into_iter().collect();
            map.extend(sorted);
        }
        Value::Array(items) => items.iter_mut().for_each(|item| neutral(item, framework)),
        Value::String(text) => {
            *text = neutral_text(text, framework);
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => {}
    }
}

fn neutral_text(text: &str, framework: &str) -> String {
    let mut out = text.replace(&format!("auto.http.{framework}"), "auto.http.<framework>");
    // `127.0.0.1:PORT` (URLs, the `host` header): the port differs per server.
    let mut from = 0;
    while let Some(found) = out[from..].find("127.0.0.1:") {
        let port_start = from + found + "127.0.0.1:".len();
        let port_end = out[port_start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(out.len(), |i| port_start + i);
        out.replace_range(port_start..port_end, "<port>");
        from = port_start;
    }
    // The request breadcrumb's latency: `... -> 500 in 127 ms`.
    if let Some(start) = out.rfind(" in ")
        && out.ends_with(" ms")
        && out[start + 4..out.len() - 3]
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        out.replace_range(start + 4..out.len() - 3, "<n>");
    }
    out
}
