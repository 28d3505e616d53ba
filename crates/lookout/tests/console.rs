//! Development defaults for real: `lookout::init` with console delivery
//! through `tracing` itself and the global subscriber (its own test binary:
//! process-wide state). A console line is logged while an event is being
//! captured, so this checks the line is printed once per event, carries the
//! request id, and never comes back as a breadcrumb or an event.

#[path = "tracing/buffer.rs"]
mod buffer;

use http::{HeaderMap, StatusCode};
use lookout::engine::{Engine, RequestHead, ResponseHead};
use lookout::{Options, TracingOptions};

#[test]
fn development_console_lines_are_logged_once_per_event() {
    let logs = buffer::Buffer::default();
    let _guard = lookout::init_with(
        Options::new()
            .vars([
                ("SENTRY_ENVIRONMENT", "development"),
                ("SENTRY_DEBUG", "false"),
            ])
            .tracing(TracingOptions::new().filter("info").writer(logs.clone()))
            .print_summary(false),
    )
    .expect("valid settings");

    let headers = HeaderMap::new();
    let request = Engine::global().begin(&RequestHead::new("GET", "/pay", &headers));
    let request_id = request.context().request_id().to_owned();
    let span = request.tracing_span();
    request.context().enter(|| {
        let _entered = span.enter();
        tracing::info!("charging the card");
        tracing::error!("card declined");
        tracing::error!("card declined again");
    });
    request
        .finish(&ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR))
        .body
        .complete();

    let lines = logs.lines();
    let console: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("lookout::console"))
        // The sampled request's transaction prints a line of its own.
        .filter(|line| !line.contains("lookout transaction "))
        .collect();
    // Two logged errors and the 500: three events, three lines.
    assert_eq!(console.len(), 3, "{lines:#?}");
    assert!(console[0].contains("\"card declined\""), "{console:?}");
    assert!(
        console[1].contains("\"card declined again\""),
        "{console:?}"
    );
    assert!(console[2].contains("error_type=http_status"), "{console:?}");
    for line in &console {
        assert!(line.contains(&format!("request_id={request_id}")), "{line}");
    }
}
