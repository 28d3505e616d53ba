//! The Python virtualenv the interop tests drive: the official `sentry-sdk`,
//! installed under `target/`, never system-wide.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The sentry-sdk release the interop tests were written against.
pub(crate) const SENTRY_SDK: &str = "sentry-sdk==2.*";

/// Creates `target/lookout-python` with sentry-sdk when missing and returns its python.
pub(crate) fn ensure_env(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target").join("lookout-python");
    let python = venv.join("bin").join("python");
    let marker = venv.join(".sentry-sdk-installed");
    if marker.exists() && python.exists() {
        return Ok(python);
    }
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&system).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        SENTRY_SDK,
    ]))?;
    std::fs::write(&marker, SENTRY_SDK).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(python)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}
