//! `lookout-demo serve`: one framework, one address, until SIGINT/SIGTERM;
//! then the requests in flight finish, lookout shuts down (bounded by
//! `LOOKOUT_SHUTDOWN_TIMEOUT_MS`) and `run` returns, so the process exits.

use std::io::Write as _;

use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::errors;
use crate::frameworks::{self, App};

pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    // Settings from the environment; invalid ones stop us here with the
    // ConfigError message. `--plain` runs without lookout at all.
    let guard = if args.plain {
        None
    } else {
        Some(
            lookout::init!(lookout::Options::new().classifiers(errors::classifiers()))
                .map_err(|e| e.to_string())?,
        )
    };
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Before the line that tells tools we are up: a SIGTERM sent right after
    // it must shut down cleanly, not kill the process with lookout's queue.
    let shutdown = shutdown_signal()?;
    // Ready to answer (the orders database seeded) before we say so.
    let app = App::new(!args.plain, None).await?;
    // The first line on stdout: tools wait for it to learn the port.
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();

    if args.monitor && !args.plain {
        tokio::spawn(crate::routes::heartbeat_monitor());
    }
    frameworks::serve(args.framework, listener, app, shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))?;
    if let Some(guard) = guard {
        // Within LOOKOUT_SHUTDOWN_TIMEOUT_MS, whatever Sentry does; the guard
        // prints how many envelopes were delivered and lost.
        guard.shutdown();
    }
    eprintln!("lookout-demo: stopped");
    Ok(())
}

/// Handles SIGINT (Ctrl-C) and SIGTERM from now on (until then their
/// default action ends the process at once); the future completes on either.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, String> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
