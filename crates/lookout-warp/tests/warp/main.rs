//! lookout-warp end to end: in process through the tower service `serve`
//! runs (`tower::ServiceExt::oneshot`), and over real servers for what only
//! a server shows (`serve`, `wrap` under `warp::serve`), with lookout-core's
//! capture standing in for Sentry. Behaviour every adapter shares is in the
//! workspace scenario suite (`tests/scenarios`); these are warp's own.

mod errors;
mod routes;
mod servers;

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;
use lookout_classify::{Classifiers, by_type};
use lookout_core::testing::TestLookout;
use lookout_warp::LookoutLayer;
use sentry_core::protocol::{Context as SentryContext, SpanStatus, Transaction};
use tower::ServiceExt;
use tower_layer::Layer;
use warp::{Filter, Rejection, Reply};

/// The typed error the suite's classifiers name `database`.
#[derive(Debug)]
pub(crate) struct DbError(std::io::Error);

impl DbError {
    pub(crate) fn new() -> Self {
        Self(std::io::Error::other("connection refused"))
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database unavailable")
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

pub(crate) fn test_lookout(vars: &[(&str, &str)]) -> TestLookout {
    let settings = TestLookout::from_vars(vars.iter().copied())
        .expect("valid test settings")
        .settings()
        .clone();
    TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(by_type::<DbError>("database")))
    })
}

pub(crate) fn layer(test: &TestLookout) -> LookoutLayer {
    LookoutLayer::new(test.engine().clone())
}

/// `GET uri` through lookout in front of `filter`, in process: status,
/// `x-request-id` and the body read to its end.
pub(crate) async fn get<F, R>(
    test: &TestLookout,
    filter: F,
    uri: &str,
) -> (u16, Option<String>, String)
where
    F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Reply,
{
    let service = layer(test).layer(warp::service(filter));
    let request = Request::get(uri).body(String::new()).expect("a request");
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let body: Bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        request_id,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

pub(crate) fn status_of(tx: &Transaction<'_>) -> Option<SpanStatus> {
    match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.status,
        _ => None,
    }
}

pub(crate) fn origin_of(tx: &Transaction<'_>) -> Option<String> {
    match tx.contexts.get("trace") {
        Some(SentryContext::Trace(trace)) => trace.origin.clone(),
        _ => None,
    }
}
