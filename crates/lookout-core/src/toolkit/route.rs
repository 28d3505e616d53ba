//! [`RouteLearner`]: late route learning for a middleware outside routing.

use lookout_scope::RequestContext;

use crate::engine::with_transaction_name;

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
