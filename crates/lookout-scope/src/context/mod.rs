//! The per-request context: request id, trace, user, and (only when a client is
//! bound) the request's own sentry Hub.
//!
//! Everything a request sets lives here or in that Hub's scope, so nothing a
//! request does is visible to another. Binding the context to running code is
//! the job of [`current()`](crate::current()) and [`Bound`](crate::Bound); this
//! module does not touch thread-locals itself.
//!
//! [`RequestContext`] is one type; its methods are grouped by concept, one
//! file each: building it (`builder`), the frozen Dynamic Sampling Context
//! (`frozen_dsc`), the user (`identity`), the route and the response learned
//! as the request runs (`route`, `response`), writing it into events
//! (`event`) and into the request's Hub scope (`scope`), its breadcrumbs
//! (`breadcrumbs`), the request's head kept as text for its events
//! (`head`), making it current
//! (`binding`), and typed slots for other crates' data (`extensions`).

mod binding;
mod breadcrumbs;
mod builder;
mod event;
mod extensions;
mod frozen_dsc;
mod head;
mod health;
mod identity;
mod request_context;
mod response;
mod route;
mod scope;

pub use breadcrumbs::{
    LazyBreadcrumb, apply_process_breadcrumbs, record_process_breadcrumb,
    set_process_max_breadcrumbs,
};
pub use builder::RequestContextBuilder;
pub use head::{HEAD_INLINE, HEAD_MAX, HeadText, HeadWriter};
pub use health::EventHealth;
pub use request_context::RequestContext;
