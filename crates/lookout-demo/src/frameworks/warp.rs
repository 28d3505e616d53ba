//! The demo service on warp.
//!
//! What lookout asks of a warp service, all visible below:
//! - `lookout::warp::serve(routes)` instead of `warp::serve(routes)`;
//! - `lookout::warp::route("/users/{id}")` on each route, since warp has no
//!   route templates of its own;
//! - `CurrentRequest::identify` once authentication knows the user;
//! - typed errors rejected as `Reported<E>` and attached to the reply in
//!   `recover`, so the classifiers see them by type;
//! - lookout's `reqwest` middleware on outgoing calls (in [`crate::routes::hop`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use lookout::warp::{CurrentRequest, Reported, route};
use tokio::net::TcpListener;
use warp::http::StatusCode;
use warp::hyper::body::Bytes;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::App;
use crate::auth::demo_user;
use crate::errors::{NotFound, ServiceError, UpstreamError};
use crate::journal::Journal;
use crate::routes;

pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let lookout = app.lookout;
    let routes = routes(app);
    if lookout {
        // lookout: request ids, traces, users, classification, panics.
        lookout::warp::serve(routes)
            .graceful(shutdown)
            .run_incoming(listener)
            .await;
    } else {
        warp::serve(routes)
            .incoming(listener)
            .graceful(shutdown)
            .run()
            .await;
    }
    Ok(())
}

/// Every route behind the demo authentication (and, for the tour only, the
/// journal), the typed errors answered in one `recover`.
fn routes(
    app: App,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    let health = warp::path!("health")
        .and(warp::get())
        .and(route("/health"))
        .map(|| routes::HEALTH_BODY);
    let user = warp::path!("users" / String)
        .and(warp::get())
        .and(route("/users/{id}"))
        .and(warp::header::optional::<String>("authorization"))
        .map(|id: String, authorization: Option<String>| {
            let viewer = demo_user(authorization.as_deref()).and_then(|u| u.id);
            warp::reply::json(&routes::user(&id, viewer.as_deref()))
        });
    let item = warp::path!("items" / String)
        .and(warp::get())
        .and(route("/items/{id}"))
        .and_then(|id: String| async move {
            routes::item(&id)
                .map(|item| warp::reply::json(&item))
                .map_err(|e| Reported::new(e).reject())
        });
    let orders = app.orders.clone();
    let order = warp::path!("orders" / String)
        .and(warp::get())
        .and(route("/orders/{id}"))
        .and_then(move |id: String| {
            let orders = orders.clone();
            async move {
                orders
                    .lookup(&id)
                    .await
                    .map(|order| warp::reply::json(&order))
                    .map_err(|e| Reported::new(e).reject())
            }
        });
    let fail = warp::path!("fail")
        .and(warp::get())
        .and(route("/fail"))
        .and_then(|| async {
            routes::fail()
                .map(|v| warp::reply::json(&v))
                .map_err(|e| Reported::new(e).reject())
        });
    let fail_posted = warp::path!("fail")
        .and(warp::post())
        .and(route("/fail"))
        .and(warp::body::bytes())
        .and_then(|body: Bytes| async move {
            routes::fail_posted(&body)
                .map(|v| warp::reply::json(&v))
                .map_err(|e| Reported::new(e).reject())
        });
    let upstream = warp::path!("upstream")
        .and(warp::get())
        .and(route("/upstream"))
        .and_then(|| async {
            routes::upstream()
                .map(|v| warp::reply::json(&v))
                .map_err(|e| Reported::new(e).reject())
        });
    let lookout = app.lookout;
    let panic = warp::path!("panic")
        .and(warp::get())
        .and(route("/panic"))
        .then(move || panic(lookout));
    let slow = warp::path!("slow")
        .and(warp::get())
        .and(route("/slow"))
        .and(raw_query())
        .then(|query: Option<String>| async move {
            let duration = routes::slow_duration(query.as_deref());
            tokio::time::sleep(duration).await;
            format!("slept {} ms", duration.as_millis())
        });
    let welcome = warp::path!("jobs" / "welcome")
        .and(warp::post())
        .and(route("/jobs/welcome"))
        .and(raw_query())
        .map(|query: Option<String>| {
            warp::reply::with_status(routes::welcome_job(query.as_deref()), StatusCode::ACCEPTED)
        });
    let client = app.client.clone();
    let hop = warp::path!("hop")
        .and(warp::post())
        .and(route("/hop"))
        .and(warp::body::bytes())
        .and_then(move |body: Bytes| hop(client.clone(), body));
    // lookout's operator endpoint: GET /lookout/status (not with --plain).
    let status = warp::any()
        .and_then(move || async move {
            if lookout {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
        .and(lookout::warp::status_filter());
    let api = health
        .or(status)
        .or(user)
        .or(item)
        .or(order)
        .or(fail)
        .or(fail_posted)
        .or(upstream)
        .or(panic)
        .or(slow)
        .or(hop)
        .or(welcome)
        .recover(answer);
    let journal = app.journal;
    let recorded = journal.clone();
    authenticate()
        .and(warp::method())
        .and(warp::path::full())
        .map(
            move |method: warp::http::Method, path: warp::path::FullPath| {
                if let Some(journal) = &recorded {
                    journal.record_current(method.as_str(), path.as_str());
                }
            },
        )
        .untuple_one()
        .and(api)
        .map(move |reply| record(journal.as_ref(), reply))
}

/// The query string, if any.
fn raw_query() -> impl Filter<Extract = (Option<String>,), Error = std::convert::Infallible> + Clone
{
    warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

/// The demo authentication, on every route: a `Bearer demo-<uid>` token
/// signs in `<uid>`, and lookout is told who it is. Extracts nothing.
fn authenticate() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .map(|authorization: Option<String>| {
            if let Some(user) = demo_user(authorization.as_deref())
                && let Some(current) = CurrentRequest::get()
            {
                current.identify(user);
            }
        })
        .untuple_one()
}

/// The tour's journal: the response status the handler gave.
fn record(journal: Option<&Journal>, reply: impl Reply) -> Response {
    let response = reply.into_response();
    if let Some(journal) = journal {
        journal.record_status(response.status().as_u16());
    }
    response
}

/// `GET /panic`. With lookout the panic goes to lookout, which captures it
/// and answers 500; `--plain` answers 500 itself (`warp::serve` has no hook
/// for panics, and would drop the connection).
async fn panic(lookout: bool) -> Response {
    if lookout {
        routes::panic()
    }
    AssertUnwindSafe(async { routes::panic() })
        .catch_unwind()
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn hop(
    client: reqwest_middleware::ClientWithMiddleware,
    body: Bytes,
) -> Result<Response, Rejection> {
    let calls = match routes::hop_calls(&body) {
        Ok(calls) => calls,
        Err(e) => return Ok(warp::reply::with_status(e, StatusCode::BAD_REQUEST).into_response()),
    };
    routes::hop(&client, &calls)
        .await
        .map_err(|e| Reported::new(e).reject())?;
    Ok("ok".into_response())
}

/// The demo's errors as warp replies. `Reported::attach` keeps the typed
/// error on the response for lookout's classifiers; the response itself is
/// what it would be without lookout (with `--plain` nobody reads it).
async fn answer(rejection: Rejection) -> Result<Response, Rejection> {
    if let Some(reported) = rejection.find::<Reported<NotFound>>() {
        let body = reported.get_ref().to_string();
        return Ok(reported.attach(warp::reply::with_status(body, StatusCode::NOT_FOUND)));
    }
    if let Some(reported) = rejection.find::<Reported<ServiceError>>() {
        return Ok(reported.attach(warp::reply::with_status(
            "internal error",
            StatusCode::INTERNAL_SERVER_ERROR,
        )));
    }
    if let Some(reported) = rejection.find::<Reported<UpstreamError>>() {
        return Ok(reported.attach(warp::reply::with_status(
            "upstream failed",
            StatusCode::BAD_GATEWAY,
        )));
    }
    // A known path with another method: an empty 405, as on axum (warp's
    // own has a text body).
    if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        return Ok(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    Err(rejection)
}
