//! The signal a server stops on: SIGINT or SIGTERM (Ctrl-C on Windows).
//!
//! Owns only the waiting; what happens at shutdown (the server finishing its
//! requests, the [`Guard`](crate::Guard) delivering what is queued) belongs to
//! the server and to the guard.

/// Completes when the process is asked to stop: SIGINT (Ctrl-C) or SIGTERM
/// (what Kubernetes, systemd and Docker send) on Unix, Ctrl-C on Windows.
///
/// Hand it to the server's graceful shutdown so that `main` returns, the
/// server finishes its requests, and the [`Guard`](crate::Guard) drops and
/// delivers what is still queued (the last batch of Sentry Logs included).
/// Without it, SIGTERM kills the process where it stands and whatever was
/// not yet sent is lost.
///
/// - axum: `axum::serve(listener, app).with_graceful_shutdown(lookout::shutdown_signal())`
/// - actix-web: `HttpServer::new(..).disable_signals().shutdown_signal(lookout::shutdown_signal())`
/// - warp: `lookout::warp::serve(routes).graceful(lookout::shutdown_signal())`
///
/// Call it inside a tokio runtime (with the `signal` driver, as
/// `#[tokio::main]` has). Once it is waiting, the signals no longer end the
/// process on their own: they only complete this future. If the signal
/// handlers cannot be installed, the reason is logged at `ERROR` and the
/// future never completes (the process stops as it would without it).
///
/// ```no_run
/// # #[cfg(feature = "axum")]
/// # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
/// let _guard = lookout::init!()?;
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "hello" }))
///     .layer(lookout::axum::layer());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app)
///     .with_graceful_shutdown(lookout::shutdown_signal())
///     .await?;
/// Ok(()) // the guard drops here and delivers what is queued
/// # }
/// ```
pub async fn shutdown_signal() {
    match wait().await {
        Ok(name) => tracing::info!(target: "lookout", signal = name, "shutting down"),
        Err(error) => {
            tracing::error!(target: "lookout", %error, "cannot wait for the shutdown signal");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(unix)]
async fn wait() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

#[cfg(not(unix))]
async fn wait() -> std::io::Result<&'static str> {
    tokio::signal::ctrl_c().await?;
    Ok("Ctrl-C")
}
