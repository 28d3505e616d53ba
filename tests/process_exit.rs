//! Driving a process to its end, for the shutdown suites: its standard
//! error is collected while it runs, it gets a bounded time to exit (it is
//! killed, and the test fails, past the bound; the time it took is never
//! asserted), and the line `lookout::Guard` prints when it shuts delivery
//! down is read back.

use std::io::Read as _;
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running child whose standard error is collected.
pub struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Takes over `child`, which must have been spawned with a piped stderr.
    pub fn new(mut child: Child) -> Self {
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    /// The child itself (to read its stdout, or learn its pid).
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// What the child wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the child to exit, at most `bound`; past it the child is
    /// killed and this panics with `what` and everything it wrote on stderr.
    /// Returns the exit status and the whole stderr.
    pub fn exit_within(mut self, bound: Duration, what: &str) -> (ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the child") {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return (status, self.stderr());
            }
            if started.elapsed() > bound {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{what}: still running {bound:?} later, killed. Its stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Sends SIGTERM to `child` (as an orchestrator stopping a service does).
pub fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {}", child.id());
}

/// The counts in the line a guard prints at shutdown:
/// `lookout: shutdown: D of A envelopes delivered, L lost ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownLine {
    /// Envelopes Sentry confirmed.
    pub delivered: u64,
    /// Envelopes handed to the send queue.
    pub accepted: u64,
    /// Envelopes lost.
    pub lost: u64,
}

impl ShutdownLine {
    /// The shutdown line in `stderr`; panics (showing `stderr`) when there
    /// is none or it does not read as expected.
    pub fn find(stderr: &str) -> Self {
        let line = stderr
            .lines()
            .find_map(|l| l.strip_prefix("lookout: shutdown: "))
            .unwrap_or_else(|| panic!("no `lookout: shutdown:` line in:\n{stderr}"));
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .take(3)
            .map(|n| n.parse().expect("a count"))
            .collect();
        let shape = format!(
            "{} of {} envelopes delivered, {} lost",
            numbers.first().copied().unwrap_or_default(),
            numbers.get(1).copied().unwrap_or_default(),
            numbers.get(2).copied().unwrap_or_default()
        );
        assert!(
            numbers.len() == 3 && line.starts_with(&shape),
            "unexpected shutdown line: {line}"
        );
        Self {
            delivered: numbers[0],
            accepted: numbers[1],
            lost: numbers[2],
        }
    }
}
