//! A library user's `main`, as the guide recommends it: `init!` first, keep
//! the guard, report errors through `tracing`, return. Settings come from
//! the environment (the shutdown suite points `SENTRY_DSN` at an endpoint
//! that fails).
//!
//! `lookout-shutdown-user <errors> [drop|shutdown]`: logs `<errors>` errors
//! (each an event), prints `shutting down` on stdout, then either returns
//! from `main` with the guard still alive (`drop`, the default: the guard
//! drops on the way out) or calls `Guard::shutdown` and prints its counts.

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(errors) = args.next().and_then(|n| n.parse::<u64>().ok()) else {
        eprintln!("usage: lookout-shutdown-user <errors> [drop|shutdown]");
        return ExitCode::from(2);
    };
    let explicit = match args.next().as_deref() {
        None | Some("drop") => false,
        Some("shutdown") => true,
        Some(other) => {
            eprintln!("unknown mode {other:?}: expected drop or shutdown");
            return ExitCode::from(2);
        }
    };
    let guard = match lookout::init!() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for attempt in 0..errors {
        tracing::error!(attempt, "payment provider failed");
    }
    println!("shutting down");
    let _ = std::io::stdout().flush();
    if explicit {
        let report = guard.shutdown();
        println!(
            "report: accepted={} delivered={} lost={}",
            report.accepted, report.delivered, report.lost
        );
    }
    // Otherwise the guard drops here, on the way out of `main`.
    ExitCode::SUCCESS
}
