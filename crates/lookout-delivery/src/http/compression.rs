//! The body of an envelope request and its `content-encoding`.
//!
//! The sending thread compresses what it sends, after the rate limits have
//! been applied, so no request of the service ever pays for it.
//! zstd is the default: of the encodings Relay accepts it costs the least
//! CPU per byte saved on lookout's envelopes (docs/benchmarks.md,
//! "Compression"). A large body (a batch of logs, [`LARGE`] bytes and more)
//! goes at zstd's fast level -1: about 3,700 instructions per log of the
//! demo's, which it shrinks about 13× (level 1: 4,500 instructions, 22×;
//! level -4: 2,700 instructions, 12× on the demo's logs but only 7.5× on a
//! batch of lookout's own request logs, past the eighth that is the
//! target). A lone transaction or event goes at level 1, which halves it
//! (the fast levels leave two thirds or more), with a minimum match of 6
//! bytes instead of level 1's 5 ([`ZSTD_MIN_MATCH`]: about 12% less CPU for
//! the same size on the demo's transaction and event). The thread keeps one
//! zstd context and reuses it for every envelope, setting its parameters
//! when the size class changes. A body that compression would not make smaller (a
//! session aggregate of a few hundred bytes) goes as it is.
//!
//! Only the send path compresses: the console and the Spotlight copy work
//! on the envelope itself, before the send queue.

use std::io::{Read as _, Write as _};

use lookout_policy::Compression;

/// gzip's level: zlib's default (the measurement's gzip-6), 20% larger than
/// zstd at level 1 on a batch of logs for about nine times its CPU; level 1
/// gives up a third of the ratio.
const GZIP_LEVEL: u32 = 6;

/// zstd's level for bodies under [`LARGE`] (the measurement's zstd-1).
const ZSTD_LEVEL: i32 = 1;

/// zstd's minimum match length for bodies under [`LARGE`]: a JSON body's
/// repeats are keys and ids, longer than level 1's 5 bytes, so looking for
/// shorter ones mostly costs time (measured on the demo's transaction:
/// 5.4 µs against 6.1, 807 bytes against 811; on its event 5.0 against 5.9,
/// the same 812 bytes).
const ZSTD_MIN_MATCH: i32 = 6;

/// zstd's level for bodies of [`LARGE`] bytes and more (the measurement's
/// zstd-fast1).
const ZSTD_LARGE_LEVEL: i32 = -1;

/// From this size on a body is a batch (a batch of logs is up to 1 MiB, 100
/// of the demo's logs about 95 KB; a transaction or an event a few KB).
pub(super) const LARGE: usize = 16 * 1024;

/// The sending thread's compressor, keeping its zstd context between envelopes.
pub(super) struct Encoder {
    compression: Compression,
    /// Made on first use, so that a transport that never sends allocates none.
    zstd: Option<zstd::bulk::Compressor<'static>>,
    /// The size class `zstd` is set for (`true`: [`LARGE`] and more).
    zstd_large: bool,
}

/// A request body as it goes on the wire.
#[derive(Debug)]
pub(super) struct Body {
    /// The bytes sent.
    pub(super) bytes: bytes::Bytes,
    /// Their `content-encoding`, `None` when sent as they are.
    pub(super) encoding: Option<&'static str>,
    /// The serialized envelope's size before compression.
    pub(super) plain_len: usize,
}

impl Body {
    /// The serialized envelope (decompressed again: only for the rare
    /// failure that must say which items were lost).
    pub(super) fn envelope_bytes(&self) -> Option<Vec<u8>> {
        decode(self.encoding, &self.bytes).ok()
    }
}

impl Encoder {
    pub(super) fn new(compression: Compression) -> Self {
        Self {
            compression,
            zstd: None,
            zstd_large: false,
        }
    }

    /// The body for `envelope` (a serialized envelope): compressed when the
    /// setting asks for it and that makes it smaller, else as it is; and
    /// `envelope`'s buffer when the body is not made of it.
    pub(super) fn encode(&mut self, envelope: Vec<u8>) -> (Body, Option<Vec<u8>>) {
        let plain_len = envelope.len();
        let compressed = match self.compression {
            Compression::Zstd => self
                .zstd(plain_len >= LARGE)
                .and_then(|c| c.compress(&envelope).ok()),
            Compression::Gzip => gzip(&envelope),
            _ => None,
        };
        match compressed {
            Some(bytes) if bytes.len() < plain_len => (
                Body {
                    bytes: bytes.into(),
                    encoding: self.compression.content_encoding(),
                    plain_len,
                },
                Some(envelope),
            ),
            _ => (
                Body {
                    bytes: envelope.into(),
                    encoding: None,
                    plain_len,
                },
                None,
            ),
        }
    }

    /// The zstd context, set for bodies of the size class `large`.
    fn zstd(&mut self, large: bool) -> Option<&mut zstd::bulk::Compressor<'static>> {
        if self.zstd.is_none() {
            let mut zstd = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok()?;
            set_for(&mut zstd, false).ok()?;
            self.zstd = Some(zstd);
            self.zstd_large = false;
        }
        let zstd = self.zstd.as_mut()?;
        if self.zstd_large != large {
            set_for(zstd, large).ok()?;
            self.zstd_large = large;
        }
        Some(zstd)
    }
}

/// Sets `zstd`'s parameters for bodies of the size class `large`: the fast
/// level with its own match length, or level 1 with [`ZSTD_MIN_MATCH`].
fn set_for(zstd: &mut zstd::bulk::Compressor<'static>, large: bool) -> std::io::Result<()> {
    use zstd::zstd_safe::CParameter;
    if large {
        zstd.set_compression_level(ZSTD_LARGE_LEVEL)?;
        // 0: the level's own value again.
        zstd.set_parameter(CParameter::MinMatch(0))
    } else {
        zstd.set_compression_level(ZSTD_LEVEL)?;
        zstd.set_parameter(CParameter::MinMatch(ZSTD_MIN_MATCH as u32))
    }
}

fn gzip(envelope: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(envelope.len() / 4),
        flate2::Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(envelope).ok()?;
    encoder.finish().ok()
}

/// `bytes` decoded from `encoding` (`None`: as they are).
pub(super) fn decode(encoding: Option<&str>, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    match encoding {
        None => Ok(bytes.to_vec()),
        Some("zstd") => zstd::stream::decode_all(bytes),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
            Ok(out)
        }
        Some(other) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("unknown content-encoding {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of log-like lines: repetitive, as a batch of logs is.
    fn batch() -> Vec<u8> {
        let mut out = b"{}\n{\"type\":\"log\",\"item_count\":100}\n{\"items\":[".to_vec();
        for i in 0..100 {
            out.extend_from_slice(
                format!(
                    "{{\"level\":\"info\",\"body\":\"loading user\",\"attributes\":{{\"request_id\":{{\"value\":\"{i:08}\",\"type\":\"string\"}}}}}},"
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(b"{}]}\n");
        out
    }

    #[test]
    fn each_encoding_round_trips_and_names_itself() {
        for (compression, encoding) in [
            (Compression::Zstd, Some("zstd")),
            (Compression::Gzip, Some("gzip")),
            (Compression::Off, None),
        ] {
            let mut encoder = Encoder::new(compression);
            // Twice: the zstd context is reused.
            for _ in 0..2 {
                let (body, spent) = encoder.encode(batch());
                assert_eq!(
                    spent.is_some(),
                    encoding.is_some(),
                    "the buffer comes back when compressed"
                );
                assert_eq!(body.encoding, encoding, "{compression}");
                assert_eq!(body.plain_len, batch().len());
                assert_eq!(body.envelope_bytes().as_deref(), Some(&batch()[..]));
                if encoding.is_some() {
                    assert!(
                        body.bytes.len() * 8 < batch().len(),
                        "{compression}: {} of {} bytes",
                        body.bytes.len(),
                        batch().len()
                    );
                }
            }
        }
    }

    /// The demo's envelopes the compression bench measures.
    const LOGS: &[u8] = include_bytes!("../../benches/envelopes/logs-100.envelope");
    const TRANSACTION: &[u8] = include_bytes!("../../benches/envelopes/transaction.envelope");

    #[test]
    fn a_batch_goes_at_the_fast_level_and_a_transaction_at_level_one_with_longer_matches_in_any_order()
     {
        let at = |level: i32, input: &[u8]| {
            zstd::bulk::Compressor::new(level)
                .unwrap()
                .compress(input)
                .unwrap()
        };
        // Level 1 with the longer minimum match, as a context of its own.
        let small = |input: &[u8]| {
            let mut zstd = zstd::bulk::Compressor::new(ZSTD_LEVEL).unwrap();
            zstd.set_parameter(zstd::zstd_safe::CParameter::MinMatch(ZSTD_MIN_MATCH as u32))
                .unwrap();
            zstd.compress(input).unwrap()
        };
        assert_ne!(
            small(TRANSACTION),
            at(ZSTD_LEVEL, TRANSACTION),
            "the minimum match changes the output"
        );
        assert!(LOGS.len() >= LARGE && TRANSACTION.len() < LARGE);
        let mut encoder = Encoder::new(Compression::Zstd);
        // Alternating: the one context changes its level each time.
        for input in [LOGS, TRANSACTION, LOGS, TRANSACTION] {
            let (body, _) = encoder.encode(input.to_vec());
            let expected = if input.len() >= LARGE {
                at(ZSTD_LARGE_LEVEL, input)
            } else {
                small(input)
            };
            assert!(
                body.bytes[..] == expected[..],
                "{} bytes compressed as their size class says",
                input.len()
            );
            assert_eq!(body.envelope_bytes().as_deref(), Some(input));
        }
        // The targets: a batch of logs at most an eighth of its bytes, a
        // transaction at most 60%.
        assert!(at(ZSTD_LARGE_LEVEL, LOGS).len() * 8 <= LOGS.len());
        assert!(small(TRANSACTION).len() * 10 <= TRANSACTION.len() * 6);
    }

    #[test]
    fn a_body_compression_would_not_shrink_goes_as_it_is() {
        let tiny = b"{}\n".to_vec();
        let (body, spent) = Encoder::new(Compression::Zstd).encode(tiny.clone());
        assert!(spent.is_none(), "the body is the buffer");
        assert_eq!((body.encoding, &body.bytes[..]), (None, &tiny[..]));
    }
}
