//! `traceparent`: never panics; a parsed value written back parses to the same
//! trace id, parent id and flags; the W3C context reader never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::{TraceContext, TraceParent};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tp) = TraceParent::parse(text) {
        assert!(!tp.trace_id.is_zero() && !tp.parent_id.is_zero());
        let child = tp.child(tp.parent_id, tp.sampled());
        let written = child.to_string();
        assert_eq!(TraceParent::parse(&written).ok(), Some(child), "{written:?}");
    }
    let (traceparent, tracestate) = text.split_once('\n').unwrap_or((text, ""));
    let _ = TraceContext::from_values(traceparent.split('\r'), tracestate.split('\n'));
});
