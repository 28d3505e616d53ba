//! The demo's tour against the real Spotlight sidecar
//! (`@spotlightjs/spotlight` from npm, installed under `target/`): every
//! error, transaction and Sentry Log the tour delivers shows up in Spotlight.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEMO: &str = env!("CARGO_BIN_EXE_lookout-demo");

/// The Spotlight release this test was written against. Its sidecar breaks
/// with hono 4.13 (every request answers 500), so hono stays on the release
/// Spotlight itself was built with.
const PACKAGE_JSON: &str = r#"{
  "private": true,
  "description": "The Spotlight sidecar for lookout-demo's tests (installed by the test itself).",
  "dependencies": { "@spotlightjs/spotlight": "4.11.8" },
  "overrides": { "hono": "4.12.25" }
}
"#;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// `target/lookout-spotlight/node_modules/.bin/spotlight`, installed on first use.
fn spotlight_bin() -> PathBuf {
    let dir = target_dir().join("lookout-spotlight");
    let bin = dir.join("node_modules").join(".bin").join("spotlight");
    let marker = dir.join(".installed");
    if bin.exists() && std::fs::read_to_string(&marker).ok().as_deref() == Some(PACKAGE_JSON) {
        return bin;
    }
    std::fs::create_dir_all(&dir).expect("create the Spotlight directory");
    std::fs::write(dir.join("package.json"), PACKAGE_JSON).expect("write package.json");
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .expect("npm (Node.js) is needed for the Spotlight test");
    assert!(
        status.success(),
        "npm install @spotlightjs/spotlight failed: {status}"
    );
    std::fs::write(&marker, PACKAGE_JSON).expect("write the marker");
    bin
}

struct Sidecar {
    child: Child,
    port: u16,
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_sidecar(bin: &Path) -> Sidecar {
    let port = free_port();
    let child = Command::new(bin)
        .args(["server", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Spotlight sidecar");
    let sidecar = Sidecar { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the sidecar never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sidecar
}

/// What the sidecar holds of `kind` (`errors`, `traces`, `logs`), as
/// `spotlight tail KIND -f json` prints it: one JSON object per error,
/// transaction or log.
fn in_spotlight(bin: &Path, port: u16, kind: &str) -> Vec<serde_json::Value> {
    let mut tail = Command::new(bin)
        .args(["tail", kind, "-p", &port.to_string(), "-f", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spotlight tail");
    // `tail` replays what the sidecar holds, then follows: stop it after a moment.
    std::thread::sleep(Duration::from_secs(4));
    let _ = tail.kill();
    let output = tail.wait_with_output().expect("tail output");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The tour also sends to a Sentry (the workspace's receiver), which gets
/// every envelope compressed (zstd, the default) while the sidecar gets its
/// copies as they are: a compressed copy would not parse in Spotlight, and
/// the checks below would find nothing.
#[test]
fn the_tours_errors_transactions_and_logs_appear_in_a_running_spotlight_sidecar() {
    let bin = spotlight_bin();
    let sidecar = start_sidecar(&bin);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the receiver");
    let sentry = runtime.block_on(lookout_tests::receiver::Receiver::start());
    let output = Command::new(DEMO)
        .env("SENTRY_DSN", sentry.dsn())
        .env(
            "SENTRY_SPOTLIGHT",
            format!("http://127.0.0.1:{}/stream", sidecar.port),
        )
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    // The event ids the demo printed for its captured errors.
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|line| line.trim_start().starts_with("lookout event "))
        .filter_map(|line| line.split("event_id=").nth(1))
        // A `body="..."` may follow the id.
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    // The tour plays once per available framework.
    let frameworks = stdout.matches("  (service http://").count();
    assert!(frameworks >= 1, "{stdout}");
    assert_eq!(
        printed.len(),
        5 * frameworks,
        "app_service (GET and POST /fail), upstream, panic and the background job's mail error on each framework:\n{stdout}"
    );

    // Sentry got the same events, compressed.
    let sent: Vec<String> = sentry
        .events()
        .iter()
        .map(|e| e.event_id.simple().to_string())
        .collect();
    for id in &printed {
        assert!(
            sent.iter().any(|s| s == *id),
            "event {id} was not sent; Sentry got {sent:?}"
        );
    }
    let encodings = sentry.content_encodings();
    assert!(
        encodings.iter().any(|e| e.as_deref() == Some("zstd")),
        "Sentry gets compressed envelopes: {encodings:?}"
    );

    let errors = in_spotlight(&bin, sidecar.port, "errors");
    let seen: Vec<String> = errors
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .map(|id| id.replace('-', ""))
        .collect();
    for id in &printed {
        assert!(
            seen.iter().any(|s| s == *id),
            "event {id} is not in Spotlight; it holds {seen:?}"
        );
    }

    // Transactions and logs: each console line the demo printed for one
    // (`lookout transaction "NAME" ... trace_id=T`, `lookout log LEVEL "BODY"
    // ... trace_id=T`) has its counterpart in the sidecar.
    let field = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|part| part.strip_prefix(key))
            .map(str::to_owned)
    };
    let quoted = |line: &str| line.split('"').nth(1).map(str::to_owned);
    // (quoted name or body, trace id) of the console lines starting `prefix`.
    let printed = |prefix: &str| -> Vec<(String, String)> {
        stdout
            .lines()
            .map(str::trim_start)
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| Some((quoted(line)?, field(line, "trace_id=")?)))
            .collect()
    };
    // Whether Spotlight holds an item whose `key` is `value` on `trace_id`.
    let holds = |items: &[serde_json::Value], key: &str, value: &str, trace_id: &str| {
        items.iter().any(|item| {
            item[key] == value
                && item["trace_id"]
                    .as_str()
                    .map(|t| t.replace('-', ""))
                    .as_deref()
                    == Some(trace_id)
        })
    };
    let printed_transactions = printed("lookout transaction ");
    assert!(
        !printed_transactions.is_empty(),
        "the tour delivers transactions:\n{stdout}"
    );
    let traces = in_spotlight(&bin, sidecar.port, "traces");
    for (name, trace_id) in &printed_transactions {
        assert!(
            holds(&traces, "transaction", name, trace_id),
            "transaction {name:?} on trace {trace_id} is not in Spotlight; it holds {traces:?}"
        );
    }
    let printed_logs = printed("lookout log ");
    assert!(
        printed_logs.iter().any(|(body, _)| body == "loading user"),
        "the tour delivers its handlers' logs:\n{stdout}"
    );
    let logs = in_spotlight(&bin, sidecar.port, "logs");
    for (body, trace_id) in &printed_logs {
        assert!(
            holds(&logs, "message", body, trace_id),
            "log {body:?} on trace {trace_id} is not in Spotlight; it holds {logs:?}"
        );
    }
}
