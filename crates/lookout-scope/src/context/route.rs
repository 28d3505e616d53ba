//! The route template, recorded once the router has matched it.

use std::sync::Arc;

use super::request_context::RequestContext;

impl RequestContext {
    /// The route template (`/users/{id}`), once known.
    #[must_use]
    pub fn route(&self) -> Option<Arc<str>> {
        self.state().route.clone()
    }

    /// Records the route template, once the router has matched it. Stored
    /// only; lookout-core decides what to name or tag with it.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// assert_eq!(ctx.route(), None);
    /// ctx.set_route("/users/{id}");
    /// assert_eq!(ctx.route().as_deref(), Some("/users/{id}"));
    /// ```
    pub fn set_route(&self, route: &str) {
        self.state().route = Some(Arc::from(route));
    }
}
