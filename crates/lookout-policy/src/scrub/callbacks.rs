//! The scrubber as the client's `before_send`, `before_breadcrumb` and
//! `before_send_log`, `before_send_metric`,
//! running after the application's own callbacks so nothing they add
//! escapes it.

use std::sync::Arc;

use sentry_core::protocol::{Breadcrumb, Event, Log, Metric};

use super::scrubber::Scrubber;
use crate::options::BeforeCallback;

impl Scrubber {
    /// A `before_send` that runs the application's own callback first (if
    /// any) and then this scrubber, so nothing the callback adds escapes it.
    #[must_use]
    pub fn before_send(
        &self,
        user: Option<BeforeCallback<Event<'static>>>,
    ) -> BeforeCallback<Event<'static>> {
        let scrubber = self.clone();
        Arc::new(move |event| {
            let mut event = match &user {
                Some(callback) => callback(event)?,
                None => event,
            };
            scrubber.scrub_event(&mut event);
            Some(event)
        })
    }

    /// A `before_breadcrumb` that runs the application's own callback first
    /// (if any) and then this scrubber.
    #[must_use]
    pub fn before_breadcrumb(
        &self,
        user: Option<BeforeCallback<Breadcrumb>>,
    ) -> BeforeCallback<Breadcrumb> {
        let scrubber = self.clone();
        Arc::new(move |crumb| {
            let mut crumb = match &user {
                Some(callback) => callback(crumb)?,
                None => crumb,
            };
            scrubber.scrub_breadcrumb(&mut crumb);
            Some(crumb)
        })
    }

    /// A `before_send_log` that runs the application's own callback first
    /// (if any) and then this scrubber ([`Scrubber::scrub_log`]).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    /// use sentry_core::protocol::{Log, LogLevel};
    ///
    /// let before_send_log = Scrubber::new(PiiPolicy::Off).before_send_log(None);
    /// let mut log = Log {
    ///     level: LogLevel::Warn,
    ///     body: "retrying".into(),
    ///     trace_id: None,
    ///     timestamp: std::time::SystemTime::now(),
    ///     severity_number: None,
    ///     attributes: Default::default(),
    /// };
    /// log.attributes.insert("token".into(), "abc".into());
    /// let log = before_send_log(log).unwrap();
    /// assert_eq!(log.attributes["token"].0, "[Filtered]");
    /// ```
    #[must_use]
    pub fn before_send_log(&self, user: Option<BeforeCallback<Log>>) -> BeforeCallback<Log> {
        let scrubber = self.clone();
        Arc::new(move |log| {
            let mut log = match &user {
                Some(callback) => callback(log)?,
                None => log,
            };
            scrubber.scrub_log(&mut log);
            Some(log)
        })
    }

    /// A `before_send_metric` that runs the application's own callback
    /// first (if any) and then this scrubber ([`Scrubber::scrub_metric`]).
    ///
    /// ```
    /// use lookout_policy::{PiiPolicy, Scrubber};
    /// use sentry_core::protocol::{Metric, MetricType, TraceId};
    ///
    /// let before_send_metric = Scrubber::new(PiiPolicy::Off).before_send_metric(None);
    /// let mut metric = Metric {
    ///     r#type: MetricType::Counter,
    ///     name: "orders.lookup".into(),
    ///     value: 1.0,
    ///     timestamp: std::time::SystemTime::now(),
    ///     trace_id: TraceId::default(),
    ///     span_id: None,
    ///     unit: None,
    ///     attributes: Default::default(),
    /// };
    /// metric.attributes.insert("token".into(), "abc".into());
    /// let metric = before_send_metric(metric).unwrap();
    /// assert_eq!(metric.attributes["token"].0, "[Filtered]");
    /// ```
    #[must_use]
    pub fn before_send_metric(
        &self,
        user: Option<BeforeCallback<Metric>>,
    ) -> BeforeCallback<Metric> {
        let scrubber = self.clone();
        Arc::new(move |metric| {
            let mut metric = match &user {
                Some(callback) => callback(metric)?,
                None => metric,
            };
            scrubber.scrub_metric(&mut metric);
            Some(metric)
        })
    }
}
