//! `tracestate`: never panics, never keeps more than 32 members, keeps each
//! key once with the value of its first occurrence (W3C Trace Context Level
//! 2, "Combined Header Value"), and a parsed value written back parses to the
//! same members.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::TraceState;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(state) = TraceState::parse(text.split('\n')) {
        assert!(state.len() <= 32);
        let members: Vec<_> = state.members().collect();
        assert_eq!(members.len(), state.len());
        // The first occurrence of each key, in order, read the obvious way.
        let mut first: Vec<(&str, &str)> = Vec::new();
        let received = text
            .split(['\n', ','])
            .map(|m| m.trim_matches([' ', '\t']))
            .filter(|m| !m.is_empty());
        for member in received {
            let (k, v) = member.split_once('=').expect("a valid member has '='");
            if !first.iter().any(|(seen, _)| *seen == k) {
                first.push((k, v));
            }
        }
        assert_eq!(members, first, "{text:?}");
        let written = state.to_string();
        let again = TraceState::parse([written.as_str()]).expect("written tracestate parses");
        assert_eq!(again.members().collect::<Vec<_>>(), members, "{written:?}");
    }
});
