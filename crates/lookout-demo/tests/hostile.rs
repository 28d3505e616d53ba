//! Hostile trace and request-id headers at scale, against the real demo
//! process on every framework (`lookout-demo serve --framework axum|actix|warp`)
//! sending to an in-process Sentry (`lookout_tests::receiver::Receiver`).
//!
//! The scenario suite (`tests/scenarios`, `malformed_headers_are_answered_with_a_new_trace`,
//! `request_ids_are_accepted_or_regenerated_never_echoed`) covers malformed
//! values of ordinary size; this suite sends them big (100 KB values, 10,000
//! baggage members, 1,000 tracestate members, 10 KB request ids), with bytes
//! an HTTP client refuses to send (raw TCP), thousands of times, and checks:
//!
//! - every request is answered by the handler as if the headers were absent
//!   (200, the route's own body), unless the framework's HTTP server refuses
//!   it first by its own limits (see [`server_refuses`]: 431 past its head
//!   size or header count, 400 for a bare CR): that answer is the server's,
//!   not lookout's (no middleware ran: it has no `x-request-id`);
//! - nothing the caller sent is echoed: the response's `x-request-id` is a
//!   fresh valid id and no caller bytes appear anywhere in the response;
//! - a new trace: the request's transaction (found by its request id in the
//!   receiver's envelopes) has a trace id other than the one sent, and no
//!   parent;
//! - memory: the process's resident set (`VmRSS` in `/proc/PID/status`,
//!   taken once the receiver has every transaction, so nothing waits in the
//!   send queue) does not grow with what the callers sent.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use lookout_tests::receiver::Receiver;

#[path = "support/receiving.rs"]
mod receiving;
mod support;

use support::{DEMO, Server};

/// The trace id and parent span the hostile headers name (never to be continued).
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";
/// Written into every hostile value: it must never come back.
const MARKER: &str = "h0st1le";

/// Hostile requests per framework for the memory measurement (after a
/// warm-up round of every case).
const HOSTILE_REQUESTS: usize = 2_000;
/// Rounds of every case sent before the first measurement.
const WARM_UP_ROUNDS: usize = 20;
/// How much the resident set may grow over those requests (measured: at
/// most 4 MiB on every framework). They carry about 110 MB of header bytes
/// in all (about 56 KB a request on average): a process keeping a fifth of
/// each request's headers would grow by more than this.
const RSS_GROWTH_BOUND_KB: u64 = 16 * 1024;

/// `serve --framework framework` sending to `dsn`, every trace sampled.
fn serve(framework: &str, dsn: &str) -> Server {
    let mut cmd = Command::new(DEMO);
    for var in ["SENTRY_SPOTLIGHT", "RUST_BACKTRACE", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.args(["serve", "--framework", framework, "--addr", "127.0.0.1:0"])
        .env("SENTRY_DSN", dsn)
        .env("SENTRY_ENVIRONMENT", "test")
        .env("SENTRY_TRACES_SAMPLE_RATE", "1.0")
        // glibc's malloc otherwise raises its mmap threshold after freeing
        // big blocks and keeps later 100 KB buffers in per-thread arenas: the
        // resident set then wanders by tens of MiB with no memory kept by
        // anyone. A fixed threshold returns big blocks when freed, so what
        // VmRSS grows by is what the process keeps.
        .env("MALLOC_MMAP_THRESHOLD_", "65536")
        .env("MALLOC_TRIM_THRESHOLD_", "131072")
        .env("MALLOC_ARENA_MAX", "2");
    support::start(cmd, framework)
}

/// The process's resident set in KiB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// One hostile request: its name and its header lines (raw bytes, CRLF
/// between them, none at the end).
struct Case {
    name: &'static str,
    headers: Vec<u8>,
}

fn header(name: &str, value: &[u8]) -> Vec<u8> {
    let mut line = format!("{name}: ").into_bytes();
    line.extend_from_slice(value);
    line
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.join(&b"\r\n"[..])
}

fn cases() -> Vec<Case> {
    let kb100 = |prefix: &str| {
        let mut value = prefix.as_bytes().to_vec();
        while value.len() < 100 * 1024 {
            value.extend_from_slice(MARKER.as_bytes());
        }
        value
    };
    let baggage_10k: String = std::iter::once(format!(
        "sentry-trace_id={TRACE},sentry-sampled=true,sentry-sample_rand=0.1"
    ))
    .chain((0..10_000).map(|i| format!("m{i}={MARKER}")))
    .collect::<Vec<_>>()
    .join(",");
    let tracestate_1k: String = (0..1_000)
        .map(|i| format!("k{i}={MARKER}"))
        .collect::<Vec<_>>()
        .join(",");
    let request_id_10k = kb100("")[..10 * 1024].to_vec();
    let mut request_id_cr = format!("ok-{MARKER}").into_bytes();
    request_id_cr.extend_from_slice(b"\rSet-Cookie: ");
    request_id_cr.extend_from_slice(MARKER.as_bytes());
    request_id_cr.extend_from_slice(&request_id_10k[..4096]);
    vec![
        Case {
            name: "sentry-trace of 100 KB",
            headers: header("sentry-trace", &kb100(&format!("{TRACE}-{PARENT}-1"))),
        },
        Case {
            name: "sentry-trace of 100 KB non-ASCII bytes",
            headers: header("sentry-trace", &{
                let mut v = format!("{TRACE}-{PARENT}-1-").into_bytes();
                while v.len() < 100 * 1024 {
                    v.extend_from_slice("é\u{2028}".as_bytes());
                    v.extend_from_slice(b"\xff\xfe");
                }
                v
            }),
        },
        Case {
            name: "baggage of 10,000 members (about 100 KB)",
            headers: header("baggage", baggage_10k.as_bytes()),
        },
        Case {
            name: "baggage with one 100 KB value",
            headers: header(
                "baggage",
                &kb100(&format!("sentry-trace_id={TRACE},sentry-release=")),
            ),
        },
        Case {
            name: "traceparent of 100 KB",
            headers: header("traceparent", &kb100(&format!("00-{TRACE}-{PARENT}-01-"))),
        },
        Case {
            name: "tracestate of 1,000 members, no traceparent",
            headers: header("tracestate", tracestate_1k.as_bytes()),
        },
        Case {
            name: "every trace header big at once",
            headers: join(&[
                header(
                    "sentry-trace",
                    &kb100(&format!("{TRACE}-{PARENT}-1x"))[..20_000],
                ),
                header("baggage", &baggage_10k.as_bytes()[..20_000]),
                header(
                    "traceparent",
                    &kb100(&format!("00-{TRACE}-{PARENT}-01x"))[..20_000],
                ),
                header("tracestate", tracestate_1k.as_bytes()),
            ]),
        },
        Case {
            name: "x-request-id of 10 KB",
            headers: header("x-request-id", &request_id_10k),
        },
        Case {
            name: "x-request-id with non-ASCII bytes",
            headers: header(
                "x-request-id",
                format!("caf\u{e9}-{MARKER}-\u{1f600}").as_bytes(),
            ),
        },
        Case {
            name: "x-request-id with a bare CR and a header after it",
            headers: header("x-request-id", &request_id_cr),
        },
        Case {
            name: "many small trace headers (40 of each)",
            headers: many_small(40),
        },
        Case {
            name: "many small trace headers (100 of each)",
            headers: many_small(100),
        },
    ]
}

/// `count` invalid `sentry-trace` headers (the first decides: a new trace)
/// and `count` baggage headers.
fn many_small(count: usize) -> Vec<u8> {
    join(
        &(0..count)
            .flat_map(|i| {
                [
                    header(
                        "sentry-trace",
                        format!("{TRACE}-{PARENT}-{}", i + 2).as_bytes(),
                    ),
                    header(
                        "baggage",
                        format!("sentry-trace_id={TRACE},m{i}={MARKER}").as_bytes(),
                    ),
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// What came back for one raw request.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Sends `GET path` with `headers` on a fresh connection and reads the whole answer.
fn send(port: u16, path: &str, headers: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
    request.extend_from_slice(headers);
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    // A server refusing a head mid-way may close before the last byte: what
    // it answered is still read.
    let _ = stream.write_all(&request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Answer {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn request_id_of(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id:")
                .map(|v| v.trim().to_owned())
        })
        .map(|v| v.to_owned())
}

/// The status a framework's HTTP server answers a case with by itself,
/// before lookout (or any middleware) sees the request, if it refuses it.
/// Measured on hyper 1 (axum, warp) and actix-http 3 (actix-web):
///
/// | what | hyper | actix-http |
/// |---|---|---|
/// | request head size | about 400 KiB, then 431 | 128 KiB, then 431 |
/// | header count | 100, then 431 | 96, then 431 |
/// | a bare CR inside a value | 400 | 400 |
fn server_refuses(framework: &str, case: &Case) -> Option<u16> {
    let lines = case.headers.split(|&b| b == b'\n').count() + 3;
    let bare_cr = case
        .headers
        .windows(2)
        .any(|w| w[0] == b'\r' && w[1] != b'\n');
    if bare_cr {
        return Some(400);
    }
    let (max_head, max_headers) = match framework {
        "actix" => (128 * 1024, 96),
        _ => (400 * 1024, 100),
    };
    (case.headers.len() > max_head - 128 || lines > max_headers).then_some(431)
}

/// The body `GET /users/7` answers without any of these headers.
const USER_7: &str = r#"{"id":"7","name":"User 7","viewer":null}"#;

/// Sends every case once, checks each answer, and returns the request ids
/// of the answers the handler gave (to find their transactions).
fn send_each_case(framework: &str, port: u16, cases: &[Case]) -> Vec<(String, &'static str)> {
    let mut answered = Vec::new();
    for case in cases {
        let answer = send(port, "/users/7", &case.headers);
        let shown = format!("{framework}: {}", case.name);
        let everything = [answer.head.as_bytes(), &answer.body].concat();
        assert!(
            !String::from_utf8_lossy(&everything).contains(MARKER)
                && !String::from_utf8_lossy(&everything).contains(TRACE)
                && !String::from_utf8_lossy(&everything).contains(PARENT),
            "{shown}: caller bytes echoed in {}",
            answer.head
        );
        assert!(
            !answer.head.to_ascii_lowercase().contains("set-cookie"),
            "{shown}: {}",
            answer.head
        );
        if let Some(status) = server_refuses(framework, case) {
            assert_eq!(
                answer.status, status,
                "{shown}: the server's own limit answers"
            );
            // Refused before any middleware ran: lookout never saw it.
            assert_eq!(request_id_of(&answer.head), None, "{shown}");
            continue;
        }
        assert_eq!(answer.status, 200, "{shown}: {}", answer.head);
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            USER_7,
            "{shown}: the handler's answer"
        );
        let id = request_id_of(&answer.head)
            .unwrap_or_else(|| panic!("{shown}: no x-request-id in {}", answer.head));
        lookout::headers::RequestId::validate(&id)
            .unwrap_or_else(|e| panic!("{shown}: invalid x-request-id {id:?}: {e}"));
        answered.push((id, case.name));
    }
    answered
}

/// Waits (up to 30 s) until the receiver holds a transaction for each of `ids`.
fn transactions_by_request_id(
    receiver: &Receiver,
    ids: &[(String, &'static str)],
) -> HashMap<String, sentry_types::protocol::v7::TraceContext> {
    let mut found = HashMap::new();
    for _ in 0..300 {
        found.clear();
        for (tx, _) in receiver.transactions() {
            if let (Some(id), Some(sentry_types::protocol::v7::Context::Trace(trace))) =
                (tx.tags.get("request_id"), tx.contexts.get("trace"))
            {
                found.insert(id.clone(), (**trace).clone());
            }
        }
        if ids.iter().all(|(id, _)| found.contains_key(id)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    found
}

/// Waits (up to 60 s) until the receiver holds `count` transactions.
fn wait_for_transactions(receiver: &Receiver, count: usize, framework: &str) {
    for _ in 0..600 {
        if receiver.transaction_count() >= count {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{framework}: {} of {count} transactions delivered",
        receiver.transaction_count()
    );
}

fn hostile_headers_at_scale(framework: &str) {
    let (_runtime, receiver) = receiving::receiver();
    let server = serve(framework, &receiver.dsn());
    let cases = cases();

    // Each case once: answered by the handler, nothing echoed, a new trace.
    let answered = send_each_case(framework, server.port, &cases);
    let transactions = transactions_by_request_id(&receiver, &answered);
    for (id, case) in &answered {
        let trace = transactions
            .get(id)
            .unwrap_or_else(|| panic!("{framework}: {case}: no transaction for request {id}"));
        assert_ne!(
            trace.trace_id.to_string(),
            TRACE,
            "{framework}: {case}: a new trace"
        );
        assert_eq!(trace.parent_span_id, None, "{framework}: {case}: no parent");
    }
    assert_eq!(
        answered.len(),
        cases
            .iter()
            .filter(|c| server_refuses(framework, c).is_none())
            .count(),
        "{framework}"
    );

    // Thousands more: memory does not grow with what they carry. The first
    // rounds warm the allocator and the server's buffers up. Each answered
    // request sends a transaction carrying its request headers; the send
    // queue holds those until they are delivered (up to
    // `LOOKOUT_QUEUE_MAX_BYTES`), so both measurements are taken once the
    // receiver has every transaction: what is left is what the process kept.
    let pid = server.child.id();
    let mut delivered = answered.len();
    for n in 0..WARM_UP_ROUNDS * cases.len() {
        let case = &cases[n % cases.len()];
        let _ = send(server.port, "/users/7", &case.headers);
        delivered += usize::from(server_refuses(framework, case).is_none());
    }
    wait_for_transactions(&receiver, delivered, framework);
    let warm = rss_kb(pid);
    let mut answers = 0;
    for n in 0..HOSTILE_REQUESTS {
        let case = &cases[n % cases.len()];
        let answer = send(server.port, "/users/7", &case.headers);
        let expected = server_refuses(framework, case).unwrap_or(200);
        assert_eq!(answer.status, expected, "{framework}: {}", case.name);
        delivered += usize::from(expected == 200);
        answers += 1;
    }
    assert_eq!(answers, HOSTILE_REQUESTS);
    wait_for_transactions(&receiver, delivered, framework);
    let after = rss_kb(pid);
    let grown = after.saturating_sub(warm);
    assert!(
        grown <= RSS_GROWTH_BOUND_KB,
        "{framework}: VmRSS grew by {grown} KiB ({warm} -> {after} KiB) over {HOSTILE_REQUESTS} hostile requests; bound {RSS_GROWTH_BOUND_KB} KiB"
    );
    eprintln!("{framework}: VmRSS {warm} -> {after} KiB over {HOSTILE_REQUESTS} hostile requests");
}

#[test]
fn axum_answers_hostile_headers_as_if_absent_without_growing() {
    hostile_headers_at_scale("axum");
}

#[test]
fn actix_answers_hostile_headers_as_if_absent_without_growing() {
    hostile_headers_at_scale("actix");
}

#[test]
fn warp_answers_hostile_headers_as_if_absent_without_growing() {
    hostile_headers_at_scale("warp");
}
