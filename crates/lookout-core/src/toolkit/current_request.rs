//! [`CurrentRequest`]: the request lookout is handling, as handlers and
//! middleware see it on every framework.

use std::error::Error;

use lookout_classify::{Outcome, tags};
use lookout_scope::{RequestContext, RequestTrace, User};
use sentry_core::protocol::{Context, Event, Map, Mechanism, Value};
use sentry_core::types::Uuid;
use sentry_core::{Hub, Level};

use super::RouteLearner;

/// The request lookout is handling: its id, its trace, and the user it acts
/// for. Each adapter hands it out through its framework's extractor (axum
/// `FromRequestParts`, actix-web `FromRequest`, a warp filter); the methods
/// are these, on every framework.
///
/// ```
/// use http::HeaderMap;
/// use lookout_core::{Engine, RequestHead, toolkit::CurrentRequest};
/// use lookout_core::User;
///
/// assert!(CurrentRequest::get().is_none(), "outside a request");
/// let in_flight = Engine::builder().build().begin(&RequestHead::new("GET", "/", &HeaderMap::new()));
/// in_flight.context().enter(|| {
///     let current = CurrentRequest::get().expect("inside the request");
///     current.identify(User::id("42").role("admin"));
///     assert!(current.user().is_some());
///     assert_eq!(current.trace_id().len(), 32);
/// });
/// # drop(in_flight);
/// ```
#[derive(Clone, Debug)]
pub struct CurrentRequest {
    ctx: RequestContext,
}

impl CurrentRequest {
    /// The current request, from anywhere inside it (code the middleware
    /// runs, or a task spawned with `spawn_in_request`).
    #[must_use]
    pub fn get() -> Option<Self> {
        lookout_scope::current().map(Self::from_context)
    }

    /// The request of this context.
    #[must_use]
    pub fn from_context(ctx: RequestContext) -> Self {
        Self { ctx }
    }

    /// What an adapter's extractor returns: the request of `learner` (the
    /// [`RouteLearner`] an outer middleware left in the request's
    /// extensions), which learns `route` (the framework's matched template),
    /// else the current request.
    #[must_use]
    pub fn resolve(learner: Option<&RouteLearner>, route: Option<&str>) -> Option<Self> {
        match learner {
            Some(learner) => {
                // Inside routing now: tell the middleware outside it the template.
                learner.learn(route);
                Some(Self::from_context(learner.context().clone()))
            }
            None => Self::get(),
        }
    }

    /// The request id (the caller's `x-request-id` when valid, otherwise a
    /// new one); the response carries it too.
    #[must_use]
    pub fn request_id(&self) -> &str {
        self.ctx.request_id()
    }

    /// The trace id, as 32 hex digits.
    #[must_use]
    pub fn trace_id(&self) -> String {
        self.ctx.trace().trace_id.to_string()
    }

    /// The request's trace: ids, parent, sampling decision.
    #[must_use]
    pub fn trace(&self) -> RequestTrace {
        self.ctx.trace()
    }

    /// Identifies the user this request acts for: events of this request
    /// (and only this one) carry the user, and the tags
    /// `authenticated=true` and `user_role`.
    ///
    /// ```
    /// # use lookout_core::User;
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
    /// current.identify(User::id("42").email("ada@example.com").role("admin"));
    /// # }
    /// ```
    pub fn identify(&self, user: User) {
        self.ctx.identify(user);
    }

    /// Makes the request anonymous again (a logout); returns the user it was
    /// identified as.
    pub fn set_anonymous(&self) -> Option<User> {
        self.ctx.set_anonymous()
    }

    /// The identified user, if any.
    #[must_use]
    pub fn user(&self) -> Option<User> {
        self.ctx.user()
    }

    /// The request's full context (tags, breadcrumbs, binding spawned work).
    #[must_use]
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// Sets a tag on this request's events and its transaction (nothing
    /// without a client). Tag values go through the same scrubbing as
    /// lookout's own.
    ///
    /// ```
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
    /// current.set_tag("tenant", "acme");
    /// # }
    /// ```
    pub fn set_tag(&self, key: &str, value: impl ToString) {
        self.ctx.set_tag(key, value);
    }

    /// Sets a context (a named group of fields Sentry shows on the event)
    /// on this request's events (nothing without a client). Denylisted keys
    /// (`password`, `token`, ...) arrive `[Filtered]`.
    ///
    /// ```
    /// use serde_json::json;
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
    /// current.set_context("order", [("id", json!(7)), ("items", json!(3))]);
    /// # }
    /// ```
    pub fn set_context<K, V>(&self, name: &str, fields: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<String>,
        V: Into<Value>,
    {
        if let Some(hub) = self.ctx.hub() {
            let fields: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            self.ctx.enter(|| {
                hub.configure_scope(|scope| scope.set_context(name, Context::Other(fields)))
            });
        }
    }

    /// Captures an error the handler handled (and answered itself) as an
    /// event of this request: with the request's user, tags and trace, the
    /// `error_type`, tags and fingerprint the classifiers give it (as they
    /// would for a handler's 500), the frames of this call, scrubbed like
    /// every event. The mechanism says `handled`. Returns the event id, or
    /// `None` without a client.
    ///
    /// ```
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
    /// let cache = std::io::Error::other("cache unavailable");
    /// // Served from the database instead; still worth knowing.
    /// let _event_id = current.capture_error(&cache);
    /// # }
    /// ```
    pub fn capture_error<E: Error + 'static>(&self, error: &E) -> Option<Uuid> {
        let hub = self.ctx.hub()?;
        #[cfg(feature = "anyhow")]
        let wrapped = crate::anyhow_error::of(error).map(crate::AnyhowError::as_dyn);
        #[cfg(not(feature = "anyhow"))]
        let wrapped: Option<&(dyn Error + 'static)> = None;
        let mut event = match wrapped {
            Some(inner) => sentry_core::event_from_error(inner),
            None => sentry_core::event_from_error(error),
        };
        if let Some(main) = event.exception.values.last_mut() {
            main.mechanism = Some(Mechanism {
                ty: "lookout.capture_error".to_owned(),
                handled: Some(true),
                ..Mechanism::default()
            });
            // The error's own frames (an `anyhow::Error`'s), else this call's.
            main.stacktrace = crate::stacktrace::carried(error)
                .or_else(|| crate::stacktrace::resolve(crate::stacktrace::walk()));
        }
        if let Some(engine) = self.ctx.owner::<crate::engine::Shared>() {
            let method = http::Method::from_bytes(self.ctx.method().as_bytes()).unwrap_or_default();
            let route = crate::toolkit::route::route_of(&self.ctx);
            let path = route.as_deref().unwrap_or_default();
            let outcome = Outcome::new(&method, path, http::StatusCode::INTERNAL_SERVER_ERROR);
            let mut outcome = match wrapped {
                Some(inner) => outcome.with_error_dyn(inner),
                None => outcome.with_error(error),
            };
            if let Some(route) = route.as_deref() {
                outcome = outcome.with_route(route);
            }
            let decision = engine.classifiers.decide(&outcome);
            if let Some(level) = decision.level() {
                event.level = level;
            }
            if let Some(error_type) = decision.error_type() {
                event
                    .tags
                    .insert(tags::ERROR_TYPE.to_owned(), error_type.to_owned());
            }
            for (key, value) in decision.tags() {
                event.tags.insert(key.clone(), value.clone());
            }
            if let Some(fingerprint) = decision.fingerprint() {
                event.fingerprint = std::borrow::Cow::Owned(fingerprint.to_vec());
            }
        }
        Some(self.capture(hub, event))
    }

    /// Captures a message as an event of this request (with its user, tags
    /// and trace, and the frames of this call when `attach_stacktrace` is
    /// on). Returns the event id, or `None` without a client.
    ///
    /// ```
    /// use lookout_classify::Level;
    /// # fn f(current: lookout_core::toolkit::CurrentRequest) {
    /// current.capture_message("payment retried", Level::Warning);
    /// # }
    /// ```
    pub fn capture_message(&self, message: &str, level: Level) -> Option<Uuid> {
        let hub = self.ctx.hub()?;
        Some(self.ctx.enter(|| hub.capture_message(message, level)))
    }

    fn capture(&self, hub: &Hub, event: Event<'static>) -> Uuid {
        self.ctx.enter(|| hub.capture_event(event))
    }
}

/// The request's context: [`RequestContext`]'s methods (binding spawned
/// work, breadcrumbs, extensions) work on a `CurrentRequest` too.
impl std::ops::Deref for CurrentRequest {
    type Target = RequestContext;

    fn deref(&self) -> &RequestContext {
        &self.ctx
    }
}

/// Defines an adapter's `CurrentRequest` and `NotInstrumented`, the same on
/// every framework: `CurrentRequest` is a newtype over the toolkit's
/// [`CurrentRequest`](crate::toolkit::CurrentRequest) (dereferencing to it,
/// with `get` and `into_inner`), so that the adapter can implement its
/// framework's extractor trait for it (the orphan rule forbids that for
/// core's type); `NotInstrumented` is the error its extractor fails with
/// where no lookout middleware handles the request, saying `message`. The
/// adapter then adds only the extractor and the error's response.
///
/// ```
/// mod adapter {
///     lookout_core::adapter_current_request! {
///         /// The request lookout is handling.
///         crate: "adapter",
///         /// No lookout middleware handles the request.
///         NotInstrumented: "adapter::CurrentRequest needs the middleware",
///     }
/// }
/// assert!(adapter::CurrentRequest::get().is_none());
/// assert_eq!(adapter::NotInstrumented.to_string(), "adapter::CurrentRequest needs the middleware");
/// ```
#[macro_export]
macro_rules! adapter_current_request {
    (
        $(#[$meta:meta])*
        crate: $krate:literal,
        $(#[$error_meta:meta])*
        NotInstrumented: $message:literal $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct CurrentRequest($crate::toolkit::CurrentRequest);

        impl CurrentRequest {
            /// The current request, from anywhere inside it (what the
            /// middleware runs, a response body, a task spawned with
            /// `spawn_in_request`).
            ///
            /// ```
            #[doc = concat!("assert!(", $krate, "::CurrentRequest::get().is_none(), \"outside a request\");")]
            /// ```
            #[must_use]
            pub fn get() -> ::std::option::Option<Self> {
                $crate::toolkit::CurrentRequest::get().map(Self)
            }

            /// The framework-neutral request handle.
            #[must_use]
            pub fn into_inner(self) -> $crate::toolkit::CurrentRequest {
                self.0
            }
        }

        impl ::std::convert::From<$crate::toolkit::CurrentRequest> for CurrentRequest {
            fn from(current: $crate::toolkit::CurrentRequest) -> Self {
                Self(current)
            }
        }

        impl ::std::ops::Deref for CurrentRequest {
            type Target = $crate::toolkit::CurrentRequest;

            fn deref(&self) -> &$crate::toolkit::CurrentRequest {
                &self.0
            }
        }

        $(#[$error_meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct NotInstrumented;

        impl ::std::fmt::Display for NotInstrumented {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($message)
            }
        }

        // Frameworks write an unhandled error's `Debug` (warp's 500): it says what is missing.
        impl ::std::fmt::Debug for NotInstrumented {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "NotInstrumented: {}", $message)
            }
        }

        impl ::std::error::Error for NotInstrumented {}
    };
}
