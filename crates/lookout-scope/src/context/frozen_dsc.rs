//! The request's frozen Dynamic Sampling Context: set once, by the builder
//! (the caller's DSC, owned or as its baggage members, made owned when first
//! read) or the first time it leaves the process (a head-of-trace DSC), and
//! never changed afterwards, as the Sentry developer
//! documentation ("Dynamic Sampling Context", develop.sentry.dev) requires.
//! It lives in a set-once slot of its own inside the context's allocation
//! (freezing it allocates only its strings), read by reference by every
//! envelope of the request; it is not one of the
//! [extensions](RequestContext::insert_extension).

use lookout_headers::{DscView, DynamicSamplingContext};

use super::request_context::RequestContext;

impl RequestContext {
    /// The frozen Dynamic Sampling Context, if it has been frozen yet.
    #[must_use]
    pub fn frozen_dsc(&self) -> Option<&DynamicSamplingContext> {
        match &self.inner.incoming_dsc {
            Some(members) => Some(self.inner.frozen_dsc.get_or_init(|| parse(members))),
            None => self.inner.frozen_dsc.get(),
        }
    }

    /// The frozen Dynamic Sampling Context, freezing the one `init` makes if
    /// none is frozen yet (a head-of-trace DSC the first time it leaves the
    /// process). Once frozen it never changes; concurrent callers all get the
    /// same value.
    ///
    /// ```
    /// use lookout_headers::{DynamicSamplingContext, RequestId};
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::generate());
    /// let first = ctx.frozen_dsc_or_init(|| {
    ///     let mut dsc = DynamicSamplingContext::new();
    ///     dsc.release = Some("1.0".into());
    ///     dsc
    /// });
    /// let again = ctx.frozen_dsc_or_init(DynamicSamplingContext::new);
    /// assert_eq!(again.release.as_deref(), Some("1.0"));
    /// # let _ = first;
    /// ```
    pub fn frozen_dsc_or_init(
        &self,
        init: impl FnOnce() -> DynamicSamplingContext,
    ) -> &DynamicSamplingContext {
        self.inner
            .frozen_dsc
            .get_or_init(|| match &self.inner.incoming_dsc {
                Some(members) => parse(members),
                None => init(),
            })
    }
}

/// The owned DSC of the caller's Sentry baggage members.
fn parse(members: &str) -> DynamicSamplingContext {
    DscView::from_baggage([members]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;

    #[test]
    fn an_incoming_dsc_stays_frozen() {
        let mut incoming = DynamicSamplingContext::new();
        incoming.release = Some("caller".into());
        let ctx = RequestContext::builder(RequestId::generate())
            .frozen_dsc(incoming)
            .build();
        let mut ours = DynamicSamplingContext::new();
        ours.release = Some("ours".into());
        let frozen = ctx.frozen_dsc_or_init(|| ours);
        assert_eq!(frozen.release.as_deref(), Some("caller"));
    }

    #[test]
    fn incoming_members_stay_frozen_and_are_read_once() {
        let ctx = RequestContext::builder(RequestId::generate())
            .incoming_dsc("sentry-release=caller,sentry-sample_rand=0.25".into())
            .build();
        let mut ours = DynamicSamplingContext::new();
        ours.release = Some("ours".into());
        let frozen = ctx.frozen_dsc_or_init(|| ours);
        assert_eq!(frozen.release.as_deref(), Some("caller"));
        assert_eq!(frozen.sample_rand, Some(0.25));
        assert!(
            std::ptr::eq(frozen, ctx.frozen_dsc().unwrap()),
            "one owned copy"
        );
    }
}
