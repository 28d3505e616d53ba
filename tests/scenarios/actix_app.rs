//! The scenario app on actix-web 4 with `lookout_actix`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer, ResponseError};
use lookout_actix::{CurrentRequest, LookoutLayer, Reported};

use crate::app::{self, DbError};
use crate::harness::{Harness, Placement, Server};

pub struct Actix;

/// Stops the server (and its worker threads) when the scenario ends.
struct Stop(ServerHandle);

impl Drop for Stop {
    fn drop(&mut self) {
        // The stop command is sent at once; its completion is not awaited.
        drop(self.0.stop(false));
    }
}

/// A one-chunk body that captures the probe event when polled.
struct ProbeBody {
    done: bool,
}

impl MessageBody for ProbeBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.done = true;
        app::probe();
        Poll::Ready(Some(Ok(Bytes::from_static(b"not found"))))
    }
}

/// Streams `app::STREAM_CHUNKS` chunks, or one chunk then nothing when
/// `stall`; each chunk is produced when polled.
struct ChunkBody {
    next: usize,
    stall: bool,
}

impl MessageBody for ChunkBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        let i = self.next;
        if self.stall && i >= 1 {
            // Never woken: only the client going away ends this body.
            return Poll::Pending;
        }
        if i >= app::STREAM_CHUNKS {
            return Poll::Ready(None);
        }
        self.next += 1;
        Poll::Ready(Some(Ok(Bytes::from(app::chunk(i)))))
    }
}

async fn authenticate(
    current: CurrentRequest,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    app::authenticate(&current, authorization);
    next.call(request).await
}

async fn me(current: CurrentRequest, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let status = q
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    HttpResponse::build(status).body(app::me(&current))
}

/// `DbError` answers 503 (as without lookout); handlers return it as
/// `Reported<DbError>` so the middleware classifies it by type.
impl ResponseError for DbError {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn db() -> Result<HttpResponse, Reported<DbError>> {
    Err(DbError::new())?
}

async fn panics() -> &'static str {
    panic!("scenario handler panicked")
}

async fn users(_current: CurrentRequest, _id: web::Path<String>) -> String {
    app::echo()
}

async fn identify(id: web::Path<String>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let body = app::identify(id.into_inner(), q.get("role").cloned()).await;
    HttpResponse::InternalServerError().body(body)
}

async fn welcome(q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let fail = q.get("fail").is_some_and(|f| f == "1");
    let id = app::enqueue_welcome(q.get("user").cloned(), fail).await;
    HttpResponse::Accepted().body(id)
}

async fn order(id: web::Path<String>) -> String {
    app::order(id.into_inner()).await
}

async fn call(q: web::Query<HashMap<String, String>>) -> String {
    app::call(q["url"].clone()).await
}

/// `path` answering `GET` with `handler`; other methods get actix's 405.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path).route(web::get().to(handler))
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .service(get("/echo", || async { app::echo() }))
        .service(get("/users/{id}", users))
        .service(get("/identify/{id}", identify))
        .service(get("/missing/{id}", || async {
            HttpResponse::NotFound().body(ProbeBody { done: false })
        }))
        .service(get("/db", db))
        .service(get("/orders/{id}", order))
        .service(get("/panic", panics))
        .service(web::resource("/jobs/welcome").route(web::post().to(welcome)))
        .service(get("/call", call))
        .service(get("/stream", || async {
            HttpResponse::Ok().body(ChunkBody {
                next: 0,
                stall: false,
            })
        }))
        .service(get("/stall", || async {
            HttpResponse::Ok().body(ChunkBody {
                next: 0,
                stall: true,
            })
        }))
        .service(get("/me", me).wrap(from_fn(authenticate)))
        .service(
            web::resource("/submit").route(web::post().to(|body: web::Bytes| async move {
                HttpResponse::InternalServerError().body(app::submitted(Some(&body)))
            })),
        )
        .service(
            web::resource("/submit/unread").route(
                web::post().to(|| async {
                    HttpResponse::InternalServerError().body(app::submitted(None))
                }),
            ),
        );
}

impl Harness for Actix {
    const NAME: &'static str = "actix";

    /// `Placement::OutsideRouting` serves as `Recommended`: actix middleware
    /// knows the route template before routing (`match_pattern()` reads the
    /// app's resource map), wherever it is registered, so there is no place
    /// where lookout would begin a request without its route.
    async fn serve(engine: lookout_core::Engine, _placement: Placement) -> Server {
        app::seed_orders().await;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            App::new()
                .configure(routes)
                .wrap(LookoutLayer::new(engine.clone()))
        })
        .workers(2)
        // actix keeps serving a connection whose client closed its side
        // (half-closed) by default, so a stalled body would outlive a
        // client gone mid-body; with this it is dropped when the client goes.
        .h1_allow_half_closed(false)
        // actix answers 408 (and closes) a connection that sends no request
        // head for 5 s, and closes keep-alive connections idle for 5 s: on a
        // loaded debug build the 200 connections of the scale scenario can
        // wait that long for their turn (hyper under axum and warp has no
        // such timeouts by default).
        .client_request_timeout(std::time::Duration::from_secs(120))
        .keep_alive(std::time::Duration::from_secs(120))
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        // The accept loop runs on this runtime, each worker on a thread of
        // its own (actix-server's own runtimes).
        tokio::spawn(server);
        Server {
            addr,
            _stop: Box::new(Stop(handle)),
        }
    }
}
