//! A service built like the README's quick start, on the framework named by
//! its argument (`axum`, `actix` or `warp`): `init!` first, one route that
//! logs a line (a Sentry Log, batched: sent after 5 s or 100 logs, or when
//! the guard drops), served until `lookout::shutdown_signal()`.
//!
//! `lookout-graceful-user <framework>` prints `listening on http://ADDR` on
//! stdout once it accepts connections, and `stopped` when the server has
//! returned (the guard then drops on the way out of `main`). The shutdown
//! suite sends it SIGTERM while the log is still in its batch.

use std::io::Write as _;
use std::net::SocketAddr;

fn announce(addr: SocketAddr) {
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
}

fn work() -> &'static str {
    tracing::info!(batch = "last", "the last batch before shutdown");
    "logged"
}

async fn axum_service() -> std::io::Result<()> {
    use axum::{Router, routing::get};
    let app = Router::new()
        .route("/work", get(|| async { work() }))
        .layer(lookout::axum::layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    announce(listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(lookout::shutdown_signal())
        .await
}

async fn actix_service() -> std::io::Result<()> {
    use actix_web::{App, HttpServer, web};
    let server = HttpServer::new(|| {
        App::new()
            .route("/work", web::get().to(|| async { work() }))
            .wrap(lookout::actix::layer())
    })
    .workers(1)
    .disable_signals()
    .shutdown_signal(lookout::shutdown_signal())
    .bind("127.0.0.1:0")?;
    announce(server.addrs()[0]);
    server.run().await
}

async fn warp_service() -> std::io::Result<()> {
    use warp::Filter;
    let routes = warp::path!("work")
        .and(lookout::warp::route("/work"))
        .map(work);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    announce(listener.local_addr()?);
    lookout::warp::serve(routes)
        .graceful(lookout::shutdown_signal())
        .run_incoming(listener)
        .await;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let framework = std::env::args().nth(1).unwrap_or_default();
    let _guard = lookout::init!()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match framework.as_str() {
        "axum" => runtime.block_on(axum_service())?,
        // actix-web runs on its own system (a current-thread runtime).
        "actix" => actix_web::rt::System::new().block_on(actix_service())?,
        "warp" => runtime.block_on(warp_service())?,
        other => {
            return Err(
                format!("unknown framework {other:?}: expected axum, actix or warp").into(),
            );
        }
    }
    println!("stopped");
    let _ = std::io::stdout().flush();
    Ok(())
}
