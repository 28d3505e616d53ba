//! The request's own breadcrumbs, kept in its context and written into an
//! event only when one is captured.
//!
//! sentry's `Hub::add_breadcrumb` copies the Hub's scope on write (the scope
//! is shared with the Hub it came from), so a breadcrumb per log line cost a
//! scope copy per line. Here a breadcrumb is one push into a ring bounded by
//! the client's `max_breadcrumbs`, under the context's own lock; a
//! [`LazyBreadcrumb`] (what lookout's `tracing` integration records) is not
//! even built until an event of the request needs it.
//!
//! Lines logged outside any request go to the process ring
//! ([`record_process_breadcrumb`]), never to the process Hub's scope that
//! every request's Hub is derived from: a request's events carry only that
//! request's breadcrumbs, and an event captured outside requests carries the
//! process's.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sentry_core::protocol::{Breadcrumb, Event};
use sentry_core::{Hub, IntoBreadcrumbs};

use super::request_context::RequestContext;

/// sentry's default `max_breadcrumbs`, the bound until a client says otherwise.
pub(crate) const DEFAULT_MAX_BREADCRUMBS: usize = 100;

/// A breadcrumb recorded now and built into a [`Breadcrumb`] only when an
/// event that carries it is captured (most requests capture none).
///
/// ```
/// use lookout_headers::RequestId;
/// use lookout_scope::{LazyBreadcrumb, RequestContext};
/// use sentry_core::protocol::Breadcrumb;
/// use std::sync::Arc;
///
/// struct CacheMiss(u32);
/// impl LazyBreadcrumb for CacheMiss {
///     fn to_breadcrumb(&self) -> Breadcrumb {
///         Breadcrumb { message: Some(format!("cache miss for {}", self.0)), ..Default::default() }
///     }
/// }
/// RequestContext::new(RequestId::parse("req-1")?).record_breadcrumb(Arc::new(CacheMiss(7)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait LazyBreadcrumb: Send + Sync + 'static {
    /// The breadcrumb as Sentry receives it, with the time it was recorded
    /// (events order their breadcrumbs by it).
    fn to_breadcrumb(&self) -> Breadcrumb;
}

/// One recorded breadcrumb: built already, or built when needed.
pub(crate) enum Crumb {
    Built(Breadcrumb),
    Lazy(Arc<dyn LazyBreadcrumb>),
}

impl Crumb {
    fn build(&self) -> Breadcrumb {
        match self {
            Crumb::Built(crumb) => crumb.clone(),
            Crumb::Lazy(lazy) => lazy.to_breadcrumb(),
        }
    }
}

/// A ring of breadcrumbs: the newest `max` are kept.
#[derive(Default)]
pub(crate) struct Ring {
    crumbs: VecDeque<Crumb>,
}

impl Ring {
    pub(crate) const fn new() -> Self {
        Self {
            crumbs: VecDeque::new(),
        }
    }

    fn push(&mut self, crumb: Crumb, max: usize) {
        if max == 0 {
            return;
        }
        while self.crumbs.len() >= max {
            self.crumbs.pop_front();
        }
        if self.crumbs.capacity() == 0 {
            // Room for a request's usual lines at once, not four at a time.
            self.crumbs.reserve_exact(max.min(32));
        }
        self.crumbs.push_back(crumb);
    }

    fn build(&self) -> Vec<Breadcrumb> {
        self.crumbs.iter().map(Crumb::build).collect()
    }
}

/// Lines logged outside any request, for events captured outside requests.
static PROCESS: Mutex<Ring> = Mutex::new(Ring::new());
/// The process ring's bound (the client's `max_breadcrumbs` once one is bound).
static PROCESS_MAX: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_BREADCRUMBS);

/// Records a breadcrumb of the process (a line logged outside any request):
/// events captured outside requests carry it ([`apply_to_event`](crate::apply_to_event)
/// adds it), a request's events never do.
///
/// ```
/// use lookout_scope::{LazyBreadcrumb, record_process_breadcrumb};
/// use sentry_core::protocol::Breadcrumb;
/// use std::sync::Arc;
///
/// struct Started;
/// impl LazyBreadcrumb for Started {
///     fn to_breadcrumb(&self) -> Breadcrumb {
///         Breadcrumb { message: Some("listening".into()), ..Default::default() }
///     }
/// }
/// record_process_breadcrumb(Arc::new(Started));
/// ```
pub fn record_process_breadcrumb(crumb: Arc<dyn LazyBreadcrumb>) {
    let max = PROCESS_MAX.load(Ordering::Relaxed);
    PROCESS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Crumb::Lazy(crumb), max);
}

/// Bounds the process ring ([`record_process_breadcrumb`]) at `max`
/// breadcrumbs (`SENTRY_MAX_BREADCRUMBS`; 100 until set).
pub fn set_process_max_breadcrumbs(max: usize) {
    PROCESS_MAX.store(max, Ordering::Relaxed);
}

/// Writes the process ring's breadcrumbs ([`record_process_breadcrumb`])
/// into `event`, captured outside any request, merged with the ones it has
/// by time, the newest `max` kept ([`apply_to_event`](crate::apply_to_event)
/// does it for events outside requests).
///
/// ```
/// use sentry_core::protocol::Event;
///
/// let mut event = Event::default();
/// lookout_scope::apply_process_breadcrumbs(&mut event);
/// ```
pub fn apply_process_breadcrumbs(event: &mut Event<'_>) {
    let built = PROCESS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .build();
    let max = PROCESS_MAX.load(Ordering::Relaxed);
    merge(event, built, max);
}

/// `crumbs` through the current client's `before_breadcrumb` (the
/// application's callback and the scrubber), merged into `event`'s by time,
/// the newest `max` kept.
fn merge(event: &mut Event<'_>, crumbs: Vec<Breadcrumb>, max: usize) {
    if crumbs.is_empty() {
        return;
    }
    let before = Hub::with_active(|hub| {
        hub.client()
            .and_then(|client| client.options().before_breadcrumb.clone())
    });
    let crumbs = crumbs.into_iter().filter_map(|crumb| match &before {
        Some(callback) => callback(crumb),
        None => Some(crumb),
    });
    let values = &mut event.breadcrumbs.values;
    let had = values.len();
    values.extend(crumbs);
    if had > 0 {
        // Both runs are in order already; a stable sort keeps equal times as written.
        values.sort_by_key(|crumb| crumb.timestamp);
    }
    if values.len() > max {
        values.drain(..values.len() - max);
    }
}

impl RequestContext {
    /// Records a breadcrumb on this request only. At most the client's
    /// `max_breadcrumbs` are kept (the oldest go first); nothing is kept
    /// without a client. It is kept in the request's context (no copy of
    /// the Hub's scope) and written into each event the request captures.
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
        if self.inner.hub.is_none() {
            return;
        }
        let max = self.inner.max_breadcrumbs;
        let mut ring = self.breadcrumb_ring();
        for crumb in breadcrumb.into_breadcrumbs() {
            ring.push(Crumb::Built(crumb), max);
        }
    }

    /// Records a breadcrumb built only if an event of this request is
    /// captured ([`LazyBreadcrumb`]); nothing is kept without a client.
    pub fn record_breadcrumb(&self, breadcrumb: Arc<dyn LazyBreadcrumb>) {
        if self.inner.hub.is_none() {
            return;
        }
        let max = self.inner.max_breadcrumbs;
        self.breadcrumb_ring().push(Crumb::Lazy(breadcrumb), max);
    }

    /// This request's breadcrumbs, oldest first, as Sentry receives them
    /// (before the client's `before_breadcrumb`).
    #[must_use]
    pub fn breadcrumbs(&self) -> Vec<Breadcrumb> {
        self.breadcrumb_ring().build()
    }

    /// Writes this request's breadcrumbs into `event`, merged by time with
    /// the ones it has (added through the Hub), the newest
    /// `max_breadcrumbs` kept.
    pub(crate) fn apply_breadcrumbs(&self, event: &mut Event<'_>) {
        let built = self.breadcrumbs();
        merge(event, built, self.inner.max_breadcrumbs);
    }

    fn breadcrumb_ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner
            .breadcrumbs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
