//! The load test's envelope receiver: a small HTTP/1.1 server in its own
//! process that reads each envelope, decodes its `content-encoding` (zstd,
//! gzip, deflate) as Relay does, counts its items by type (a `log` item's
//! logs one by one) and the bytes each type took on the wire and before
//! compression, reads the client reports' discards, and answers `200`, so
//! that the figures measure the service and not the receiver. `GET /counts`
//! answers the running totals as JSON. `LOOKOUT_SINK_DELAY_MS` answers each
//! envelope after that long (a distant Sentry).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// Totals since the receiver started.
#[derive(Default)]
struct Counts {
    envelopes: u64,
    /// Bytes received (as sent: compressed or not).
    bytes: u64,
    /// Items by type; a `log` or `trace_metric` item counts its records.
    items: BTreeMap<String, u64>,
    /// Bytes on the wire by item type (an envelope's bytes shared among its
    /// items in proportion to their decoded size).
    wire_bytes: BTreeMap<String, f64>,
    /// The same, decoded (before compression).
    plain_bytes: BTreeMap<String, f64>,
    /// Envelopes by `content-encoding` (`identity` for none).
    encodings: BTreeMap<String, u64>,
    /// Client reports' discarded quantities, by `reason:category`.
    discarded: BTreeMap<String, u64>,
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
    let mut decoder = Decoder::default();
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
        let mut encoding = None;
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
                } else if name.eq_ignore_ascii_case("content-encoding") {
                    encoding = Some(value.to_ascii_lowercase());
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
            // Decoded outside the lock: the receiver's threads decode in parallel.
            let plain = decoder.decode(encoding.as_deref(), &body)?;
            let items = items(plain);
            let discarded = discarded(plain, &items);
            let mut totals = counts.lock().unwrap_or_else(|e| e.into_inner());
            totals.add(encoding.as_deref(), body.len(), plain.len(), &items);
            for (key, quantity) in discarded {
                *totals.discarded.entry(key).or_default() += quantity;
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

impl Counts {
    /// One envelope: `wire` bytes received, `plain` decoded, `items` in it.
    fn add(&mut self, encoding: Option<&str>, wire: usize, plain: usize, items: &[Item]) {
        self.envelopes += 1;
        self.bytes += wire as u64;
        *self
            .encodings
            .entry(encoding.unwrap_or("identity").to_owned())
            .or_default() += 1;
        let sized: usize = items.iter().map(|item| item.len).sum();
        for item in items {
            *self.items.entry(item.kind.clone()).or_default() += item.count;
            let share = item.len as f64 / sized.max(1) as f64;
            *self.wire_bytes.entry(item.kind.clone()).or_default() += wire as f64 * share;
            *self.plain_bytes.entry(item.kind.clone()).or_default() += plain as f64 * share;
        }
    }
}

/// Decodes bodies from their `content-encoding`, as Relay decodes them,
/// reusing one zstd context and one output buffer per connection: a context
/// made per body (and its window's pages faulted in) cost the receiver more
/// CPU per transaction than the service spent sending it, on the cores the
/// service under test needs.
/// More than zstd shrinks anything (a run of one byte: about 1:32,000 at
/// level 1 on a large body; lookout's batches shrink 10 to 25 times).
const MAX_RATIO: u64 = 65_536;

#[derive(Default)]
struct Decoder {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    out: Vec<u8>,
}

impl Decoder {
    /// `body` decoded; borrowed until the next call.
    fn decode(&mut self, encoding: Option<&str>, body: &[u8]) -> std::io::Result<&[u8]> {
        self.out.clear();
        match encoding {
            None | Some("identity") => self.out.extend_from_slice(body),
            Some("zstd") => match zstd::zstd_safe::get_frame_content_size(body) {
                // One frame that says its size (what zstd's bulk API writes),
                // within what zstd could make of this body (a frame header's
                // size is not trusted past that).
                Ok(Some(size))
                    if size <= MAX_RATIO.saturating_mul(body.len() as u64)
                        && zstd::zstd_safe::find_frame_compressed_size(body) == Ok(body.len()) =>
                {
                    let size = usize::try_from(size).map_err(std::io::Error::other)?;
                    self.out.reserve(size);
                    let zstd = match &mut self.zstd {
                        Some(zstd) => zstd,
                        empty => empty.insert(zstd::bulk::Decompressor::new()?),
                    };
                    zstd.decompress_to_buffer(body, &mut self.out)?;
                }
                // Streamed frames, or more than one.
                _ => {
                    zstd::stream::read::Decoder::new(body)?.read_to_end(&mut self.out)?;
                }
            },
            Some("gzip") => {
                flate2::read::GzDecoder::new(body).read_to_end(&mut self.out)?;
            }
            Some("deflate") => {
                flate2::read::ZlibDecoder::new(body).read_to_end(&mut self.out)?;
            }
            Some(other) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("content-encoding {other}: Relay would refuse it"),
                ));
            }
        }
        Ok(&self.out)
    }
}

/// One item of an envelope.
#[derive(Debug, PartialEq)]
struct Item {
    /// Its `type`.
    kind: String,
    /// How many records it holds: `item_count` for a container (logs,
    /// metrics), else 1.
    count: u64,
    /// Its header line and payload, in bytes.
    len: usize,
    /// Where its payload starts and ends in the envelope.
    payload: (usize, usize),
}

/// Every item of an envelope: the envelope header line, then per item a
/// JSON header line and a payload of `length` bytes (or up to the next
/// newline without one).
fn items(envelope: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    let Some(first) = envelope.iter().position(|&b| b == b'\n') else {
        return items;
    };
    let mut at = first + 1;
    while at < envelope.len() {
        let rest = &envelope[at..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<serde_json::Value>(&rest[..end]) else {
            break;
        };
        let start = (at + end + 1).min(envelope.len());
        let rest = &envelope[start..];
        let payload = match header.get("length").and_then(serde_json::Value::as_u64) {
            Some(length) => usize::try_from(length)
                .unwrap_or(usize::MAX)
                .min(rest.len()),
            None => rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
        };
        if let Some(kind) = header.get("type").and_then(|t| t.as_str()) {
            items.push(Item {
                kind: kind.to_owned(),
                count: header
                    .get("item_count")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(1),
                len: end + 1 + payload,
                payload: (start, start + payload),
            });
        }
        at = start + payload;
        if envelope.get(at) == Some(&b'\n') {
            at += 1;
        }
    }
    items
}

/// The discards the client reports of an envelope announce: quantity by
/// `reason:category` (`queue_overflow:transaction`).
fn discarded(envelope: &[u8], items: &[Item]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for item in items.iter().filter(|item| item.kind == "client_report") {
        let (start, end) = item.payload;
        let Ok(report) = serde_json::from_slice::<serde_json::Value>(&envelope[start..end]) else {
            continue;
        };
        for entry in report["discarded_events"].as_array().into_iter().flatten() {
            let text = |key: &str| entry[key].as_str().unwrap_or("?").to_owned();
            let quantity = entry["quantity"].as_u64().unwrap_or(0);
            out.push((format!("{}:{}", text("reason"), text("category")), quantity));
        }
    }
    out
}

fn counts_json(counts: &Counts) -> String {
    serde_json::json!({
        "envelopes": counts.envelopes,
        "bytes": counts.bytes,
        "items": counts.items,
        "wire_bytes": counts.wire_bytes,
        "plain_bytes": counts.plain_bytes,
        "encodings": counts.encodings,
        "discarded": counts.discarded,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn kinds(envelope: &[u8]) -> Vec<(String, u64)> {
        items(envelope)
            .into_iter()
            .map(|item| (item.kind, item.count))
            .collect()
    }

    #[test]
    fn items_are_counted_with_and_without_length() {
        let envelope = b"{\"event_id\":\"x\"}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n{\"type\":\"session\"}\n{\"sid\":1}\n";
        assert_eq!(
            kinds(envelope),
            [("event".to_owned(), 1), ("session".to_owned(), 1)]
        );
    }

    #[test]
    fn a_payload_holding_newlines_is_skipped_by_its_length_and_logs_count_one_by_one() {
        let envelope = b"{}\n{\"type\":\"transaction\",\"length\":3}\n{\n}\n{\"type\":\"log\",\"item_count\":100,\"length\":2}\n{}";
        assert_eq!(
            kinds(envelope),
            [("transaction".to_owned(), 1), ("log".to_owned(), 100)]
        );
    }

    #[test]
    fn compressed_bodies_are_decoded_and_bytes_shared_by_item_type() {
        let envelope: &[u8] = b"{}\n{\"type\":\"event\",\"length\":2}\n{}\n{\"type\":\"client_report\"}\n{\"discarded_events\":[{\"reason\":\"queue_overflow\",\"category\":\"transaction\",\"quantity\":3}]}\n";
        let zstd = zstd::bulk::compress(envelope, 1).unwrap();
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(envelope).unwrap();
        let gzip = gzip.finish().unwrap();
        let mut streamed = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        streamed.write_all(envelope).unwrap();
        let streamed = streamed.finish().unwrap();
        // Two frames back to back decode as both, one after the other.
        let two_frames = [zstd.clone(), zstd.clone()].concat();
        let mut decoder = Decoder::default();
        assert_eq!(
            decoder.decode(Some("zstd"), &two_frames).unwrap(),
            [envelope, envelope].concat()
        );
        for (encoding, body) in [
            (Some("zstd"), zstd),
            (Some("zstd"), streamed),
            (Some("gzip"), gzip),
            (None, envelope.to_vec()),
        ] {
            let plain = decoder.decode(encoding, &body).unwrap().to_vec();
            assert_eq!(plain, envelope, "{encoding:?}");
            let items = items(&plain);
            assert_eq!(
                discarded(&plain, &items),
                [("queue_overflow:transaction".to_owned(), 3)]
            );
            let mut counts = Counts::default();
            counts.add(encoding, body.len(), plain.len(), &items);
            let wire: f64 = counts.wire_bytes.values().sum();
            assert!((wire - body.len() as f64).abs() < 1e-6, "{encoding:?}");
            assert!(counts.wire_bytes["client_report"] > counts.wire_bytes["event"]);
            assert_eq!(counts.encodings[encoding.unwrap_or("identity")], 1);
        }
        assert!(
            decoder.decode(Some("br"), b"x").is_err(),
            "lookout never sends br"
        );
    }

    /// A zstd frame of one raw block holding `data`, whose header says its
    /// content is `stated` bytes (8 bytes of frame content size, single
    /// segment).
    fn frame_stating(stated: u64, data: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0b1110_0000];
        frame.extend_from_slice(&stated.to_le_bytes());
        // Last block, raw, its size in the upper 21 bits of 3 bytes.
        let header = 1 | ((data.len() as u32) << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.extend_from_slice(data);
        frame
    }

    #[test]
    fn a_frame_stating_more_than_zstd_could_make_of_it_is_not_trusted_for_its_size() {
        let mut decoder = Decoder::default();
        // Honest: decoded through the bulk path.
        let honest = frame_stating(5, b"hello");
        assert_eq!(decoder.decode(Some("zstd"), &honest).unwrap(), b"hello");
        // A terabyte claimed for 5 bytes: no room is made for it up front
        // (reserving it would abort the receiver); the stream decoder reads
        // what is there and finds the frame short.
        let lying = frame_stating(1 << 40, b"hello");
        let _ = decoder.decode(Some("zstd"), &lying);
        assert!(
            decoder.out.capacity() < 1 << 20,
            "{} bytes reserved",
            decoder.out.capacity()
        );
    }
}
