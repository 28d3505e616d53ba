//! What the sending thread does with one envelope: keep it within the rate
//! limits, compress it, post it to Sentry, and read the answer (the limits
//! it announces, the delivery counted or the loss recorded).

use std::future::Future;
use std::sync::{Arc, Mutex};

use lookout_policy::Compression;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use sentry::transports::RateLimiter;
use sentry_core::client_report::{Reason as LossReason, Recorder};
use tokio::sync::watch;

use super::compression::{Body, Encoder};
use super::lanes::Done;
use super::rate_limits::{Backoff, MonitorLimit, within_limits};
use super::transport::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};
use crate::lock;
use crate::report::Tally;
use crate::stats::Counters;

const X_SENTRY_AUTH: HeaderName = HeaderName::from_static("x-sentry-auth");
const ENVELOPE_TYPE: HeaderValue = HeaderValue::from_static("application/x-sentry-envelope");

/// `X-Sentry-Auth`'s value for `auth` (the DSN's key, version and client).
/// A control character a custom user agent may carry, which no header
/// value can hold, is sent as `?`.
pub(super) fn auth_header(auth: &str) -> HeaderValue {
    let printable: String = auth
        .chars()
        .map(|c| {
            if c.is_ascii_control() && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect();
    HeaderValue::from_str(&printable).unwrap_or(HeaderValue::from_static("Sentry"))
}

/// What the transport and its sending thread share.
pub(super) struct Shared {
    /// The DSN's envelope endpoint, parsed once.
    pub(super) url: reqwest::Url,
    /// The `X-Sentry-Auth` header value, made once (each request clones
    /// its bytes by reference).
    pub(super) auth: HeaderValue,
    /// The DSN's host, for error messages (never the URL: no key in them).
    pub(super) host: String,
    pub(super) recorder: Recorder,
    pub(super) monitor_limit: MonitorLimit,
    /// One limiter for every lane: what Sentry limits on one connection is
    /// limited on all (each thread's own limiter is never updated, so it
    /// never drops anything itself).
    pub(super) limits: Mutex<RateLimiter>,
    pub(super) backoff: Backoff,
    pub(super) tally: Arc<Tally>,
    /// Turns true at the shutdown deadline: requests in flight stop, none start.
    pub(super) abandoned: watch::Receiver<bool>,
    pub(super) compression: Compression,
    /// Where a batch's buffer goes once compressed, for the next batch.
    pub(super) spares: Arc<crate::batch::Spares>,
}

/// An envelope handed to the sending thread: serialized, and whether it must
/// go after the ones before it (check-ins).
pub(super) struct Job {
    pub(super) body: Vec<u8>,
    pub(super) ordered: bool,
    /// Counts the envelope off when the job is done with, however it ends.
    pub(super) done: Done,
}

/// The sending thread's client (a reqwest client's connections belong to
/// the runtime that opened them; it keeps up to `LANES` open) and its
/// compressor.
pub(super) struct Lane {
    shared: Arc<Shared>,
    client: reqwest::Client,
    encoder: Encoder,
}

impl Lane {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        // reqwest builds its rustls configuration here; failing that, the
        // client without TLS still reaches plain-HTTP endpoints (local relays).
        // No retries: lookout accounts for every envelope itself, and
        // reqwest's default policy (protocol NACKs, an HTTP/2 matter: this
        // client speaks HTTP/1.1) would clone every request's headers and
        // body just in case, about 2 µs per envelope on this thread.
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .build()
            .unwrap_or_default();
        let encoder = Encoder::new(shared.compression);
        Self {
            shared,
            client,
            encoder,
        }
    }

    /// The request for `job`, on the sending thread: kept within the rate
    /// limits and compressed here, posted when the returned future runs (it
    /// ends early at the shutdown deadline). `None` when nothing is to be
    /// sent (every item rate limited, or past the deadline).
    pub(super) fn prepare(&mut self, job: Job) -> Option<impl Future<Output = ()> + Send + use<>> {
        let Job { body, done, .. } = job;
        let shared = Arc::clone(&self.shared);
        let mut abandoned = shared.abandoned.clone();
        // After the deadline nothing is sent (and nothing recorded: no
        // envelope will carry a client report any more).
        if *abandoned.borrow() {
            return None;
        }
        let body = within_limits(
            body,
            &lock(&shared.limits),
            &shared.monitor_limit,
            &shared.recorder,
        );
        let Some(body) = body else {
            // Every item of it is rate limited.
            Counters::add(&shared.tally.counters.dropped_rate_limited, 1);
            return None;
        };
        let (request, body) = self.request(body);
        Some(async move {
            let _done = done;
            let result = tokio::select! {
                biased;
                () = until_abandoned(&mut abandoned) => return,
                result = request => result,
            };
            shared.answered(result, &body);
        })
    }

    /// The request posting `envelope` (serialized), compressed as the
    /// setting says, and its body.
    fn request(
        &mut self,
        envelope: Vec<u8>,
    ) -> (
        impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + use<>,
        Body,
    ) {
        let (body, spent) = self.encoder.encode(envelope);
        if let Some(buffer) = spent {
            self.shared.spares.put(buffer);
        }
        // Built in place, with header names and values made once, rather
        // than through `RequestBuilder`, which parses each name and copies
        // each value per request.
        let mut request = reqwest::Request::new(reqwest::Method::POST, self.shared.url.clone());
        let headers = request.headers_mut();
        headers.insert(X_SENTRY_AUTH, self.shared.auth.clone());
        headers.insert(CONTENT_TYPE, ENVELOPE_TYPE);
        if let Some(encoding) = body.encoding {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        *request.body_mut() = Some(body.bytes.clone().into());
        (self.client.execute(request), body)
    }
}

impl Shared {
    /// Reads Sentry's answer to `body`: the rate limits it announces, then
    /// the envelope counted delivered or lost.
    fn answered(&self, result: Result<reqwest::Response, reqwest::Error>, body: &Body) {
        let host = &self.host;
        let counters = &self.tally.counters;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                record_lost(&self.recorder, body, LossReason::NetworkError);
                Counters::add(&counters.dropped_network_error, 1);
                counters.failed(network_error(host, &error));
                return;
            }
        };
        let headers = response.headers();
        let mut limits = lock(&self.limits);
        if let Some(value) = header(headers, "x-sentry-rate-limits") {
            limits.update_from_sentry_header(value);
            self.monitor_limit.update_from_sentry_header(value);
        } else if let Some(value) = header(headers, "retry-after") {
            limits.update_from_retry_after(value);
        } else if response.status().as_u16() == 429 {
            limits.update_from_429();
        }
        self.backoff.update(&limits);
        drop(limits);
        let status = response.status();
        if status.is_success() {
            self.tally.delivered(1);
            Counters::add(&counters.sent_bytes, body.plain_len as u64);
            Counters::add(&counters.sent_wire_bytes, body.bytes.len() as u64);
        } else if status.as_u16() == 429 {
            // Relay records rate-limited data itself.
            Counters::add(&counters.dropped_rate_limited, 1);
            counters.failed(format!("Sentry at {host} answered {status}: rate limited"));
        } else if status.is_client_error() || status.is_server_error() {
            record_lost(&self.recorder, body, LossReason::SendError);
            Counters::add(&counters.dropped_http_error, 1);
            counters.failed(format!("Sentry at {host} answered {status}"));
        }
    }
}

/// What the last delivery error says about a failed request: what failed
/// (refused, timed out, ...) and where, without the URL (the host is enough;
/// the DSN's key is never in it, it travels in a header).
fn network_error(host: &str, error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        format!(
            "no answer from Sentry at {host} within {} s",
            REQUEST_TIMEOUT.as_secs()
        )
    } else if error.is_connect() {
        format!("cannot connect to Sentry at {host}")
    } else {
        format!("request to Sentry at {host} failed")
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Completes when `abandoned` turns true (never, if its sender is gone).
async fn until_abandoned(abandoned: &mut watch::Receiver<bool>) {
    if abandoned.wait_for(|gone| *gone).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Records the items of a sent body as lost (decompressed and parsed back
/// only on failure).
fn record_lost(recorder: &Recorder, body: &Body, reason: LossReason) {
    if let Some(bytes) = body.envelope_bytes() {
        crate::report::record_lost_bytes(recorder, &bytes, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::auth_header;

    #[test]
    fn the_auth_header_is_sent_as_made_and_a_control_character_as_a_question_mark() {
        let auth = "Sentry sentry_key=public, sentry_version=7, sentry_client=app/1.0";
        assert_eq!(auth_header(auth).to_str().unwrap(), auth);
        assert_eq!(
            auth_header("Sentry sentry_key=public, sentry_client=a\nb\u{7f}").as_bytes(),
            b"Sentry sentry_key=public, sentry_client=a?b?"
        );
        // Non-ASCII text a user agent may hold is kept as its bytes.
        assert_eq!(
            auth_header("Sentry sentry_client=caf\u{e9}").as_bytes(),
            "Sentry sentry_client=caf\u{e9}".as_bytes()
        );
    }
}
