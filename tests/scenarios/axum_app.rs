//! The scenario app on axum 0.8 with `lookout_axum`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, serve};
use http_body::Frame;
use lookout_axum::{CurrentRequest, LookoutLayer, Reported};
use tower_layer::Layer;

use crate::app::{self, DbError};
use crate::harness::{Harness, Placement, Server};

pub struct Axum;

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

impl http_body::Body for ProbeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.done = true;
        app::probe();
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"not found")))))
    }
}

/// Streams `app::STREAM_CHUNKS` chunks, or one chunk then nothing when
/// `stall`; each chunk is produced when polled.
struct ChunkBody {
    next: usize,
    stall: bool,
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let i = self.next;
        if self.stall && i >= 1 {
            // Never woken: only the client going away ends this body.
            return Poll::Pending;
        }
        if i >= app::STREAM_CHUNKS {
            return Poll::Ready(None);
        }
        self.next += 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(app::chunk(i))))))
    }
}

async fn authenticate(current: CurrentRequest, request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    app::authenticate(&current, authorization);
    next.run(request).await
}

async fn me(current: CurrentRequest, Query(q): Query<HashMap<String, String>>) -> Response {
    let status = q
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    (status, app::me(&current)).into_response()
}

/// `DbError` answers 503 and is reported to the layer by type.
struct AppError(DbError);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        Reported::new(self.0).attach(StatusCode::SERVICE_UNAVAILABLE)
    }
}

async fn panics() -> &'static str {
    panic!("scenario handler panicked")
}

fn routes() -> Router {
    Router::new()
        .route("/echo", get(|| async { app::echo() }))
        .route(
            "/users/{id}",
            get(|_current: CurrentRequest, Path(_id): Path<String>| async { app::echo() }),
        )
        .route(
            "/identify/{id}",
            get(
                |Path(id): Path<String>, Query(q): Query<HashMap<String, String>>| async move {
                    let body = app::identify(id, q.get("role").cloned()).await;
                    (StatusCode::INTERNAL_SERVER_ERROR, body)
                },
            ),
        )
        .route(
            "/missing/{id}",
            get(|| async { (StatusCode::NOT_FOUND, Body::new(ProbeBody { done: false })) }),
        )
        .route(
            "/db",
            get(|| async { Err::<(), _>(AppError(DbError::new())) }),
        )
        .route(
            "/orders/{id}",
            get(|Path(id): Path<String>| async move { app::order(id).await }),
        )
        .route("/panic", get(panics))
        .route(
            "/jobs/welcome",
            axum::routing::post(|Query(q): Query<HashMap<String, String>>| async move {
                let fail = q.get("fail").is_some_and(|f| f == "1");
                let id = app::enqueue_welcome(q.get("user").cloned(), fail).await;
                (StatusCode::ACCEPTED, id)
            }),
        )
        .route(
            "/call",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                app::call(q["url"].clone()).await
            }),
        )
        .route(
            "/stream",
            get(|| async {
                Body::new(ChunkBody {
                    next: 0,
                    stall: false,
                })
            }),
        )
        .route(
            "/stall",
            get(|| async {
                Body::new(ChunkBody {
                    next: 0,
                    stall: true,
                })
            }),
        )
        .route(
            "/me",
            get(me).route_layer(middleware::from_fn(authenticate)),
        )
        .route(
            "/submit",
            axum::routing::post(|body: Bytes| async move {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    app::submitted(Some(&body)),
                )
            }),
        )
        .route(
            "/submit/unread",
            axum::routing::post(|| async {
                (StatusCode::INTERNAL_SERVER_ERROR, app::submitted(None))
            }),
        )
}

fn app(engine: lookout_core::Engine, placement: Placement) -> Router {
    let layer = LookoutLayer::new(engine);
    match placement {
        Placement::Recommended => routes().layer(layer),
        // Around the whole router: no `MatchedPath` when the request begins.
        Placement::OutsideRouting => Router::new().fallback_service(layer.layer(routes())),
    }
}

impl Harness for Axum {
    const NAME: &'static str = "axum";

    async fn serve(engine: lookout_core::Engine, placement: Placement) -> Server {
        app::seed_orders().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = app(engine, placement);
        let task = tokio::spawn(async move {
            serve(listener, app).await.unwrap();
        });
        Server {
            addr,
            _stop: Box::new(Stop(task)),
        }
    }
}
