//! `cargo xtask loadtest-floor`: the least one HTTP/1.1 request per
//! transaction costs on this machine, to set beside the load test's
//! figures.
//!
//! A transaction goes to Sentry in an envelope of its own (the envelope
//! format allows one per envelope), so each one is a request of its own.
//! This posts the demo's own transaction envelope
//! (`crates/lookout-delivery/benches/envelopes/transaction.envelope`),
//! compressed once as the transport compresses it (zstd level 1, minimum
//! match 6), to the load test's receiver over keep-alive connections, each
//! request written with one `write` and its answer read back, with nothing
//! else in the process: no runtime, no HTTP library, no serializing and no
//! compressing per request. What the sending process and the receiver spend
//! per request here is the kernel's loopback path, the wake-ups on both
//! sides and the receiver's own reading: the part of a delivered
//! transaction no SDK can leave out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

use super::{Sink, clock_ticks};

/// What the transport sends a transaction at: level 1, minimum match 6.
const LEVEL: i32 = 1;
const MIN_MATCH: u32 = 6;

/// `cargo xtask loadtest-floor [--requests N] [--connections N]`.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut requests: u64 = 200_000;
    let mut connections: u64 = 1;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = args
                .next()
                .ok_or_else(|| format!("{name} needs a number"))?;
            value
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} {value:?}: expected a whole number above 0"))
        };
        match arg.as_str() {
            "--requests" => requests = number("--requests")?,
            "--connections" => connections = number("--connections")?,
            other => {
                return Err(format!(
                    "loadtest-floor: unknown argument {other:?}: expected --requests N or --connections N"
                ));
            }
        }
    }
    let envelope_path = root.join("crates/lookout-delivery/benches/envelopes/transaction.envelope");
    let envelope =
        std::fs::read(&envelope_path).map_err(|e| format!("{}: {e}", envelope_path.display()))?;
    let body = compress(&envelope)?;
    let xtask = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let sink = Sink::start(&xtask)?;
    let result = measure(&sink, &body, envelope.len(), requests, connections);
    sink.stop();
    result
}

fn compress(envelope: &[u8]) -> Result<Vec<u8>, String> {
    let mut zstd = zstd::bulk::Compressor::new(LEVEL).map_err(|e| format!("zstd: {e}"))?;
    zstd.set_parameter(zstd::zstd_safe::CParameter::MinMatch(MIN_MATCH))
        .map_err(|e| format!("zstd: {e}"))?;
    zstd.compress(envelope).map_err(|e| format!("zstd: {e}"))
}

fn measure(
    sink: &Sink,
    body: &[u8],
    plain_len: usize,
    requests: u64,
    connections: u64,
) -> Result<(), String> {
    let mut request = format!(
        "POST /api/1/envelope/ HTTP/1.1\r\nhost: {addr}\r\n\
         x-sentry-auth: Sentry sentry_key=49d0f7386ad645858ae85020e393bef3, sentry_version=7, sentry_client=lookout-floor\r\n\
         content-type: application/x-sentry-envelope\r\ncontent-encoding: zstd\r\n\
         content-length: {len}\r\n\r\n",
        addr = sink.addr,
        len = body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let before = sink.counts()?.item("transaction");
    let own = std::process::id();
    let sink_pid = sink.child.id();
    let (own_0, sink_0) = (super::cpu_ticks(own)?, super::cpu_ticks(sink_pid)?);
    let started = Instant::now();
    let per_connection = requests / connections;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let addr = sink.addr.clone();
            let request = request.clone();
            std::thread::spawn(move || post_all(&addr, &request, per_connection))
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| "a sending thread panicked".to_owned())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (own_1, sink_1) = (super::cpu_ticks(own)?, super::cpu_ticks(sink_pid)?);
    let sent = per_connection * connections;
    let received = sink.counts()?.item("transaction") - before;
    if received != sent {
        return Err(format!(
            "the receiver counted {received} transactions of the {sent} posted"
        ));
    }
    let per_request = |ticks: u64| ticks as f64 / clock_ticks() * 1e6 / sent as f64;
    println!(
        "{sent} transactions ({plain_len} bytes, {} on the wire), one request each, over {connections} \
         keep-alive connection(s) in {elapsed:.1} s ({:.0} per second)",
        body.len(),
        sent as f64 / elapsed
    );
    println!(
        "sending process: {:.1} µs of CPU per transaction (one write and one read each, nothing else)",
        per_request(own_1 - own_0)
    );
    println!(
        "receiver: {:.1} µs of CPU per transaction (reading, decompressing and counting it)",
        per_request(sink_1 - sink_0)
    );
    Ok(())
}

/// Posts `request` `count` times on one connection, reading each answer
/// (status line, headers, `content-length` body) before the next.
fn post_all(addr: &str, request: &[u8], count: u64) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; 4096];
    for _ in 0..count {
        stream
            .write_all(request)
            .map_err(|e| format!("post: {e}"))?;
        read_answer(&mut stream, &mut buffer)?;
    }
    Ok(())
}

fn read_answer(stream: &mut TcpStream, buffer: &mut [u8]) -> Result<(), String> {
    let mut filled = 0;
    loop {
        let n = stream
            .read(&mut buffer[filled..])
            .map_err(|e| format!("answer: {e}"))?;
        if n == 0 {
            return Err("the receiver closed the connection".into());
        }
        filled += n;
        let got = &buffer[..filled];
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&got[..end]).map_err(|e| e.to_string())?;
            if !head.starts_with("HTTP/1.1 200") {
                return Err(format!("the receiver answered {head:?}"));
            }
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if filled >= end + 4 + length {
                return Ok(());
            }
        }
        if filled == buffer.len() {
            return Err("an answer longer than 4 KiB".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadtest::tests::args;

    #[test]
    fn arguments_it_does_not_take_are_refused_before_anything_starts() {
        let root = Path::new("/nonexistent");
        let refused = |list: &[&str]| run(root, &args(list)).unwrap_err();
        assert!(refused(&["--rounds", "2"]).contains("unknown argument \"--rounds\""));
        assert!(refused(&["--requests", "0"]).contains("expected a whole number above 0"));
        assert!(refused(&["--connections"]).contains("--connections needs a number"));
        // Valid arguments get as far as reading the envelope.
        assert!(refused(&["--requests", "10"]).contains("transaction.envelope"));
    }

    #[test]
    fn an_answer_is_read_to_the_end_of_its_body_across_reads() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The head and the body in separate writes; then, once asked
            // again, a refusal.
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            stream.write_all(b"{}").unwrap();
            stream.read_exact(&mut [0u8; 1]).unwrap();
            stream
                .write_all(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        });
        let mut stream = TcpStream::connect(addr).unwrap();
        let mut buffer = vec![0u8; 4096];
        read_answer(&mut stream, &mut buffer).unwrap();
        stream.write_all(b"x").unwrap();
        let refusal = read_answer(&mut stream, &mut buffer).unwrap_err();
        assert!(refusal.contains("answered \"HTTP/1.1 429"), "{refusal}");
        server.join().unwrap();
    }
}
