//! The demo on actix-web and on warp answers exactly as on axum: `serve
//! --framework actix|warp` (with lookout and `--plain`) against `serve
//! --framework axum`, route by route, and the tour's tables against its axum
//! table.

use std::process::Command;
use std::time::Duration;

mod support;

use support::{DEMO, Server};

/// The demo binary with no Sentry account and no Spotlight.
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

fn serve(framework: &str, plain: bool) -> Server {
    serve_with(framework, plain, &[])
}

/// [`serve`] with these environment variables.
fn serve_with(framework: &str, plain: bool, vars: &[(&str, &str)]) -> Server {
    let mut cmd = demo();
    cmd.args(["serve", "--framework", framework, "--addr", "127.0.0.1:0"]);
    cmd.envs(vars.iter().copied());
    if plain {
        cmd.arg("--plain");
    }
    support::start(cmd, framework)
}

/// What a response says, without what differs per request by nature (and
/// how the body is framed: warp streams some bodies axum sends whole).
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: String,
    content_type: Option<String>,
    has_request_id: bool,
    body: String,
}

fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    let response = support::exchange(port, &request, Duration::from_secs(10));
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {response:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let mut content_type = None;
    let mut has_request_id = false;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.trim().to_owned()),
            "x-request-id" => has_request_id = true,
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    Answer {
        status,
        content_type,
        has_request_id,
        body: if chunked {
            unchunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// The payload of a chunked body.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// One request: method, path, headers, body.
type Request = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// Every demo route, and what no route answers.
fn requests() -> Vec<Request> {
    vec![
        ("GET", "/health", vec![], ""),
        ("GET", "/users/7", vec![], ""),
        (
            "GET",
            "/users/7",
            vec![("authorization", "Bearer demo-admin-ada")],
            "",
        ),
        ("GET", "/items/404", vec![], ""),
        ("GET", "/fail?order=17", vec![], ""),
        ("GET", "/upstream", vec![], ""),
        ("GET", "/panic", vec![], ""),
        ("GET", "/health", vec![], ""),
        ("GET", "/slow?ms=5", vec![], ""),
        ("GET", "/slow", vec![], ""),
        (
            "POST",
            "/hop",
            vec![("content-type", "application/json")],
            "[]",
        ),
        ("POST", "/hop", vec![], "not json"),
        ("POST", "/jobs/welcome", vec![], ""),
        ("POST", "/jobs/welcome?fail=1", vec![], ""),
        (
            "POST",
            "/fail",
            vec![("content-type", "application/json")],
            r#"{"order":17,"password":"hunter2"}"#,
        ),
        (
            "POST",
            "/fail",
            vec![("content-type", "application/x-www-form-urlencoded")],
            "order=17&password=hunter2",
        ),
        ("POST", "/health", vec![], ""),
        ("GET", "/orders/17", vec![], ""),
        ("GET", "/orders/99", vec![], ""),
        ("GET", "/no/such/route", vec![], ""),
    ]
}

fn answers(server: &Server) -> Vec<Answer> {
    requests()
        .into_iter()
        .map(|(method, path, headers, body)| send(server.port, method, path, &headers, body))
        .collect()
}

/// `framework` answers every route as axum does, with lookout and `--plain`.
/// Without its demo module (or with one that maps a route, an error or the
/// authentication differently) a route would answer another status, body
/// or content type than on axum.
fn answers_every_route_as_on_axum(framework: &str) {
    for plain in [false, true] {
        let axum = answers(&serve("axum", plain));
        let other = answers(&serve(framework, plain));
        for (((method, path, _, _), axum), other) in requests().iter().zip(&axum).zip(&other) {
            assert_eq!(axum, other, "{framework}: {method} {path} (plain: {plain})");
            assert_eq!(
                other.has_request_id, !plain,
                "{framework}: {method} {path}: x-request-id exactly when lookout serves"
            );
        }
        assert!(
            other[6].status.starts_with("HTTP/1.1 500"),
            "{framework}: a panic answers 500: {:?}",
            other[6]
        );
        assert!(
            other[7].status.starts_with("HTTP/1.1 200"),
            "{framework}: and the next request is served"
        );
        // The order, then its lines, from the in-memory database.
        let order = &other[17];
        assert!(
            order.status.starts_with("HTTP/1.1 200")
                && order.content_type.as_deref() == Some("application/json")
                && order.body.contains("\"customer\":\"ada\"")
                && order.body.contains("\"sku\":\"cup\""),
            "{framework} (plain: {plain}): {order:?}"
        );
        assert!(
            other[18].status.starts_with("HTTP/1.1 404"),
            "{:?}",
            other[18]
        );
        // `POST /fail` fails as `GET /fail` does, whatever body it read.
        for posted in &other[14..16] {
            assert_eq!(posted.status, other[4].status, "{framework}");
            assert_eq!(posted.body, other[4].body, "{framework}");
        }
    }
}

#[test]
fn serve_on_actix_answers_every_route_as_on_axum() {
    answers_every_route_as_on_axum("actix");
}

#[test]
fn serve_on_warp_answers_every_route_as_on_axum() {
    answers_every_route_as_on_axum("warp");
}

/// The tour's table for one framework, without the event ids.
fn table(stdout: &str, framework: &str) -> Vec<String> {
    let start = stdout
        .find(&format!("\n{framework}  (service http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no {framework} table in:\n{stdout}"));
    stdout[start..]
        .lines()
        // The title, a blank line, the column names, the rule.
        .skip_while(|line| !line.trim_start().starts_with("---"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let keep = if cells.last().is_some_and(|c| c.len() == 32) {
                cells.len() - 1
            } else {
                cells.len()
            };
            cells[..keep].join(" ")
        })
        .collect()
}

/// The tour plays on actix-web and warp too, and lookout makes of every
/// request there what it makes of it on axum (continued or new trace, user,
/// verdict).
#[test]
fn the_tour_plays_on_actix_and_warp_with_the_rows_of_axum() {
    let output = demo().output().expect("the tour runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let axum = table(&stdout, "axum");
    assert!(axum.len() >= 8, "{axum:#?}");
    for framework in ["actix", "warp"] {
        assert_eq!(axum, table(&stdout, framework), "{framework}");
        assert!(
            stdout.contains(&format!("request_id=tour-{framework}-7")),
            "the {framework} panic's console line: {stdout}"
        );
    }
}

/// The DSN key the status route must never show (a closed port: nothing is
/// delivered, the envelope waits or is dropped as a network error).
const STATUS_KEY: &str = "statuspublickey5f3a9c";

/// `GET /lookout/status` on every framework: the configuration with where
/// each value came from, the delivery counters of the engine `init`
/// installed, never the DSN's key; absent with `--plain`.
#[test]
fn the_status_route_reports_lookout_without_the_dsn_key_on_every_framework() {
    let dsn = format!("http://{STATUS_KEY}@127.0.0.1:9/42");
    let vars = [
        ("SENTRY_DSN", dsn.as_str()),
        ("SENTRY_ENVIRONMENT", "staging"),
        ("SENTRY_RELEASE", "demo@9.9.9"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0.25"),
    ];
    for framework in ["axum", "actix", "warp"] {
        let server = serve_with(framework, false, &vars);
        let failed = send(server.port, "GET", "/fail", &[], "");
        assert!(failed.status.starts_with("HTTP/1.1 500"), "{failed:?}");
        let answer = send(server.port, "GET", "/lookout/status", &[], "");
        assert!(
            answer.status.starts_with("HTTP/1.1 200"),
            "{framework}: {answer:?}"
        );
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/json"),
            "{framework}"
        );
        assert!(
            !answer.body.contains(STATUS_KEY),
            "{framework}: the status shows the DSN key: {}",
            answer.body
        );
        let status: serde_json::Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("{framework}: not JSON ({e}): {}", answer.body));
        assert_eq!(
            status["environment"]["value"], "staging",
            "{framework}: {status}"
        );
        assert_eq!(
            status["environment"]["source"], "SENTRY_ENVIRONMENT",
            "{framework}"
        );
        assert_eq!(status["release"]["value"], "demo@9.9.9", "{framework}");
        assert_eq!(status["release"]["source"], "SENTRY_RELEASE", "{framework}");
        assert_eq!(status["dsn"]["host"], "127.0.0.1", "{framework}");
        assert_eq!(status["dsn"]["project_id"], "42", "{framework}");
        assert_eq!(
            status["sample_rates"]["traces"]["value"], 0.25,
            "{framework}"
        );
        assert_eq!(
            status["sample_rates"]["traces"]["source"], "SENTRY_TRACES_SAMPLE_RATE",
            "{framework}"
        );
        assert_eq!(
            status["sample_rates"]["errors"]["source"], "default",
            "{framework}"
        );
        assert_eq!(status["delivery"]["mode"], "send", "{framework}");
        // The /fail error went to the send queue of the engine init installed.
        let stats = &status["stats"];
        assert!(stats["queued"].as_u64() >= Some(1), "{framework}: {stats}");
        for reason in [
            "queue_full",
            "rate_limited",
            "network_error",
            "http_error",
            "sampled_out",
            "shutdown",
            "event_processor",
        ] {
            assert!(
                stats["dropped"][reason].is_u64(),
                "{framework}: {reason} in {stats}"
            );
        }
        drop(server);

        let plain = serve_with(framework, true, &vars);
        let answer = send(plain.port, "GET", "/lookout/status", &[], "");
        assert!(
            answer.status.starts_with("HTTP/1.1 404"),
            "{framework} --plain: no status route: {answer:?}"
        );
    }
}
