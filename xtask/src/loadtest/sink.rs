//! The load test's envelope receiver: a small HTTP/1.1 server in its own
//! process that reads each envelope, counts its items by type and answers
//! `200`, so that the figures measure the service and not the receiver.
//! `GET /counts` answers the running totals as JSON. `LOOKOUT_SINK_DELAY_MS`
//! answers each envelope after that long (a distant Sentry).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// Totals since the receiver started.
#[derive(Default)]
struct Counts {
    envelopes: u64,
    bytes: u64,
    items: BTreeMap<String, u64>,
}

/// `xtask loadtest-sink`: binds `127.0.0.1:0`, prints `listening on ADDR`
/// and serves until killed.
pub(crate) fn serve() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("sink: bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    let counts = Arc::new(Mutex::new(Counts::default()));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let counts = Arc::clone(&counts);
        std::thread::spawn(move || {
            let _ = connection(stream, &counts);
        });
    }
    Ok(())
}

/// One keep-alive connection: requests until the peer closes.
fn connection(stream: TcpStream, counts: &Mutex<Counts>) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    let mut body = Vec::new();
    let delay = std::env::var("LOOKOUT_SINK_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(std::time::Duration::from_millis);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let request_line = line.trim_end().to_owned();
        if request_line.is_empty() {
            continue;
        }
        let mut length = 0usize;
        let mut chunked = false;
        let mut close = false;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.eq_ignore_ascii_case("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        body.clear();
        if chunked {
            read_chunked(&mut reader, &mut body)?;
        } else {
            body.resize(length, 0);
            reader.read_exact(&mut body)?;
        }
        let answer = if request_line.starts_with("GET /counts") {
            counts_json(&counts.lock().unwrap_or_else(|e| e.into_inner()))
        } else {
            let mut totals = counts.lock().unwrap_or_else(|e| e.into_inner());
            totals.envelopes += 1;
            totals.bytes += body.len() as u64;
            for kind in item_types(&body) {
                *totals.items.entry(kind).or_default() += 1;
            }
            drop(totals);
            if let Some(delay) = delay {
                // A distant Sentry: each envelope answered after a round trip.
                std::thread::sleep(delay);
            }
            "{}".to_owned()
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )?;
        if close {
            return Ok(());
        }
    }
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                    return Ok(());
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}

/// The `type` of every item of an envelope: the envelope header line, then
/// per item a JSON header line and a payload of `length` bytes (or up to
/// the next newline without one).
fn item_types(envelope: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let Some(first) = envelope.iter().position(|&b| b == b'\n') else {
        return types;
    };
    let mut rest = &envelope[first + 1..];
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<serde_json::Value>(&rest[..end]) else {
            break;
        };
        rest = rest.get(end + 1..).unwrap_or_default();
        if let Some(kind) = header.get("type").and_then(|t| t.as_str()) {
            types.push(kind.to_owned());
        }
        let payload = match header.get("length").and_then(serde_json::Value::as_u64) {
            Some(length) => usize::try_from(length)
                .unwrap_or(usize::MAX)
                .min(rest.len()),
            None => rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
        };
        rest = &rest[payload..];
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    types
}

fn counts_json(counts: &Counts) -> String {
    serde_json::json!({
        "envelopes": counts.envelopes,
        "bytes": counts.bytes,
        "items": counts.items,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::item_types;

    #[test]
    fn items_are_counted_with_and_without_length() {
        let envelope = b"{\"event_id\":\"x\"}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n{\"type\":\"session\"}\n{\"sid\":1}\n";
        assert_eq!(item_types(envelope), ["event", "session"]);
    }

    #[test]
    fn a_payload_holding_newlines_is_skipped_by_its_length() {
        let envelope = b"{}\n{\"type\":\"transaction\",\"length\":3}\n{\n}\n{\"type\":\"log\",\"length\":2}\n{}";
        assert_eq!(item_types(envelope), ["transaction", "log"]);
    }
}
