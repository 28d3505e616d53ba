//! The demo's command line, driven as other tools drive it: the real binary,
//! real ports.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sentry_types::protocol::v7::Envelope;

mod jobs;
mod request_bodies;
#[path = "../support/mod.rs"]
mod support;

use support::{DEMO, Server};

/// The demo binary with no Sentry account and no Spotlight, whatever the
/// environment of the test run says.
fn demo() -> Command {
    let mut cmd = Command::new(DEMO);
    for var in [
        "SENTRY_DSN",
        "SENTRY_SPOTLIGHT",
        "SENTRY_TRACES_SAMPLE_RATE",
        "RUST_BACKTRACE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let output = cmd.output().expect("the demo binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

fn row<'a>(stdout: &'a str, step: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(step))
        .unwrap_or_else(|| panic!("no `{step}` row in:\n{stdout}"))
}

#[test]
fn the_tour_prints_a_table_per_framework_and_exits_0() {
    let (output, stdout, stderr) = run(&mut demo());
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("axum  (service http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warp  (service http://127.0.0.1:"),
        "the tour plays on warp too: {stdout}"
    );
    for column in [
        "step", "route", "status", "trace", "user", "verdict", "body", "logs", "event id",
    ] {
        assert!(row(&stdout, "step").contains(column), "{stdout}");
    }
    let front = row(&stdout, "front-end call");
    assert!(
        front.contains("GET /users/{id}") && front.contains("200") && front.contains("continued"),
        "{front}"
    );
    let signed_in = row(&stdout, "signed-in user");
    assert!(
        signed_in.contains("admin-ada (admin)") && signed_in.contains(" new "),
        "{signed_in}"
    );
    let missing = row(&stdout, "missing item");
    assert!(
        missing.contains("404") && missing.contains("log warn"),
        "the 404 is one warn log, not an event: {missing}"
    );
    // `GET /users/{id}` logs "loading user": one log for the request.
    let logs_of = |row: &str| row.split_whitespace().rev().nth(1).map(str::to_owned);
    assert_eq!(logs_of(front).as_deref(), Some("1"), "{front}");
    assert!(
        stdout.contains("lookout log info \"loading user\" request_id=tour-axum-1"),
        "the log's console line: {stdout}"
    );
    let typed = row(&stdout, "typed 5xx");
    assert!(
        typed.contains("500") && typed.contains("app_service") && typed.contains("bob (user)"),
        "{typed}"
    );
    // `POST /fail` read its JSON order, then failed: its event carries the
    // body, the password filtered.
    let posted = row(&stdout, "failing POST, body");
    assert!(
        posted.contains("POST /fail")
            && posted.contains("event error app_service")
            && posted.contains(r#"{"item":"book","order":17,"password":"[Filtered]"}"#),
        "{posted}"
    );
    assert!(!stdout.contains("hunter2"), "{stdout}");
    let upstream = row(&stdout, "upstream failure");
    assert!(
        upstream.contains("502") && upstream.contains("event error upstream"),
        "{upstream}"
    );
    let panic = row(&stdout, "panic");
    assert!(panic.contains("500") && panic.contains("panic"), "{panic}");
    let order = row(&stdout, "order lookup");
    assert!(
        order.contains("GET /orders/{id}") && order.contains("200"),
        "{order}"
    );
    // Its two queries as `db` spans of its transaction, and its metric.
    for query in [
        "SELECT id, customer, total_cents FROM orders WHERE id = ?",
        "SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku",
    ] {
        assert!(
            stdout.contains(&format!(
                "lookout span db {query:?} db.system=sqlite request_id=tour-axum-10"
            )),
            "{query}: {stdout}"
        );
    }
    assert!(
        stdout.contains("lookout metric counter orders.lookup 1 request_id=tour-axum-10"),
        "{stdout}"
    );
    let hop = row(&stdout, "calls another service");
    assert!(hop.contains("POST /hop") && hop.contains("200"), "{hop}");
    let second = row(&stdout, "-> second instance");
    assert!(
        second.contains("continued"),
        "the called service continues the trace: {second}"
    );

    // Every captured event has an id in the table and a delivered console line.
    let delivered = stdout
        .split("delivered (console):")
        .nth(1)
        .expect("console section");
    for line in [typed, posted, upstream, panic] {
        let event_id = line.split_whitespace().last().unwrap();
        assert_eq!(event_id.len(), 32, "{line}");
        assert!(
            delivered.contains(&format!("event_id={event_id}")),
            "{event_id} in\n{delivered}"
        );
    }
}

fn get(port: u16, path: &str) -> String {
    support::exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        Duration::from_secs(10),
    )
}

fn serve(args: &[&str]) -> (Server, u16) {
    serve_framework("axum", args)
}

fn serve_framework(framework: &str, args: &[&str]) -> (Server, u16) {
    serve_framework_with(framework, args, &[])
}

/// `serve` on `framework` with extra arguments and environment variables.
fn serve_framework_with(framework: &str, args: &[&str], vars: &[(&str, &str)]) -> (Server, u16) {
    let mut cmd = demo();
    cmd.args(["serve", "--framework", framework, "--addr", "127.0.0.1:0"])
        .args(args)
        .envs(vars.iter().copied());
    let server = support::start(cmd, framework);
    assert_ne!(server.port, 0, "the real port, not 0");
    let port = server.port;
    (server, port)
}

fn terminate(mut server: Server) {
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_on_port_0_prints_the_real_port_answers_and_stops_on_sigterm() {
    let (server, port) = serve(&[]);
    let health = get(port, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");
    assert!(
        health.to_ascii_lowercase().contains("x-request-id:"),
        "{health}"
    );
    assert!(get(port, "/items/1").starts_with("HTTP/1.1 404"));
    assert!(get(port, "/fail?anything=1&else").starts_with("HTTP/1.1 500"));
    assert!(get(port, "/upstream").starts_with("HTTP/1.1 502"));
    assert!(get(port, "/panic").starts_with("HTTP/1.1 500"));
    assert!(
        get(port, "/health").starts_with("HTTP/1.1 200"),
        "still serving after a panic"
    );
    assert!(get(port, "/slow?ms=20").starts_with("HTTP/1.1 200"));
    terminate(server);
}

#[test]
fn plain_serves_the_same_routes_without_lookout() {
    let (server, port) = serve(&["--plain"]);
    let health = get(port, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        !health.to_ascii_lowercase().contains("x-request-id:"),
        "no lookout: {health}"
    );
    assert!(get(port, "/panic").starts_with("HTTP/1.1 500"));
    assert!(get(port, "/users/7").starts_with("HTTP/1.1 200"));
    terminate(server);
}

/// `serve --framework warp` answers and exits cleanly on SIGTERM
/// (`lookout::warp::serve`'s graceful shutdown); every answer is compared
/// with axum's in `tests/warp.rs`.
#[test]
fn warp_serves_the_same_answers_and_stops_on_sigterm() {
    let (server, port) = serve_framework("warp", &[]);
    let health = get(port, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");
    assert!(
        health.to_ascii_lowercase().contains("x-request-id:"),
        "{health}"
    );
    let user = get(port, "/users/7");
    assert!(user.starts_with("HTTP/1.1 200"), "{user}");
    assert!(
        user.ends_with(r#"{"id":"7","name":"User 7","viewer":null}"#),
        "{user}"
    );
    let item = get(port, "/items/1");
    assert!(item.starts_with("HTTP/1.1 404"), "{item}");
    assert!(item.ends_with(r#"item "1" not found"#), "{item}");
    assert!(get(port, "/fail?anything=1&else").starts_with("HTTP/1.1 500"));
    assert!(get(port, "/upstream").starts_with("HTTP/1.1 502"));
    assert!(get(port, "/panic").starts_with("HTTP/1.1 500"));
    assert!(
        get(port, "/health").starts_with("HTTP/1.1 200"),
        "still serving after a panic"
    );
    assert!(get(port, "/slow?ms=20").ends_with("slept 20 ms"));
    terminate(server);
}

#[test]
fn unknown_frameworks_are_refused() {
    let (output, _, stderr) = run(demo().args(["serve", "--framework", "rocket"]));
    assert!(!output.status.success());
    assert!(stderr.contains("unknown framework `rocket`"), "{stderr}");
}

#[test]
fn invalid_settings_exit_non_zero_naming_the_variable() {
    for args in [
        &["serve", "--framework", "axum", "--addr", "127.0.0.1:0"][..],
        &[][..],
    ] {
        let (output, stdout, stderr) =
            run(demo().args(args).env("SENTRY_TRACES_SAMPLE_RATE", "1.5"));
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("SENTRY_TRACES_SAMPLE_RATE=\"1.5\""),
            "{stderr}"
        );
        assert!(!stdout.contains("listening on"), "{stdout}");
    }
}

/// `POST /hop`, the W3C Trace Context test-service contract: each element's
/// `arguments` are POSTed as JSON to its `url` with the outgoing trace
/// headers, in order, before the 200.
#[test]
fn hop_calls_each_url_with_the_trace_headers() {
    use std::net::TcpListener;

    let downstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let downstream_port = downstream.local_addr().unwrap().port();
    let recorder = std::thread::spawn(move || {
        let mut requests = Vec::new();
        for _ in 0..2 {
            let (stream, _) = downstream.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
            requests.push((head.to_ascii_lowercase(), String::from_utf8(body).unwrap()));
        }
        requests
    });

    let (server, port) = serve(&[]);
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let body = format!(
        r#"[{{"url": "http://127.0.0.1:{downstream_port}/a", "arguments": [1]}}, {{"url": "http://127.0.0.1:{downstream_port}/b", "arguments": [{{"url": "x", "arguments": []}}]}}]"#
    );
    let response = support::exchange(
        port,
        &format!(
            "POST /hop HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\ncontent-type: application/json\r\n\
             traceparent: 00-{trace_id}-b7ad6b7169203331-01\r\ntracestate: foo=bar\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ),
        Duration::from_secs(10),
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let requests = recorder.join().unwrap();
    assert!(
        requests[0].0.starts_with("post /a "),
        "in order: {requests:?}"
    );
    assert!(
        requests[1].0.starts_with("post /b "),
        "in order: {requests:?}"
    );
    assert_eq!(requests[0].1, "[1]");
    assert_eq!(requests[1].1, r#"[{"arguments":[],"url":"x"}]"#);
    for (head, _) in &requests {
        assert!(
            head.contains(&format!("traceparent: 00-{trace_id}-")),
            "{head}"
        );
        assert!(head.contains("tracestate: foo=bar"), "{head}");
        assert!(
            head.contains(&format!("sentry-trace: {trace_id}-")),
            "{head}"
        );
        assert!(
            head.contains(&format!("sentry-trace_id={trace_id}")),
            "{head}"
        );
    }
    // Each call is its own span: a distinct parent id per callee.
    let parent_of = |head: &str| -> String {
        let at =
            head.find("traceparent: 00-").expect("traceparent") + "traceparent: 00-".len() + 33;
        head[at..at + 16].to_owned()
    };
    let (a, b) = (parent_of(&requests[0].0), parent_of(&requests[1].0));
    assert_ne!(a, b, "two calls, two parent ids");
    assert_ne!(a, "b7ad6b7169203331", "the call's span, not the caller's");
    terminate(server);
}

/// One recorded request: its head (lowercased) and its body.
type Recorded = (String, Vec<u8>);

/// A tiny HTTP server recording every request (method line, headers, body)
/// until dropped; answers 200 with an empty JSON object.
struct Collector {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<Recorded>>>,
}

impl Collector {
    fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopping = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            loop {
                // Connections already waiting are served even after `stop`.
                let Ok((stream, _)) = listener.accept() else {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream);
                // Keep-alive: serve every request on the connection.
                loop {
                    let mut head = String::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        head.push_str(&line);
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if head.is_empty() {
                        break;
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                    seen.push((head.to_ascii_lowercase(), body));
                }
            }
            seen
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(mut self) -> Vec<Recorded> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// How many envelopes posted to `path` carry an event tagged `error_type`
/// (each body decoded from its `content-encoding` and parsed with
/// sentry-types, as Sentry or Spotlight would).
fn envelopes_with(requests: &[Recorded], path: &str, error_type: &str) -> usize {
    requests
        .iter()
        .filter(|(head, _)| head.starts_with(&format!("post {path} ")))
        .filter_map(|(head, body)| {
            let encoding = head
                .lines()
                .find_map(|l| l.strip_prefix("content-encoding:"))
                .map(str::trim);
            let body = lookout_tests::receiver::decode_body(encoding, body);
            let envelope = Envelope::from_slice(&body)
                .unwrap_or_else(|e| panic!("the demo posted an unparsable envelope: {e}"));
            envelope.event().cloned()
        })
        .filter(|event| event.tags.get("error_type").map(String::as_str) == Some(error_type))
        .count()
}

#[test]
fn with_spotlight_the_tour_posts_envelopes_to_the_sidecar() {
    let sidecar = Collector::start();
    let (output, stdout, stderr) = run(demo().env(
        "SENTRY_SPOTLIGHT",
        format!("http://127.0.0.1:{}/stream", sidecar.port),
    ));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let requests = sidecar.requests();
    assert!(
        requests.iter().all(|(head, _)| head
            .contains("content-type: application/x-sentry-envelope")
            && !head.contains("content-encoding")),
        "Spotlight gets envelopes uncompressed: {requests:?}"
    );
    for error_type in ["app_service", "upstream", "panic"] {
        assert!(
            envelopes_with(&requests, "/stream", error_type) >= 1,
            "an envelope with error_type {error_type} reached the sidecar"
        );
    }
}

#[test]
fn with_a_dsn_the_tour_also_sends() {
    let sentry = Collector::start();
    let (output, stdout, stderr) = run(demo().env(
        "SENTRY_DSN",
        format!(
            "http://0123456789abcdef0123456789abcdef@127.0.0.1:{}/42",
            sentry.port
        ),
    ));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("also sent"), "{stdout}");
    let requests = sentry.requests();
    for error_type in ["app_service", "upstream", "panic"] {
        assert!(
            envelopes_with(&requests, "/api/42/envelope/", error_type) >= 1,
            "an envelope with error_type {error_type} was sent: {:?}",
            requests
                .iter()
                .map(|(h, _)| h.lines().next().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        );
    }
}
