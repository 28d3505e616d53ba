//! Typed slots for request-scoped data of other crates, one value per type.

use std::any::Any;
use std::sync::{Arc, MutexGuard, PoisonError};

use super::request_context::RequestContext;

impl RequestContext {
    /// Stores a value of type `T` with this request, replacing a previous `T`.
    ///
    /// A slot for request-scoped data of other crates (a route learned after
    /// routing, an application's own values). Costs nothing until used. The
    /// frozen Dynamic Sampling Context is not kept here: it has a set-once
    /// slot of its own ([`RequestContext::frozen_dsc_or_init`]).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// struct Tenant(&'static str);
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// ctx.insert_extension(Tenant("acme"));
    /// assert_eq!(ctx.extension::<Tenant>().unwrap().0, "acme");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_extension<T: Any + Send + Sync>(&self, value: T) -> Option<Arc<T>> {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
        let mut extensions = self.extensions();
        let previous = match extensions.iter_mut().find(|e| (**e).is::<T>()) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                extensions.push(value);
                None
            }
        };
        previous.and_then(|p| p.downcast::<T>().ok())
    }

    /// The stored value of type `T`, if any.
    #[must_use]
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.extensions()
            .iter()
            .find_map(|e| Arc::clone(e).downcast::<T>().ok())
    }

    /// The stored `T`, or the value `init` makes, stored first. Use this for
    /// values that are set once and must not change afterwards: concurrent
    /// callers all get the same value. `init` runs without this context's
    /// lock held, so it may use the context (read its extensions, log a line
    /// that becomes a Sentry Log of this request); when two callers race,
    /// both may run `init` and the value stored first is the one both get.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// let first = ctx.extension_or_insert_with(|| 1_u32);
    /// let second = ctx.extension_or_insert_with(|| 2_u32);
    /// assert_eq!((*first, *second), (1, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extension_or_insert_with<T: Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> T,
    ) -> Arc<T> {
        if let Some(found) = self.extension::<T>() {
            return found;
        }
        let value = Arc::new(init());
        let mut extensions = self.extensions();
        // Another caller may have stored one meanwhile: theirs stays.
        if let Some(found) = extensions
            .iter()
            .find_map(|e| Arc::clone(e).downcast::<T>().ok())
        {
            return found;
        }
        extensions.push(value.clone());
        value
    }

    fn extensions(&self) -> MutexGuard<'_, Vec<Arc<dyn Any + Send + Sync>>> {
        self.inner
            .extensions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;
    use sentry_core::Hub;

    fn ctx() -> RequestContext {
        RequestContext::builder(RequestId::generate())
            .parent_hub(Arc::new(Hub::new(None, Default::default())))
            .build()
    }

    #[test]
    fn init_may_use_the_context_it_initialises() {
        let ctx = ctx();
        ctx.insert_extension("tenant");
        // What a line logged inside `init` does: its log reads the
        // request's extensions.
        let value = ctx.extension_or_insert_with(|| {
            ctx.extension::<&str>()
                .map_or(0_usize, |tenant| tenant.len())
        });
        assert_eq!(*value, 6);
        assert_eq!(*ctx.extension_or_insert_with(|| 0_usize), 6);
    }

    #[test]
    fn extensions_are_typed_and_replaceable() {
        let ctx = ctx();
        assert!(ctx.extension::<u32>().is_none());
        assert!(ctx.insert_extension(1_u32).is_none());
        assert!(ctx.insert_extension("dsc").is_none());
        let previous = ctx.insert_extension(2_u32);
        assert_eq!(previous.as_deref(), Some(&1));
        assert_eq!(ctx.extension::<u32>().as_deref(), Some(&2));
        assert_eq!(ctx.extension::<&str>().as_deref(), Some(&"dsc"));
        // Set-once values do not change once stored.
        assert_eq!(*ctx.extension_or_insert_with(|| 3_u32), 2);
    }
}
