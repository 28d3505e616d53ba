//! `lookout-demo serve`: one framework, one address, until SIGINT/SIGTERM.

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
    // The first line on stdout: tools wait for it to learn the port.
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();

    let app = App::new(!args.plain, None);
    frameworks::serve(args.framework, listener, app, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    if let Some(guard) = guard {
        // Dropping the guard would flush too; say so if something stayed behind.
        if !guard.flush(None) {
            eprintln!(
                "lookout-demo: some events could not be delivered before the shutdown timeout"
            );
        }
    }
    eprintln!("lookout-demo: stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
