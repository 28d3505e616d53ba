//! What the demo's process-level suites share: a `lookout-demo serve`
//! process that is killed when dropped, starting one, and one raw HTTP
//! exchange with it.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// Sends `request` (a whole HTTP/1.1 request, `Connection: close`) to the
/// server on `port` over a fresh connection and reads the whole answer,
/// waiting at most `timeout` for each read.
#[allow(
    dead_code,
    reason = "the hostile suite writes its requests byte by byte"
)]
pub(crate) fn exchange(port: u16, request: &str, timeout: Duration) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("a response");
    String::from_utf8_lossy(&response).into_owned()
}
