//! [`RouteLearner`]: late route learning for a middleware outside routing;
//! [`PendingRoute`]: a template looked up only when something inside the
//! request needs it before the adapter learns it ([`PendingRouteFuture`]
//! polls the handler with it); [`route_before_begin`]: when `begin` needs
//! the template anyway ([`begin_before_routing`] applies it, and
//! [`finish_after_routing`] reads it from the response otherwise).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use lookout_scope::RequestContext;

use crate::engine::with_transaction_name;
use crate::head::Headers;
use crate::{Engine, Finished, InFlight, RequestHead, ResponseHead};

/// Tells a middleware that began a request without its route template (it
/// runs before routing) the template learned inside routing. The template
/// applies at once: the transaction is renamed after it (source `route`),
/// and the `http.route` tag, the request breadcrumb and a Dynamic Sampling
/// Context frozen from then on (an outgoing call, an event) carry it. The
/// first template learned wins.
///
/// The sampling decision was made at `begin` and stays: route-based sampling
/// rules see the raw path for a request whose route is learned late.
///
/// Adapters put the learner from
/// [`InFlight::route_learner`](crate::InFlight::route_learner) in their
/// request's extensions; lookout code inside routing (a second middleware,
/// the [`CurrentRequest`](super::CurrentRequest) extractor, a route filter)
/// finds it there, calls [`learn`](Self::learn) and passes the request
/// through.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::{Engine, RequestHead, ResponseHead};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()));
/// let learner = in_flight.route_learner().expect("the route was not known");
/// learner.learn(Some("/users/{id}"));
/// learner.learn(Some("/users/me"));
/// assert_eq!(learner.learned().as_deref(), Some("/users/{id}"));
/// assert_eq!(in_flight.context().route().as_deref(), Some("/users/{id}"));
/// in_flight.finish(&ResponseHead::new(StatusCode::OK)).body.complete();
/// ```
#[derive(Clone)]
pub struct RouteLearner {
    ctx: RequestContext,
    transaction: Option<sentry_core::Transaction>,
}

impl std::fmt::Debug for RouteLearner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteLearner")
            .field("request_id", &self.ctx.request_id())
            .field("learned", &self.learned())
            .finish()
    }
}

impl RouteLearner {
    pub(crate) fn new(ctx: RequestContext, transaction: Option<sentry_core::Transaction>) -> Self {
        Self { ctx, transaction }
    }

    /// Reports the template (when routing matched one) and applies it; a
    /// template learned earlier is kept.
    pub fn learn(&self, route: Option<&str>) {
        if let Some(route) = route
            && self.ctx.route().is_none()
        {
            self.ctx.set_route(route);
            if let Some(transaction) = &self.transaction {
                name_after_route(transaction, self.ctx.method(), route);
            }
        }
    }

    /// The template learned so far.
    pub fn learned(&self) -> Option<std::sync::Arc<str>> {
        self.ctx.route()
    }

    /// The context of the request that is learning.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }
}

/// A route template the adapter will learn after routing (from its
/// framework's response, cheaply), and how to look it up before then.
///
/// Until the template is learned, anything inside the request that needs it
/// (an event's `http.route` tag, the Dynamic Sampling Context frozen by an
/// outgoing call, a log's `http.route`) looks it up through the pending
/// route, which then learns it (as [`RouteLearner::learn`] does). The lookup
/// is available on the thread polling the request's handler, while the
/// adapter runs that poll inside [`during`](Self::during); a request that
/// records nothing before its response pays for no lookup at all.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::toolkit::PendingRoute;
/// use lookout_core::{Engine, RequestHead, ResponseHead};
///
/// let engine = Engine::builder().build();
/// let in_flight = engine.begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()));
/// let learner = in_flight.route_learner().expect("the route was not known");
/// let pending = PendingRoute::new(learner, || Some("/users/{id}".to_owned()));
/// // Inside the handler's poll, a look-up learns it.
/// pending.during(|| assert_eq!(pending.resolve().as_deref(), Some("/users/{id}")));
/// assert_eq!(in_flight.context().route().as_deref(), Some("/users/{id}"));
/// in_flight.finish(&ResponseHead::new(StatusCode::OK)).body.complete();
/// ```
#[derive(Clone)]
pub struct PendingRoute {
    learner: RouteLearner,
    look_up: Rc<dyn Fn() -> Option<String>>,
}

impl std::fmt::Debug for PendingRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRoute")
            .field("learner", &self.learner)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The pending route of the request whose handler this thread polls.
    static PENDING: RefCell<Option<PendingRoute>> = const { RefCell::new(None) };
}

/// Puts the previous pending route back when a poll ends (or unwinds).
struct Restore(Option<PendingRoute>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        PENDING.with(|pending| *pending.borrow_mut() = previous);
    }
}

impl PendingRoute {
    /// The pending route of `learner`'s request, looked up with `look_up`
    /// (the framework's own matching of the path, before routing).
    pub fn new(learner: RouteLearner, look_up: impl Fn() -> Option<String> + 'static) -> Self {
        Self {
            learner,
            look_up: Rc::new(look_up),
        }
    }

    /// Runs `f` (a poll of the request's handler) with this pending route
    /// available to what `f` records.
    pub fn during<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = PENDING.with(|pending| pending.replace(Some(self.clone())));
        let _restore = Restore(previous);
        f()
    }

    /// The template: learned already, else looked up now and learned.
    pub fn resolve(&self) -> Option<Arc<str>> {
        if let Some(route) = self.learner.learned() {
            return Some(route);
        }
        self.learner.learn((self.look_up)().as_deref());
        self.learner.learned()
    }

    /// The learner this route is learned through.
    pub fn learner(&self) -> &RouteLearner {
        &self.learner
    }
}

pin_project_lite::pin_project! {
    /// A request's inner future polled with its [`PendingRoute`]: while the
    /// template is not learned yet (an adapter that reads it from the
    /// response, after routing), each poll runs inside
    /// [`during`](PendingRoute::during), so an event, log or outgoing call
    /// inside the handler that needs it looks it up then. Without a pending
    /// route it is the future itself.
    pub struct PendingRouteFuture<F> {
        #[pin]
        inner: F,
        pending: Option<PendingRoute>,
    }
}

impl<F> PendingRouteFuture<F> {
    /// `inner`, polled with `pending` available.
    pub fn new(inner: F, pending: Option<PendingRoute>) -> Self {
        Self { inner, pending }
    }
}

impl<F> std::fmt::Debug for PendingRouteFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRouteFuture")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for PendingRouteFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        match this.pending {
            Some(pending) => pending.during(|| inner.poll(cx)),
            None => inner.poll(cx),
        }
    }
}

/// The route-before-begin rule, for an adapter that learns templates after
/// routing (cheaply, from its response) and can match the path before
/// routing only at a cost: `look_up` (that match) runs only when sampling a
/// request on `path` depends on its route
/// ([`Engine::samples_by_route`]); otherwise the request begins without it
/// and the decision is the same.
///
/// ```
/// use lookout_core::toolkit::route_before_begin;
///
/// let engine = lookout_core::Engine::builder().build();
/// let route = route_before_begin(&engine, "/users/7", || unreachable!("sampling needs no route"));
/// assert_eq!(route, None);
/// ```
pub fn route_before_begin(
    engine: &Engine,
    path: &str,
    look_up: impl FnOnce() -> Option<String>,
) -> Option<String> {
    if engine.samples_by_route(path) {
        look_up()
    } else {
        None
    }
}

/// Begins `head` (without its route template) for an adapter that learns
/// the template after routing: [`route_before_begin`] with `look_up` (the
/// framework's matching of the path, before routing), then
/// [`begin`](super::begin) with the template when it was looked up. `None`
/// when the request is instrumented already and the middleware passes it
/// through.
///
/// ```
/// use lookout_core::{Engine, RequestHead, toolkit};
///
/// let engine = Engine::builder().build();
/// let headers = http::HeaderMap::new();
/// let head = RequestHead::new("GET", "/users/7", &headers);
/// let in_flight = toolkit::begin_before_routing(&engine, head, || unreachable!("sampling needs no route"))
///     .expect("a new request");
/// // The template is learned later (from the framework's response).
/// assert!(in_flight.route_learner().is_some());
/// # drop(in_flight);
/// ```
pub fn begin_before_routing<H: Headers + ?Sized>(
    engine: &Engine,
    head: RequestHead<'_, H>,
    look_up: impl FnOnce() -> Option<String>,
) -> Option<InFlight> {
    match route_before_begin(engine, head.path(), look_up) {
        Some(route) => super::begin(engine, &head.with_route(&route), None),
        None => super::begin(engine, &head, None),
    }
}

/// Finishes `in_flight` with `head`, for an adapter that learns the route
/// template after routing ([`begin_before_routing`]): when the request has
/// no template yet, `look_up` reads it from the framework's response (where
/// routing recorded it) and `head` carries it; otherwise `look_up` never
/// runs.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use lookout_core::testing::TestLookout;
/// use lookout_core::{RequestHead, ResponseHead, toolkit};
///
/// let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.0")]).unwrap();
/// let headers = HeaderMap::new();
/// let head = RequestHead::new("GET", "/users/7", &headers);
/// let in_flight = toolkit::begin_before_routing(test.engine(), head, || None).unwrap();
/// let finished = toolkit::finish_after_routing(in_flight, ResponseHead::new(StatusCode::OK), || {
///     Some("/users/{id}".to_owned())
/// });
/// finished.body.complete();
/// assert_eq!(test.transactions()[0].name.as_deref(), Some("GET /users/{id}"));
///
/// // A template known at `begin` is not read again.
/// let head = RequestHead::new("GET", "/users/7", &headers).with_route("/users/{id}");
/// let in_flight = test.engine().begin(&head);
/// let finished = toolkit::finish_after_routing(in_flight, ResponseHead::new(StatusCode::OK), || {
///     unreachable!("the template is known")
/// });
/// finished.body.complete();
/// ```
pub fn finish_after_routing(
    in_flight: InFlight,
    head: ResponseHead<'_>,
    look_up: impl FnOnce() -> Option<String>,
) -> Finished {
    let route = match in_flight.context().route() {
        None => look_up(),
        Some(_) => None,
    };
    match &route {
        Some(route) => in_flight.finish(&head.with_route(route)),
        None => in_flight.finish(&head),
    }
}

/// `ctx`'s route template: the one known, else (on the thread polling its
/// handler) the one its [`PendingRoute`] looks up now.
pub(crate) fn route_of(ctx: &RequestContext) -> Option<Arc<str>> {
    if let Some(route) = ctx.route() {
        return Some(route);
    }
    let pending = PENDING.with(|pending| {
        pending
            .borrow()
            .as_ref()
            .filter(|p| p.learner.context().same_request(ctx))
            .cloned()
    })?;
    pending.resolve()
}

impl Engine {
    /// Whether sampling a request on `path` needs its route template at
    /// `begin` (a user sampler, or ignored routes that could tell the
    /// template from the path). When false, an adapter whose template costs
    /// a second match before routing may begin without it and learn it
    /// after routing: the decision is the same.
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// assert!(!engine.samples_by_route("/users/7"));
    /// ```
    #[must_use]
    pub fn samples_by_route(&self, path: &str) -> bool {
        self.engine.sampling.may_depend_on_route(path)
    }
}

/// Names `transaction` after `route` (source `route`): a template learned
/// after `begin`, from a [`RouteLearner`] or the response head.
pub(crate) fn name_after_route(transaction: &sentry_core::Transaction, method: &str, route: &str) {
    with_transaction_name(method, route, |name| transaction.set_name(name));
    set_source(transaction, "route");
}

/// Where `transaction`'s name comes from (`route`, `url`), written once the
/// name is final: the `transaction.source` tag here; the `sentry.source`
/// data of its trace context says the same when it is sent
/// ([`span_context`](crate::lifecycle::span_context)).
pub(crate) fn set_source(transaction: &sentry_core::Transaction, source: &'static str) {
    transaction.set_tag(lookout_classify::tags::TRANSACTION_SOURCE, source);
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, StatusCode};

    use crate::testing::TestLookout;
    use crate::{RequestHead, ResponseHead};

    /// Before routes applied at once, a learned route reached only `finish`:
    /// a DSC frozen by an outgoing call inside the handler had no
    /// `transaction`, and the transaction kept its raw-URL name until then.
    #[test]
    fn a_learned_route_names_the_outgoing_dsc_and_the_transaction_at_once() {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.0")]).unwrap();
        let in_flight =
            test.engine()
                .begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()));
        let learner = in_flight.route_learner().expect("route unknown at begin");
        learner.learn(None);
        assert_eq!(learner.learned(), None, "no template, nothing learned");
        learner.learn(Some("/users/{id}"));
        let baggage = in_flight.context().enter(|| {
            let call = crate::OutgoingCall::start("GET", "http://inventory.internal/", None)
                .expect("inside a request");
            let baggage = call
                .headers()
                .and_then(|h| h.baggage.clone())
                .unwrap_or_default();
            call.finish(StatusCode::OK);
            baggage
        });
        assert!(
            baggage.contains("sentry-transaction=GET%20%2Fusers%2F%7Bid%7D"),
            "{baggage}"
        );
        let finished = in_flight.finish(&ResponseHead::new(StatusCode::OK));
        finished.body.complete();
        let transactions = test.transactions();
        assert_eq!(transactions.len(), 1);
        let tx = &transactions[0];
        assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"));
        assert_eq!(tx.tags["transaction.source"], "route");
    }

    /// The source is written once the name is final; a transaction that
    /// never learned a route says `url` whether its request finished or was
    /// dropped.
    #[test]
    fn without_a_route_the_source_is_url_finished_or_dropped() {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.0")]).unwrap();
        let finished = test
            .engine()
            .begin(&RequestHead::new("GET", "/a", &HeaderMap::new()));
        finished
            .finish(&ResponseHead::new(StatusCode::OK))
            .body
            .complete();
        drop(
            test.engine()
                .begin(&RequestHead::new("GET", "/b", &HeaderMap::new())),
        );
        let mut sources: Vec<(String, String)> = test
            .transactions()
            .iter()
            .map(|tx| {
                (
                    tx.name.clone().unwrap_or_default(),
                    tx.tags
                        .get("transaction.source")
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        sources.sort();
        assert_eq!(
            sources,
            [
                ("GET /a".to_owned(), "url".to_owned()),
                ("GET /b".to_owned(), "url".to_owned()),
            ]
        );
    }

    /// Without the look-up, an event captured in the handler before the
    /// adapter learned the route would have no `http.route`, and a DSC frozen
    /// then no `transaction`; outside the handler's poll (another thread,
    /// or after it) nothing is looked up.
    #[test]
    fn a_pending_route_is_looked_up_only_when_needed_inside_the_poll() {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.0")]).unwrap();
        let in_flight =
            test.engine()
                .begin(&RequestHead::new("GET", "/users/7", &HeaderMap::new()));
        let looked_up = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = std::rc::Rc::clone(&looked_up);
        let pending = super::PendingRoute::new(in_flight.route_learner().unwrap(), move || {
            counter.set(counter.get() + 1);
            Some("/users/{id}".to_owned())
        });
        assert_eq!(super::route_of(in_flight.context()), None);
        assert_eq!(looked_up.get(), 0, "nothing pending outside `during`");
        pending.during(|| {
            in_flight.context().enter(|| {
                sentry_core::capture_message("inside", sentry_core::Level::Info);
                sentry_core::capture_message("again", sentry_core::Level::Info);
            });
        });
        assert_eq!(looked_up.get(), 1, "looked up once, then learned");
        let dsc = crate::dsc::frozen(in_flight.context(), &test.engine().engine);
        assert_eq!(dsc.transaction.as_deref(), Some("GET /users/{id}"));
        in_flight
            .finish(&ResponseHead::new(StatusCode::OK))
            .body
            .complete();
        let routes: Vec<_> = test
            .events()
            .iter()
            .map(|e| e.tags.get("http.route").cloned())
            .collect();
        assert_eq!(
            routes,
            [Some("/users/{id}".into()), Some("/users/{id}".into())]
        );
        let tx = &test.transactions()[0];
        assert_eq!(tx.name.as_deref(), Some("GET /users/{id}"));
        assert_eq!(tx.tags["transaction.source"], "route");
    }

    #[test]
    fn a_route_known_at_begin_is_not_relearned() {
        let test = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "1.0")]).unwrap();
        let in_flight = test.engine().begin(
            &RequestHead::new("GET", "/users/7", &HeaderMap::new()).with_route("/users/{id}"),
        );
        assert!(in_flight.route_learner().is_none());
        in_flight
            .finish(&ResponseHead::new(StatusCode::OK).with_route("/other"))
            .body
            .complete();
        assert_eq!(
            test.transactions()[0].name.as_deref(),
            Some("GET /users/{id}")
        );
    }
}
