//! What compressing an envelope costs and saves, per candidate, on the
//! demo's own envelopes (`benches/envelopes/`, captured from `lookout-demo
//! serve` under the load test's settings): a batch of 100 Sentry Logs, a
//! lone transaction and an error event.
//!
//! Candidates are the encodings Relay accepts (`content-encoding`): zstd at
//! its fast levels -4 and -1 (`zstd --fast=N`), level 1 (also with a minimum match of 6, what a
//! transaction or an event is sent with) and level 3 (the `zstd` crate, one context per lane reused as the
//! transport does), gzip at levels 1 and 6 (`flate2` on zlib-rs) and brotli
//! at quality 4 (what sentry-python sends). The sizes are printed first (they
//! are deterministic); criterion times each compression.
//!
//! For instruction counts (steadier than times on a shared machine):
//! `COMPRESSION_ONLY=zstd-1,logs,1000 valgrind --tool=callgrind <bench binary>`
//! compresses that input that many times and exits; subtract a run with a
//! count of 0 to leave out start-up.

use std::hint::black_box;
use std::io::Write as _;

use criterion::{Criterion, Throughput, criterion_group};

/// The demo's envelopes: (name, bytes).
const INPUTS: [(&str, &[u8]); 3] = [
    ("logs", include_bytes!("envelopes/logs-100.envelope")),
    (
        "transaction",
        include_bytes!("envelopes/transaction.envelope"),
    ),
    ("event", include_bytes!("envelopes/event.envelope")),
];

/// The candidates, by the name the report uses.
const CANDIDATES: [&str; 8] = [
    "zstd-fast4",
    "zstd-fast1",
    "zstd-1",
    "zstd-1-mm6",
    "zstd-3",
    "gzip-1",
    "gzip-6",
    "br-4",
];

/// A compressor for one candidate, keeping what it can reuse between calls.
enum Encoder {
    Zstd(zstd::bulk::Compressor<'static>),
    Gzip(u32),
    Brotli(i32),
}

impl Encoder {
    fn new(name: &str) -> Encoder {
        match name {
            // zstd's fast levels (`zstd --fast=N`: negative levels).
            "zstd-fast4" => Encoder::Zstd(zstd::bulk::Compressor::new(-4).expect("zstd level -4")),
            "zstd-fast1" => Encoder::Zstd(zstd::bulk::Compressor::new(-1).expect("zstd level -1")),
            "zstd-1" => Encoder::Zstd(zstd::bulk::Compressor::new(1).expect("zstd level 1")),
            // Level 1 with a minimum match of 6 (what the transport sends a
            // transaction or an event with).
            "zstd-1-mm6" => {
                let mut zstd = zstd::bulk::Compressor::new(1).expect("zstd level 1");
                zstd.set_parameter(zstd::zstd_safe::CParameter::MinMatch(6))
                    .expect("zstd minimum match 6");
                Encoder::Zstd(zstd)
            }
            "zstd-3" => Encoder::Zstd(zstd::bulk::Compressor::new(3).expect("zstd level 3")),
            "gzip-1" => Encoder::Gzip(1),
            "gzip-6" => Encoder::Gzip(6),
            "br-4" => Encoder::Brotli(4),
            other => panic!("unknown candidate {other}: expected one of {CANDIDATES:?}"),
        }
    }

    fn compress(&mut self, input: &[u8]) -> Vec<u8> {
        match self {
            Encoder::Zstd(compressor) => compressor.compress(input).expect("zstd"),
            Encoder::Gzip(level) => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(input.len() / 2),
                    flate2::Compression::new(*level),
                );
                encoder.write_all(input).expect("gzip");
                encoder.finish().expect("gzip")
            }
            Encoder::Brotli(quality) => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: *quality,
                    lgwin: 22,
                    ..Default::default()
                };
                let mut out = Vec::with_capacity(input.len() / 2);
                brotli::BrotliCompress(&mut &input[..], &mut out, &params).expect("brotli");
                out
            }
        }
    }
}

fn input(name: &str) -> &'static [u8] {
    INPUTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
        .unwrap_or_else(|| panic!("unknown input {name}: expected logs, transaction or event"))
}

/// The compressed sizes, once (they do not vary).
fn print_sizes() {
    eprintln!("| input | bytes | candidate | compressed | ratio | share |");
    eprintln!("|---|---:|---|---:|---:|---:|");
    for (name, bytes) in INPUTS {
        for candidate in CANDIDATES {
            let out = Encoder::new(candidate).compress(bytes).len();
            eprintln!(
                "| {name} | {} | {candidate} | {out} | {:.1}x | {:.0}% |",
                bytes.len(),
                bytes.len() as f64 / out as f64,
                out as f64 * 100.0 / bytes.len() as f64
            );
        }
    }
}

fn compression(c: &mut Criterion) {
    print_sizes();
    for (name, bytes) in INPUTS {
        let mut group = c.benchmark_group(format!("compress/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        for candidate in CANDIDATES {
            let mut encoder = Encoder::new(candidate);
            group.bench_function(candidate, |b| {
                b.iter(|| black_box(encoder.compress(black_box(bytes))))
            });
        }
        group.finish();
    }
}

/// `COMPRESSION_ONLY=candidate,input,count`: that many compressions, for callgrind.
fn only(spec: &str) {
    let mut parts = spec.split(',');
    let (Some(candidate), Some(name), Some(count)) = (parts.next(), parts.next(), parts.next())
    else {
        panic!("COMPRESSION_ONLY={spec}: expected candidate,input,count");
    };
    let count: usize = count.parse().expect("a count");
    let bytes = input(name);
    let mut encoder = Encoder::new(candidate);
    for _ in 0..count {
        black_box(encoder.compress(black_box(bytes)));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = compression
}

fn main() {
    if let Ok(spec) = std::env::var("COMPRESSION_ONLY") {
        only(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
