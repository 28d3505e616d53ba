//! `baggage`: never panics, honours the member and byte limits, reads the DSC
//! without panicking and exactly as the general member scanner does, and
//! writing a DSC then reading it back is lossless whenever its Sentry members
//! fit the byte limit together (otherwise the members that do not fit are
//! dropped whole and the others read back unchanged).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_headers::{
    DscView, DynamicSamplingContext, MAX_BYTES, MAX_MEMBERS, parse_baggage, write_baggage,
};

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
    // Each field alone, encoded: their sum (plus commas) is the DSC's full
    // size; a field too long on its own encodes to nothing.
    let (mut full, mut count, mut fits) = (0usize, 0usize, true);
    macro_rules! for_each_field {
        ($check:ident) => {
            $check!(trace_id);
            $check!(public_key);
            $check!(sample_rate);
            $check!(sample_rand);
            $check!(sampled);
            $check!(release);
            $check!(environment);
            $check!(transaction);
            $check!(org_id);
            $check!(replay_id);
        };
    }
    macro_rules! measure {
        ($field:ident) => {
            if dsc.$field.is_some() {
                let mut alone = DynamicSamplingContext::new();
                alone.$field = dsc.$field.clone();
                let encoded = alone.to_baggage().len();
                fits &= encoded > 0;
                full += encoded;
                count += 1;
            }
        };
    }
    for_each_field!(measure);
    if fits && full + count.saturating_sub(1) <= MAX_BYTES {
        assert_eq!(reread, dsc, "{written:?}");
    }
    // Members that do not fit are dropped whole, never cut or altered.
    macro_rules! dropped_or_kept {
        ($field:ident) => {
            assert!(
                reread.$field.is_none() || reread.$field == dsc.$field,
                "{} changed: {written:?}",
                stringify!($field)
            );
        };
    }
    for_each_field!(dropped_or_kept);
});
