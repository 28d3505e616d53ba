//! The official Python SDK, driven from tests.
//!
//! The virtualenv lives in `target/lookout-python` (never system-wide). `cargo
//! xtask ci` creates it up front; a plain `cargo test` creates it on first use.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// The sentry-sdk release the interop tests were written against.
const SENTRY_SDK: &str = "sentry-sdk==2.*";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The virtualenv's python, creating the virtualenv when it is missing.
///
/// # Panics
/// When Python 3 or pip cannot provide the official SDK: the interop tests
/// cannot say anything without it, so they fail loudly.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Some(python) = std::env::var_os("LOOKOUT_PYTHON")
            .map(PathBuf::from)
            .filter(|p| p.exists())
        {
            return python;
        }
        let venv = workspace_root().join("target").join("lookout-python");
        let python = venv.join("bin").join("python");
        let marker = venv.join(".sentry-sdk-installed");
        if !(marker.exists() && python.exists()) {
            let status = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 is needed for the interop tests");
            assert!(status.success(), "python3 -m venv failed: {status}");
            let status = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    SENTRY_SDK,
                ])
                .status()
                .expect("pip runs");
            assert!(
                status.success(),
                "pip install {SENTRY_SDK} failed: {status}"
            );
            std::fs::write(&marker, SENTRY_SDK).expect("write marker");
        }
        python
    })
}

/// Runs `tests/python/sentry_interop.py <command>` with `input` on stdin and
/// returns its JSON output.
///
/// # Panics
/// When the script fails or prints something that is not JSON.
pub fn interop(command: &str, input: &Value) -> Value {
    let script = workspace_root()
        .join("tests")
        .join("python")
        .join("sentry_interop.py");
    let mut child = Command::new(python())
        .arg(&script)
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("write stdin");
    }
    let output = child.wait_with_output().expect("python output");
    assert!(
        output.status.success(),
        "sentry_interop.py {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("sentry_interop.py prints JSON")
}

/// The Python SDK as a callee: `sentry_interop.py serve`, an HTTP server on
/// loopback that continues the trace of each request it gets and answers
/// what the SDK decided. Killed when dropped.
pub struct PythonCallee {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl PythonCallee {
    /// Starts the server and waits for its port.
    pub fn start() -> Self {
        use std::io::BufRead as _;
        let script = workspace_root()
            .join("tests")
            .join("python")
            .join("sentry_interop.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its port");
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .unwrap_or_else(|| panic!("no port from the Python callee: {line:?}"));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl PythonCallee {
    /// Every report the callee made so far (`GET /reports`): what the SDK
    /// decided for each request it got, with its `method` and `path`.
    ///
    /// # Panics
    /// When the callee does not answer with a JSON list.
    pub fn reports(&self) -> Vec<Value> {
        use std::io::{Read as _, Write as _};
        let addr = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut stream = std::net::TcpStream::connect(&addr).expect("the Python callee listens");
        write!(
            stream,
            "GET /reports HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("write the request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("reports ({e}): {answer:?}"))
    }
}

impl Drop for PythonCallee {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
