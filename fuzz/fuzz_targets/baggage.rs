//! `baggage`: never panics, honours the member and byte limits, reads the DSC
//! without panicking and exactly as the general member scanner does, and
//! writing a DSC then reading it back is lossless.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::{DscView, MAX_BYTES, MAX_MEMBERS, parse_baggage, write_baggage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let values = || text.split('\n');
    let mut count = 0;
    let mut bytes = 0;
    for member in parse_baggage(values()) {
        count += 1;
        bytes += member.as_str().len();
        let _ = member.value();
        for property in member.properties() {
            let _ = property.value();
        }
    }
    assert!(count <= MAX_MEMBERS);
    assert!(bytes <= MAX_BYTES);
    let view = DscView::from_baggage(values());
    // The DSC fast path reads exactly what the general member scanner reads.
    assert_eq!(view, DscView::from_members(parse_baggage(values())));
    let dsc = view.to_owned();
    let written = write_baggage(values(), &dsc);
    assert!(written.len() <= MAX_BYTES);
    let reread = DscView::from_baggage([written.as_str()]).to_owned();
    assert_eq!(reread, dsc, "{written:?}");
});
