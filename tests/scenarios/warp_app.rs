//! The scenario app on warp 0.4 with `lookout_warp`, run two ways: under
//! warp's own server through `lookout_warp::wrap` ([`Warp`]), and under
//! `lookout_warp::serve` ([`WarpServe`]).
//!
//! warp has no route templates and lookout always begins a request before
//! any filter runs, so every route names itself with `lookout_warp::route`
//! and [`Placement`] makes no difference: `OutsideRouting` is the same app,
//! whose routes (`/users/{id}` and `/me` among them) teach the middleware
//! their template from inside.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use lookout_warp::{CurrentRequest, LookoutLayer, Reported, current, route};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::app::{self, DbError};
use crate::harness::{Harness, Placement, Server};

/// `warp::serve(lookout_warp::wrap(routes))`.
pub struct Warp;

/// `lookout_warp::serve(routes)`.
pub struct WarpServe;

struct Stop(tokio::task::JoinHandle<()>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A one-chunk body that captures the probe event when polled.
struct ProbeBody {
    done: bool,
}

impl warp::Stream for ProbeBody {
    type Item = Result<&'static str, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.done = true;
        app::probe();
        Poll::Ready(Some(Ok("not found")))
    }
}

/// Streams `app::STREAM_CHUNKS` chunks, or one chunk then nothing when
/// `stall`; each chunk is produced when polled.
struct ChunkBody {
    next: usize,
    stall: bool,
}

impl warp::Stream for ChunkBody {
    type Item = Result<String, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let i = self.next;
        if self.stall && i >= 1 {
            // Never woken: only the client going away ends this body.
            return Poll::Pending;
        }
        if i >= app::STREAM_CHUNKS {
            return Poll::Ready(None);
        }
        self.next += 1;
        Poll::Ready(Some(Ok(app::chunk(i))))
    }
}

fn status_of(query: &HashMap<String, String>) -> StatusCode {
    query
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK)
}

/// `GET /me`'s authentication: identifies the user through `CurrentRequest`,
/// extracts nothing.
fn authenticate() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    current()
        .and(warp::header::optional::<String>("authorization"))
        .map(|current: CurrentRequest, authorization: Option<String>| {
            app::authenticate(&current, authorization.as_deref());
        })
        .untuple_one()
}

/// `DbError` answers 503 and is reported to the middleware by type.
async fn recover(rejection: Rejection) -> Result<impl Reply, Rejection> {
    match rejection.find::<Reported<DbError>>() {
        Some(reported) => Ok(reported.attach(StatusCode::SERVICE_UNAVAILABLE)),
        None => Err(rejection),
    }
}

fn routes()
-> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static {
    let query = warp::query::<HashMap<String, String>>;
    let echo = warp::path!("echo")
        .and(warp::get())
        .and(route("/echo"))
        .map(app::echo);
    let users = warp::path!("users" / String)
        .and(warp::get())
        .and(route("/users/{id}"))
        .map(|_id: String| app::echo());
    let identify = warp::path!("identify" / String)
        .and(warp::get())
        .and(route("/identify/{id}"))
        .and(query())
        .and_then(|id: String, q: HashMap<String, String>| async move {
            let body = app::identify(id, q.get("role").cloned()).await;
            Ok::<_, Infallible>(warp::reply::with_status(
                body,
                StatusCode::INTERNAL_SERVER_ERROR,
            ))
        });
    let orders = warp::path!("orders" / String)
        .and(warp::get())
        .and(route("/orders/{id}"))
        .then(app::order);
    let missing = warp::path!("missing" / String)
        .and(warp::get())
        .and(route("/missing/{id}"))
        .map(|_id: String| {
            warp::reply::with_status(
                warp::reply::stream(ProbeBody { done: false }),
                StatusCode::NOT_FOUND,
            )
        });
    let db = warp::path!("db")
        .and(warp::get())
        .and(route("/db"))
        .and_then(|| async { Err::<String, _>(Reported::new(DbError::new()).reject()) });
    let panics = warp::path!("panic")
        .and(warp::get())
        .and(route("/panic"))
        .map(|| -> &'static str { panic!("scenario handler panicked") });
    let jobs = warp::path!("jobs" / "welcome")
        .and(warp::post())
        .and(route("/jobs/welcome"))
        .and(query())
        .and_then(|q: HashMap<String, String>| async move {
            let fail = q.get("fail").is_some_and(|f| f == "1");
            let id = app::enqueue_welcome(q.get("user").cloned(), fail).await;
            Ok::<_, Infallible>(warp::reply::with_status(id, StatusCode::ACCEPTED))
        });
    let call = warp::path!("call")
        .and(warp::get())
        .and(route("/call"))
        .and(query())
        .and_then(|q: HashMap<String, String>| async move {
            Ok::<_, Infallible>(app::call(q["url"].clone()).await)
        });
    let stream = warp::path!("stream")
        .and(warp::get())
        .and(route("/stream"))
        .map(|| {
            warp::reply::stream(ChunkBody {
                next: 0,
                stall: false,
            })
        });
    let stall = warp::path!("stall")
        .and(warp::get())
        .and(route("/stall"))
        .map(|| {
            warp::reply::stream(ChunkBody {
                next: 0,
                stall: true,
            })
        });
    let me = warp::path!("me")
        .and(warp::get())
        .and(route("/me"))
        .and(authenticate())
        .and(current())
        .and(query())
        .map(|current: CurrentRequest, q: HashMap<String, String>| {
            warp::reply::with_status(app::me(&current), status_of(&q))
        });
    let submit = warp::path!("submit")
        .and(warp::post())
        .and(route("/submit"))
        .and(warp::body::bytes())
        .map(|body: axum::body::Bytes| {
            warp::reply::with_status(
                app::submitted(Some(&body)),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        });
    let unread = warp::path!("submit" / "unread")
        .and(warp::post())
        .and(route("/submit/unread"))
        .map(|| warp::reply::with_status(app::submitted(None), StatusCode::INTERNAL_SERVER_ERROR));
    echo.or(users)
        .or(identify)
        .or(missing)
        .or(db)
        .or(orders)
        .or(panics)
        .or(jobs)
        .or(call)
        .or(stream)
        .or(stall)
        .or(me)
        .or(submit)
        .or(unread)
        .recover(recover)
}

async fn bind() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

impl Harness for Warp {
    const NAME: &'static str = "warp";

    async fn serve(engine: lookout_core::Engine, _placement: Placement) -> Server {
        app::seed_orders().await;
        let (listener, addr) = bind().await;
        let app = LookoutLayer::new(engine).wrap(routes());
        let task = tokio::spawn(warp::serve(app).incoming(listener).run());
        Server {
            addr,
            _stop: Box::new(Stop(task)),
        }
    }
}

impl Harness for WarpServe {
    // The origin's framework word (the parity test neutralises it).
    const NAME: &'static str = "warp";

    async fn serve(engine: lookout_core::Engine, _placement: Placement) -> Server {
        app::seed_orders().await;
        let (listener, addr) = bind().await;
        let server = LookoutLayer::new(engine).serve(routes());
        let task = tokio::spawn(server.run_incoming(listener));
        Server {
            addr,
            _stop: Box::new(Stop(task)),
        }
    }
}
