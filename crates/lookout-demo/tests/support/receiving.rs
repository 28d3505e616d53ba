//! For the suites that read what the demo sends: the envelope receiver on a
//! runtime of its own, and the demo sending to it.

use lookout_tests::receiver::Receiver;

/// A receiver on a one-worker runtime (keep the runtime alive while the
/// receiver is in use).
pub(crate) fn receiver() -> (tokio::runtime::Runtime, Receiver) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime.block_on(Receiver::start());
    (runtime, receiver)
}
