//! lookout-scope gives every request its own context: request id, trace, user
//! identity, tags and breadcrumbs, with a sentry [`Hub`](sentry_core::Hub) of its
//! own when a client is bound. Whatever one request sets is seen by that
//! request's events and by no other request's, across `.await`s, threads and
//! the sub-tasks it spawns.
//!
//! # Example: the identify flow
//!
//! A request starts anonymous; auth code identifies the user from anywhere
//! inside the request; the PII policy decides which fields reach Sentry.
//!
//! ```
//! use lookout_headers::RequestId;
//! use lookout_scope::{InRequestExt, RequestContext, User};
//! use std::sync::Arc;
//! use sentry_core::{ClientOptions, Level, test::with_captured_events_options};
//!
//! // lookout-core validates or generates the id when a request arrives.
//! let request_id = RequestId::parse("req-7f3a")?;
//! // Using lookout-scope alone: this hook puts the request on each event.
//! // (lookout-core applies the request in its own `before_send` instead.)
//! let mut options = ClientOptions::default();
//! options.before_send = Some(Arc::new(lookout_scope::apply_to_event));
//! let events = with_captured_events_options(|| {
//!     let ctx = RequestContext::new(request_id);
//!
//!     let handler = async {
//!         // In auth middleware or a handler, anywhere inside the request:
//!         lookout_scope::identify(
//!             User::id("42").email("ada@example.com").role("admin"),
//!         )
//!         .expect("inside a request");
//!         sentry_core::capture_message("payment declined", Level::Error);
//!     };
//!     tokio::runtime::Builder::new_current_thread()
//!         .build()
//!         .unwrap()
//!         .block_on(handler.in_request(ctx.clone()));
//!
//!     // The context remembers the user as given, whatever the PII policy.
//!     assert_eq!(ctx.user().unwrap().email.as_deref(), Some("ada@example.com"));
//! }, options);
//!
//! let event = &events[0];
//! let user = event.user.as_ref().unwrap();
//! assert_eq!(user.id.as_deref(), Some("42"));
//! assert_eq!(user.email, None); // PII is off by default
//! assert_eq!(event.tags["request_id"], "req-7f3a");
//! assert_eq!(event.tags["authenticated"], "true");
//! assert_eq!(event.tags["user_role"], "admin");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a request stays bound
//!
//! - [`Bound`] (made by [`InRequestExt::in_request`] or [`RequestContext::bind`])
//!   makes the request current around every poll of a future or, through
//!   [`Bound::in_context`], of a response body; [`RequestContext::enter`] does
//!   the same for a synchronous closure. "Current" means both
//!   [`current()`] returns the request and sentry's `Hub::current()` is the
//!   request's Hub, so `sentry_core::capture_*` and `add_breadcrumb` land in it.
//! - `spawn_in_request` (feature `tokio`) spawns a tokio task bound to the current request. A
//!   task spawned any other way belongs to no request (it never inherits a
//!   user).
//! - Without an enabled client there is no Hub: a context is one allocation
//!   (the request id is moved into it) and binding it costs a reference count.
//!
//! # Feature flags
//!
//! - `tokio` (default): `spawn_in_request` and `RequestContext::spawn`.
//!
//! # Supported Rust versions
//!
//! The workspace MSRV (Rust 1.89).

mod bound;
mod context;
mod current;
mod error;
mod response;
#[cfg(feature = "tokio")]
mod spawn;
mod trace;
mod user;

pub use bound::{Bound, InRequestExt};
pub use context::{
    EventHealth, HEAD_INLINE, HEAD_MAX, HeadText, HeadWriter, LazyBreadcrumb, RequestContext,
    RequestContextBuilder, apply_process_breadcrumbs, record_process_breadcrumb,
    set_process_max_breadcrumbs,
};
pub use current::{apply_to_event, current, identify, set_anonymous, try_current};
pub use error::NotInRequest;
pub use response::ResponseSummary;
#[cfg(feature = "tokio")]
pub use spawn::spawn_in_request;
pub use trace::RequestTrace;
pub use user::User;
