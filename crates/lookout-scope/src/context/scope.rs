//! Writing to the request's own Hub scope: tags and breadcrumbs (nothing
//! without a client).

use sentry_core::IntoBreadcrumbs;

use super::request_context::RequestContext;

impl RequestContext {
    /// Sets a tag on this request's events (nothing without a client).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// RequestContext::new(RequestId::parse("req-1")?).set_tag("http.route", "/users/{id}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_tag(&self, key: &str, value: impl ToString) {
        if let Some(hub) = &self.inner.hub {
            let _state = self.state();
            hub.configure_scope(|scope| scope.set_tag(key, value));
        }
    }

    /// Records a breadcrumb on this request only. At most the client's
    /// `max_breadcrumbs` are kept (the oldest go first); nothing is kept
    /// without a client.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    /// use sentry_core::Breadcrumb;
    ///
    /// RequestContext::new(RequestId::parse("req-1")?).add_breadcrumb(Breadcrumb {
    ///     message: Some("cache miss".into()),
    ///     ..Default::default()
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_breadcrumb<B: IntoBreadcrumbs>(&self, breadcrumb: B) {
        if let Some(hub) = &self.inner.hub {
            hub.add_breadcrumb(breadcrumb);
        }
    }
}
