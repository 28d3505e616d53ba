//! An `anyhow::Error` reported through `AnyhowError` (feature `anyhow`):
//! its event's frames are the backtrace anyhow captured where the error was
//! created, when it captured one (`RUST_LIB_BACKTRACE=1`), and otherwise
//! those of where it became the 5xx, as for any error.
//!
//! Whether anyhow captures is decided by the environment once per process,
//! so the test runs itself in a child process per setting.

use std::process::Command;

use http::{HeaderMap, StatusCode};
use lookout_core::testing::TestLookout;
use lookout_core::toolkit::ReportedError;
use lookout_core::{AnyhowError, RequestHead, ResponseHead};

const SETTING: &str = "RUST_LIB_BACKTRACE";

/// Where the error is created (anyhow captures its backtrace here).
#[inline(never)]
fn charge_card() -> anyhow::Error {
    anyhow::Error::new(std::io::Error::other("card declined")).context("charging the card")
}

/// Where the error becomes the 5xx (lookout takes frames here otherwise).
#[inline(never)]
fn answer_with_500(error: anyhow::Error) -> ReportedError {
    ReportedError::new(AnyhowError(error)).answered(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The functions of the main exception's frames, and its value, for one
/// failing request and one capture by hand.
fn frames_of_events() -> Vec<(Vec<String>, Option<String>)> {
    let test = TestLookout::new();
    let headers = HeaderMap::new();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/pay", &headers));
    let reported = answer_with_500(charge_card());
    let finished = in_flight.finish(
        &ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR).with_typed_error(reported.error()),
    );
    finished.body.complete();
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/pay", &headers));
    let current = in_flight.current();
    let _ = in_flight
        .context()
        .enter(|| current.capture_error(&AnyhowError(charge_card())));
    in_flight
        .finish(&ResponseHead::new(StatusCode::OK))
        .body
        .complete();
    test.events()
        .iter()
        .map(|event| {
            let main = event.exception.values.last().expect("an exception");
            let functions = main
                .stacktrace
                .as_ref()
                .map(|s| s.frames.iter().filter_map(|f| f.function.clone()).collect())
                .unwrap_or_default();
            (functions, main.value.clone())
        })
        .collect()
}

#[test]
fn an_anyhow_errors_own_backtrace_is_its_events_frames() {
    let Some(setting) = std::env::var_os(SETTING) else {
        for value in ["1", "0"] {
            let status = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "an_anyhow_errors_own_backtrace_is_its_events_frames",
                ])
                .args(["--nocapture", "--test-threads", "1"])
                .env(SETTING, value)
                .status()
                .unwrap();
            assert!(status.success(), "{SETTING}={value}: {status}");
        }
        return;
    };
    let captured = setting == "1";
    let events = frames_of_events();
    assert_eq!(events.len(), 2, "the 500 and the capture by hand");
    let has = |functions: &[String], name: &str| functions.iter().any(|f| f.ends_with(name));
    for (i, (functions, value)) in events.iter().enumerate() {
        println!("{SETTING}={setting:?}, event {i}: {functions:#?}");
        assert_eq!(value.as_deref(), Some("charging the card"));
        assert!(!functions.is_empty(), "frames on event {i}");
        assert!(
            functions.iter().all(|f| !f.starts_with("at ")),
            "source lines are not frames: {functions:?}"
        );
        assert_eq!(
            has(functions, "charge_card"),
            captured,
            "event {i}: the frames of where anyhow captured them"
        );
    }
    if captured {
        // Newest frame: where the error was created, not anyhow's capture.
        assert!(
            events[0].0.last().unwrap().ends_with("charge_card"),
            "{:?}",
            events[0].0
        );
    }
    // Without a captured backtrace, the 500's frames are where it was
    // answered, as for any error.
    assert_eq!(has(&events[0].0, "answer_with_500"), !captured);
}
