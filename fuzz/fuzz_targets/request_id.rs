//! Request ids: validation never panics and accepts exactly 1..=128 characters
//! of `[A-Za-z0-9._:-]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::RequestId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'));
    assert_eq!(RequestId::validate(text).is_ok(), expected, "{text:?}");
    let id = RequestId::from_header_or_generate(Some(text));
    assert!(RequestId::validate(id.as_str()).is_ok());
});
