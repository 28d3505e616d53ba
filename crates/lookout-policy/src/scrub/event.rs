//! Scrubbing whole events, transactions and breadcrumbs: every place of
//! the event model that can carry a secret or personal data.

use std::borrow::Cow;

use sentry_core::protocol::{
    Breadcrumb, Context, Event, Map, Stacktrace, Transaction, User, Value,
};

use super::scrubber::Scrubber;
use super::url::{redact_in_place, redact_url_credentials};

impl Scrubber {
    /// Scrubs every place of an event that can carry a secret or personal
    /// data: request (URL, query, cookies, headers, env, body), user, extra,
    /// tags, contexts, breadcrumbs, stack frame variables, and URLs with
    /// credentials in messages and exception values.
    pub fn scrub_event(&self, event: &mut Event<'_>) {
        if let Some(request) = &mut event.request {
            self.scrub_request(request);
        }
        if let Some(user) = &mut event.user {
            self.scrub_user(user);
        }
        self.scrub_map(&mut event.extra);
        self.scrub_string_map(&mut event.tags);
        self.scrub_contexts(&mut event.contexts);
        for crumb in &mut event.breadcrumbs.values {
            self.scrub_breadcrumb(crumb);
        }
        for exception in &mut event.exception.values {
            redact_in_place(&mut exception.value);
            self.scrub_stacktrace(exception.stacktrace.as_mut());
            self.scrub_stacktrace(exception.raw_stacktrace.as_mut());
        }
        for thread in &mut event.threads.values {
            self.scrub_stacktrace(thread.stacktrace.as_mut());
        }
        self.scrub_stacktrace(event.stacktrace.as_mut());
        redact_in_place(&mut event.message);
        if let Some(entry) = &mut event.logentry
            && let Cow::Owned(clean) = redact_url_credentials(&entry.message)
        {
            entry.message = clean;
        }
    }

    /// Scrubs a transaction (request, user, extra, tags, contexts, span data);
    /// `sentry_core` has no `before_send` for transactions, so lookout-core
    /// calls this itself.
    pub fn scrub_transaction(&self, transaction: &mut Transaction<'_>) {
        if let Some(request) = &mut transaction.request {
            self.scrub_request(request);
        }
        if let Some(user) = &mut transaction.user {
            self.scrub_user(user);
        }
        self.scrub_map(&mut transaction.extra);
        self.scrub_string_map(&mut transaction.tags);
        self.scrub_contexts(&mut transaction.contexts);
        for span in &mut transaction.spans {
            self.scrub_map(&mut span.data);
            // An `http.client` span names the URL it called.
            if let Some(Value::String(url)) = span.data.get_mut("url.full") {
                *url = self.scrub_url(url).into_owned();
            }
            if let Some(description) = &mut span.description {
                *description = self.scrub_url(description).into_owned();
            }
        }
    }

    /// Scrubs a breadcrumb's data (and credentials in URLs in its message).
    pub fn scrub_breadcrumb(&self, crumb: &mut Breadcrumb) {
        self.scrub_map(&mut crumb.data);
        redact_in_place(&mut crumb.message);
    }

    /// Removes personal fields with PII off (email, username, IP) and
    /// filters denylisted keys among the user's other fields; the id stays.
    pub fn scrub_user(&self, user: &mut User) {
        self.pii().filter_user(user);
        self.scrub_map(&mut user.other);
    }

    fn scrub_contexts(&self, contexts: &mut Map<String, Context>) {
        for context in contexts.values_mut() {
            match context {
                Context::Device(c) => self.scrub_map(&mut c.other),
                Context::Os(c) => self.scrub_map(&mut c.other),
                Context::Runtime(c) => self.scrub_map(&mut c.other),
                Context::App(c) => self.scrub_map(&mut c.other),
                Context::Browser(c) => self.scrub_map(&mut c.other),
                Context::Gpu(c) => self.scrub_map(&mut c.other),
                Context::Otel(c) => self.scrub_map(&mut c.other),
                Context::Trace(c) => self.scrub_map(&mut c.data),
                Context::Response(c) => {
                    c.cookies = c.cookies.as_deref().and_then(|v| self.scrub_cookies(v));
                    self.scrub_string_map(&mut c.headers);
                    if let Some(data) = &mut c.data {
                        self.scrub_value(data);
                    }
                }
                Context::Other(map) => self.scrub_map(map),
                // A context type added after sentry-types 0.49 carries no known secret field.
                _ => {}
            }
        }
    }

    fn scrub_stacktrace(&self, stacktrace: Option<&mut Stacktrace>) {
        if let Some(stacktrace) = stacktrace {
            for frame in &mut stacktrace.frames {
                self.scrub_map(&mut frame.vars);
            }
        }
    }
}
