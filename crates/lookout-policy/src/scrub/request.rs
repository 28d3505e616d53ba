//! Scrubbing request data: URL, query string, cookies, headers, env and
//! body.

use sentry_core::protocol::{Request, Value};

use super::denylist::FILTERED;
use super::scrubber::Scrubber;

impl Scrubber {
    /// Scrubs request data: credentials and denylisted query values in the
    /// URL, the query string, cookies (all of them with PII off), headers,
    /// env and a JSON or form body.
    pub fn scrub_request(&self, request: &mut Request) {
        if let Some(url) = &mut request.url {
            if !url.username().is_empty() || url.password().is_some() {
                let _ = url.set_username("");
                let _ = url.set_password(None);
            }
            if let Some(query) = url.query() {
                let clean = self.scrub_query(query);
                if clean != query {
                    url.set_query(Some(&clean));
                }
            }
        }
        if let Some(query) = &mut request.query_string {
            *query = self.scrub_query(query);
        }
        request.cookies = request
            .cookies
            .as_deref()
            .and_then(|cookies| self.scrub_cookies(cookies));
        self.scrub_string_map(&mut request.headers);
        self.scrub_string_map(&mut request.env);
        if let Some(body) = &mut request.data {
            *body = self.scrub_body(body);
        }
    }

    /// The cookies that may be sent: none with PII off; otherwise the
    /// `Cookie` string with denylisted cookie values filtered.
    #[must_use]
    pub fn scrub_cookies(&self, cookies: &str) -> Option<String> {
        if !self.pii().allows_pii() {
            return None;
        }
        Some(
            cookies
                .split(';')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if self.is_denylisted(name.trim()) => {
                        format!("{name}={FILTERED}")
                    }
                    _ => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(";"),
        )
    }

    fn scrub_body(&self, body: &str) -> String {
        if let Ok(mut json) = serde_json::from_str::<Value>(body)
            && (json.is_object() || json.is_array())
        {
            self.scrub_value(&mut json);
            return json.to_string();
        }
        if body.contains('=') && !body.contains(char::is_whitespace) {
            return self.scrub_query(body);
        }
        body.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use crate::{PiiPolicy, Scrubber};

    #[test]
    fn cookies_kept_with_pii_on_but_secrets_filtered() {
        let s = Scrubber::new(PiiPolicy::On);
        assert_eq!(
            s.scrub_cookies("theme=dark; sessionid=abc").as_deref(),
            Some("theme=dark; sessionid=[Filtered]")
        );
    }
}
