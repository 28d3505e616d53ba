//! The Node.js packages the interop tests drive: the official JavaScript SDK
//! (`@sentry/node`), installed with `npm install --prefix target/lookout-node`,
//! never system-wide.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `package.json` written to `target/lookout-node` (keep in step with
/// `tests/node.rs`, which installs the same when run without xtask).
pub(crate) const PACKAGE_JSON: &str = r#"{
  "private": true,
  "description": "The official JavaScript SDK for lookout's interop tests (installed by cargo xtask ci or the tests).",
  "dependencies": { "@sentry/node": "11.12.0" }
}
"#;

/// Installs `@sentry/node` under `target/lookout-node` when missing and
/// returns its `node_modules`. Node.js and npm are prerequisites of the test
/// command: without them this fails.
pub(crate) fn ensure_env(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("target").join("lookout-node");
    let modules = dir.join("node_modules");
    let marker = dir.join(".installed");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(PACKAGE_JSON)
        && modules.join("@sentry").join("node").exists()
    {
        return Ok(modules);
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("Node.js (node and npm) is needed for the interop tests with the official JavaScript SDK".to_owned());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let package = dir.join("package.json");
    std::fs::write(&package, PACKAGE_JSON).map_err(|e| format!("{}: {e}", package.display()))?;
    let mut npm = Command::new("npm");
    npm.args([
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
    ])
    .arg(&dir);
    let status = npm
        .status()
        .map_err(|e| format!("could not start {npm:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{npm:?} failed: {status}"));
    }
    std::fs::write(&marker, PACKAGE_JSON).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(modules)
}
