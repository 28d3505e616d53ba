//! Scrubbing trace metrics: their attributes follow the rules of Sentry
//! Logs' attributes (the same denylist; personal user attributes only with
//! PII on). A metric's name and value are the application's own.

use sentry_core::protocol::Metric;

use super::log::PERSONAL_USER_ATTRIBUTES;
use super::scrubber::Scrubber;

impl Scrubber {
    /// Scrubs a metric before it leaves the process: the value of every
    /// attribute whose key is denylisted becomes `[Filtered]`, credentials
    /// and denylisted query values in URLs inside text attributes are
    /// filtered, and with PII off the user's email, name and IP address are
    /// removed (`user.id` stays).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    /// use sentry_core::protocol::{Metric, MetricType, TraceId};
    ///
    /// let mut metric = Metric {
    ///     r#type: MetricType::Distribution,
    ///     name: "checkout.total".into(),
    ///     value: 42.5,
    ///     timestamp: std::time::SystemTime::now(),
    ///     trace_id: TraceId::default(),
    ///     span_id: None,
    ///     unit: None,
    ///     attributes: Default::default(),
    /// };
    /// metric.attributes.insert("password".into(), "hunter2".into());
    /// metric.attributes.insert("user.email".into(), "ada@example.com".into());
    /// metric.attributes.insert("user.id".into(), "42".into());
    /// Scrubber::new(PiiPolicy::Off).scrub_metric(&mut metric);
    /// assert_eq!(metric.attributes["password"].0, "[Filtered]");
    /// assert!(!metric.attributes.contains_key("user.email"));
    /// assert_eq!(metric.attributes["user.id"].0, "42");
    /// ```
    pub fn scrub_metric(&self, metric: &mut Metric) {
        if !self.pii().allows_pii() {
            for key in PERSONAL_USER_ATTRIBUTES {
                metric.attributes.remove(key);
            }
        }
        for (key, attribute) in &mut metric.attributes {
            self.scrub_attribute(key, attribute);
        }
    }
}
