//! The lanes: several transport threads, each with its own connection,
//! taking envelopes in turn, so that one slow round trip does not hold up
//! the others; check-ins all take the first lane, in order. Flushing them
//! within one deadline, and letting them go without waiting at shutdown.

use std::sync::Arc;
use std::time::Duration;

use sentry::transports::TokioTransportThread;

/// How many envelope requests may be in flight at once: one connection and
/// transport thread each. One at a time (what the `sentry` crate's transport
/// does) delivers one envelope per round trip, which an erroring service
/// outruns at a few thousand events per second even on loopback.
pub(super) const LANES: usize = 4;

/// Whether a serialized envelope has a `check_in` item: its header line, then
/// per item a JSON header (`type`, `length`) and the payload.
pub(super) fn carries_check_in(envelope: &[u8]) -> bool {
    let mut rest = match envelope.iter().position(|&b| b == b'\n') {
        Some(end) => &envelope[end + 1..],
        None => return false,
    };
    #[derive(serde::Deserialize)]
    struct ItemHeader<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<&'a str>,
        length: Option<usize>,
    }
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(header) = serde_json::from_slice::<ItemHeader<'_>>(&rest[..end]) else {
            return false;
        };
        if header.kind == Some("check_in") {
            return true;
        }
        rest = rest.get(end + 1..).unwrap_or_default();
        let payload = header
            .length
            .unwrap_or_else(|| rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()))
            .min(rest.len());
        rest = &rest[payload..];
        if rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    false
}

/// [`TokioTransportThread::flush`] bounded by `timeout` even if queueing the
/// flush marker itself had to wait (it uses a blocking send): the flush runs
/// on a helper thread that is left behind at the deadline.
pub(super) fn flush_within(threads: &[Arc<TokioTransportThread>], timeout: Duration) -> bool {
    let (done, result) = std::sync::mpsc::sync_channel(threads.len());
    let mut started = 0;
    for thread in threads {
        let thread = Arc::clone(thread);
        let done = done.clone();
        let spawned = std::thread::Builder::new()
            .name("lookout-transport-flush".into())
            .spawn(move || {
                let _ = done.send(thread.flush(timeout));
            });
        if spawned.is_err() {
            return false;
        }
        started += 1;
    }
    // The lanes flush at once, within one deadline.
    let deadline = std::time::Instant::now() + timeout;
    (0..started).all(|_| {
        result
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or(false)
    })
}

/// Drops `value` on a detached thread (or never, if no thread can be started),
/// so that its destructor cannot block the caller.
pub(super) fn drop_in_background<T: Send + 'static>(value: T) {
    let (sender, receiver) = std::sync::mpsc::channel::<T>();
    let spawned = std::thread::Builder::new()
        .name("lookout-transport-stop".into())
        .spawn(move || receiver.into_iter().for_each(drop));
    match spawned {
        Ok(_) => {
            if let Err(unsent) = sender.send(value) {
                std::mem::forget(unsent.0);
            }
        }
        Err(_) => std::mem::forget(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::Envelope;
    use sentry_core::protocol::EnvelopeItem;

    #[test]
    fn check_ins_are_told_apart_from_other_envelopes() {
        let mut check_in = Envelope::new();
        check_in.add_item(EnvelopeItem::MonitorCheckIn(
            sentry_core::protocol::MonitorCheckIn {
                check_in_id: sentry_core::types::Uuid::new_v4(),
                monitor_slug: "nightly".into(),
                status: sentry_core::protocol::MonitorCheckInStatus::InProgress,
                environment: None,
                duration: None,
                monitor_config: None,
            },
        ));
        let mut bytes = Vec::new();
        check_in.to_writer(&mut bytes).unwrap();
        assert!(carries_check_in(&bytes));
        let mut event = Vec::new();
        Envelope::from(sentry_core::protocol::Event {
            message: Some("{\"type\":\"check_in\"}".into()),
            ..Default::default()
        })
        .to_writer(&mut event)
        .unwrap();
        assert!(
            !carries_check_in(&event),
            "an event mentioning check_in in its payload"
        );
        assert!(!carries_check_in(b"not an envelope"));
    }
}
