//! What the demo's process-level suites share: a `lookout-demo serve`
//! process that is killed when dropped, and starting one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The demo binary under test.
pub(crate) const DEMO: &str = env!("CARGO_BIN_EXE_lookout-demo");

/// A `serve` process, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (a `serve --addr 127.0.0.1:0` command line) and waits for
/// its first line, `listening on http://127.0.0.1:PORT`.
pub(crate) fn start(mut cmd: Command, framework: &str) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let port = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{framework}: first line {first:?}"))
        .parse()
        .expect("a port");
    Server { child, port }
}
