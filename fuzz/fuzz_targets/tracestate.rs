//! `tracestate`: never panics, never keeps more than 32 members, and a parsed
//! value written back parses to the same members.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::TraceState;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(state) = TraceState::parse(text.split('\n')) {
        assert!(state.len() <= 32);
        let written = state.to_string();
        let members: Vec<_> = state.members().collect();
        let again = TraceState::parse([written.as_str()]).expect("written tracestate parses");
        assert_eq!(again.members().collect::<Vec<_>>(), members, "{written:?}");
    }
});
