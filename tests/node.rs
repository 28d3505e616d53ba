//! The official JavaScript SDK (`@sentry/node`), driven from tests.
//!
//! Its `node_modules` live in `target/lookout-node` (never system-wide).
//! `cargo xtask ci` installs them up front (and passes
//! `LOOKOUT_NODE_MODULES`); a plain `cargo test` installs them on first use.
//! Without Node.js a test using them is skipped with a loud message, except
//! under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// The `package.json` of `target/lookout-node`: the @sentry/node release the
/// interop tests were written against (keep in step with xtask's `node.rs`).
pub const PACKAGE_JSON: &str = r#"{
  "private": true,
  "description": "The official JavaScript SDK for lookout's interop tests (installed by cargo xtask ci or the tests).",
  "dependencies": { "@sentry/node": "11.12.0" }
}
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn node_runs() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The `node_modules` holding `@sentry/node`, installing it when missing;
/// `None` when Node.js is not installed (and not under `CI=true`).
///
/// # Panics
/// Under `CI=true` without Node.js, and whenever npm cannot install the
/// SDK: the interop tests cannot say anything without it.
pub fn node_modules() -> Option<&'static Path> {
    static MODULES: OnceLock<Option<PathBuf>> = OnceLock::new();
    MODULES
        .get_or_init(|| {
            if let Some(modules) = std::env::var_os("LOOKOUT_NODE_MODULES")
                .map(PathBuf::from)
                .filter(|p| p.join("@sentry").join("node").exists())
            {
                return Some(modules);
            }
            if !node_runs() {
                assert!(
                    !under_ci(),
                    "CI=true but Node.js is missing: the JavaScript SDK interop tests need it"
                );
                eprintln!(
                    "\n!!! SKIPPED: Node.js is not installed, so the interop tests with the official \
                     JavaScript SDK (@sentry/node) do not run. Install Node.js to run them \
                     (under CI=true they fail instead). !!!\n"
                );
                return None;
            }
            let dir = workspace_root().join("target").join("lookout-node");
            let modules = dir.join("node_modules");
            let marker = dir.join(".installed");
            if std::fs::read_to_string(&marker).ok().as_deref() == Some(PACKAGE_JSON)
                && modules.join("@sentry").join("node").exists()
            {
                return Some(modules);
            }
            std::fs::create_dir_all(&dir).expect("create target/lookout-node");
            std::fs::write(dir.join("package.json"), PACKAGE_JSON).expect("write package.json");
            let status = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
                .arg(&dir)
                .status()
                .expect("npm (Node.js) runs");
            assert!(status.success(), "npm install @sentry/node failed: {status}");
            std::fs::write(&marker, PACKAGE_JSON).expect("write the marker");
            Some(modules)
        })
        .as_deref()
}

/// Runs `tests/node/sentry_caller.cjs` with `input` on stdin (see the script
/// for its fields) and returns its JSON report; `None` when Node.js is not
/// installed (see [`node_modules`]).
///
/// # Panics
/// When the script fails or prints something that is not JSON.
pub fn caller(input: &Value) -> Option<Value> {
    let modules = node_modules()?;
    let script = workspace_root()
        .join("tests")
        .join("node")
        .join("sentry_caller.cjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("write stdin");
    }
    let output = child.wait_with_output().expect("node output");
    assert!(
        output.status.success(),
        "sentry_caller.cjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("sentry_caller.cjs prints JSON"))
}
