//! [`RequestContextBuilder`]: what a request starts with, and deriving its
//! Hub from the right parent.

use std::any::Any;
use std::borrow::Cow;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex, OnceLock};

use lookout_headers::{DynamicSamplingContext, RequestId};
use lookout_policy::PiiPolicy;
use sentry_core::Hub;

use super::request_context::{Inner, RequestContext, State};
use crate::current::current;
use crate::trace::RequestTrace;

/// Builds a [`RequestContext`]; see [`RequestContext::builder`].
#[derive(Debug)]
#[must_use]
pub struct RequestContextBuilder {
    request_id: RequestId,
    trace: Option<RequestTrace>,
    method: Cow<'static, str>,
    tracestate: Option<String>,
    frozen_dsc: Option<DynamicSamplingContext>,
    incoming_dsc: Option<Box<str>>,
    owner: Option<Arc<dyn Any + Send + Sync>>,
    pii: Option<PiiPolicy>,
    parent: Option<Arc<Hub>>,
}

impl RequestContextBuilder {
    /// The request's trace (default: [`RequestTrace::new_root`]).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, RequestTrace};
    ///
    /// let trace = RequestTrace::new_root();
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).trace(trace).build();
    /// assert_eq!(ctx.trace(), trace);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace(mut self, trace: RequestTrace) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Which user fields may reach Sentry (default: the bound client's
    /// `send_default_pii`, or [`PiiPolicy::Off`] without a client).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_policy::PiiPolicy;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).pii(PiiPolicy::On).build();
    /// assert_eq!(ctx.pii(), PiiPolicy::On);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pii(mut self, pii: PiiPolicy) -> Self {
        self.pii = Some(pii);
        self
    }

    /// Derive the request's Hub from `hub` instead of the default: the thread's
    /// current Hub, or, when called inside another request, the Hub that
    /// request was derived from (never the other request's own Hub).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    /// use sentry_core::Hub;
    ///
    /// // A Hub without a client: the request gets no Hub of its own.
    /// let process = Arc::new(Hub::new(None, Default::default()));
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?).parent_hub(process).build();
    /// assert!(ctx.hub().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parent_hub(mut self, hub: Arc<Hub>) -> Self {
        self.parent = Some(hub);
        self
    }

    /// The request method (`GET`, `POST`, ...; default: empty). The standard
    /// methods are stored without allocating.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::generate()).method("POST").build();
    /// assert_eq!(ctx.method(), "POST");
    /// ```
    pub fn method(mut self, method: &str) -> Self {
        self.method = intern_method(method);
        self
    }

    /// The `tracestate` received from the caller, passed on with `traceparent`.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::generate())
    ///     .tracestate("congo=t61rcWkgMzE".to_owned())
    ///     .build();
    /// assert_eq!(ctx.tracestate(), Some("congo=t61rcWkgMzE"));
    /// ```
    pub fn tracestate(mut self, tracestate: String) -> Self {
        self.tracestate = Some(tracestate);
        self
    }

    /// The Dynamic Sampling Context the caller sent, frozen from the start:
    /// [`RequestContext::frozen_dsc_or_init`] will never replace it.
    ///
    /// ```
    /// use lookout_headers::{DynamicSamplingContext, RequestId};
    /// use lookout_scope::RequestContext;
    ///
    /// let mut dsc = DynamicSamplingContext::new();
    /// dsc.sample_rate = Some(0.5);
    /// let ctx = RequestContext::builder(RequestId::generate()).frozen_dsc(dsc).build();
    /// assert_eq!(ctx.frozen_dsc().and_then(|d| d.sample_rate), Some(0.5));
    /// ```
    pub fn frozen_dsc(mut self, dsc: DynamicSamplingContext) -> Self {
        self.frozen_dsc = Some(dsc);
        self
    }

    /// The caller's Dynamic Sampling Context as its Sentry `baggage`
    /// members (`sentry-key=value,...`, as
    /// [`DscView::members`](lookout_headers::DscView::members) writes them),
    /// frozen from the start like [`frozen_dsc`](Self::frozen_dsc) but made
    /// owned only the first time it is read: a request that sends nothing
    /// pays one copy of the members and no decoding.
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::builder(RequestId::generate())
    ///     .incoming_dsc("sentry-sample_rate=0.5,sentry-release=web%401.0".into())
    ///     .build();
    /// let dsc = ctx.frozen_dsc().expect("frozen from the start");
    /// assert_eq!((dsc.sample_rate, dsc.release.as_deref()), (Some(0.5), Some("web@1.0")));
    /// ```
    pub fn incoming_dsc(mut self, members: String) -> Self {
        self.incoming_dsc = Some(members.into_boxed_str());
        self
    }

    /// Who created the request (lookout-core passes its engine), readable
    /// with [`RequestContext::owner`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// struct Engine;
    /// let ctx = RequestContext::builder(RequestId::generate()).owner(Arc::new(Engine)).build();
    /// assert!(ctx.owner::<Engine>().is_some());
    /// assert!(ctx.owner::<String>().is_none());
    /// ```
    pub fn owner(mut self, owner: Arc<dyn Any + Send + Sync>) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Creates the context. When the parent Hub has an enabled client, a Hub
    /// is derived for this request. Nothing is written to its scope: the
    /// request's data (request id, user, tags, trace) is applied to each
    /// event when it is captured, by [`apply_to_event`](crate::apply_to_event)
    /// (install it as the client's `before_send`; lookout-core does), so a
    /// request that captures nothing pays for none of it.
    #[must_use]
    pub fn build(self) -> RequestContext {
        let trace = self.trace.unwrap_or_else(RequestTrace::new_root);
        let parent = self.parent.unwrap_or_else(default_parent);
        let client = parent.client().filter(|client| client.is_enabled());
        let (pii, hub, parent, max_breadcrumbs) = match client {
            None => (
                self.pii.unwrap_or_default(),
                None,
                None,
                super::breadcrumbs::DEFAULT_MAX_BREADCRUMBS,
            ),
            Some(client) => {
                let options = client.options();
                let pii = self
                    .pii
                    .unwrap_or_else(|| PiiPolicy::from_send_default_pii(options.send_default_pii));
                let max_breadcrumbs = options.max_breadcrumbs;
                let hub = Arc::new(Hub::new_from_top(&parent));
                (pii, Some(hub), Some(parent), max_breadcrumbs)
            }
        };
        RequestContext {
            inner: Arc::new(Inner {
                request_id: self.request_id,
                trace,
                method: self.method,
                tracestate: self.tracestate,
                frozen_dsc: self.frozen_dsc.map_or_else(OnceLock::new, OnceLock::from),
                incoming_dsc: self.incoming_dsc,
                owner: self.owner,
                pii,
                hub,
                parent,
                state: Mutex::new(State {
                    user: None,
                    route: None,
                    response: None,
                }),
                extensions: Mutex::new(Vec::new()),
                health: AtomicU8::new(0),
                breadcrumbs: Mutex::new(super::breadcrumbs::Ring::new()),
                head: super::head::slot(),
                max_breadcrumbs,
            }),
        }
    }
}

/// The standard methods as `'static` strings, so the common case allocates nothing.
fn intern_method(method: &str) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    match STANDARD.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method.to_owned()),
    }
}

fn default_parent() -> Arc<Hub> {
    current()
        .and_then(|ctx| ctx.inner.parent.clone())
        .unwrap_or_else(Hub::current)
}

impl RequestContext {
    /// Starts building the context of the request with this id.
    ///
    /// The id is moved into the context's one allocation (lookout-core
    /// validates or generates it from `x-request-id`).
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::{RequestContext, RequestTrace};
    ///
    /// let ctx = RequestContext::builder(RequestId::parse("req-1")?)
    ///     .trace(RequestTrace::new_root())
    ///     .build();
    /// assert_eq!(ctx.request_id(), "req-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(request_id: RequestId) -> RequestContextBuilder {
        RequestContextBuilder {
            request_id,
            trace: None,
            method: Cow::Borrowed(""),
            tracestate: None,
            frozen_dsc: None,
            incoming_dsc: None,
            owner: None,
            pii: None,
            parent: None,
        }
    }

    /// The context of the request with this id, with a new root trace and the
    /// defaults of [`RequestContextBuilder`].
    ///
    /// ```
    /// use lookout_headers::RequestId;
    /// use lookout_scope::RequestContext;
    ///
    /// let ctx = RequestContext::new(RequestId::parse("req-1")?);
    /// assert_eq!(ctx.request_id(), "req-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(request_id: RequestId) -> Self {
        Self::builder(request_id).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_are_interned_and_others_kept() {
        assert!(matches!(intern_method("PATCH"), Cow::Borrowed("PATCH")));
        assert!(matches!(intern_method("PROPFIND"), Cow::Owned(m) if m == "PROPFIND"));
        assert!(matches!(intern_method("get"), Cow::Owned(m) if m == "get"));
    }
}
