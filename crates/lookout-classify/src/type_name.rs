//! Rust type names as Sentry exception types: short name plus module path.
//!
//! A `dyn Error` does not know its concrete type name; only the top-level error of an
//! [`Outcome`](crate::Outcome) built with `with_error::<E>` does. For the rest the name is
//! read from the `Debug` output, as sentry-core's `event_from_error` does.

use std::borrow::Cow;
use std::error::Error;

/// Longest tag value Sentry keeps.
pub(crate) const MAX_TAG_LEN: usize = 200;

/// `("UpstreamError", Some("my_service::upstream"))` for
/// `my_service::upstream::UpstreamError`; generic arguments are kept, shortened the same
/// way (`Wrapper<Inner>`).
pub(crate) fn split_type_name(full: &str) -> (String, Option<&str>) {
    let full = full.trim_start_matches('&');
    let base_end = full.find('<').unwrap_or(full.len());
    let module = full[..base_end].rsplit_once("::").map(|(module, _)| module);

    let mut short = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (index, ch) in full.char_indices() {
        if matches!(
            ch,
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | '&' | ';'
        ) {
            short.push_str(last_segment(&full[segment_start..index]));
            short.push(ch);
            segment_start = index + ch.len_utf8();
        }
    }
    short.push_str(last_segment(&full[segment_start..]));
    (short, module)
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// The type name of an error known only as a trait object, from its `Debug` output.
pub(crate) fn short_type_name(error: &(dyn Error + 'static)) -> Cow<'static, str> {
    let debug = format!("{error:?}");
    // A plain message error (`Box<dyn Error>` from a string, anyhow's `msg`) debug-prints
    // as the quoted message: there is no type name to read.
    if debug == format!("{:?}", error.to_string()) {
        return Cow::Borrowed("Error");
    }
    match sentry_core::parse_type_from_debug(&debug) {
        "" => Cow::Borrowed("Error"),
        name => Cow::Owned(name.to_owned()),
    }
}

/// `value` cut to Sentry's tag length limit on a character boundary.
pub(crate) fn truncate_tag(mut value: String) -> String {
    if value.len() > MAX_TAG_LEN {
        let mut end = MAX_TAG_LEN;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths_and_generics() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "my_service::upstream::UpstreamError",
                "UpstreamError",
                Some("my_service::upstream"),
            ),
            ("Local", "Local", None),
            ("&core::fmt::Error", "Error", Some("core::fmt")),
            (
                "a::Wrapper<b::c::Inner, u8>",
                "Wrapper<Inner, u8>",
                Some("a"),
            ),
        ];
        for &(full, short, module) in cases {
            assert_eq!(split_type_name(full), (short.to_owned(), module), "{full}");
        }
    }

    #[test]
    fn message_errors_are_called_error() {
        let boxed: Box<dyn Error + Send + Sync> = "just a message".into();
        assert_eq!(short_type_name(boxed.as_ref()), "Error");
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!(short_type_name(&parse), "ParseIntError");
    }

    #[test]
    fn truncates_on_char_boundary() {
        let long = "é".repeat(150);
        let cut = truncate_tag(long);
        assert!(cut.len() <= MAX_TAG_LEN);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
