//! Spawning tokio tasks that stay in the request that spawned them.
//!
//! `tokio::spawn` starts a task with no request: a task is never given a
//! request implicitly, so it cannot pick up another request's user either.
//! These helpers opt in explicitly.

use std::future::Future;

use tokio::task::JoinHandle;

use crate::current::current;

/// Spawns `future` on the current tokio runtime, bound to the current request
/// (when there is one): its events carry the request's user, tags, trace and
/// breadcrumbs, and breadcrumbs it records join the request's.
///
/// Outside a request this is plain `tokio::spawn`.
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{InRequestExt, RequestContext};
///
/// let ctx = RequestContext::new(RequestId::parse("req-1")?);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let seen = async {
///     lookout_scope::spawn_in_request(async {
///         lookout_scope::current().map(|c| c.request_id().to_string())
///     })
///     .await
/// }
/// .in_request(ctx)
/// .await
/// .unwrap();
/// assert_eq!(seen.as_deref(), Some("req-1"));
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
///
/// Panics when called outside a tokio runtime, like `tokio::spawn`.
pub fn spawn_in_request<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current() {
        Some(ctx) => ctx.spawn(future),
        None => tokio::spawn(future),
    }
}
