//! `sentry-trace`: any input parses or errors without panicking, and a parsed
//! value written back parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::SentryTrace;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(trace) = SentryTrace::parse(text) {
        let written = trace.to_string();
        assert_eq!(SentryTrace::parse(&written).ok(), Some(trace), "{written:?}");
    }
    // Several values, as repeated headers.
    let _ = SentryTrace::from_values(text.split('\n'));
});
