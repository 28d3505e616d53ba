//! Credentials in URLs (`scheme://user:password@host`), wherever they
//! appear in text, and denylisted query values in a URL.

use std::borrow::Cow;

use super::scrubber::Scrubber;

impl Scrubber {
    /// Replaces `user:password@` in a URL with `[Filtered]:[Filtered]@`
    /// and filters denylisted query values; other text is returned as is.
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    ///
    /// let s = Scrubber::new(PiiPolicy::Off);
    /// assert_eq!(
    ///     s.scrub_url("postgres://app:hunter2@db/app?sslmode=require&password=x"),
    ///     "postgres://[Filtered]:[Filtered]@db/app?sslmode=require&password=[Filtered]"
    /// );
    /// ```
    #[must_use]
    pub fn scrub_url<'a>(&self, url: &'a str) -> Cow<'a, str> {
        let redacted = redact_url_credentials(url);
        if !url.contains("://") {
            return redacted;
        }
        let Some((head, rest)) = redacted.split_once('?') else {
            return redacted;
        };
        let (query, fragment) = match rest.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (rest, None),
        };
        let clean = self.scrub_query(query);
        if clean == query {
            return redacted;
        }
        let mut out = format!("{head}?{clean}");
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        Cow::Owned(out)
    }
}

pub(super) fn redact_in_place(text: &mut Option<String>) {
    if let Some(text) = text
        && let Cow::Owned(clean) = redact_url_credentials(text)
    {
        *text = clean;
    }
}

/// Replaces every `scheme://user:password@` in `text` with
/// `scheme://[Filtered]:[Filtered]@`.
pub(super) fn redact_url_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                let userinfo = &authority[..at];
                if userinfo.contains(':') {
                    out.push_str("[Filtered]:[Filtered]");
                } else {
                    out.push_str("[Filtered]");
                }
                changed = true;
                rest = &after[at..];
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_text_are_redacted() {
        assert_eq!(
            redact_url_credentials("see https://a:b@h/x and http://h2/y"),
            "see https://[Filtered]:[Filtered]@h/x and http://h2/y"
        );
        assert_eq!(
            redact_url_credentials("https://h/x?a=b@c"),
            "https://h/x?a=b@c"
        );
        assert!(matches!(redact_url_credentials("plain"), Cow::Borrowed(_)));
    }
}
