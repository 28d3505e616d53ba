//! The HTTP transport: envelopes to Sentry over reqwest (rustls), with their
//! headers intact, compressed, and every rate limit honoured.
//!
//! The `sentry` crate's own HTTP transport (0.49) applies per-category rate
//! limits with `Envelope::filter`, which rebuilds the envelope from its items
//! and drops the envelope headers: the `trace` header (the frozen DSC),
//! `event_id` and `sent_at` would never reach Sentry. This transport keeps
//! sentry's `RateLimiter` bookkeeping (429 / `Retry-After` /
//! `X-Sentry-Rate-Limits`) but posts the serialized envelope itself, from
//! one sending thread with several requests in flight, and applies the
//! per-category limits while keeping the headers.
//!
//! Every request is bounded (`CONNECT_TIMEOUT`, [`REQUEST_TIMEOUT`]), and
//! shutdown is bounded by its deadline: an endpoint that accepts connections
//! and never answers cannot hold the process (see [`HttpTransport`]).
//!
//! One concept per file:
//! - `transport`: [`HttpTransport`], the `Transport` the send queue hands
//!   envelopes to, and its sending thread: requests in flight, check-ins in
//!   order, flush, the bounded shutdown;
//! - `lane`: what the sending thread does with one envelope: keep it within
//!   the rate limits, compress it, post it, read the answer;
//! - `lanes`: how many requests may be in flight, how many envelopes the
//!   queue may hand over, which envelopes are check-ins, the pending count;
//! - `rate_limits`: per-category limits that keep the envelope headers, the
//!   `monitor` category sentry 0.49 does not know, the all-categories backoff;
//! - `compression`: the body's `content-encoding` (`LOOKOUT_COMPRESSION`).

mod compression;
mod lane;
mod lanes;
mod rate_limits;
mod transport;

pub(crate) use lanes::{REFILL_BELOW, WINDOW};
pub(crate) use transport::{HttpTransport, REQUEST_TIMEOUT};

/// An envelope with an event and a transaction and a DSC header, for the
/// lanes' and rate limits' tests.
#[cfg(test)]
fn mixed() -> sentry_core::Envelope {
    use sentry_core::protocol::{Event, Transaction};
    let trace = sentry_core::protocol::DynamicSamplingContext::new().with_release("api@1".into());
    let mut envelope = sentry_core::Envelope::new()
        .with_headers(sentry_core::protocol::EnvelopeHeaders::new().with_trace(trace));
    envelope.add_item(Event::default());
    envelope.add_item(Transaction::default());
    envelope
}
