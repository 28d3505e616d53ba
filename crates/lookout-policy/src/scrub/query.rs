//! Scrubbing query strings (`a=1&b=2`), whose keys may be percent-encoded.

use std::borrow::Cow;

use super::denylist::{FILTERED, normalized_eq};
use super::scrubber::Scrubber;

impl Scrubber {
    /// Filters the values of denylisted keys in `a=1&b=2`.
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    ///
    /// let s = Scrubber::new(PiiPolicy::Off);
    /// assert_eq!(s.scrub_query("q=rust&api_key=k&Token=t"), "q=rust&api_key=[Filtered]&Token=[Filtered]");
    /// ```
    #[must_use]
    pub fn scrub_query(&self, query: &str) -> String {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if self.is_denylisted(&decode_key(key)) => {
                    format!("{key}={FILTERED}")
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub(super) fn is_query_key(key: &str) -> bool {
    ["http.query", "query", "query_string", "url.query"]
        .iter()
        .any(|name| normalized_eq(key, name))
}

/// Query keys may be percent-encoded (`api%5Fkey`) or use `+` for spaces.
fn decode_key(key: &str) -> Cow<'_, str> {
    if !key.contains(['%', '+']) {
        return Cow::Borrowed(key.trim());
    }
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PiiPolicy;

    #[test]
    fn percent_encoded_query_keys_are_recognised() {
        let s = Scrubber::new(PiiPolicy::On);
        assert_eq!(
            s.scrub_query("api%5Fkey=1&x=%zz"),
            "api%5Fkey=[Filtered]&x=%zz"
        );
        assert_eq!(decode_key("a%"), "a%");
    }
}
