//! The scenario app on axum 0.8 with `lookout_axum`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, serve};
use http_body::Frame;
use lookout_axum::{CurrentRequest, LookoutLayer, Reported};

use crate::app::{self, DbError};
use crate::harness::{Harness, Server};

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

fn router(lookout: lookout_core::Lookout) -> Router {
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
        .route("/panic", get(panics))
        .route(
            "/call",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                app::call(q["url"].clone()).await
            }),
        )
        .layer(LookoutLayer::new(lookout.with_origin(lookout_axum::ORIGIN)))
}

impl Harness for Axum {
    const NAME: &'static str = "axum";

    async fn serve(lookout: lookout_core::Lookout) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(lookout);
        let task = tokio::spawn(async move {
            serve(listener, app).await.unwrap();
        });
        Server {
            addr,
            _stop: Box::new(Stop(task)),
        }
    }
}
