//! Helpers shared by the tracing suite.

use std::future::Future;

use http::{HeaderMap, StatusCode};
use lookout::TracingOptions;
use lookout::engine::{InFlight, RequestHead, ResponseHead};
use lookout::testing::TestLookout;
use tracing::Instrument as _;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::buffer::Buffer;

/// The subscriber `lookout::init` would install, for `test`'s settings,
/// writing log lines to the returned buffer (never the global subscriber).
pub(crate) fn subscriber(test: &TestLookout) -> (impl Subscriber + Send + Sync, Buffer) {
    let buffer = Buffer::default();
    let layers = lookout::subscriber::tracing_layers(
        test.settings(),
        TracingOptions::new().filter("info").writer(buffer.clone()),
    );
    (tracing_subscriber::registry().with(layers), buffer)
}

/// Runs `handler` as an adapter does: the request's context bound to it
/// (and the request span, which lookout's own subscriber leaves off unless
/// the request is sampled: its database spans need it), then
/// `finish` with `status` and the body completed. Returns the request id,
/// the trace and the handler's output.
pub(crate) async fn serve<F, T>(
    test: &TestLookout,
    path: &str,
    status: StatusCode,
    handler: F,
) -> (String, lookout::scope::RequestTrace, T)
where
    F: Future<Output = T>,
{
    let headers = HeaderMap::new();
    let in_flight: InFlight = test
        .engine()
        .begin(&RequestHead::new("GET", path, &headers).with_route(path));
    let ctx = in_flight.context().clone();
    // Made inside the request, as the adapters' toolkit makes it.
    let span = ctx.enter(|| in_flight.tracing_span());
    let output = ctx.bind(handler.instrument(span)).await;
    in_flight.finish(&ResponseHead::new(status)).body.complete();
    (ctx.request_id().to_owned(), ctx.trace(), output)
}

/// Runs `f` on a current-thread runtime.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
