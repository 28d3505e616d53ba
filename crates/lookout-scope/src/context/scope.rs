//! Writing to the request's own Hub scope: tags (nothing without a
//! client). Breadcrumbs live in the context itself (`breadcrumbs.rs`).

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
}
