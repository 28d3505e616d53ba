//! Scrubbing Sentry Logs: the same denylist as events, on attribute keys;
//! personal attributes of the user only with PII on.

use std::borrow::Cow;

use sentry_core::protocol::{Log, LogAttribute, Value};

use super::denylist::FILTERED;
use super::scrubber::Scrubber;
use super::url::redact_url_credentials;

/// The user attributes Sentry Logs carry that are personal data (the id is not).
pub(super) const PERSONAL_USER_ATTRIBUTES: [&str; 3] =
    ["user.email", "user.name", "user.ip_address"];

impl Scrubber {
    /// Scrubs a log before it leaves the process: the value of every
    /// attribute whose key is denylisted becomes `[Filtered]` (whatever its
    /// type), credentials and denylisted query values in URLs inside
    /// attribute values and the body are filtered, and with PII off the
    /// user's email, name and IP address are removed (`user.id` stays).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    /// use sentry_core::protocol::{Log, LogLevel};
    ///
    /// let mut log = Log {
    ///     level: LogLevel::Info,
    ///     body: "signed in".into(),
    ///     trace_id: None,
    ///     timestamp: std::time::SystemTime::now(),
    ///     severity_number: None,
    ///     attributes: Default::default(),
    /// };
    /// log.attributes.insert("password".into(), "hunter2".into());
    /// log.attributes.insert("user.email".into(), "ada@example.com".into());
    /// log.attributes.insert("user.id".into(), "42".into());
    /// Scrubber::new(PiiPolicy::Off).scrub_log(&mut log);
    /// assert_eq!(log.attributes["password"].0, "[Filtered]");
    /// assert!(!log.attributes.contains_key("user.email"));
    /// assert_eq!(log.attributes["user.id"].0, "42");
    /// ```
    pub fn scrub_log(&self, log: &mut Log) {
        if !self.pii().allows_pii() {
            for key in PERSONAL_USER_ATTRIBUTES {
                log.attributes.remove(key);
            }
        }
        for (key, attribute) in &mut log.attributes {
            self.scrub_attribute(key, attribute);
        }
        if let Cow::Owned(clean) = self.scrub_log_body(&log.body) {
            log.body = clean;
        }
    }

    /// A log's body as [`scrub_log`](Self::scrub_log) leaves it: credentials
    /// in URLs inside it filtered (borrowed when there were none).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    ///
    /// let scrubber = Scrubber::new(PiiPolicy::Off);
    /// let body = scrubber.scrub_log_body("calling https://ada:hunter2@example.com/");
    /// assert!(!body.contains("hunter2"));
    /// assert!(matches!(scrubber.scrub_log_body("ready"), std::borrow::Cow::Borrowed(_)));
    /// ```
    #[must_use]
    pub fn scrub_log_body<'a>(&self, body: &'a str) -> Cow<'a, str> {
        redact_url_credentials(body)
    }

    /// One typed attribute of a log or a metric: `[Filtered]` for a
    /// denylisted key, URLs scrubbed in text, nested values by key.
    pub(super) fn scrub_attribute(&self, key: &str, attribute: &mut LogAttribute) {
        if self.is_denylisted(key) {
            *attribute = LogAttribute(Value::String(FILTERED.to_owned()));
        } else if let Value::String(text) = &mut attribute.0 {
            if let Cow::Owned(clean) = self.scrub_url(text) {
                *text = clean;
            }
        } else {
            self.scrub_value(&mut attribute.0);
        }
    }
}
